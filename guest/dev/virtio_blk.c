// SPDX-License-Identifier: MIT
/*
 * virtio-blk driver. Queue layout: request slot i owns descriptors 3i
 * (header), 3i + 1 (data) and 3i + 2 (status), chained once at set-up, so
 * submitting a request only fills in addresses and lengths (kernel code is
 * emulated on the development host: every instruction counts).
 */
#include "dev/virtio_blk.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "dev/virtio_mmio.h"
#include "kernel/boot.h"
#include "kernel/deferred.h"
#include "kernel/irq.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/spinlock.h"
#include "lib/cmdline.h"
#include "lib/errno.h"
#include "lib/string.h"

#include <abi/virtio.h>

#define VBLK_DISKS 8
#define VBLK_SLOTS 64
#define VBLK_QUEUE 256 /* 3 descriptors per slot */
#define BUF_PAGES  (VBLK_REQ_MAX_BYTES / PAGE_SIZE)

enum irq_mode { MODE_EVERY, MODE_COALESCE, MODE_CALIBRATED };

/* Header and status of each slot: what the device reads and writes. */
struct slot_dma {
	struct virtio_blk_req hdr[VBLK_SLOTS];
	uint8_t status[VBLK_SLOTS];
};

struct vblk_disk {
	char name[4];
	struct vmmio mm;
	int vector;
	uint64_t capacity; /* sectors */
	int readonly;
	int cintr;     /* the device accepted calibrated interrupts */
	int event_idx; /* VIRTIO_F_EVENT_IDX: used_event / avail_event */
	int broken;
	enum irq_mode mode; /* blk.irq= for this disk */
	uint16_t num;	    /* queue entries */
	int nslots;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t avail_idx; /* our shadow of avail->idx */
	uint16_t last_used; /* next used entry to look at */
	struct slot_dma *dma;
	struct vblk_req req[VBLK_SLOTS];
	int free[VBLK_SLOTS]; /* stack of free slots */
	int nfree;
	struct spinlock lock;  /* handler vs. submission: the rings, done list */
	struct vblk_req *done; /* completed, for the deferred work (LIFO) */
	struct vblk_counts cnt;
};

static struct vblk_disk disks[VBLK_DISKS];
static int ndisks;

/* ---------------------------------------------------------------- completion */

/* Deferred work: runs the completion callbacks with the BKL. */
static void run_completions(void)
{
	for (int i = 0; i < ndisks; i++) {
		struct vblk_disk *d = &disks[i];
		struct vblk_req *list, *rev = NULL;
		uint64_t f;

		if (!d->done)
			continue;
		f = spin_lock_irqsave(&d->lock);
		list = d->done;
		d->done = NULL;
		spin_unlock_irqrestore(&d->lock, f);
		/* completion order */
		while (list) {
			struct vblk_req *n = list->done_next;

			list->done_next = rev;
			rev = list;
			list = n;
		}
		for (struct vblk_req *r = rev, *n; r; r = n) {
			n = r->done_next;
			r->finished = 1;
			r->complete(r);
		}
	}
}

static struct deferred_work completion_work = DEFERRED_WORK_INIT(run_completions);

/* Every request in flight fails (the device needs a reset). Lock held. */
static void fail_all(struct vblk_disk *d)
{
	for (int s = 0; s < d->nslots; s++) {
		struct vblk_req *r = &d->req[s];

		if (r->result != 1) /* not in flight */
			continue;
		r->result = -EIO;
		r->done_next = d->done;
		d->done = r;
	}
}

/* used_event (after the available ring) and avail_event (after the used ring) */
static volatile uint16_t *used_event(struct vblk_disk *d)
{
	return &d->avail->ring[d->num];
}

static volatile uint16_t *avail_event(struct vblk_disk *d)
{
	return (volatile uint16_t *)&d->used->ring[d->num];
}

