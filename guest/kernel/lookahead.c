// SPDX-License-Identifier: MIT
/*
 * System-call lookahead (see lookahead.h, docs/lookahead.md). The user
 * code after a system call is fetched with the user-copy path's page
 * lookup (vm_user_page: the region's permissions, demand-zero pages
 * faulted in as a user access would), decoded by guest/lib/x86dec.c and
 * run by guest/lib/x86emu.c on the saved registers. Data accesses go
 * through the same lookup, as single loads and stores of the access size,
 * so another thread of the process sees them as it would see the CPU's.
 *
 * Per address space (struct vm's la): a direct-mapped cache of decoded
 * instructions, tagged with vm->map_gen (any mmap/munmap/mprotect drops
 * them; code in a writable region is never cached), and a small predictor
 * that stops trying after windows that ended without a call.
 */
#include "abi/syscalls.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/mcsafe.h"
#include "kernel/lookahead.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/vm.h"
#include "lib/cmdline.h"
#include "lib/errno.h"
#include "lib/string.h"

#define ICACHE_SLOTS 256 /* decoded instructions per address space */
#define PRED_SLOTS   64	 /* window start addresses with a success score */
#define PRED_RETRY   16	 /* a window written off is tried again every 16th time */
#define TLB_SLOTS    4	 /* user pages translated during one window */

struct icache_slot {
	uint64_t rip;
	uint64_t gen; /* vm->map_gen + 1 when filled (0: empty) */
	struct x86_insn in;
};

struct pred_slot {
	uint64_t rip;
	uint8_t score; /* 0..3; 0: skip */
	uint8_t skips;
};

struct la_space {
	struct icache_slot icache[ICACHE_SLOTS];
	struct pred_slot pred[PRED_SLOTS];
};

/* One window's view of user memory. */
struct la_mem {
	struct vm *vm;
	const int *killed; /* the process's killed flag */
	struct la_space *sp;
	struct x86_insn insn; /* an instruction that is not cached */
	struct {
		uint64_t page; /* user page address, or 1 (never a page): empty */
		uint8_t *p;    /* its kernel (direct-map) address */
		uint32_t access;
	} tlb[TLB_SLOTS];
	unsigned next;
};

static int enabled = 1;
static struct lookahead_counts counts[MAX_CPUS];

void lookahead_init(const char *cmdline)
{
	char v[8];

	if (cmdline_get(cmdline, "lookahead=", v, sizeof(v)) >= 0) {
		if (!strcmp(v, "off"))
			enabled = 0;
		else if (!strcmp(v, "on"))
			enabled = 1;
		else
			printk("lookahead: ignoring lookahead=%s (want on or off)\n", v);
	}
	printk("lookahead: system-call lookahead %s (window %d instructions, chain %d calls)\n",
	       enabled ? "on" : "off", LOOKAHEAD_WINDOW, LOOKAHEAD_CHAIN);
}

int lookahead_set(int on)
{
	int old = enabled;

	enabled = !!on;
	return old;
}

void lookahead_counts(struct lookahead_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < MAX_CPUS; i++) {
		const struct lookahead_counts *c = &counts[i];

		out->saved += c->saved;
		out->emulated += c->emulated;
		for (int s = 0; s < X86EMU_NSTOPS; s++)
			out->stop[s] += c->stop[s];
		out->pending += c->pending;
		out->timer += c->timer;
		out->chain += c->chain;
		out->skipped += c->skipped;
	}
}

/* ---- user memory ---- */

/*
 * Kernel address of user byte addr for `access`, through a per-window TLB.
 * NULL once the process is being killed: a machine check handled on another
 * CPU (kernel/mce.c, without the BKL) kills the owners of a poisoned page
 * and unmaps it, and a kernel-mode read of a poisoned page stops this VM
 * (the VMM sees an access to no RAM), where the program's own access would
 * only have killed it.
 */
static uint8_t *user_ptr(struct la_mem *m, uint64_t addr, uint32_t access)
{
	uint64_t page = addr & PAGE_MASK;
	uint8_t *p;

	if (__atomic_load_n(m->killed, __ATOMIC_ACQUIRE))
		return NULL;

	for (unsigned i = 0; i < TLB_SLOTS; i++) {
		if (m->tlb[i].page == page && (m->tlb[i].access & access) == access)
			return m->tlb[i].p + (addr - page);
	}
	if (addr >= VESSEL_USER_TOP)
		return NULL;
	p = vm_user_page(m->vm, page, access, NULL);
	if (!p)
		return NULL;
	m->tlb[m->next].page = page;
	m->tlb[m->next].p = p;
	m->tlb[m->next].access = access | VM_READ;
	m->next = (m->next + 1) % TLB_SLOTS;
	return p + (addr - page);
}

