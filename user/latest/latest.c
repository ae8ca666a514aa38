// SPDX-License-Identifier: MIT
/*
 * latest [CASE...]: programs for the system-call lookahead differential
 * test (tests/guest/lookahead-diff.sh). Each case prints `latest: ...`
 * lines that depend only on what the program computes, so a kernel booted
 * with lookahead=on and one with lookahead=off must print the same lines;
 * the last line, `latest-stats: ...`, says how many calls lookahead served
 * (it differs on purpose). Cases (default: all of them, in this order):
 *
 *   regs      hand-written windows between system calls (ALU, flags through
 *             r11, shifts and imul followed by a flag writer, movzx/movsx,
 *             setcc/cmov, xchg, cdqe/cqo, push/pop, call/ret, a jcc loop,
 *             leave, int $0x80), every register recorded after each call
 *   riprel    RIP-relative loads, stores and read-modify-writes in windows
 *   cloop     compiled C: lseek/read/checksum loops, a copy to the console
 *   fault     children whose window stores to read-only memory, loads from
 *             an unmapped page, calls into a non-executable page, or first
 *             touches a demand-zero page (that one survives)
 *   kill      a child in an endless chain of calls killed by its parent, and
 *             one that kills itself in the middle of a chain
 *   thread    a thread writes a counter that the main thread's windows read
 *   recode    code rewritten (mprotect, munmap + mmap) under the decoded-
 *             instruction cache
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vessel/thread.h>

#define OUT_WORDS 64

/* FNV-1a over 64-bit words */
static uint64_t fnv(uint64_t h, const uint64_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int b = 0; b < 64; b += 8) {
			h ^= (w[i] >> b) & 0xff;
			h *= 0x100000001b3ull;
		}
	}
	return h;
}

/*
 * win_regs(out, seed): four windows between five system calls (the last
 * through int $0x80), each instruction in the lookahead subset; after each
 * call r11 (the flags the `syscall` saw), rcx and the working registers go
 * to out[]. Every flag the architecture leaves undefined (after shl, sar,
 * ror, imul) is overwritten by the next instruction, as compilers do.
 */
