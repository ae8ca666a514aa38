// SPDX-License-Identifier: MIT
/*
 * Search trampolines: learning a table's hot keys and installing a new
 * trampoline while other CPUs may be running the old one. One engine for
 * every table (struct js_table); the system-call table is defined here, the
 * interrupt handler table in kernel/irq.c.
 *
 * Install protocol (docs/jumpswitch.md has the argument): a table's entry
 * jumps to buffer 0 or 1: the system-call table's is one jmp rel32 that the
 * flip rewrites (text_poke: every other CPU stopped while it changes), the
 * interrupt table's tests bit 0 of its data word `sel`. A step machine,
 * advanced every `period` dispatches on some CPU, never waits:
 *   IDLE     learn the hot set; if it changed, write the new trampoline into
 *            the dead buffer with text_poke, then wait for a grace period
 *   WRITTEN  every other CPU has passed a quiescent point (and so an
 *            interrupt return, which serialises) since the write: flip
 *            (the entry's jump, or the flag), wait for another grace period
 *   FLIPPED  every other CPU has passed a quiescent point since the flip:
 *            none can still be in the old buffer; it is dead, back to IDLE
 * A quiescent point is the end of a dispatch (jumpswitch_done), and for the
 * system-call table also a timer tick that interrupted code outside the
 * trampoline; each is followed by an iretq before that CPU can enter the
 * trampoline again. A CPU found running its idle thread needs none if the
 * table says so (grace_done).
 *
 * Removal (jumpswitch_invalidate): bit 1 of sel sends every dispatch to the
 * miss path, and bits 8.. count removals. A trampoline built after reading
 * count g clears the bit when it goes live only if the count is still g.
 */
#include "kernel/jumpswitch.h"
#include "abi/syscalls.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/boot.h"
#include "kernel/jumpswitch_proc.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/xcall.h"
#include "lib/cmdline.h"
#include "lib/errno.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define JS_DEFAULT_ENTRIES 6
#define JS_DEFAULT_PERIOD  256
#define JS_BUF_BYTES	   256
#define JS_SEL_BUF	   1u
#define JS_SEL_BYPASS	   2u
#define JS_SEL_GEN_SHIFT   8

int jumpswitch_on = 1;

/* the trampoline buffers (arch/x86_64/jumpswitch.S) are the only code rewritten */
extern char js_sys_buf0[], js_sys_buf1[], js_irq_buf0[], js_irq_buf1[];
TEXT_PATCH_SITE(js_sys_buf0, js_sys_buf0, JS_BUF_BYTES);
TEXT_PATCH_SITE(js_sys_buf1, js_sys_buf1, JS_BUF_BYTES);
TEXT_PATCH_SITE(js_irq_buf0, js_irq_buf0, JS_BUF_BYTES);
TEXT_PATCH_SITE(js_irq_buf1, js_irq_buf1, JS_BUF_BYTES);
/* ... and the system-call table's entry, a jmp rel32 to the live buffer */
TEXT_PATCH_SITE(js_sys_entry, js_sys_entry, JSW_TAIL_BYTES);

static int default_entries = JS_DEFAULT_ENTRIES;
static uint32_t default_period = JS_DEFAULT_PERIOD;
static struct js_table *tables;

uint64_t jumpswitch_param(const char *key, uint64_t def, uint64_t max)
{
	char val[24];
	const char *end;
	uint64_t v;

	if (cmdline_get(boot.cmdline, key, val, sizeof(val)) < 0)
		return def;
	if (parse_u64(val, &end, &v) || *end || v > max) {
		printk("jumpswitch: ignoring %s%s (0..%lu)\n", key, val, max);
		return def;
	}
	return v;
}

/* The system-call table: its per-CPU counts are the entry counters. */
JS_TABLE_DECLARE(sys);
int64_t jumpswitch_sys_miss(const uint64_t *args, uint64_t nr);

static const uint64_t *sys_counts(int cpu)
{
	return cpus[cpu].cnt.per_syscall;
}

static uint64_t sys_target(uint32_t nr)
{
	return nr < VESSEL_SYSCALL_COUNT ? (uint64_t)syscall_table[nr] : 0;
}

static uint64_t sys_seen[COUNTERS_MAX_SYSCALLS];

struct js_table js_sys = JS_TABLE_INIT(sys, jumpswitch_sys_miss, COUNTERS_MAX_SYSCALLS, sys_counts,
				       sys_target, 1, 0, sys_seen);

