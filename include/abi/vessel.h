/* SPDX-License-Identifier: MIT */
/*
 * The one contract between the Vessel VMM (host) and the Vessel kernel
 * (guest). Both sides include this file; nothing else crosses the boundary.
 *
 * Rules for this header:
 *  - freestanding: only fixed-width integer types, no libc;
 *  - every struct has a fixed layout (explicit padding, static size checks);
 *  - every field of a hypercall argument struct is marked IN (guest -> host)
 *    or OUT (host -> guest);
 *  - adding a field or a hypercall bumps VESSEL_ABI_VERSION.
 *
 * See docs/abi.md for the prose version with diagrams.
 */
#ifndef VESSEL_ABI_VESSEL_H
#define VESSEL_ABI_VESSEL_H

#include <stdint.h> /* a freestanding header: also fine in the guest kernel */

#define VESSEL_ABI_VERSION 4

/* ------------------------------------------------------------------------
 * Boot protocol (direct 64-bit entry by the Vessel VMM)
 *
 * The kernel is an ELF64 executable. The VMM loads every PT_LOAD segment at
 * its p_paddr and enters at e_entry, which must be a *physical* address in
 * identity-mapped memory. The same ELF carries a Multiboot (v1) header with
 * the a.out-kludge flag, so QEMU's `-kernel` enters it through a separate
 * 32-bit entry instead.
 *
 * CPU state at the 64-bit entry (bootstrap processor):
 *   long mode, CPL0, paging on, interrupts off (RFLAGS = 0x2)
 *   CR3   -> VMM page tables identity-mapping [0, 4 GiB) with 2 MiB pages
 *   GDT   -> flat: 0x08 code64, 0x10 data (the kernel loads its own at once)
 *   RDI   =  guest-physical address of struct vessel_boot_info
 *   RSI   =  VESSEL_BOOT_MAGIC
 *   RSP   =  0 (the kernel sets its own stack before any push)
 *
 * Guest-physical layout chosen by the VMM (the kernel reads the memory map
 * and must not assume more than it says):
 *
 *   0x0000_0000 +-------------------------+
 *               | reserved (null page)    |
 *   0x0000_1000 | VMM boot page tables    |  reserved until the kernel
 *   0x0000_7000 | struct vessel_boot_info |  has copied what it needs
 *   0x0000_8000 | kernel command line     |
 *   0x0000_9000 | boot GDT                |
 *   0x0010_0000 +-------------------------+
 *               | kernel image (p_paddr)  |  usable RAM, minus the image,
 *               | ...                     |  minus the initrd
 *               | initrd (page aligned)   |
 *               +-------------------------+  end of RAM (<= 3 GiB here, the
 *   0xfeb0_0000   virtio-mmio devices          rest continues at 4 GiB)
 *   0xfec0_0000   IOAPIC, 0xfee0_0000 LAPIC
 * ------------------------------------------------------------------------ */

#define VESSEL_BOOT_MAGIC 0x3130455353455655ull /* "UVESSE01" little-endian */

#define VESSEL_BOOT_INFO_GPA	0x7000ull
#define VESSEL_BOOT_CMDLINE_GPA 0x8000ull
#define VESSEL_BOOT_CMDLINE_MAX 4096u
#define VESSEL_BOOT_MMAP_MAX	16u

enum vessel_mem_type {
	VESSEL_MEM_RAM = 1,	 /* usable (except the kernel image and initrd) */
	VESSEL_MEM_RESERVED = 2, /* never touch */
};

struct vessel_mem_region {
	uint64_t base;
	uint64_t size;
	uint32_t type; /* enum vessel_mem_type */
	uint32_t pad;
};

/* Flags in vessel_boot_info.flags */
#define VESSEL_BOOT_F_HYPERCALLS (1u << 0) /* hypercall ports are live */
/* ABI 4: kernel text and read-only data are read-only in the VM's memory
 * (`vessel run --integrity=on|report`): write code with VESSEL_HC_TEXT_PATCH */
#define VESSEL_BOOT_F_INTEGRITY (1u << 1)