/* Takes the used entries off the ring. Lock held. Returns how many. */
static int harvest(struct vblk_disk *d)
{
	int n = 0;

again:
	while (d->last_used != __atomic_load_n(&d->used->idx, __ATOMIC_ACQUIRE)) {
		struct virtq_used_elem *e = &d->used->ring[d->last_used % d->num];
		uint32_t s = e->id / 3;
		struct vblk_req *r;

		d->last_used++;
		if (e->id % 3 || s >= (uint32_t)d->nslots || d->req[s].result != 1) {
			printk("%s: the device returned descriptor %u, which is not in flight\n",
			       d->name, e->id);
			continue;
		}
		r = &d->req[s];
		r->result = d->dma->status[s] == VIRTIO_BLK_S_OK ? 0 : -EIO;
		r->done_next = d->done;
		d->done = r;
		n++;
	}
	if (d->event_idx) {
		/* interrupt me for the next entry; look again in case it came */
		*used_event(d) = d->last_used;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (d->last_used != __atomic_load_n(&d->used->idx, __ATOMIC_ACQUIRE))
			goto again;
	}
	return n;
}

static void vblk_irq(struct trapframe *tf)
{
	struct vblk_disk *d = NULL;
	uint32_t isr;
	int n;

	for (int i = 0; i < ndisks; i++)
		if (disks[i].vector == (int)tf->vector)
			d = &disks[i];
	if (!d)
		return;
	isr = vmmio_irq_ack(&d->mm);
	spin_lock(&d->lock);
	d->cnt.interrupts++;
	if ((isr & VIRTIO_MMIO_INT_CONFIG) && !d->broken &&
	    (vmmio_read(&d->mm, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
		d->broken = 1;
		printk("%s: the device needs a reset: failing every request\n", d->name);
	}
	n = harvest(d);
	if (d->broken)
		fail_all(d);
	d->cnt.completions += (uint64_t)n;
	if (!n && !d->broken)
		d->cnt.spurious++;
	spin_unlock(&d->lock);
	if (d->done)
		deferred_raise(&completion_work);
}

/* ---------------------------------------------------------------- requests */

struct vblk_req *vblk_get(struct vblk_disk *d, int wait)
{
	struct vblk_req *r;

	for (;;) {
		if (d->broken)
			return NULL;
		if (d->nfree)
			break;
		if (!wait)
			return NULL;
		sleep_on(&d->nfree);
	}
	r = &d->req[d->free[--d->nfree]];
	if (!r->buf) {
		uint64_t pa = pages_alloc(BUF_PAGES);

		if (!pa) {
			d->free[d->nfree++] = r->slot;
			return NULL;
		}
		r->buf = phys_to_virt(pa);
	}
	r->finished = 0;
	r->result = 0;
	r->next = NULL;
	r->owner = NULL;
	return r;
}

void vblk_put(struct vblk_req *r)
{
	struct vblk_disk *d = r->disk;

	d->free[d->nfree++] = r->slot;
	wakeup(&d->nfree);
}

void vblk_submit(struct vblk_disk *d, struct vblk_req **reqs, int n, int sync)
{
	uint64_t f;
	uint16_t old;

	if (d->broken) {
		f = spin_lock_irqsave(&d->lock);
		for (int i = 0; i < n; i++) {
			reqs[i]->result = -EIO;
			reqs[i]->done_next = d->done;
			d->done = reqs[i];
		}
		spin_unlock_irqrestore(&d->lock, f);
		deferred_raise(&completion_work);
		return;
	}
	f = spin_lock_irqsave(&d->lock);
	old = d->avail_idx;
	for (int i = 0; i < n; i++) {
		struct vblk_req *r = reqs[i];
		int s = r->slot;
		struct virtio_blk_req *h = &d->dma->hdr[s];
		struct virtq_desc *hd = &d->desc[3 * s];

		h->type = r->op == VBLK_READ  ? VIRTIO_BLK_T_IN :
			  r->op == VBLK_WRITE ? VIRTIO_BLK_T_OUT :
						VIRTIO_BLK_T_FLUSH;
		h->sector = r->op == VBLK_FLUSH ? 0 : r->sector;
		h->flags = 0;
		if (d->mode == MODE_CALIBRATED && d->cintr) {
			if (sync)
				h->flags = VESSEL_BLK_REQ_URGENT;
			else if (i == n - 1)
				h->flags = VESSEL_BLK_REQ_BARRIER;
		}
		d->cnt.urgent += (h->flags & VESSEL_BLK_REQ_URGENT) != 0;
		d->cnt.barrier += (h->flags & VESSEL_BLK_REQ_BARRIER) != 0;
		if (r->op == VBLK_FLUSH || !r->len) {
			hd->next = (uint16_t)(3 * s + 2); /* header -> status */
		} else {
			struct virtq_desc *dd = &d->desc[3 * s + 1];

			hd->next = (uint16_t)(3 * s + 1);
			dd->addr = virt_to_phys(r->buf);
			dd->len = r->len;
			dd->flags =
				VIRTQ_DESC_F_NEXT | (r->op == VBLK_READ ? VIRTQ_DESC_F_WRITE : 0);
		}
		d->dma->status[s] = 0xff;
		r->result = 1; /* in flight */
		d->avail->ring[d->avail_idx % d->num] = (uint16_t)(3 * s);
		d->avail_idx++;
	}
	/* descriptors and ring entries before the index that publishes them */
	__atomic_store_n(&d->avail->idx, d->avail_idx, __ATOMIC_RELEASE);
	d->cnt.requests += (uint64_t)n;
	spin_unlock_irqrestore(&d->lock, f);
	/* the index before the check of the device's hint */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (d->event_idx ? (uint16_t)(d->avail_idx - *avail_event(d) - 1) <
				   (uint16_t)(d->avail_idx - old) :
			   !(__atomic_load_n(&d->used->flags, __ATOMIC_ACQUIRE) &
			     VIRTQ_USED_F_NO_NOTIFY)) {
		d->cnt.kicks++;
		vmmio_notify(&d->mm, 0);
	}
}

static void wake_waiter(struct vblk_req *r)
{
	wakeup(r);
}

int vblk_run(struct vblk_req *r)
{
	struct vblk_req *one = r;

	r->complete = wake_waiter;
	vblk_submit(r->disk, &one, 1, 1);
	while (!r->finished)
		sleep_on(r);
	return r->result;
}

/* ---------------------------------------------------------------- set-up */

struct vblk_disk *vblk_find(const char *name)
{
	for (int i = 0; i < ndisks; i++)
		if (!strcmp(disks[i].name, name))
			return &disks[i];
	return NULL;
}

uint64_t vblk_capacity(const struct vblk_disk *d)
{
	return d->capacity;
}

int vblk_readonly(const struct vblk_disk *d)
{
	return d->readonly;
}

void vblk_counts(struct vblk_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < ndisks; i++) {
		const struct vblk_counts *k = &disks[i].cnt;

		c->requests += k->requests;
		c->completions += k->completions;
		c->interrupts += k->interrupts;
		c->spurious += k->spurious;
		c->kicks += k->kicks;
		c->urgent += k->urgent;
		c->barrier += k->barrier;
		c->exits += __atomic_load_n(&k->exits, __ATOMIC_RELAXED);
	}
}

static uint32_t cmdline_u32(const char *key, uint32_t def)
{
	char v[16];
	uint32_t x = 0;

	if (cmdline_get(boot.cmdline, key, v, sizeof(v)) <= 0)
		return def;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9' || x > 100000000u)
			return def;
		x = x * 10 + (uint32_t)(*p - '0');
	}
	return x;
}

