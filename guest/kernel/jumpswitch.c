// SPDX-License-Identifier: MIT
/*
 * The system-call search trampoline: learning the hot calls and installing
 * a new trampoline while other CPUs may be running the old one.
 *
 * Install protocol (docs/jumpswitch.md has the argument): js_sys_entry
 * jumps to buffer 0 or 1 by the data flag js_sys_sel. A step machine,
 * advanced every `period` calls on some CPU, never waits:
 *   IDLE     learn the hot set; if it changed, write the new trampoline into
 *            the dead buffer with text_poke, then wait for a grace period
 *   WRITTEN  every other CPU has passed a quiescent point (and so an
 *            interrupt return, which serialises) since the write: flip the
 *            flag, wait for another grace period
 *   FLIPPED  every other CPU has passed a quiescent point since the flip:
 *            none can still be in the old buffer; it is dead, back to IDLE
 * A quiescent point is the end of a dispatch (jumpswitch_sys_done) or a
 * timer tick that interrupted code outside the trampoline (user mode, idle,
 * a wait for the BKL, anything); each is followed by an iretq before that
 * CPU can enter the trampoline again. A CPU found running its idle thread
 * needs none (grace_done).
 */
#include "kernel/jumpswitch.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/boot.h"
#include "kernel/counters.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/xcall.h"
#include "lib/cmdline.h"
#include "lib/errno.h"
#include "lib/jswitch.h"
#include "lib/string.h"

#define JS_DEFAULT_ENTRIES 6
#define JS_DEFAULT_PERIOD  256
#define JS_BUF_BYTES	   256

extern char js_sys_buf0[], js_sys_buf1[], js_sys_end[];
extern volatile uint8_t js_sys_sel;

int64_t jumpswitch_sys_miss(const uint64_t *args, uint64_t nr);

int jumpswitch_on = 1;

struct jumpswitch_cpu jumpswitch_cpus[MAX_CPUS];

enum js_stage { JS_IDLE, JS_WRITTEN, JS_FLIPPED };

static struct {
	int lock; /* one step at a time; a CPU that finds it taken skips */
	int entries;
	uint32_t period;
	enum js_stage stage;
	uint32_t live[JSW_MAX_ENTRIES], pending[JSW_MAX_ENTRIES];
	int nlive, npending;
	uint64_t snap[MAX_CPUS];
	uint64_t seen[COUNTERS_MAX_SYSCALLS]; /* call counts at the last learning */
	uint64_t rewrites;
} js;

/* A cmdline value 0 .. max, or def when absent or malformed (with a message). */
static uint64_t js_param(const char *key, uint64_t def, uint64_t max)
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

void jumpswitch_init(void)
{
	char val[8];

	if (cmdline_get(boot.cmdline, "jumpswitch=", val, sizeof(val)) >= 0 && !strcmp(val, "off"))
		jumpswitch_on = 0;
	js.entries = (int)js_param("jumpswitch.entries=", JS_DEFAULT_ENTRIES, JSW_MAX_ENTRIES);
	js.period = (uint32_t)js_param("jumpswitch.period=", JS_DEFAULT_PERIOD, 1u << 30);
	if (!js.period)
		js.period = 1;
	for (int i = 0; i < MAX_CPUS; i++)
		jumpswitch_cpus[i].countdown = js.period;
	printk("jumpswitch: %s, %d entries, learning every %u calls per CPU\n",
	       jumpswitch_on ? "on" : "off (retpolined table calls)", js.entries, js.period);
}

int64_t jumpswitch_sys_miss(const uint64_t *args, uint64_t nr)
{
	jumpswitch_cpus[this_cpu()->id].misses++;
	if (nr >= VESSEL_SYSCALL_COUNT || !syscall_table[nr])
		return -ENOSYS;
	return syscall_table[nr](args); /* retpolined */
}

/* 1 if CPU i runs (the BSP never sets `online`: it is the one that boots). */
static int cpu_up(int i)
{
	return i == 0 || cpus[i].online;
}

/* Every CPU's quiescent count (self's does not matter). */
static void take_snapshot(int self)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the write is visible first */
	for (int i = 0; i < MAX_CPUS; i++)
		js.snap[i] = i == self ? 0 : jumpswitch_cpus[i].qs;
}

/*
 * 1 when every other online CPU has passed a quiescent point since the
 * snapshot, or runs its idle thread now: the trampoline runs only in a
 * user thread's system call, and an idle CPU reaches one only through an
 * iretq to user mode, which comes after this check (had it come before,
 * its store of `current` would be visible: iretq drains the store buffer).
 */