/*
 * Devices the kernel cannot discover by probing: the VMM lists each one
 * with its MMIO window and interrupt line. A virtio-mmio device sits in
 * the window [VESSEL_VIRTIO_MMIO_BASE, + VESSEL_VIRTIO_MMIO_MAX * STRIDE),
 * slot n at BASE + n * STRIDE with IOAPIC pin VESSEL_VIRTIO_IRQ_BASE + n
 * (level-triggered, active high: the virtio-mmio interrupt stays asserted
 * until the driver acknowledges it). The window lies below the IOAPIC and
 * is RESERVED in the memory map.
 */
#define VESSEL_BOOT_DEV_MAX	  8u
#define VESSEL_VIRTIO_MMIO_BASE	  0xfeb00000ull
#define VESSEL_VIRTIO_MMIO_STRIDE 0x1000ull
#define VESSEL_VIRTIO_MMIO_MAX	  8u  /* slots: IOAPIC pins 16..23 */
#define VESSEL_VIRTIO_IRQ_BASE	  16u /* GSI of slot 0; IOAPIC only, not the 8259 */

enum vessel_dev_type {
	VESSEL_DEV_VIRTIO_MMIO = 1, /* virtio 1.x over MMIO (include/abi/virtio.h) */
};

struct vessel_boot_device {
	uint32_t type; /* enum vessel_dev_type */
	uint32_t irq;  /* IOAPIC pin (GSI) */
	uint64_t base; /* guest-physical MMIO base */
	uint64_t size; /* bytes of the MMIO window */
};

struct vessel_boot_info {
	uint64_t magic;	      /* VESSEL_BOOT_MAGIC */
	uint32_t abi_version; /* VESSEL_ABI_VERSION of the VMM */
	uint32_t size;	      /* sizeof(struct vessel_boot_info) */
	uint32_t cpu_count;   /* vCPUs created; APs start via VESSEL_HC_CPU_START */
	uint32_t mmap_count;  /* valid entries in mmap[] */
	uint64_t flags;	      /* VESSEL_BOOT_F_* */
	uint64_t cmdline_gpa; /* NUL-terminated, at most CMDLINE_MAX bytes */
	uint64_t cmdline_len; /* without the NUL */
	uint64_t initrd_gpa;  /* 0 if none; page aligned */
	uint64_t initrd_size;
	uint64_t tsc_khz;  /* TSC frequency, 0 if unknown */
	uint64_t boot_tsc; /* TSC value when the VMM started (boot timing) */
	struct vessel_mem_region mmap[VESSEL_BOOT_MMAP_MAX];
	/* ABI 3: devices (a kernel must check size covers them) */
	uint32_t dev_count; /* valid entries in dev[] */
	uint32_t pad;
	struct vessel_boot_device dev[VESSEL_BOOT_DEV_MAX];
};

/* ------------------------------------------------------------------------
 * Hypercalls
 *
 * A hypercall is one 32-bit port write:
 *
 *     outl(VESSEL_HC_PORT_BASE + nr, gpa_of_argument_struct)
 *
 * The argument struct must lie entirely in guest RAM below 4 GiB and be
 * naturally aligned. The VMM validates the address and every guest pointer
 * inside it with one helper; a bad address stops the VM (exit status
 * VESSEL_EXIT_GUEST_FAULT) with a message naming the hypercall. OUT fields are
 * written before the guest resumes. `ret` is 0 or a negative errno.
 *
 * Under QEMU these ports are unassigned (writes ignored): the kernel only
 * uses hypercalls when the boot info has VESSEL_BOOT_F_HYPERCALLS.
 * ------------------------------------------------------------------------ */

#define VESSEL_HC_PORT_BASE  0x0500u
#define VESSEL_HC_PORT_COUNT 0x0040u

