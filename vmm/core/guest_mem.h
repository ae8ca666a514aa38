/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM: one memfd, mapped MAP_SHARED once into the VMM, split into at
 * most two guest-physical regions (below the 3 GiB PCI hole and from 4 GiB).
 *
 *   memfd offset 0 ............ low_size ............... size
 *                |  gpa [0, low_size) | gpa [4 GiB, 4 GiB + size - low_size)
 *
 * The one way into guest memory for devices, hypercalls and dumps is
 * gmem_read()/gmem_write()/gmem_strcpy(): bounds and overflow are checked
 * once, at the boundary; the copy survives a page hit by an uncorrectable
 * memory error (SIGBUS is turned into -EHWPOISON, see core/safecopy.h); and
 * gmem_write() marks the pages dirty for a running migration (KVM's dirty
 * log sees only the guest's own writes). gmem_ptr() gives a raw pointer,
 * only for code that proves in a comment why that is safe (the loaders,
 * before the VM runs; the migration sender, which copies through
 * safe_copy() itself).
 */
#ifndef VMM_CORE_GUEST_MEM_H
#define VMM_CORE_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GMEM_PAGE_SIZE	 4096ull
#define GMEM_LOW_LIMIT	 0xc0000000ull	/* RAM below 4 GiB ends at 3 GiB */
#define GMEM_HIGH_BASE	 0x100000000ull /* the rest of RAM starts at 4 GiB */
#define GMEM_MIN_SIZE	 (4ull << 20)
#define GMEM_MAX_SIZE	 (64ull << 30)
#define GMEM_MAX_REGIONS 2

struct gmem_region {
	uint64_t gpa;	 /* first guest-physical address */
	uint64_t size;	 /* bytes */
	uint64_t offset; /* offset in the memfd */
	uint8_t *host;	 /* host address of gpa */
};

struct gmem {
	int fd;	       /* the memfd holding all guest RAM */
	uint8_t *base; /* whole memfd, MAP_SHARED */
	uint64_t size; /* RAM bytes */
	unsigned nr_regions;
	struct gmem_region regions[GMEM_MAX_REGIONS];
	/* pages the VMM wrote while tracking is on (gmem_dirty_track), one bit
	 * per guest-physical page frame, accessed atomically */
	uint64_t *dirty;
	bool dirty_on;
	bool dirty_shared; /* dirty is another process's memory (gmem_dirty_share) */
	/* pages another process wrote into this RAM (the sandboxed monitor's
	 * bitmap, gmem_dirty_also): gmem_dirty_take() takes them too */
	uint64_t *ext_dirty;
	/* pages another process knows to be poisoned (gmem_poison_also) */
	const uint64_t *ext_poison;
	/* another domain's memory (gmem_hide): gmem_read/gmem_write refuse it */
	uint64_t hide_lo, hide_hi;
	/* gmem_prealloc touched every page: a write through base faults only
	 * where a hole was punched since */
	bool populated;
	uint64_t prealloc_ms; /* how long gmem_prealloc took (wall clock) */
};

/*
 * gmem_create - allocate `size` bytes of guest RAM in a memfd and map it.
 * `size` must be a multiple of 4 KiB within [GMEM_MIN_SIZE, GMEM_MAX_SIZE].
 * Returns 0, -EINVAL for a bad size, or the -errno of memfd_create/ftruncate/mmap.
 */
int gmem_create(struct gmem *m, uint64_t size);

/*
 * gmem_prealloc - allocate and touch every page of guest RAM now
 * (MADV_POPULATE_WRITE of the mapping, in steps of 64 MiB; a write to each
 * page on kernels without it). Touching, not only allocating (fallocate): on
 * a host that is itself a VM whose free memory went back to its hypervisor,
 * the first write to a page is what costs (docs/platform.md). The pages hold
 * zeros and are data to SEEK_DATA from then on: a migration of the VM reads
 * them and sends the zero ones as ZERO. Sets populated and prealloc_ms.
 * Returns 0, -ENOMEM, or -errno.
 */
int gmem_prealloc(struct gmem *m);

/*
 * gmem_attach - map the guest RAM memfd `fd` of `size` bytes that another
 * process created with gmem_create() (the sandboxed monitor, which runs
 * device models): the same regions, MAP_SHARED. The gmem owns fd from then
 * on. 0, -EINVAL for a bad size, or mmap's -errno.
 */
int gmem_attach(struct gmem *m, int fd, uint64_t size);

/* gmem_destroy - unmap and close; safe on a zeroed or already destroyed gmem. */
void gmem_destroy(struct gmem *m);

/*
 * gmem_ptr - host pointer for guest-physical [gpa, gpa + len), or NULL if
 * len is 0, the range wraps around, or any byte of it lies outside a single
 * RAM region. The only way the VMM turns a guest address into a pointer.
 */
void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len);

