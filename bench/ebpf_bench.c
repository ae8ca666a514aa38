// SPDX-License-Identifier: MIT
/*
 * ebpf-bench [PROGS.o]: libebpf's interpreter against the host kernel's eBPF
 * execution of the very same bytecode, in the same run.
 *
 * For each program of bench/ebpf_progs.c (arith, scan, hash): the number of
 * instructions one run executes (counted by libebpf), then ns per run and
 * per instruction for libebpf (ebpf_prog_run in a loop) and for the kernel
 * (BPF_PROG_TEST_RUN with repeat, as a socket filter; the kernel times the
 * runs itself), best of 7 trials each, and the ratio. The kernel's r0 must
 * equal ours (low 32 bits: a socket filter returns u32). Without root or
 * bpf(2), the kernel column says why instead of failing.
 *
 * Then the verification time of a generated 1000-instruction program
 * (bounded memory accesses, data-dependent branches, stack spills, a
 * bounded loop): best and median of 200 loads; of the independent
 * if-blocks programs of tests/ebpf/c/if_blocks.c (issue 10; the object is
 * the second argument); of adversarial shapes (tests/ebpf/advgen.h) and a
 * grid of them.
 *
 *   ebpf-bench PROGS.o IF_BLOCKS.o       everything
 *   ebpf-bench --if-blocks IF_BLOCKS.o   the if-blocks programs only
 *   ebpf-bench --adversarial SPEC...     given generated shapes
 *   ebpf-bench --adversarial-grid        the grid
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ebpf/ebpf.h"
#include "ebpf/tools/testenv.h"
#include "tests/ebpf/advgen.h"
#include "tests/ebpf/asm.h"
#include "tests/ebpf/kbpf.h"

#define TRIALS 7

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static double ours_run(const struct ebpf_prog *prog, uint32_t repeat, uint64_t *r0)
{
	double t0 = now_ns();
	uint64_t acc = 0;

	for (uint32_t i = 0; i < repeat; i++)
		acc += ebpf_prog_run(prog, NULL, NULL);
	*r0 = acc / repeat;
	return (now_ns() - t0) / repeat;
}

static int bench_program(const struct ebpf_env *env, const void *elf, size_t len,
			 const char *section)
{
	struct ebpf_insn *insns;
	struct ebpf_prog *prog;
	struct ebpf_error err;
	uint64_t count = 0, r0 = 0, r0_loop;
	double ours = 1e30, kern = 1e30;
	uint32_t repeat, retval = 0;
	size_t n;
	char why[256] = "";
	int fd;

	if (ebpf_elf_extract(elf, len, section, &insns, &n, &err) ||
	    ebpf_prog_load(env, insns, n * sizeof(*insns), &prog, &err)) {
		printf("%-6s  load failed: %s\n", section, err.msg);
		return 1;
	}
	r0 = ebpf_prog_run_counted(prog, NULL, NULL, &count);
	/* about 50 ms per trial at 2 ns per instruction */
	repeat = (uint32_t)(25000000 / (count ? count : 1)) + 1;
	for (int t = 0; t < TRIALS; t++) {
		double d = ours_run(prog, repeat, &r0_loop);

		if (d < ours)
			ours = d;
	}
	fd = kbpf_load(insns, n, why, sizeof(why));
	if (fd >= 0) {
		for (int t = 0; t < TRIALS; t++) {
			double d = kbpf_run(fd, repeat, &retval, why, sizeof(why));

			if (d < 0) {
				kern = -1;
				break;
			}
			if (d < kern)
				kern = d;
		}
		close(fd);
	} else {
		kern = -1;
	}
	printf("%-6s %6zu %9" PRIu64 " %10.1f %8.3f", section, n, count, ours, ours / count);
	if (kern > 0)
		printf(" %10.1f %8.3f %7.2fx  %s\n", kern, kern / count, ours / kern,
		       retval == (uint32_t)r0 ? "r0 equal" : "r0 DIFFERS");
	else
		printf("   kernel: %s\n", why);
	free(insns);
	ebpf_prog_free(prog);
	return kern > 0 && retval != (uint32_t)r0;
}

/* a 1000-instruction program in the style of a hyper-callback: bounded
 * reads of a 256-byte context, data-dependent branches, spills, a loop */