enum vessel_hypercall {
	VESSEL_HC_POWEROFF = 0,	 /* struct vessel_hc_poweroff */
	VESSEL_HC_TEST = 1,	 /* struct vessel_hc_test */
	VESSEL_HC_CPU_START = 2, /* struct vessel_hc_cpu_start */
	VESSEL_HC_HCB_REGISTER = 3, /* struct vessel_hc_hcb_register */
	VESSEL_HC_FREE_REPORT = 4,  /* struct vessel_hc_free_report */
	VESSEL_HC_PTTRACE = 5,	    /* struct vessel_hc_pttrace */
	VESSEL_HC_TEXT_PATCH = 6,   /* struct vessel_hc_text_patch (ABI 4) */
	VESSEL_HC_DOMAIN_CALL = 7,  /* struct vessel_hc_domain_call (ABI 4) */
	VESSEL_HC_DOMAIN_RETURN = 8, /* from the secure domain only: result in RAX */
	VESSEL_HC_NR
};

/* Stop the VM; `vessel run` exits with `status` (0..255). Never returns. */
struct vessel_hc_poweroff {
	uint64_t status; /* IN */
};

/*
 * Test-report channel (like KVM selftests' ucall). A guest test reports:
 *   SYNC(arg)                 reached checkpoint `arg`; a host test may act
 *                             (save/restore, migrate, poison) before resuming
 *   ASSERT(file, line, msg)   an assertion failed; the VMM prints it and
 *                             counts it
 *   DONE(arg)                 the test program finished; arg = failures
 *   PRINT(msg)                free text for the host test log
 * Strings are NUL-terminated, at most VESSEL_HC_STR_MAX bytes with the NUL.
 */
#define VESSEL_HC_STR_MAX 256u

enum vessel_test_kind {
	VESSEL_TEST_SYNC = 1,
	VESSEL_TEST_ASSERT = 2,
	VESSEL_TEST_DONE = 3,
	VESSEL_TEST_PRINT = 4,
};

struct vessel_hc_test {
	uint32_t kind;	   /* IN: enum vessel_test_kind */
	uint32_t line;	   /* IN: ASSERT only */
	uint64_t file_gpa; /* IN: ASSERT only, string */
	uint64_t msg_gpa;  /* IN: ASSERT, PRINT: string (0 = none) */
	uint64_t arg;	   /* IN: SYNC stage, DONE failure count */
	int64_t ret;	   /* OUT: 0 or -errno */
};

/*
 * Start application processor `cpu` (1..cpu_count-1) in 64-bit mode with the
 * given state; the same entry state as the BSP except the registers below.
 * Replaces INIT-SIPI-SIPI (which needs real mode) on the Vessel VMM.
 */
struct vessel_hc_cpu_start {
	uint32_t cpu; /* IN: vCPU index == initial APIC ID */
	uint32_t pad;
	uint64_t rip; /* IN: guest-virtual entry (mapped by cr3) */
	uint64_t rsp; /* IN */
	uint64_t cr3; /* IN: page-table root, guest-physical */
	uint64_t arg; /* IN: passed in RDI */
	int64_t ret;  /* OUT: 0, -EINVAL (bad cpu), -EBUSY (already started) */
};

/*
 * Hyper-callbacks: small eBPF programs the guest kernel hands the VMM, which
 * verifies them once and runs them at its own events without entering the
 * guest. They read guest memory only with helper VESSEL_HCB_HELPER_READ, and
 * only inside the ranges given at registration; what they read is racy, so
 * every answer is a hint the VMM may act on only where a wrong answer is
 * harmless (see docs/hcb.md).
 *
 * The program runs with r1 = struct vessel_hcb_ctx (read-only, except the
 * VESSEL_HCB_OUT_SIZE bytes `out` points to) and returns 0, or < 0 when it
 * cannot answer (the VMM then assumes nothing).
 *
 *   FREE_PAGES  arg = chunk c: fill out[] as a bitmap of the page frames
 *               [c * VESSEL_HCB_CHUNK_FRAMES, (c + 1) * VESSEL_HCB_CHUNK_FRAMES):
 *               bit (f % 8) of byte (f / 8) set = frame c * CHUNK + f is
 *               free, its content unused: the VMM may drop it.
 *   PAGE_OWNER  arg = a guest-physical address: fill out[] with a
 *               struct vessel_hcb_owner.
 */