void win_regs(uint64_t *out, uint64_t seed);
__asm__(".text\n"
	".globl win_regs\n"
	"win_regs:\n"
	"	push %rbx\n	push %rbp\n	push %r12\n	push %r13\n	push %r14\n	"
	"push %r15\n"
	"	mov %rdi, %r15\n"
	"	mov %rsi, %rbx\n"
	"	mov %rsi, %rbp\n"
	"	not %rbp\n"
	"	lea 0x1234(%rsi,%rsi,2), %r12\n"
	"	mov %esi, %r13d\n"
	"	mov $5, %eax\n" /* getpid: the entry */
	"	syscall\n"
	/* window 1: ALU and flags */
	"	mov %r11, 0(%r15)\n"
	"	mov %rcx, 8(%r15)\n"
	"	mov %rbx, %rax\n"
	"	add %rbp, %rax\n"
	"	adc $5, %rax\n"
	"	mov %rax, 16(%r15)\n"
	"	sbb %r12, %rax\n"
	"	setc %cl\n"
	"	setz %dl\n"
	"	setl %r8b\n"
	"	seto %r9b\n"
	"	movzbl %cl, %ecx\n"
	"	movzbl %dl, %edx\n"
	"	lea (%rcx,%rdx,2), %rcx\n"
	"	lea (%rcx,%r8,4), %rcx\n"
	"	lea (%rcx,%r9,8), %rcx\n"
	"	mov %rcx, 24(%r15)\n"
	"	mov %r13d, %edx\n"
	"	and $0x7fffffff, %edx\n"
	"	add $0x7fffffff, %edx\n" /* signed overflow for large seeds */
	"	seto %cl\n"
	"	mov %cl, 32(%r15)\n"
	"	xor %r12, %rax\n"
	"	or $0x10, %al\n"
	"	sub $1, %ax\n"
	"	inc %r13w\n"
	"	dec %r13b\n"
	"	neg %rdx\n"
	"	not %edx\n"
	"	cmp %rbx, %rax\n"
	"	mov %rax, 40(%r15)\n"
	"	mov %rdx, 48(%r15)\n"
	"	test %ah, %ah\n"
	"	mov $5, %eax\n"
	"	syscall\n"
	/* window 2: shifts, rotates, imul, widening */
	"	mov %r11, 56(%r15)\n"
	"	mov %rbx, %rax\n"
	"	shl $3, %rax\n"
	"	add %rbp, %rax\n"
	"	mov %r13d, %ecx\n"
	"	and $31, %ecx\n"
	"	or $1, %ecx\n"
	"	sar %cl, %rax\n"
	"	test %rax, %rax\n"
	"	mov %rax, 64(%r15)\n"
	"	rol $1, %rax\n" /* count 1: CF and OF defined */
	"	adc $0, %rax\n"
	"	ror $5, %rax\n"
	"	cmp %r12, %rax\n"
	"	mov %rax, 72(%r15)\n"
	"	imul $7, %rbx, %rdx\n"
	"	mov %rdx, %rcx\n"
	"	test %rcx, %rcx\n"
	"	setns %cl\n"
	"	imul %r12d, %edx\n"
	"	sub %rbp, %rdx\n"
	"	mov %rdx, 80(%r15)\n"
	"	movsbq %dl, %rax\n"
	"	movswl %dx, %ecx\n"
	"	movslq %edx, %rdx\n"
	"	xchg %rax, %rcx\n"
	"	cltq\n"
	"	cqto\n"
	"	mov %rax, 88(%r15)\n"
	"	mov %rdx, 96(%r15)\n"
	"	mov %rcx, 104(%r15)\n"
	"	shr $60, %rcx\n"
	"	xor %ecx, %ecx\n"
	"	mov $5, %eax\n"
	"	syscall\n"
	/* window 3: stack, calls, a loop, cmov, leave */
	"	mov %r11, 112(%r15)\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	sub $32, %rsp\n"
	"	mov %rbx, -8(%rbp)\n"
	"	push %r12\n"
	"	push $-3\n"
	"	pop %rax\n"
	"	pop %rdx\n"
	"	call 1f\n"
	"	mov $6, %ecx\n"
	"2:	add %rax, %rdx\n"
	"	dec %ecx\n"
	"	jnz 2b\n"
	"	cmp %rdx, %rbx\n"
	"	cmovb %rdx, %rbx\n"
	"	cmovae %rax, %rcx\n"
	"	mov -8(%rbp), %rax\n"
	"	leave\n"
	"	mov %rax, 120(%r15)\n"
	"	mov %rbx, 128(%r15)\n"
	"	mov %rcx, 136(%r15)\n"
	"	mov %rdx, 144(%r15)\n"
	"	mov $5, %eax\n"
	"	syscall\n"
	/* window 4: rip-relative, then int $0x80 */
	"	mov %r11, 152(%r15)\n"
	"	mov %rcx, 160(%r15)\n"
	"	mov win_regs_var(%rip), %rax\n"
	"	add %rbx, %rax\n"
	"	mov %rax, win_regs_var(%rip)\n"
	"	incq win_regs_count(%rip)\n"
	"	lea win_regs_var(%rip), %rdx\n"
	"	movzbl 3(%rdx), %edx\n"
	"	mov %rdx, 168(%r15)\n"
	"	mov $5, %eax\n"
	"	int $0x80\n"
	"	mov %rax, 176(%r15)\n"
	"	mov %rbx, 184(%r15)\n"
	"	mov %rcx, 192(%r15)\n"
	"	mov %rbp, 200(%r15)\n"
	"	mov %r11, 208(%r15)\n"
	"	mov %r12, 216(%r15)\n"
	"	mov %r13, 224(%r15)\n"
	"	mov %rsp, %rax\n"
	"	and $0xff, %eax\n"
	"	mov %rax, 232(%r15)\n"
	"	pop %r15\n	pop %r14\n	pop %r13\n	pop %r12\n	pop %rbp\n	"
	"pop %rbx\n"
	"	ret\n"
	/* called from window 3: returns rax * 3 in rax */
	"1:	lea (%rax,%rax,2), %rax\n"
	"	ret\n"
	".data\n"
	".globl win_regs_var, win_regs_count\n"
	"win_regs_var: .quad 0x0123456789abcdef\n"
	"win_regs_count: .quad 0\n"
	".text\n");
extern uint64_t win_regs_var, win_regs_count;

static uint64_t lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return *x;
}