/*
 * User data, one access of the operand's size (as atomic as the CPU's own;
 * latest's thread case checks it against a writer on another CPU), through
 * the machine-check-safe accessors: a page poisoned under the program stops
 * the window, and the program's own access takes the machine check.
 */
static int mem_read(void *ctx, uint64_t addr, uint64_t *val, unsigned size)
{
	struct la_mem *m = ctx;
	uint8_t *p = user_ptr(m, addr, VM_READ), *q;
	uint64_t v = 0, b;

	if (!p)
		return -EFAULT;
	if ((addr & ~PAGE_MASK) + size <= PAGE_SIZE)
		return mc_safe_load(p, val, size);
	q = user_ptr(m, (addr & PAGE_MASK) + PAGE_SIZE, VM_READ);
	if (!q || addr + size < addr)
		return -EFAULT;
	for (unsigned i = 0; i < size; i++) {
		uint64_t a = addr + i;

		if (mc_safe_load((a & PAGE_MASK) == (addr & PAGE_MASK) ? p + i :
									 q + (a & ~PAGE_MASK),
				 &b, 1))
			return -EFAULT;
		v |= b << (8 * i);
	}
	*val = v;
	return 0;
}

static int mem_write(void *ctx, uint64_t addr, uint64_t val, unsigned size)
{
	struct la_mem *m = ctx;
	uint8_t *p = user_ptr(m, addr, VM_WRITE), *q;

	if (!p)
		return -EFAULT;
	if ((addr & ~PAGE_MASK) + size <= PAGE_SIZE)
		return mc_safe_store(p, val, size);
	/* split across two pages: both must be writable before a byte changes */
	q = user_ptr(m, (addr & PAGE_MASK) + PAGE_SIZE, VM_WRITE);
	if (!q || addr + size < addr)
		return -EFAULT;
	for (unsigned i = 0; i < size; i++) {
		uint64_t a = addr + i;

		if (mc_safe_store((a & PAGE_MASK) == (addr & PAGE_MASK) ? p + i :
									  q + (a & ~PAGE_MASK),
				  (uint8_t)(val >> (8 * i)), 1))
			return -EFAULT;
	}
	return 0;
}

/* n code bytes from p (one page), machine-check-safe. */
static int code_copy(uint8_t *dst, const uint8_t *p, uint64_t n)
{
	uint64_t b;

	for (uint64_t i = 0; i < n; i++) {
		if (mc_safe_load(p + i, &b, 1))
			return -EFAULT;
		dst[i] = (uint8_t)b;
	}
	return 0;
}

/* ---- code ---- */

static struct icache_slot *icache_slot(struct la_space *sp, uint64_t rip)
{
	return &sp->icache[(rip * 0x9e3779b97f4a7c15ull) >> (64 - 8)];
}

/*
 * Decodes the instruction at rip. The bytes must be executable (the region
 * allows VM_EXEC); an instruction that runs into a page that is not is
 * refused (the CPU takes that fault itself).
 */
static int fetch(void *ctx, uint64_t rip, const struct x86_insn **out)
{
	struct la_mem *m = ctx;
	struct icache_slot *slot = icache_slot(m->sp, rip);
	struct x86_insn *in = &m->insn;
	uint8_t buf[X86_MAX_LEN];
	uint32_t prot, prot2 = 0;
	uint64_t n = PAGE_SIZE - (rip & ~PAGE_MASK);
	uint8_t *p;
	int r;

	if (slot->gen == m->vm->map_gen + 1 && slot->rip == rip) {
		*out = &slot->in;
		return 0;
	}
	if (rip >= VESSEL_USER_TOP)
		return -EFAULT;
	p = vm_user_page(m->vm, rip, VM_EXEC, &prot);
	if (!p)
		return -EFAULT;
	if (n > X86_MAX_LEN)
		n = X86_MAX_LEN;
	if (code_copy(buf, p, n))
		return -EFAULT;
	r = x86_decode(buf, n, in);
	if (r == -ERANGE && rip + n < VESSEL_USER_TOP) { /* continues on the next page */
		p = vm_user_page(m->vm, rip + n, VM_EXEC, &prot2);
		if (!p || code_copy(buf + n, p, X86_MAX_LEN - n))
			return -EFAULT;
		r = x86_decode(buf, X86_MAX_LEN, in);
	}
	if (r < 0)
		return r;
	*out = in;
	if (!((prot | prot2) & VM_WRITE)) { /* code that cannot change under us */
		slot->rip = rip;
		slot->gen = m->vm->map_gen + 1;
		slot->in = *in;
	}
	return 0;
}

/* ---- the predictor ---- */