enum vessel_hcb_event {
	VESSEL_HCB_FREE_PAGES = 1,
	VESSEL_HCB_PAGE_OWNER = 2,
	VESSEL_HCB_EVENT_MAX = VESSEL_HCB_PAGE_OWNER,
};

#define VESSEL_HCB_MAX_RANGES	 8
#define VESSEL_HCB_MAX_PARAMS	 6
#define VESSEL_HCB_MAX_PROG	 (64u << 10) /* bytes of program (raw or ELF) */
#define VESSEL_HCB_OUT_SIZE	 512u
#define VESSEL_HCB_CHUNK_FRAMES	 (VESSEL_HCB_OUT_SIZE * 8u)
#define VESSEL_HCB_HELPER_READ	 1 /* long read(void *dst, u64 size, u64 gpa): 0 or -errno;
				    * dst zero-filled on failure */
#define VESSEL_HCB_FMT_RAW	 0u /* prog: raw 8-byte instructions */
#define VESSEL_HCB_FMT_ELF	 1u /* prog: clang -target bpf object, section "hcb" */

struct vessel_hcb_ctx {
	uint64_t out; /* pointer to the output buffer (VESSEL_HCB_OUT_SIZE bytes) */
	uint64_t arg; /* the event's argument (above) */
	uint64_t params[VESSEL_HCB_MAX_PARAMS]; /* from the registration */
};

enum vessel_hcb_owner_kind {
	VESSEL_HCB_OWNER_UNKNOWN = 0,
	VESSEL_HCB_OWNER_FREE = 1,
	VESSEL_HCB_OWNER_KERNEL = 2,
	VESSEL_HCB_OWNER_PROCESS = 3,
};

struct vessel_hcb_owner {
	uint32_t kind; /* enum vessel_hcb_owner_kind */
	int32_t pid;   /* PROCESS */
	char name[16]; /* PROCESS: NUL-terminated unless 16 long */
};

struct vessel_hcb_range {
	uint64_t gpa;
	uint64_t len;
};

/*
 * Register (or replace) the callback of `event`. ret: 0; -EINVAL rejected
 * (err_insn and msg say where and why; err_insn -1 if no instruction is to
 * blame); -E2BIG too large or too complex to verify; -EPERM hyper-callbacks
 * are disabled (vessel run --no-hyper-callbacks) or a replacement was refused
 * (VESSEL_HCB_F_FINAL on the first registration); -ENOSPC no room.
 */
#define VESSEL_HCB_F_FINAL 1u /* no later registration may replace this one */

struct vessel_hc_hcb_register {
	uint32_t event;	    /* IN: enum vessel_hcb_event */
	uint32_t format;    /* IN: VESSEL_HCB_FMT_* */
	uint32_t flags;	    /* IN: VESSEL_HCB_F_* */
	uint32_t nr_ranges; /* IN: entries of ranges[] used */
	uint64_t prog_gpa;  /* IN */
	uint64_t prog_len;  /* IN: bytes, at most VESSEL_HCB_MAX_PROG */
	uint64_t params[VESSEL_HCB_MAX_PARAMS];		     /* IN: ctx->params */
	struct vessel_hcb_range ranges[VESSEL_HCB_MAX_RANGES]; /* IN: readable memory */
	int64_t ret;	  /* OUT */
	int64_t err_insn; /* OUT */
	char msg[200];	  /* OUT: the verifier's reason, NUL-terminated */
};

/*
 * The guest round trip that hyper-callbacks are compared with (the
 * virtio-balloon free-page-hint pattern): the VMM raises ISA IRQ
 * VESSEL_FREE_REPORT_IRQ; the kernel answers with this hypercall, giving a
 * bitmap of its free page frames (1 = free) in its own memory.
 */
#define VESSEL_FREE_REPORT_IRQ 5u

struct vessel_hc_free_report {
	uint64_t bitmap_gpa; /* IN: bitmap, bit f = frame f free */
	uint64_t nframes;    /* IN: frames it covers */
	int64_t ret;	     /* OUT: 0 or -errno */
};