/*
 * gmem_read - copy guest-physical [gpa, gpa + len) into dst. Returns 0,
 * -EFAULT if len is 0 or the range is not inside one RAM region, or
 * -EHWPOISON if a page of it is poisoned (dst is then undefined). Safe on
 * any thread once safe_copy_init() ran (vm_kvm_create does it). An aligned
 * 2-, 4- or 8-byte read into an aligned dst is one access (never torn), and
 * so is such a gmem_write(): what virtqueue indices need.
 */
int gmem_read(const struct gmem *m, uint64_t gpa, void *dst, size_t len);

/*
 * gmem_discard - drop the contents of all guest RAM (it reads as zeros
 * again, as fresh memory). 0 or -errno.
 */
int gmem_discard(struct gmem *m);

/*
 * gmem_hide - make gmem_read()/gmem_write() refuse [gpa, gpa + size) with
 * -EFAULT (a secure domain's memory: no device DMA and no hypercall
 * argument may touch it). One range; before the VM runs. 0 or -EBUSY.
 */
int gmem_hide(struct gmem *m, uint64_t gpa, uint64_t size);

/*
 * gmem_write - copy src into guest-physical [gpa, gpa + len) and mark the
 * pages dirty (gmem_mark_dirty). Returns 0, -EFAULT or -EHWPOISON like
 * gmem_read (on -EHWPOISON the bytes before the bad page may be written).
 */
int gmem_write(struct gmem *m, uint64_t gpa, const void *src, size_t len);

/*
 * gmem_strcpy - copy the NUL-terminated guest string at gpa into buf (cap
 * bytes, NUL included), a page at a time, so bytes after the NUL are never
 * read. The copy is taken first and checked afterwards, so another vCPU
 * changing the string meanwhile cannot defeat the check. Returns 0, -EFAULT
 * if a byte before the NUL lies outside RAM, -EHWPOISON if one is on a
 * poisoned page, or -ENAMETOOLONG if no NUL occurs within cap bytes.
 */
int gmem_strcpy(const struct gmem *m, uint64_t gpa, char *buf, size_t cap);

/*
 * gmem_dirty_track - start (on) or stop recording the pages the VMM writes
 * (migration turns it on for its passes). 0 or -ENOMEM.
 */
int gmem_dirty_track(struct gmem *m, bool on);

/* gmem_dirty_words - the number of 64-bit words of the VMM-dirty bitmap. */
uint64_t gmem_dirty_words(const struct gmem *m);

/*
 * gmem_dirty_share - record this process's writes, from now on and always,
 * into `bits` (gmem_dirty_words() words, shared with the process that
 * migrates the VM, which takes them with gmem_dirty_also()).
 */
void gmem_dirty_share(struct gmem *m, uint64_t *bits);

/*
 * gmem_dirty_also - let gmem_dirty_take() take the bits another process
 * records in `bits` (gmem_dirty_share there) together with this one's.
 */
void gmem_dirty_also(struct gmem *m, uint64_t *bits);

/*
 * gmem_poison_also - make gmem_read()/gmem_write() refuse with -EHWPOISON
 * any page whose bit is set in `bits` (gmem_dirty_words() words, one bit
 * per guest page frame): the pages the process holding the VM poisoned
 * (core/memerr.h), which another process mapping the same memfd does not
 * see as poisoned (UFFDIO_POISON marks one process's page tables). NULL:
 * none.
 */
void gmem_poison_also(struct gmem *m, const uint64_t *bits);

/* gmem_mark_dirty - record [gpa, gpa + len) as written (no-op unless tracking). */
void gmem_mark_dirty(struct gmem *m, uint64_t gpa, uint64_t len);

/*
 * gmem_dirty_take - take (and clear) word `word` of the VMM-dirty bitmap:
 * bit i is page frame word * 64 + i. 0 when nothing is recorded there.
 */
uint64_t gmem_dirty_take(struct gmem *m, uint64_t word);

/*
 * gmem_region_of - the region containing gpa, or NULL.
 */
const struct gmem_region *gmem_region_of(const struct gmem *m, uint64_t gpa);

#endif