static void case_regs(void)
{
	uint64_t out[OUT_WORDS], h = 0xcbf29ce484222325ull, x = 42;

	for (int i = 1; i <= 300; i++) {
		memset(out, 0, sizeof(out));
		win_regs(out, (i % 5 == 0) ? (uint64_t)i : lcg(&x));
		h = fnv(h, out, OUT_WORDS);
		if (i % 100 == 0)
			printf("latest: regs %d windows: checksum %016llx flags %llx %llx %llx "
			       "%llx\n",
			       i, (unsigned long long)h, (unsigned long long)out[0],
			       (unsigned long long)out[7], (unsigned long long)out[14],
			       (unsigned long long)out[19]);
	}
	printf("latest: regs var %016llx count %llu\n", (unsigned long long)win_regs_var,
	       (unsigned long long)win_regs_count);
}

/* Read-modify-write of a static through RIP-relative operands in a window. */
static uint64_t rr_table[16] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3 };
static uint8_t rr_bytes[16];

static void case_riprel(void)
{
	uint64_t acc = 0;

	for (int i = 0; i < 500; i++) {
		long pid = sys_getpid();

		rr_table[i & 15] += (uint64_t)pid ^ rr_table[(i + 3) & 15];
		rr_bytes[i & 15] = (uint8_t)(rr_bytes[(i + 1) & 15] + (uint8_t)i);
		acc = acc * 33 + rr_table[i & 15] + rr_bytes[(i * 7) & 15];
	}
	printf("latest: riprel acc %016llx table %016llx\n", (unsigned long long)acc,
	       (unsigned long long)fnv(0, rr_table, 16));
}

static void case_cloop(void)
{
	char buf[16];
	long fd = open("hello.txt", O_RDONLY), size, n;
	uint64_t sum = 0;

	if (fd < 0) {
		printf("latest: cloop cannot open hello.txt: %ld\n", fd);
		return;
	}
	size = sys_lseek((int)fd, 0, VESSEL_SEEK_END);
	for (long i = 0; i < 400; i++) {
		sys_lseek((int)fd, i % size, VESSEL_SEEK_SET);
		n = read((int)fd, buf, 8);
		for (long k = 0; k < n; k++)
			sum = sum * 31 + (unsigned char)buf[k];
	}
	printf("latest: cloop sum %016llx\n", (unsigned long long)sum);
	/* a copy loop to the console, 7 bytes at a time */
	sys_lseek((int)fd, 0, VESSEL_SEEK_SET);
	printf("latest: copy [");
	fflush(stdout);
	while ((n = read((int)fd, buf, 7)) > 0)
		write(1, buf, (size_t)n);
	printf("]\n");
	close((int)fd);
}

/*
 * Code that changes under the decoded-instruction cache: a function whose
 * window loads an immediate, rewritten through mprotect and through
 * munmap + mmap at the same address. Each version runs a few times (the
 * second run decodes from the cache); a stale cache would return the old
 * immediate.
 */
static const uint8_t recode_fn[] = {
	0x53,			      /* push %rbx */
	0xb8, 0x05, 0x00, 0x00, 0x00, /* mov $5, %eax (getpid) */
	0x0f, 0x05,		      /* syscall */
	0xbb, 0x00, 0x00, 0x00, 0x00, /* mov $IMM, %ebx (the window) */
	0xb8, 0x05, 0x00, 0x00, 0x00, /* mov $5, %eax */
	0x0f, 0x05,		      /* syscall */
	0x48, 0x89, 0xd8,	      /* mov %rbx, %rax */
	0x5b,			      /* pop %rbx */
	0xc3,			      /* ret */
};
#define RECODE_IMM 9

static void recode_write(uint8_t *code, uint32_t imm)
{
	memcpy(code, recode_fn, sizeof(recode_fn));
	memcpy(code + RECODE_IMM, &imm, 4);
}