static struct pred_slot *pred_slot(struct la_space *sp, uint64_t rip)
{
	struct pred_slot *ps = &sp->pred[(rip * 0x9e3779b97f4a7c15ull) >> (64 - 6)];

	if (ps->rip != rip) {
		ps->rip = rip;
		ps->score = 2;
		ps->skips = 0;
	}
	return ps;
}

/* ---- the trapframe as an x86emu register file ---- */

static void tf_to_state(const struct trapframe *tf, struct x86emu_state *s)
{
	s->r[X86_RAX] = tf->rax;
	s->r[X86_RCX] = tf->rcx;
	s->r[X86_RDX] = tf->rdx;
	s->r[X86_RBX] = tf->rbx;
	s->r[X86_RSP] = tf->rsp;
	s->r[X86_RBP] = tf->rbp;
	s->r[X86_RSI] = tf->rsi;
	s->r[X86_RDI] = tf->rdi;
	s->r[X86_R8] = tf->r8;
	s->r[X86_R9] = tf->r9;
	s->r[X86_R10] = tf->r10;
	s->r[X86_R11] = tf->r11;
	s->r[X86_R12] = tf->r12;
	s->r[X86_R13] = tf->r13;
	s->r[X86_R14] = tf->r14;
	s->r[X86_R15] = tf->r15;
	s->rip = tf->rip;
	s->rflags = tf->rflags;
}

static void state_to_tf(const struct x86emu_state *s, struct trapframe *tf)
{
	tf->rax = s->r[X86_RAX];
	tf->rcx = s->r[X86_RCX];
	tf->rdx = s->r[X86_RDX];
	tf->rbx = s->r[X86_RBX];
	tf->rsp = s->r[X86_RSP];
	tf->rbp = s->r[X86_RBP];
	tf->rsi = s->r[X86_RSI];
	tf->rdi = s->r[X86_RDI];
	tf->r8 = s->r[X86_R8];
	tf->r9 = s->r[X86_R9];
	tf->r10 = s->r[X86_R10];
	tf->r11 = s->r[X86_R11];
	tf->r12 = s->r[X86_R12];
	tf->r13 = s->r[X86_R13];
	tf->r14 = s->r[X86_R14];
	tf->r15 = s->r[X86_R15];
	tf->rip = s->rip;
	tf->rflags = s->rflags;
}

/* ---- the chain ---- */

/*
 * 1 if this CPU's next timer tick is due (its interrupt waits for us). A
 * CPU that never ticked has none to wait for (under QEMU -icount the LAPIC
 * timer does not fire at all: total.timer_ticks stays 0).
 */
static int tick_due(const struct cpu *c)
{
	uint64_t per_tick = time_tsc_khz() * 1000 / HZ;

	return per_tick && c->tick_tsc && rdtsc() - c->tick_tsc >= per_tick;
}

int lookahead_next(struct trapframe *tf, unsigned served)
{
	struct cpu *c = this_cpu();
	struct lookahead_counts *k = &counts[c->id];
	struct proc *p = c->current->proc;
	struct x86emu_env env = { fetch, mem_read, mem_write, NULL };
	struct la_mem m;
	struct x86emu_state s;
	struct pred_slot *ps;
	enum x86emu_stop stop;
	unsigned n;

	if (!enabled || !p || p->tsc_trace || (tf->rflags & (RFLAGS_TF | RFLAGS_AC)))
		return 0; /* ubench measures entries; single-stepping sees every insn */
	if (served >= LOOKAHEAD_CHAIN) {
		k->chain++;
		return 0;
	}
	if (kernel_exit_pending()) {
		k->pending++;
		return 0;
	}
	if (tick_due(c)) {
		k->timer++;
		return 0;
	}
	if (!p->vm.la) {
		p->vm.la = kzalloc(sizeof(*p->vm.la));
		if (!p->vm.la)
			return 0;
	}
	ps = pred_slot(p->vm.la, tf->rip);
	if (!ps->score && ps->skips++ % PRED_RETRY) {
		k->skipped++;
		return 0;
	}
	m.vm = &p->vm;
	m.killed = &p->killed;
	m.sp = p->vm.la;
	m.next = 0;
	for (unsigned i = 0; i < TLB_SLOTS; i++)
		m.tlb[i].page = 1;
	env.ctx = &m;
	tf_to_state(tf, &s);
	stop = x86emu_run(&s, &env, LOOKAHEAD_WINDOW, &n);
	state_to_tf(&s, tf); /* what was emulated stays done */
	k->emulated += n;
	if (stop != X86EMU_SYSCALL) {
		k->stop[stop]++;
		if (ps->score)
			ps->score--;
		return 0;
	}
	ps->score = 3;
	k->saved++;
	c->cnt.syscalls++;
	return 1;
}