static const char *mode_name(enum irq_mode m)
{
	return m == MODE_EVERY ? "every" : m == MODE_COALESCE ? "coalesce" : "calibrated";
}

/* Queue memory, slot chains, interrupt: 0 or -errno. */
static int setup(struct vblk_disk *d)
{
	/* every: the standard device's interrupt per completion (no EVENT_IDX) */
	uint64_t want = (1ull << VIRTIO_BLK_F_RO) | (1ull << VIRTIO_BLK_F_FLUSH) |
			(d->mode != MODE_EVERY ? (1ull << VESSEL_VIRTIO_BLK_F_CINTR) |
							 (1ull << VIRTIO_F_EVENT_IDX) :
						 0);
	uint64_t got, ring_pa;
	uint32_t max;
	int r;

	r = vmmio_negotiate(&d->mm, want, &got);
	if (r)
		return r;
	d->readonly = (got >> VIRTIO_BLK_F_RO) & 1;
	d->cintr = (got >> VESSEL_VIRTIO_BLK_F_CINTR) & 1;
	d->event_idx = (got >> VIRTIO_F_EVENT_IDX) & 1;
	d->capacity = vmmio_config_read64(&d->mm, 0);
	max = vmmio_queue_max(&d->mm, 0);
	if (max < 3)
		return -ENODEV;
	d->num = VBLK_QUEUE;
	while (d->num > max)
		d->num /= 2;
	d->nslots = d->num / 3 < VBLK_SLOTS ? d->num / 3 : VBLK_SLOTS;
	/* descriptors in page 0, available ring at page 1, used ring at page 1 + 1 KiB */
	ring_pa = pages_alloc(2);
	if (!ring_pa)
		return -ENOMEM;
	memset(phys_to_virt(ring_pa), 0, 2 * PAGE_SIZE);
	d->desc = phys_to_virt(ring_pa);
	d->avail = phys_to_virt(ring_pa + PAGE_SIZE);
	d->used = phys_to_virt(ring_pa + PAGE_SIZE + 1024);
	ring_pa = page_alloc_zeroed();
	if (!ring_pa)
		return -ENOMEM;
	d->dma = phys_to_virt(ring_pa);
	ring_pa = virt_to_phys(d->desc);
	for (int s = 0; s < d->nslots; s++) {
		struct virtq_desc *x = &d->desc[3 * s];

		x[0] = (struct virtq_desc){ virt_to_phys(&d->dma->hdr[s]), sizeof(d->dma->hdr[s]),
					    VIRTQ_DESC_F_NEXT, (uint16_t)(3 * s + 1) };
		x[1].next = (uint16_t)(3 * s + 2); /* data -> status; the rest per request */
		x[2] = (struct virtq_desc){ virt_to_phys(&d->dma->status[s]), 1, VIRTQ_DESC_F_WRITE,
					    0 };
		d->req[s].slot = s;
		d->req[s].disk = d;
		d->free[d->nfree++] = d->nslots - 1 - s;
	}
	r = vmmio_queue_setup(&d->mm, 0, d->num, ring_pa, ring_pa + PAGE_SIZE,
			      ring_pa + PAGE_SIZE + 1024);
	if (r)
		return r;
	if (d->cintr) {
		uint32_t th = cmdline_u32("blk.threshold=", VESSEL_BLK_CINTR_DEF_THRESHOLD);
		uint32_t to = cmdline_u32("blk.timeout_us=", VESSEL_BLK_CINTR_DEF_TIMEOUT);

		vmmio_config_write32(&d->mm, VESSEL_BLK_CINTR_CONFIG, th);
		vmmio_config_write32(&d->mm, VESSEL_BLK_CINTR_CONFIG + 4, to);
	}
	d->vector = irq_alloc(vblk_irq);
	if (d->vector < 0)
		return d->vector;
	ioapic_route_level(d->mm.irq, (uint8_t)d->vector, cpus[0].apic_id);
	vmmio_driver_ok(&d->mm);
	return 0;
}