static int grace_done(int self)
{
	for (int i = 0; i < MAX_CPUS; i++) {
		struct cpu *c = &cpus[i];

		if (i == self || !cpu_up(i) || jumpswitch_cpus[i].qs != js.snap[i])
			continue;
		if (__atomic_load_n(&c->current, __ATOMIC_ACQUIRE) != c->idle)
			return 0;
	}
	return 1;
}

/* The hot calls since the last learning into keys; returns how many. */
static int learn(uint32_t *keys)
{
	uint64_t delta[COUNTERS_MAX_SYSCALLS] = { 0 };
	int n;

	for (int i = 0; i < MAX_CPUS; i++)
		if (cpu_up(i))
			for (int s = 0; s < COUNTERS_MAX_SYSCALLS; s++)
				delta[s] += cpus[i].cnt.per_syscall[s];
	for (int s = 0; s < COUNTERS_MAX_SYSCALLS; s++) {
		uint64_t now = delta[s];

		delta[s] = s < VESSEL_SYSCALL_COUNT && syscall_table[s] ? now - js.seen[s] : 0;
		js.seen[s] = now;
	}
	n = jsw_pick_hot(delta, COUNTERS_MAX_SYSCALLS, js.entries, keys);
	return n < 0 ? 0 : n;
}

/* Writes the trampoline for js.pending into the dead buffer; 0 or -errno. */
static int write_dead_buffer(void)
{
	uint8_t code[JS_BUF_BYTES];
	uint64_t targets[JSW_MAX_ENTRIES];
	char *buf = (js_sys_sel & 1) ? js_sys_buf0 : js_sys_buf1;
	int len;

	for (int i = 0; i < js.npending; i++)
		targets[i] = (uint64_t)syscall_table[js.pending[i]];
	len = jsw_emit(code, sizeof(code), (uint64_t)buf, js.pending, targets, js.npending,
		       (uint64_t)jumpswitch_sys_miss);
	if (len < 0)
		return len;
	return text_poke(buf, code, (size_t)len);
}

static void step(int self)
{
	if (js.stage == JS_FLIPPED) {
		if (!grace_done(self))
			return;
		js.stage = JS_IDLE; /* and learn at once */
	}
	switch (js.stage) {
	case JS_FLIPPED:
	case JS_IDLE:
		js.npending = learn(js.pending);
		if (jsw_same_keys(js.pending, js.npending, js.live, js.nlive))
			return;
		if (write_dead_buffer()) {
			printk("jumpswitch: cannot write the trampoline; staying with the old "
			       "one\n");
			return;
		}
		take_snapshot(self);
		js.stage = JS_WRITTEN;
		return;
	case JS_WRITTEN:
		if (!grace_done(self))
			return;
		__atomic_store_n(&js_sys_sel, (uint8_t)(js_sys_sel ^ 1), __ATOMIC_RELEASE);
		memcpy(js.live, js.pending, sizeof(js.live));
		js.nlive = js.npending;
		js.rewrites++;
		take_snapshot(self);
		js.stage = JS_FLIPPED;
		return;
	}
}

void jumpswitch_step(int cpu)
{
	jumpswitch_cpus[cpu].countdown = js.period;
	if (__atomic_exchange_n(&js.lock, 1, __ATOMIC_ACQUIRE))
		return;
	step(cpu);
	__atomic_store_n(&js.lock, 0, __ATOMIC_RELEASE);
}

void jumpswitch_hold(void)
{
	while (__atomic_exchange_n(&js.lock, 1, __ATOMIC_ACQUIRE))
		smp_poll(); /* a step in progress may be stopping this CPU */
}

void jumpswitch_release(void)
{
	__atomic_store_n(&js.lock, 0, __ATOMIC_RELEASE);
}

void jumpswitch_quiescent(int cpu, uint64_t rip)
{
	if (rip < (uint64_t)js_sys_entry || rip >= (uint64_t)js_sys_end)
		jumpswitch_cpus[cpu].qs++;
}

void jumpswitch_counts(struct jumpswitch_counts *out)
{
	struct counters sum;

	memset(out, 0, sizeof(*out));
	if (jumpswitch_on) { /* then every call since boot went through it */
		counters_sum(&sum);
		for (int s = 0; s < COUNTERS_MAX_SYSCALLS; s++)
			if (s < VESSEL_SYSCALL_COUNT && syscall_table[s])
				out->calls += sum.per_syscall[s];
	}
	for (int i = 0; i < MAX_CPUS; i++)
		out->misses += jumpswitch_cpus[i].misses;
	out->rewrites = js.rewrites;
	out->entries = (uint64_t)js.nlive;
}