static void case_recode(void)
{
	const uint64_t rw = VESSEL_PROT_READ | VESSEL_PROT_WRITE;
	const uint64_t rx = VESSEL_PROT_READ | VESSEL_PROT_EXEC;
	const uint64_t flags = VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS;
	long p = sys_mmap(NULL, 4096, rw, flags);
	uint64_t (*fn)(void) = (uint64_t(*)(void))p;
	uint64_t got[3][3];

	if (p < 0) {
		printf("latest: recode: mmap failed\n");
		return;
	}
	recode_write((uint8_t *)p, 101);
	sys_mprotect((void *)p, 4096, rx);
	for (int i = 0; i < 3; i++)
		got[0][i] = fn();
	sys_mprotect((void *)p, 4096, rw);
	recode_write((uint8_t *)p, 202);
	sys_mprotect((void *)p, 4096, rx);
	for (int i = 0; i < 3; i++)
		got[1][i] = fn();
	sys_munmap((void *)p, 4096);
	if (sys_mmap((void *)p, 4096, rw, flags | VESSEL_MAP_FIXED) != p) {
		printf("latest: recode: mmap fixed failed\n");
		return;
	}
	recode_write((uint8_t *)p, 303);
	sys_mprotect((void *)p, 4096, rx);
	for (int i = 0; i < 3; i++)
		got[2][i] = fn();
	printf("latest: recode");
	for (int v = 0; v < 3; v++)
		for (int i = 0; i < 3; i++)
			printf(" %llu", (unsigned long long)got[v][i]);
	printf("\n");
	sys_munmap((void *)p, 4096);
}

static const uint64_t ro_word = 7;

/* fault children: a window with a faulting instruction after a store */
void win_fault(uint64_t *scratch, const uint64_t *bad);
__asm__(".text\n"
	".globl win_fault\n"
	"win_fault:\n"
	"	mov %rdi, %r8\n"
	"	mov $5, %eax\n"
	"	syscall\n"
	"	mov %rax, (%r8)\n" /* done before the fault */
	"	addq $1, 8(%r8)\n"
	"	movq $1, (%rsi)\n" /* faults (read-only) */
	"	mov $5, %eax\n"
	"	syscall\n"
	"	ret\n");
void win_load(uint64_t *scratch, const uint64_t *bad);
__asm__(".text\n"
	".globl win_load\n"
	"win_load:\n"
	"	mov $5, %eax\n"
	"	syscall\n"
	"	mov %rax, (%rdi)\n"
	"	mov (%rsi), %rax\n" /* faults (unmapped) */
	"	mov $5, %eax\n"
	"	syscall\n"
	"	ret\n");
void win_call(uint64_t *scratch, const void *target);
__asm__(".text\n"
	".globl win_call\n"
	"win_call:\n"
	"	mov $5, %eax\n"
	"	syscall\n"
	"	mov %rax, (%rdi)\n"
	"	call *%rsi\n" /* into a page without PROT_EXEC */
	"	ret\n");

static void fault_child(const char *what)
{
	static uint64_t scratch[2];

	if (!strcmp(what, "store")) {
		win_fault(scratch, &ro_word);
	} else if (!strcmp(what, "load")) {
		win_load(scratch, (const uint64_t *)0x10);
	} else if (!strcmp(what, "fetch")) {
		long p = sys_mmap(NULL, 4096, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
				  VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);

		memset((void *)p, 0xc3, 4096); /* ret, but not executable */
		win_call(scratch, (const void *)p);
	} else if (!strcmp(what, "demand")) {
		long p = sys_mmap(NULL, 8192, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
				  VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);

		/* the store in the window is the page's first touch: no fault seen */
		win_fault((uint64_t *)(p + 4096), (uint64_t *)p);
		printf("latest: fault demand survived: %llu %llu %llu\n",
		       (unsigned long long)(((uint64_t *)p)[0]),
		       (unsigned long long)(((uint64_t *)p)[512] != 0),
		       (unsigned long long)(((uint64_t *)p)[513]));
		exit(0);
	}
	printf("latest: fault %s survived (wrong)\n", what);
	exit(3);
}

static void case_fault(void)
{
	static const char *const kinds[] = { "store", "load", "fetch", "demand" };

	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *argv[] = { "latest", "fault-child", kinds[i], NULL };
		long pid = sys_spawn("latest", argv);
		int32_t st = -1;

		if (pid < 0 || sys_wait(pid, &st, 0) != pid) {
			printf("latest: fault %s: spawn/wait failed\n", kinds[i]);
			continue;
		}
		printf("latest: fault %s: wait status %d\n", kinds[i], (int)st);
	}
}

static void case_kill(void)
{
	const char *spin[] = { "latest", "spin", NULL };
	const char *self[] = { "latest", "selfkill", NULL };
	long pid = sys_spawn("latest", spin);
	int32_t st = -1;

	msleep(50);
	sys_kill(pid, VESSEL_SIGKILL);
	if (sys_wait(pid, &st, 0) == pid)
		printf("latest: kill spin: wait status %d\n", (int)st);
	pid = sys_spawn("latest", self);
	st = -1;
	if (sys_wait(pid, &st, 0) == pid)
		printf("\nlatest: kill selfkill: wait status %d\n", (int)st);
}