static char *gen_1000(void)
{
	size_t cap = 1 << 16, len = 0;
	char *s = malloc(cap);
	int k = 0, insns = 0;

#define EMIT(...)                                                                                  \
	do {                                                                                       \
		len += (size_t)snprintf(s + len, cap - len, __VA_ARGS__);                          \
		insns++;                                                                           \
	} while (0)
	EMIT("mov r6, r1\n");
	EMIT("mov r0, 0\n");
	EMIT("mov r7, 0\n");
	while (insns < 960) {
		switch (k % 4) {
		case 0: /* bounded index from data */
			EMIT("ldxb r2, [r6+%d]\n", k % 200);
			EMIT("and r2, 31\n");
			EMIT("mov r3, r6\n");
			EMIT("add r3, r2\n");
			EMIT("ldxw r4, [r3+%d]\n", k % 200);
			EMIT("add r0, r4\n");
			break;
		case 1: /* data-dependent branch */
			EMIT("ldxh r2, [r6+%d]\n", (k * 3) % 250);
			EMIT("jgt r2, %d, b%d\n", 1000 + k, k);
			EMIT("xor r0, r2\n");
			EMIT("ja e%d\n", k);
			len += (size_t)snprintf(s + len, cap - len, "b%d:\n", k);
			EMIT("add r7, 1\n");
			len += (size_t)snprintf(s + len, cap - len, "e%d:\n", k);
			break;
		case 2: /* spill and reload */
			EMIT("stxdw [r10-%d], r0\n", 8 * (1 + k % 32));
			EMIT("ldxdw r5, [r10-%d]\n", 8 * (1 + k % 32));
			EMIT("rsh r5, 3\n");
			EMIT("add r7, r5\n");
			break;
		default: /* arithmetic */
			EMIT("mul r0, %d\n", 3 + k);
			EMIT("lsh r7, 1\n");
			EMIT("arsh r7, 1\n");
			EMIT("sub r0, r7\n");
			break;
		}
		k++;
	}
	/* a bounded loop */
	EMIT("mov r2, 0\n");
	len += (size_t)snprintf(s + len, cap - len, "loop:\n");
	EMIT("mov r3, r6\n");
	EMIT("add r3, r2\n");
	EMIT("ldxb r4, [r3+0]\n");
	EMIT("add r0, r4\n");
	EMIT("add r2, 1\n");
	EMIT("jlt r2, 16, loop\n");
	while (insns < 999)
		EMIT("add r0, 1\n");
	EMIT("exit\n");
#undef EMIT
	return s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench_verify(void)
{
	struct ebpf_env *env = ebpf_env_new();
	char *text = gen_1000(), msg[256];
	struct ebpf_insn *insns;
	struct ebpf_error err;
	double t[200];
	struct ebpf_verify_stats st = { 0 };
	int n = ebpf_asm(text, &insns, msg, sizeof(msg));

	ebpf_env_set_ctx(env, 256, 0);
	if (n < 0) {
		printf("verify: cannot assemble the generated program: %s\n", msg);
		return 1;
	}
	for (int i = 0; i < 200; i++) {
		struct ebpf_prog *prog;
		double t0 = now_ns();
		int rc = ebpf_prog_load(env, insns, (size_t)n * sizeof(*insns), &prog, &err);

		t[i] = now_ns() - t0;
		if (rc) {
			printf("verify: generated program rejected at %d: %s\n", err.insn, err.msg);
			return 1;
		}
		ebpf_verify_last_stats(&st);
		ebpf_prog_free(prog);
	}
	qsort(t, 200, sizeof(t[0]), cmp_double);
	printf("verify %d-instruction program: best %.1f us, median %.1f us "
	       "(%" PRIu64 " instructions explored, %" PRIu64 " states, %" PRIu64
	       " work units); target < 1000 us\n",
	       n, t[0] / 1e3, t[100] / 1e3, st.insns, st.states, st.work);
	free(insns);
	free(text);
	ebpf_env_free(env);
	return 0;
}

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * Issue 10: the programs of tests/ebpf/c/if_blocks.c, each loaded 50 times
 * (its 72-byte context as in the verifier corpus): best and median CPU time
 * of ebpf_prog_load_elf, work units, and the verdict. Returns 1 if the
 * object cannot be read.
 */
static int bench_if_blocks(const char *path)
{
	static const char *const secs[] = { "if20",	"if40",	      "if64",	 "bits40",
					    "nested40", "call40",     "stack40", "helper40",
					    "index40",	"index40_oob" };
	uint8_t mem[72];
	size_t len;
	void *obj = slurp(path, &len);
	struct testenv te;

	if (!obj || testenv_init(&te, LAYOUT_MEM, mem, sizeof(mem))) {
		printf("if-blocks: cannot read %s\n", path);
		free(obj);
		return 1;
	}
	for (int i = 0; i < 72; i++)
		mem[i] = (uint8_t)(i * 37 + 11);
	printf("\nverification of independent if-blocks (tests/ebpf/c/if_blocks.c, "
	       "CPU time, 50 loads):\n%-12s %9s %9s %9s %9s  %s\n",
	       "program", "units", "insns", "best ms", "median ms", "result");
	for (size_t k = 0; k < sizeof(secs) / sizeof(secs[0]); k++) {
		char sec[64];
		double t[50];
		struct ebpf_verify_stats st = { 0 };
		struct ebpf_error err = { 0 };
		int rc = 0;

		snprintf(sec, sizeof(sec), "blocks/%s", secs[k]);
		for (int i = 0; i < 50; i++) {
			struct ebpf_prog *prog = NULL;
			double c0 = cpu_ns();

			rc = ebpf_prog_load_elf(te.env, obj, len, sec, &prog, &err);
			t[i] = cpu_ns() - c0;
			ebpf_verify_last_stats(&st);
			ebpf_prog_free(prog);
		}
		qsort(t, 50, sizeof(t[0]), cmp_double);
		printf("%-12s %9" PRIu64 " %9" PRIu64 " %9.3f %9.3f  %.60s\n", secs[k], st.work,
		       st.insns, t[0] / 1e6, t[25] / 1e6, rc ? err.msg : "accept");
	}
	testenv_free(&te);
	free(obj);
	return 0;
}

struct adv_result {
	int n, rc;
	double wall_ms, cpu_ms;
	struct ebpf_verify_stats st;
	char msg[200];
};

/*
 * Verify one generated adversarial program (tests/ebpf/advgen.h) `runs`
 * times (fewer if one takes over a second): best wall and CPU time, and the
 * work units of the last load. Returns 0, or -1 if the spec is bad.
 */
static int adv_measure(const char *specstr, int runs, struct adv_result *r)
{
	struct advgen_spec spec;
	struct ebpf_insn *insns;
	struct ebpf_error err;
	struct testenv te;
	char *text;

	memset(r, 0, sizeof(*r));
	r->wall_ms = r->cpu_ms = 1e30;
	if (advgen_parse(specstr, &spec, r->msg, sizeof(r->msg)))
		return -1;
	text = advgen_asm(&spec);
	r->n = text ? ebpf_asm(text, &insns, r->msg, sizeof(r->msg)) : -1;
	free(text);
	if (r->n < 0 || testenv_init(&te, LAYOUT_MEM, NULL, 0))
		return -1;
	for (int i = 0; i < runs; i++) {
		struct ebpf_prog *prog = NULL;
		double t0 = now_ns(), c0 = cpu_ns(), t, c;

		r->rc = ebpf_prog_load(te.env, insns, (size_t)r->n * sizeof(*insns), &prog, &err);
		t = (now_ns() - t0) / 1e6;
		c = (cpu_ns() - c0) / 1e6;
		ebpf_verify_last_stats(&r->st);
		if (t < r->wall_ms)
			r->wall_ms = t;
		if (c < r->cpu_ms)
			r->cpu_ms = c;
		ebpf_prog_free(prog);
		if (t > 1000)
			break;
	}
	snprintf(r->msg, sizeof(r->msg), "%s", r->rc ? err.msg : "accept");
	free(insns);
	testenv_free(&te);
	return 0;
}

static void adv_header(void)
{
	printf("%-44s %5s %8s %8s %8s %7s  %s\n", "program (tests/ebpf/advgen.h)", "insns", "units",
	       "wall ms", "cpu ms", "ns/unit", "result");
}

static void adv_row(const char *spec, const struct adv_result *r)
{
	printf("%-44s %5d %8" PRIu64 " %8.2f %8.2f %7.2f  %.70s\n", spec, r->n, r->st.work,
	       r->wall_ms, r->cpu_ms, r->st.work ? r->cpu_ms * 1e6 / (double)r->st.work : 0,
	       r->msg);
}

/* the shapes of issue 9 and the slowest ones of the grid */
static const char *const adv_named[] = {
	"frames=8 spills=64 branches=30",
	"frames=1 spills=64 branches=30",
	"frames=8 spills=64 branches=30 ids=shared",
	"frames=8 spills=64 branches=30 ids=none",
	"frames=8 spills=64 loop=1",
	"frames=1 loop=1",
	"chain=60000",
	"chain=30000 frames=8 spills=64 branches=30",
	/* issue 10: independent if-blocks, and the walks of pruning */
	"ifs=40",
	"ifs=500",
	"ifs=40 frames=8 spills=64",
	"ifs=40 use=1",
	"ifs=200 use=1",
	"spills=64 marks=16000",
	"frames=8 spills=64 marks=16000",
	"straight=10000",
};

static void bench_adversarial_named(void)
{
	struct adv_result r;

	printf("\nverification of adversarial programs (best of 5):\n");
	adv_header();
	for (size_t i = 0; i < sizeof(adv_named) / sizeof(adv_named[0]); i++)
		if (!adv_measure(adv_named[i], 5, &r))
			adv_row(adv_named[i], &r);
}

/*
 * Every combination of frames, spills, branches, ids and loop (best of 3
 * each): the slowest, and the largest time per work unit.
 */
static void bench_adversarial_grid(void)
{
	static const int frames[] = { 1, 2, 4, 8 }, spills[] = { 0, 16, 64 },
			 branches[] = { 0, 10, 30, 63 };
	static const char *const ids[] = { "distinct", "shared", "none" };
	struct adv_result r, worst = { 0 };
	char spec[128], worst_spec[128] = "", worst_unit_spec[128] = "";
	double max_ns_unit = 0;
	int count = 0;

	printf("\nverification time over a grid of adversarial shapes (best of 3 each):\n");
	for (size_t f = 0; f < 4; f++)
		for (size_t s = 0; s < 3; s++)
			for (size_t b = 0; b < 4; b++)
				for (size_t i = 0; i < 3; i++)
					for (int l = 0; l <= 1; l++) {
						snprintf(spec, sizeof(spec),
							 "frames=%d spills=%d branches=%d ids=%s "
							 "loop=%d",
							 frames[f], spills[s], branches[b], ids[i],
							 l);
						if (adv_measure(spec, 3, &r))
							continue;
						count++;
						if (r.cpu_ms > worst.cpu_ms) {
							worst = r;
							snprintf(worst_spec, sizeof(worst_spec),
								 "%s", spec);
						}
						if (r.st.work > 1000000 &&
						    r.cpu_ms * 1e6 / (double)r.st.work >
							    max_ns_unit) {
							max_ns_unit =
								r.cpu_ms * 1e6 / (double)r.st.work;
							snprintf(worst_unit_spec,
								 sizeof(worst_unit_spec), "%s",
								 spec);
						}
					}
	adv_header();
	adv_row(worst_spec, &worst);
	printf("%d shapes: slowest %.2f ms CPU (%s); largest time per unit %.2f ns (%s), "
	       "budget %" PRIu64 " units\n",
	       count, worst.cpu_ms, worst_spec, max_ns_unit, worst_unit_spec, worst.st.max_work);
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--adversarial")) {
		struct adv_result r;

		adv_header();
		for (int i = 2; i < argc; i++) {
			if (adv_measure(argv[i], 5, &r))
				printf("%s: %s\n", argv[i], r.msg);
			else
				adv_row(argv[i], &r);
		}
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--adversarial-grid")) {
		bench_adversarial_grid();
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--if-blocks"))
		return bench_if_blocks(argv[2]);
	if (argc > 1 && !strcmp(argv[1], "--verify-only")) {
		for (int i = 0; i < 20; i++)
			bench_verify();
		return 0;
	}
	const char *path = argc > 1 ? argv[1] : "build/ebpf/bench_progs.o";
	struct ebpf_env *env = ebpf_env_new();
	size_t len;
	void *elf = slurp(path, &len);
	int bad = 0;

	if (!elf) {
		fprintf(stderr, "ebpf-bench: cannot read %s\n", path);
		return 1;
	}
	printf("libebpf interpreter vs host kernel eBPF (BPF_PROG_TEST_RUN, socket filter; "
	       "bpf_jit_enable=");
	{
		FILE *f = fopen("/proc/sys/net/core/bpf_jit_enable", "r");
		int c = f ? fgetc(f) : '?';

		printf("%c)\n", c);
		if (f)
			fclose(f);
	}
	printf("%-6s %6s %9s %10s %8s %10s %8s %8s\n", "prog", "insns", "exec/run", "ours ns",
	       "ns/insn", "kernel ns", "ns/insn", "ours/kern");
	bad |= bench_program(env, elf, len, "arith");
	bad |= bench_program(env, elf, len, "scan");
	bad |= bench_program(env, elf, len, "hash");
	bad |= bench_verify();
	bad |= bench_if_blocks(argc > 2 ? argv[2] : "build/ebpf/c/if_blocks.o");
	bench_adversarial_named();
	bench_adversarial_grid();
	free(elf);
	ebpf_env_free(env);
	return bad;
}