/*
 * Page-table tracing (kernel command line `pttrace=on`, `vessel run
 * --pt-trace FILE`; docs/sptmodel.md). The kernel records every page-table
 * entry it writes and every TLB flush into a per-CPU buffer in its own
 * memory, registered once with VESSEL_PTTRACE_REGISTER; when a buffer is
 * full its CPU calls VESSEL_PTTRACE_DRAIN and the VMM appends the records to
 * the trace file and empties the buffer (count = 0). The VMM also reads
 * every buffer itself while the VM is paused (a workload mark) and after it
 * stopped, so no record is lost at the end.
 *
 *   buffer (guest memory, 32-byte aligned)
 *   +--------+--------+----------+-----------+--------------------------+
 *   | count  | cap    | lost     | reserved  | rec[0] ... rec[cap - 1]  |
 *   | u32    | u32    | u64      | 16 bytes  | struct vessel_pt_rec     |
 *   +--------+--------+----------+-----------+--------------------------+
 *   0        4        8          16          32
 *
 * The guest writes a record, then increments count; only the buffer's own
 * CPU writes it, with interrupts off. `seq` orders records across CPUs.
 */
enum vessel_pt_kind {
	VESSEL_PT_WRITE = 1,  /* entry at gpa `addr` (level) changed from old_val to new_val */
	VESSEL_PT_INVLPG = 2, /* invlpg of virtual address `addr`; new_val = CR3 */
	VESSEL_PT_CR3 = 3,    /* CR3 loaded (flushes non-global entries): old_val -> new_val */
	VESSEL_PT_FAULT = 4,  /* #PF at virtual `addr`, error code old_val, CR3 new_val */
	VESSEL_PT_FREE = 5,   /* page-table page at gpa `addr` (level) freed by the kernel */
	VESSEL_PT_ALLOC = 6,  /* frame at gpa `addr` handed out by the page allocator */
	VESSEL_PT_KIND_MAX = VESSEL_PT_ALLOC,
};

struct vessel_pt_rec {
	uint64_t addr;	  /* gpa (WRITE, FREE, ALLOC) or virtual address (INVLPG, FAULT) */
	uint64_t old_val; /* WRITE: entry before; CR3: previous CR3; FAULT: error code */
	uint64_t new_val; /* WRITE: entry after; CR3: CR3 loaded; INVLPG, FAULT: CR3 */
	uint32_t seq;	  /* global order across CPUs (wraps) */
	uint8_t kind;	  /* enum vessel_pt_kind */
	uint8_t level;	  /* WRITE, FREE: 1 = page table (4 KiB leaves) .. 4 = PML4 */
	uint16_t cpu;	  /* CPU index that made the change */
};

struct vessel_pttrace_buf {
	uint32_t count; /* records filled; the VMM sets it to 0 when it drains */
	uint32_t cap;	/* records rec[] has room for */
	uint64_t lost;	/* records dropped (re-entered from #MC); the VMM clears it */
	uint64_t reserved[2];
	/* struct vessel_pt_rec rec[cap] follows */
};

enum vessel_pttrace_op {
	VESSEL_PTTRACE_REGISTER = 1, /* cpu's buffer is at buf_gpa, buf_size bytes */
	VESSEL_PTTRACE_DRAIN = 2,    /* cpu's buffer is full: take its records */
};

/*
 * ret: 0; -ENODEV the VMM records no trace (no --pt-trace): stop tracing;
 * -EINVAL bad op, cpu, buffer or count; -EIO the trace file write failed.
 */
struct vessel_hc_pttrace {
	uint32_t op;	   /* IN: enum vessel_pttrace_op */
	uint32_t cpu;	   /* IN: 0..cpu_count-1 */
	uint64_t buf_gpa;  /* IN (REGISTER): struct vessel_pttrace_buf, 32-byte aligned */
	uint64_t buf_size; /* IN (REGISTER): bytes, header included */
	int64_t ret;	   /* OUT */
};