int64_t jumpswitch_sys_miss(const uint64_t *args, uint64_t nr)
{
	js_sys.cpu[this_cpu()->id].misses++;
	if (nr >= VESSEL_SYSCALL_COUNT || !syscall_table[nr])
		return -ENOSYS;
	return syscall_table[nr](args); /* retpolined */
}

void jumpswitch_init(void)
{
	char val[8];

	if (cmdline_get(boot.cmdline, "jumpswitch=", val, sizeof(val)) >= 0 && !strcmp(val, "off"))
		jumpswitch_on = 0;
	default_entries =
		(int)jumpswitch_param("jumpswitch.entries=", JS_DEFAULT_ENTRIES, JSW_MAX_ENTRIES);
	default_period =
		(uint32_t)jumpswitch_param("jumpswitch.period=", JS_DEFAULT_PERIOD, 1u << 30);
	printk("jumpswitch: %s\n", jumpswitch_on ? "on" : "off (retpolined table calls)");
	js_sys.entry_jumps = 1; /* no removals: JS_TABLE sys, ..., bypass=0 */
	jumpswitch_table_init(&js_sys);
	jsp_init();
}

int jumpswitch_default_entries(void)
{
	return default_entries;
}

void jumpswitch_table_init(struct js_table *t)
{
	char key[48];

	fmt_snprintf(key, sizeof(key), "jumpswitch.%s.entries=", t->name);
	t->entries = (int)jumpswitch_param(key, (uint64_t)default_entries, JSW_MAX_ENTRIES);
	fmt_snprintf(key, sizeof(key), "jumpswitch.%s.period=", t->name);
	t->period = (uint32_t)jumpswitch_param(key, default_period, 1u << 30);
	if (!t->period)
		t->period = 1;
	for (int i = 0; i < MAX_CPUS; i++)
		t->cpu[i].countdown = t->period;
	t->next = tables;
	tables = t;
	printk("jumpswitch: table %s: %d entries, learning every %u dispatches per CPU\n", t->name,
	       t->entries, t->period);
}

uint32_t jumpswitch_set_period(struct js_table *t, uint32_t period)
{
	uint32_t old = t->period;

	if (period) {
		t->period = period;
		for (int i = 0; i < MAX_CPUS; i++)
			t->cpu[i].countdown = period;
	}
	return old;
}

void jumpswitch_invalidate(struct js_table *t)
{
	uint32_t old = *t->sel, new;

	do
		new = (old | JS_SEL_BYPASS) + (1u << JS_SEL_GEN_SHIFT);
	while (!__atomic_compare_exchange_n(t->sel, &old, new, 0, __ATOMIC_SEQ_CST,
					    __ATOMIC_RELAXED));
}

/* 1 if CPU i runs (the BSP never sets `online`: it is the one that boots). */
static int cpu_up(int i)
{
	return i == 0 || cpus[i].online;
}

/* Every CPU's quiescent count (self's does not matter). */
static void take_snapshot(struct js_table *t, int self)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the write is visible first */
	for (int i = 0; i < MAX_CPUS; i++)
		t->snap[i] = i == self ? 0 : t->cpu[i].qs;
}

/*
 * 1 when every other online CPU has passed a quiescent point since the
 * snapshot, or, for a table only user threads dispatch through (system
 * calls), runs its idle thread now: an idle CPU reaches that trampoline
 * only through an iretq to user mode, which comes after this check (had it
 * come before, its store of `current` would be visible: iretq drains the
 * store buffer). An idle CPU does take interrupts, so the interrupt table
 * waits for each CPU's next dispatch (a timer tick at the latest).
 */
static int grace_done(struct js_table *t, int self)
{
	for (int i = 0; i < MAX_CPUS; i++) {
		struct cpu *c = &cpus[i];

		if (i == self || !cpu_up(i) || t->cpu[i].qs != t->snap[i])
			continue;
		if (!t->idle_is_quiescent ||
		    __atomic_load_n(&c->current, __ATOMIC_ACQUIRE) != c->idle)
			return 0;
	}
	return 1;
}

/*
 * The hot keys since the last learning, with their targets, into
 * t->pending; the removal count read before the targets into built_gen.
 */