/* One word of blk.irq=, `len` bytes at w: 0 with *m set, or -EINVAL. */
static int mode_word(const char *w, size_t len, enum irq_mode *m)
{
	static const enum irq_mode all[] = { MODE_EVERY, MODE_COALESCE, MODE_CALIBRATED };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *name = mode_name(all[i]);

		if (strlen(name) == len && !memcmp(name, w, len)) {
			*m = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Parses a blk.irq= value: one mode word for every disk, or a comma-separated
 * list giving disk i (vda, vdb, ...) the i-th word; disks past the end of the
 * list take its last word. Fills modes[0..max-1] and returns 0. Returns
 * -EINVAL for a word that is not a mode (an empty one included) and -E2BIG
 * for more than max words, with *bad at the offending word and *bad_len its
 * length; modes is then unchanged.
 */
static int parse_modes(const char *s, enum irq_mode *modes, int max, const char **bad,
		       size_t *bad_len)
{
	enum irq_mode m[VBLK_DISKS];
	int n = 0;

	if (max > VBLK_DISKS)
		max = VBLK_DISKS;
	for (const char *w = s;;) {
		size_t len = 0;

		while (w[len] && w[len] != ',')
			len++;
		*bad = w;
		*bad_len = len;
		if (n == max)
			return -E2BIG;
		if (mode_word(w, len, &m[n]))
			return -EINVAL;
		n++;
		if (!w[len])
			break;
		w += len + 1;
	}
	for (int i = 0; i < max; i++)
		modes[i] = m[i < n ? i : n - 1];
	return 0;
}

/*
 * The interrupt mode of each disk from the command line (calibrated by
 * default); a bad value is reported on the console and leaves every disk
 * calibrated.
 */
static void parse_cmdline_modes(enum irq_mode *modes)
{
	char v[VBLK_DISKS * 12], word[16];
	const char *bad = v;
	size_t len = 0;
	int r = cmdline_get(boot.cmdline, "blk.irq=", v, sizeof(v));

	for (int i = 0; i < VBLK_DISKS; i++)
		modes[i] = MODE_CALIBRATED;
	if (r == -ENOENT)
		return;
	if (r == -ENAMETOOLONG) {
		printk("blk: blk.irq= is longer than %zu characters: calibrated for every disk\n",
		       sizeof(v) - 1);
		return;
	}
	r = parse_modes(v, modes, VBLK_DISKS, &bad, &len);
	if (r == -E2BIG) {
		printk("blk: bad blk.irq=%s: more than %d words (one per disk): calibrated for "
		       "every disk\n",
		       v, VBLK_DISKS);
	} else if (r) {
		if (len >= sizeof(word))
			len = sizeof(word) - 1;
		memcpy(word, bad, len);
		word[len] = 0;
		printk("blk: bad blk.irq=%s: '%s' is not every, coalesce or calibrated: calibrated "
		       "for every disk\n",
		       v, word);
	}
}

void vblk_init(void)
{
	struct vmmio found[VMMIO_MAX];
	enum irq_mode modes[VBLK_DISKS];
	int n = vmmio_discover(found, VMMIO_MAX);

	parse_cmdline_modes(modes);
	deferred_register(&completion_work);
	for (int i = 0; i < n && ndisks < VBLK_DISKS; i++) {
		struct vblk_disk *d = &disks[ndisks];
		int r;

		if (found[i].device_id != VIRTIO_ID_BLOCK)
			continue;
		memset(d, 0, sizeof(*d));
		d->mm = found[i];
		d->name[0] = 'v';
		d->name[1] = 'd';
		d->name[2] = (char)('a' + ndisks);
		d->lock = (struct spinlock)SPINLOCK_INIT;
		d->mode = modes[ndisks];
		r = setup(d);
		if (r) {
			printk("%s: virtio-blk at %#lx: cannot start it (error %d)\n", d->name,
			       d->mm.base, r);
			vmmio_fail(&d->mm);
			continue;
		}
		ndisks++;
		d->mm.exits = &d->cnt.exits; /* from here on: the I/O path's exits */
		printk("%s: virtio-blk at %#lx irq %u: %lu sectors (%lu MiB)%s, interrupts %s%s\n",
		       d->name, d->mm.base, d->mm.irq, d->capacity, d->capacity >> 11,
		       d->readonly ? ", read-only" : "", mode_name(d->mode),
		       d->mode != MODE_EVERY && !d->cintr ?
			       " (not offered by the device: standard)" :
			       "");
	}
}

/* ---------------------------------------------------------------- self-test */

/*
 * A descriptor chain that loops, made by the driver on a real device
 * (`vessel run --disk IMG --cmdline selftest=blk_bad_chain`, suite blk):
 * the device must refuse it with NEEDS_RESET and a configuration
 * interrupt, after which the request in flight fails with -EIO and the disk
 * takes no more; the VM goes on (the test's own completion shows it). The
 * VMM's log line is checked by the suite. Destroys the disk's usability
 * until the next boot: it runs only when selected by name.
 */
SELFTEST(blk_bad_chain)
{
	struct vblk_disk *d = vblk_find("vda");
	struct vblk_req *r;
	struct virtq_desc *st;

	if (!d || !cmdline_has(boot.cmdline, "selftest=blk_bad_chain"))
		return selftest_skip("needs a disk and selftest=blk_bad_chain");
	r = vblk_get(d, 1);
	ST_ASSERT(r);
	r->op = VBLK_READ;
	r->sector = 0;
	r->len = VBLK_SECTOR;
	ST_ASSERT(vblk_run(r) == 0); /* the disk works */
	vblk_put(r);
	r = vblk_get(d, 1);
	ST_ASSERT(r);
	r->op = VBLK_READ;
	r->sector = 0;
	r->len = VBLK_SECTOR;
	/* status -> data: header, data, status, data, status, ... */
	st = &d->desc[3 * r->slot + 2];
	st->flags |= VIRTQ_DESC_F_NEXT;
	st->next = (uint16_t)(3 * r->slot + 1);
	ST_ASSERT(vblk_run(r) == -EIO);
	ST_ASSERT(d->broken);
	st->flags &= (uint16_t)~VIRTQ_DESC_F_NEXT;
	st->next = 0;
	vblk_put(r);
	ST_ASSERT(!vblk_get(d, 0)); /* a failed disk hands out no request */
	return 0;
}

/* blk.irq= lists (pure: no disk needed). */
SELFTEST(blk_irq_mode_list)
{
	enum irq_mode m[4] = { MODE_COALESCE, MODE_COALESCE, MODE_COALESCE, MODE_COALESCE };
	const char *bad;
	size_t len;
	static const char *const refused[] = { "",	 "bogus",	    "every,",
					       ",every", "every,,every",    "every,Every",
					       "everyx", "every calibrated" };

	ST_ASSERT(!parse_modes("every", m, 4, &bad, &len));
	ST_ASSERT(m[0] == MODE_EVERY && m[1] == MODE_EVERY && m[3] == MODE_EVERY);
	ST_ASSERT(!parse_modes("every,calibrated", m, 4, &bad, &len));
	ST_ASSERT(m[0] == MODE_EVERY && m[1] == MODE_CALIBRATED && m[2] == MODE_CALIBRATED &&
		  m[3] == MODE_CALIBRATED);
	ST_ASSERT(!parse_modes("calibrated,every,coalesce", m, 4, &bad, &len));
	ST_ASSERT(m[0] == MODE_CALIBRATED && m[1] == MODE_EVERY && m[2] == MODE_COALESCE &&
		  m[3] == MODE_COALESCE);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		ST_ASSERT(parse_modes(refused[i], m, 4, &bad, &len) == -EINVAL);
		/* unchanged */
		ST_ASSERT(m[0] == MODE_CALIBRATED && m[1] == MODE_EVERY && m[3] == MODE_COALESCE);
	}
	ST_ASSERT(parse_modes("every,bogus,every", m, 4, &bad, &len) == -EINVAL);
	ST_ASSERT(len == 5 && !memcmp(bad, "bogus", 5));
	ST_ASSERT(parse_modes("every,every,every,every,every", m, 4, &bad, &len) == -E2BIG);
	ST_ASSERT(len == 5 && m[0] == MODE_CALIBRATED);
	return 0;
}