/*
 * Code integrity (ABI 4, docs/integrity.md). With VESSEL_BOOT_F_INTEGRITY the
 * VMM maps the kernel's read-only PT_LOAD segments (text, rodata) read-only
 * in the VM: a guest write there stops the VM (or is discarded in
 * --integrity=report mode). The kernel changes its code only through the
 * VMM:
 *
 *   REGISTER  once, before any PATCH: the patch sites, a table of `count`
 *             struct vessel_patch_site at `addr` (a kernel virtual address
 *             inside the read-only segments, so the table is what the build
 *             produced). A second REGISTER is refused (-EBUSY).
 *   PATCH     write code[0 .. len) at kernel virtual address `addr`
 *             (1 <= len <= VESSEL_PATCH_MAX). Refused with -EPERM unless
 *             the range lies in one registered site and the bytes decode as
 *             instructions of the allowed forms (cmp/test/mov without memory
 *             operand, nop, ret, int3 and direct jmp/jcc whose target lies in
 *             kernel text); -EINVAL for a bad op, len or table.
 *
 * The VMM writes the bytes; the guest serialises its CPUs itself (the kernel
 * issues PATCH from its stop-the-world privileged mode).
 */
#define VESSEL_PATCH_MAX       256u
#define VESSEL_PATCH_SITES_MAX 64u

enum vessel_text_patch_op {
	VESSEL_TEXT_PATCH_REGISTER = 1,
	VESSEL_TEXT_PATCH_PATCH = 2,
};

struct vessel_patch_site {
	uint64_t addr; /* kernel virtual address of the first byte */
	uint64_t len;  /* bytes */
};

struct vessel_hc_text_patch {
	uint32_t op;		     /* IN: enum vessel_text_patch_op */
	uint32_t len;		     /* IN: PATCH: bytes of code; REGISTER: count of sites */
	uint64_t addr;		     /* IN: PATCH: destination; REGISTER: the site table */
	int64_t ret;		     /* OUT: 0 or -errno */
	uint8_t code[VESSEL_PATCH_MAX]; /* IN: PATCH: the new bytes */
};

/*
 * The secure domain and its trusted computing base (ABI 4, docs/integrity.md).
 * A kernel may carry a TCB: the PT_LOAD segment holding ELF section `.tcb`,
 * which starts with struct vessel_tcb_header. Its SHA-256, computed at
 * build time over the section, is recorded in the non-loaded section
 * `.tcb_sha256`; with integrity on the VMM measures the TCB as loaded and
 * refuses to run a kernel whose TCB does not match. The VMM then leaves the
 * TCB's memory out of the root domain's (the kernel's) memory and runs it in
 * a second KVM VM over the same RAM (the secure domain), whose mapping of
 * kernel text is writable. The TCB runs at CPL0 in 64-bit mode with page
 * tables the VMM builds in its pt pages (virtual KERNEL_VMA + x = physical
 * x for x below 1 GiB), interrupts off, no IDT, the stack of its vCPU. An
 * entry is called with the System V argument registers and ends with
 * `out %eax, $(VESSEL_HC_PORT_BASE + VESSEL_HC_DOMAIN_RETURN)`, the result
 * in RAX.
 *
 *   entry VESSEL_TCB_TEXT_WRITE (dst, src, len): not root-callable; the VMM
 *       calls it for VESSEL_TEXT_PATCH_PATCH after its own checks, with the
 *       checked bytes copied into the TCB's memory (src); the TCB checks the
 *       destination against the patch-site table and writes.
 *   entry VESSEL_TCB_ECHO (x): root-callable; returns x + 1 (the transition
 *       round trip, measured by `make bench BENCH=domains`).
 *   entry VESSEL_TCB_HANDSHAKE (flag, max): root-callable, for the test that
 *       two vCPUs are in different domains at once: sets the root's 64-bit
 *       word at kernel address `flag` to 1, then waits (at most max polls)
 *       until the root side sets it to 2; returns 1 if it saw 2, else 0.
 */
#define VESSEL_TCB_MAGIC       0x314243544c535356ull /* "VSSLTCB1" */
#define VESSEL_TCB_ENTRIES_MAX 8u
#define VESSEL_TCB_F_ROOT      1u /* entry_flags: the root domain may call it */