static void spin(void)
{
	for (;;)
		sys_getpid();
}

/* Kills itself in the middle of a chain: nothing after the kill may run. */
static void selfkill(void)
{
	long me = sys_getpid();

	sys_write(1, "latest: selfkill ", 17);
	for (int i = 0; i < 100; i++) {
		sys_getpid();
		if (i == 40)
			sys_kill(me, VESSEL_SIGTERM);
		sys_write(1, ".", 1);
	}
}

static volatile uint64_t shared_word;
static volatile int writer_stop;

static long writer(void *arg)
{
	(void)arg;
	sys_setaffinity(0, 1);
	/* halves i and ~i: any torn read breaks the pair, whatever i reached */
	for (uint32_t i = 1; !writer_stop; i++)
		shared_word = ((uint64_t)~i << 32) | i;
	return 0;
}

static void case_thread(void)
{
	enum { N = 3000 };
	static uint64_t seen[N];
	struct thread t;
	unsigned torn = 0, back = 0;

	sys_setaffinity(0, 0);
	if (thread_start(&t, writer, NULL)) {
		printf("latest: thread: cannot start the writer\n");
		return;
	}
	while (!shared_word)
		sys_yield();
	for (int i = 0; i < N; i++) {
		sys_getpid();
		seen[i] = shared_word; /* read inside the window */
	}
	writer_stop = 1;
	thread_wait(&t, NULL);
	sys_setaffinity(0, -1);
	for (int i = 0; i < N; i++) {
		uint32_t lo = (uint32_t)seen[i], prev = (uint32_t)seen[i ? i - 1 : 0];

		torn += (uint32_t)(seen[i] >> 32) != (uint32_t)~lo;
		back += (uint32_t)(lo - prev) >= 0x80000000u; /* the counter may wrap */
	}
	printf("latest: thread: %d reads, %u torn, %u went backwards\n", N, torn, back);
}

static uint64_t named(const struct vessel_stats *s, const char *name)
{
	for (uint32_t i = 0; i < s->nnamed && i < VESSEL_STATS_NAMED; i++)
		if (!strncmp(s->named[i].name, name, VESSEL_STATS_NAME_MAX))
			return s->named[i].value;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{ "regs", case_regs },	   { "riprel", case_riprel }, { "cloop", case_cloop },
		{ "fault", case_fault },   { "kill", case_kill },     { "thread", case_thread },
		{ "recode", case_recode },
	};
	static struct vessel_stats a, b, c;
	static const char *const stops[] = { "insn",	"fault", "window", "flags",
					     "pending", "timer", "chain",  "skipped" };
	int all = argc < 2;

	if (argc == 3 && !strcmp(argv[1], "fault-child"))
		fault_child(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "spin"))
		spin();
	if (argc == 2 && !strcmp(argv[1], "selfkill")) {
		selfkill();
		return 0;
	}
	sys_stats(&a, sizeof(a));
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int run = all;

		for (int k = 1; k < argc; k++)
			run |= !strcmp(argv[k], cases[i].name);
		if (!run)
			continue;
		sys_stats(&c, sizeof(c));
		cases[i].fn();
		sys_stats(&b, sizeof(b));
		printf("latest-stats: %s saved %llu emulated %llu, stops:", cases[i].name,
		       (unsigned long long)(named(&b, "lookahead.saved") -
					    named(&c, "lookahead.saved")),
		       (unsigned long long)(named(&b, "lookahead.emulated") -
					    named(&c, "lookahead.emulated")));
		for (unsigned k = 0; k < sizeof(stops) / sizeof(stops[0]); k++) {
			char name[VESSEL_STATS_NAME_MAX];

			snprintf(name, sizeof(name), "lookahead.%s%s", k < 7 ? "stop_" : "",
				 stops[k]);
			printf(" %s %llu", stops[k],
			       (unsigned long long)(named(&b, name) - named(&c, name)));
		}
		printf("\n");
	}
	sys_stats(&b, sizeof(b));
	printf("latest-stats: all saved %llu emulated %llu\n",
	       (unsigned long long)(named(&b, "lookahead.saved") - named(&a, "lookahead.saved")),
	       (unsigned long long)(named(&b, "lookahead.emulated") -
				    named(&a, "lookahead.emulated")));
	return 0;
}