static __attribute__((noinline)) void learn(struct js_table *t)
{
	uint64_t delta[256];
	int n;

	if (t->nkeys > 256) /* a table is set up with at most 256 keys */
		t->nkeys = 256;
	t->built_gen = __atomic_load_n(t->sel, __ATOMIC_ACQUIRE) >> JS_SEL_GEN_SHIFT;
	memset(delta, 0, sizeof(delta));
	for (int i = 0; i < MAX_CPUS; i++) {
		const uint64_t *cnt;

		if (!cpu_up(i))
			continue;
		cnt = t->counts(i);
		for (int k = 0; k < t->nkeys; k++)
			delta[k] += cnt[k];
	}
	for (int k = 0; k < t->nkeys; k++) {
		uint64_t now = delta[k];

		delta[k] = t->target((uint32_t)k) ? now - t->seen[k] : 0;
		t->seen[k] = now;
	}
	n = jsw_pick_hot(delta, t->nkeys, t->entries, t->pending);
	t->npending = n < 0 ? 0 : n;
	for (int i = 0; i < t->npending; i++)
		t->pending_t[i] = t->target(t->pending[i]);
	/* a target removed between the count and here: leave it out */
	for (int i = 0; i < t->npending;)
		if (!t->pending_t[i]) {
			memmove(&t->pending[i], &t->pending[i + 1],
				(size_t)(t->npending - i - 1) * sizeof(t->pending[0]));
			memmove(&t->pending_t[i], &t->pending_t[i + 1],
				(size_t)(t->npending - i - 1) * sizeof(t->pending_t[0]));
			t->npending--;
		} else {
			i++;
		}
}

/* 1 if the pending trampoline would be the live one (keys and targets). */
static int pending_is_live(const struct js_table *t)
{
	if (!jsw_same_keys(t->pending, t->npending, t->live, t->nlive))
		return 0;
	for (int i = 0; i < t->npending; i++)
		if (t->pending_t[i] != t->live_t[i])
			return 0;
	return 1;
}

/* Writes the trampoline for t->pending into the dead buffer; 0 or -errno. */
static int write_dead_buffer(struct js_table *t)
{
	uint8_t code[JS_BUF_BYTES];
	char *buf = t->buf[(*t->sel & JS_SEL_BUF) ^ 1];
	int len;

	len = jsw_emit(code, sizeof(code), (uint64_t)buf, t->pending, t->pending_t, t->npending,
		       t->miss);
	if (len < 0)
		return len;
	return text_poke(buf, code, (size_t)len);
}

/*
 * Makes the written buffer live (rewrites the entry's jump if the table's
 * entry is one, then the data word); clears the bypass too if no target was
 * removed since it was built. 0 or -errno (the old buffer stays live).
 */