enum vessel_tcb_entry {
	VESSEL_TCB_TEXT_WRITE = 0,
	VESSEL_TCB_ECHO = 1,
	VESSEL_TCB_HANDSHAKE = 2,
};

struct vessel_tcb_header {
	uint64_t magic;	   /* VESSEL_TCB_MAGIC */
	uint32_t nentries; /* valid entries in entry[] */
	uint32_t ncpus;	   /* stacks: one per vCPU, stack_size bytes each */
	uint64_t entry[VESSEL_TCB_ENTRIES_MAX];	     /* virtual addresses inside the TCB */
	uint32_t entry_flags[VESSEL_TCB_ENTRIES_MAX]; /* VESSEL_TCB_F_* */
	uint64_t pt_off;			     /* 3 zeroed pages for the page tables */
	uint64_t stack_off;			     /* first stack, from the header */
	uint64_t stack_size;			     /* bytes per vCPU, page multiple */
};

/* Root domain -> secure domain: call entry `entry` with args; ret is its result. */
struct vessel_hc_domain_call {
	uint32_t entry;	  /* IN: index into the TCB's entries */
	uint32_t pad;	  /* IN: 0 */
	uint64_t args[3]; /* IN: RDI, RSI, RDX */
	int64_t ret;	  /* OUT: the entry's RAX, or -ENOENT (no such root-callable
			   * entry), -ENODEV (no secure domain) */
};

_Static_assert(sizeof(struct vessel_mem_region) == 24, "ABI");
_Static_assert(sizeof(struct vessel_boot_device) == 24, "ABI");
_Static_assert(sizeof(struct vessel_boot_info) ==
		       80 + 24 * VESSEL_BOOT_MMAP_MAX + 8 + 24 * VESSEL_BOOT_DEV_MAX,
	       "ABI");
_Static_assert(sizeof(struct vessel_hc_poweroff) == 8, "ABI");
_Static_assert(sizeof(struct vessel_hc_test) == 40, "ABI");
_Static_assert(sizeof(struct vessel_hc_cpu_start) == 48, "ABI");
_Static_assert(sizeof(struct vessel_hcb_ctx) == 64, "ABI");
_Static_assert(sizeof(struct vessel_hc_free_report) == 24, "ABI");
_Static_assert(sizeof(struct vessel_hcb_owner) == 24, "ABI");
_Static_assert(sizeof(struct vessel_hc_hcb_register) == 32 + 48 + 128 + 16 + 200, "ABI");
_Static_assert(sizeof(struct vessel_pt_rec) == 32, "ABI");
_Static_assert(sizeof(struct vessel_pttrace_buf) == 32, "ABI");
_Static_assert(sizeof(struct vessel_hc_pttrace) == 32, "ABI");
_Static_assert(sizeof(struct vessel_patch_site) == 16, "ABI");
_Static_assert(sizeof(struct vessel_tcb_header) == 16 + 12 * VESSEL_TCB_ENTRIES_MAX + 24, "ABI");
_Static_assert(sizeof(struct vessel_hc_domain_call) == 40, "ABI");
_Static_assert(sizeof(struct vessel_hc_text_patch) == 24 + VESSEL_PATCH_MAX, "ABI");

/* ------------------------------------------------------------------------
 * Devices and exit status
 * ------------------------------------------------------------------------ */

#define VESSEL_COM1_PORT 0x3f8u /* 16550A, IRQ 4 via the IOAPIC */
#define VESSEL_COM1_IRQ	 4u

/* `vessel run` exit status when the VMM, not the guest, decides */
#define VESSEL_EXIT_VMM_ERROR	1   /* could not start or run the VM */
#define VESSEL_EXIT_USAGE	2   /* bad command line */
#define VESSEL_EXIT_GUEST_FAULT 125 /* triple fault, bad hypercall, unhandled exit */
#define VESSEL_EXIT_MONITOR	3   /* --monitor=sandboxed: the monitor broke its policy or died */

/* QEMU: isa-debug-exit at this port; QEMU exits with (value << 1) | 1 */
#define VESSEL_QEMU_EXIT_PORT 0xf4u

#endif /* VESSEL_ABI_VESSEL_H */