static int flip(struct js_table *t)
{
	uint32_t old = *t->sel, new;

	if (t->entry_jumps) {
		uint8_t jmp[JSW_TAIL_BYTES];
		char *next = t->buf[(old & JS_SEL_BUF) ^ 1];
		int err = jsw_emit_jmp(jmp, sizeof(jmp), (uint64_t)t->entry, (uint64_t)next);

		if (err < 0)
			return err;
		/* image text: written with every other CPU stopped, which serialise after */
		err = text_poke(t->entry, jmp, sizeof(jmp));
		if (err)
			return err;
	}
	do {
		new = old ^ JS_SEL_BUF;
		if ((old >> JS_SEL_GEN_SHIFT) == t->built_gen)
			new &= ~JS_SEL_BYPASS;
	} while (!__atomic_compare_exchange_n(t->sel, &old, new, 0, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	return 0;
}

/* The live trampoline is right again: clears the bypass unless a removal came since. */
static void clear_bypass(struct js_table *t)
{
	uint32_t old = *t->sel;

	while ((old & JS_SEL_BYPASS) && (old >> JS_SEL_GEN_SHIFT) == t->built_gen &&
	       !__atomic_compare_exchange_n(t->sel, &old, old & ~JS_SEL_BYPASS, 0, __ATOMIC_SEQ_CST,
					    __ATOMIC_RELAXED))
		;
}

/*
 * A table whose entry is a jump must jump to the buffer sel names: checked
 * at every learning step (off the dispatch path), so a flip that did not
 * rewrite the entry stops the kernel (jumpswitch-stress-qemu steps every 2
 * calls) before a live buffer is rewritten.
 */
static void check_entry(const struct js_table *t)
{
	const uint8_t *e = (const uint8_t *)t->entry;
	int32_t rel;
	uint64_t to;

	if (!t->entry_jumps)
		return;
	memcpy(&rel, e + 1, sizeof(rel));
	to = (uint64_t)t->entry + JSW_TAIL_BYTES + (uint64_t)(int64_t)rel;
	if (e[0] != 0xe9 || to != (uint64_t)t->buf[*t->sel & JS_SEL_BUF])
		panic("jumpswitch: %s entry jumps to %#lx, the live buffer is %p", t->name,
		      (unsigned long)to, (void *)t->buf[*t->sel & JS_SEL_BUF]);
}

static void step(struct js_table *t, int self)
{
	check_entry(t);
	if (t->stage == JS_FLIPPED) {
		if (!grace_done(t, self))
			return;
		t->stage = JS_IDLE; /* and learn at once */
	}
	switch (t->stage) {
	case JS_FLIPPED:
	case JS_IDLE:
		learn(t);
		if (pending_is_live(t)) {
			clear_bypass(t);
			return;
		}
		if (write_dead_buffer(t)) {
			printk("jumpswitch: cannot write the %s trampoline; staying with the old "
			       "one\n",
			       t->name);
			return;
		}
		take_snapshot(t, self);
		t->stage = JS_WRITTEN;
		return;
	case JS_WRITTEN:
		if (!grace_done(t, self))
			return;
		if (flip(t)) {
			printk("jumpswitch: cannot switch the %s trampoline; staying with the old "
			       "one\n",
			       t->name);
			return;
		}
		memcpy(t->live, t->pending, sizeof(t->live));
		memcpy(t->live_t, t->pending_t, sizeof(t->live_t));
		t->nlive = t->npending;
		t->rewrites++;
		take_snapshot(t, self);
		t->stage = JS_FLIPPED;
		return;
	}
}

void jumpswitch_step(struct js_table *t, int cpu)
{
	t->cpu[cpu].countdown = t->period;
	if (__atomic_exchange_n(&t->lock, 1, __ATOMIC_ACQUIRE))
		return;
	step(t, cpu);
	__atomic_store_n(&t->lock, 0, __ATOMIC_RELEASE);
}

volatile int jumpswitch_steps_wanted;

void jumpswitch_run_wanted(int cpu)
{
	jumpswitch_steps_wanted = 0;
	for (struct js_table *t = tables; t; t = t->next)
		if (t->step_wanted) {
			t->step_wanted = 0;
			jumpswitch_step(t, cpu);
		}
}

void jumpswitch_hold(void)
{
	for (struct js_table *t = tables; t; t = t->next)
		while (__atomic_exchange_n(&t->lock, 1, __ATOMIC_ACQUIRE))
			smp_poll(); /* a step in progress may be stopping this CPU */
}

void jumpswitch_release(void)
{
	for (struct js_table *t = tables; t; t = t->next)
		__atomic_store_n(&t->lock, 0, __ATOMIC_RELEASE);
}

void jumpswitch_quiescent(int cpu, uint64_t rip)
{
	if (rip < (uint64_t)js_sys.entry || rip >= (uint64_t)js_sys.end)
		js_sys.cpu[cpu].qs++;
}

void jumpswitch_counts(const struct js_table *t, struct jumpswitch_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < MAX_CPUS; i++) {
		/* the counts are the learning input: with jumpswitch on, every dispatch */
		if (jumpswitch_on && cpu_up(i)) {
			const uint64_t *cnt = t->counts(i);

			for (int k = 0; k < t->nkeys; k++)
				out->calls += cnt[k];
		}
		out->misses += t->cpu[i].misses;
	}
	out->rewrites = t->rewrites;
	out->entries = (uint64_t)t->nlive;
}

void jumpswitch_report(named_counter_fn *add, struct vessel_stats *s)
{
	static const char *const what[] = { "hits", "misses", "rewrites", "entries" };
	struct jumpswitch_counts c;
	char name[VESSEL_STATS_NAME_MAX + 8];

	add(s, "jumpswitch.on", (uint64_t)jumpswitch_on);
	for (const struct js_table *t = tables; t; t = t->next) {
		uint64_t v[4];

		jumpswitch_counts(t, &c);
		v[0] = c.calls - c.misses;
		v[1] = c.misses;
		v[2] = c.rewrites;
		v[3] = c.entries;
		for (int i = 0; i < 4; i++) {
			fmt_snprintf(name, sizeof(name), "jumpswitch.%s.%s", t->name, what[i]);
			add(s, name, v[i]);
		}
	}
}
