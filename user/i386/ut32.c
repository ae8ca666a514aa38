// SPDX-License-Identifier: MIT
/*
 * ut32: tests of 32-bit processes (ELF32 i386 in compatibility mode), built
 * with the 32-bit libc (mk/user32.mk).
 *
 *   ut32            run every test; TAP on stdout, exit status = failures
 *   ut32 -a ARGS    (internal) check argv as the parent passed it
 *   ut32 -e NAME    (internal) try escape NAME into 64-bit mode
 *
 * The escapes each try one way into a 64-bit (or kernel) code segment; the
 * code after a successful switch exits with ESCAPED. The parent checks that
 * every child was killed by a signal instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vessel/sys.h>
#include <vessel/thread.h>

#define ESCAPED	  77
#define USER_CS32 0x3b

/* exit(ESCAPED) through int $0x80: the same bytes mean the same in 64-bit mode */
#define EXIT_ESCAPED "movl $0, %eax\n\tmovl $77, %ebx\n\tint $0x80\n\t"

static int failures, count;

static void ok(int cond, const char *name, const char *fmt, long a, long b)
{
	count++;
	if (cond) {
		printf("ok %d - %s\n", count, name);
		return;
	}
	failures++;
	printf("not ok %d - %s (", count, name);
	printf(fmt, a, b);
	printf(")\n");
}

static void escape(const char *name)
{
	if (!strcmp(name, "ljmp64"))
		__asm__ volatile("ljmp $0x23, $1f\n1:\n\t" EXIT_ESCAPED);
	else if (!strcmp(name, "lcall64"))
		__asm__ volatile("lcall $0x23, $1f\n1:\n\t" EXIT_ESCAPED);
	else if (!strcmp(name, "lret64"))
		__asm__ volatile("pushl $0x23\n\tpushl $1f\n\tlret\n1:\n\t" EXIT_ESCAPED);
	else if (!strcmp(name, "iret64"))
		__asm__ volatile("pushfl\n\tpushl $0x23\n\tpushl $1f\n\tiret\n1:\n\t" EXIT_ESCAPED);
	else if (!strcmp(name, "ljmp_kernel"))
		__asm__ volatile("ljmp $0x08, $1f\n1:\n\t" EXIT_ESCAPED);
	else if (!strcmp(name, "ljmp_tss"))
		__asm__ volatile("ljmp $0x2b, $1f\n1:\n\t" EXIT_ESCAPED);
	else if (!strcmp(name, "ljmp_past_gdt"))
		__asm__ volatile("ljmp $0x43, $1f\n1:\n\t" EXIT_ESCAPED);
	else if (!strcmp(name, "syscall"))
		__asm__ volatile("movl $5, %eax\n\tsyscall\n\t" EXIT_ESCAPED);
	else if (!strcmp(name, "sysenter"))
		__asm__ volatile("movl $5, %eax\n\tsysenter\n\t" EXIT_ESCAPED);
	printf("ut32: unknown escape %s\n", name);
	exit(2);
}

static const char *const escapes[] = { "ljmp64",	"lcall64",     "lret64",
				       "iret64",	"ljmp_kernel", "ljmp_tss",
				       "ljmp_past_gdt", "syscall",     "sysenter" };

static void test_escapes(void)
{
	for (unsigned i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		const char *argv[] = { "ut32", "-e", escapes[i], NULL };
		long st = run_wait("ut32", argv);
		char name[64];

		snprintf(name, sizeof(name), "escape %s is killed", escapes[i]);
		ok(st >= 0 && VESSEL_W_SIGNALED(st), name, "wait status %#lx%.0ld", st, 0);
	}
}

static void test_mode(void)
{
	uint32_t cs;

	__asm__ volatile("movl %%cs, %0" : "=r"(cs));
	ok(cs == USER_CS32, "runs with the 32-bit code segment", "cs %#lx, want %#lx", (long)cs,
	   USER_CS32);
}

static void test_args(void)
{
	const char *argv[] = { "ut32", "-a", "one", "two words", "", "three", NULL };
	long st = run_wait("ut32", argv);

	ok(st == 0, "argv reaches a 32-bit child (32-bit pointer array)", "status %#lx%.0ld", st,
	   0);
}

static int check_args(int argc, char **argv)
{
	static const char *const want[] = { "ut32", "-a", "one", "two words", "", "three" };

	if (argc != 6 || argv[6] != NULL)
		return 1;
	for (int i = 0; i < 6; i++)
		if (strcmp(argv[i], want[i]))
			return 1;
	return 0;
}

static void test_files(void)
{
	char buf[64];
	long fd = open("hello.txt", O_RDONLY), n, end;

	ok(fd >= 3, "open hello.txt", "fd %ld%.0ld", fd, 0);
	n = read((int)fd, buf, sizeof(buf) - 1);
	ok(n == 30 && !memcmp(buf, "Hello from the Vessel initrd.\n", 30), "read hello.txt",
	   "read %ld bytes%.0ld", n, 0);
	/* a negative offset must be sign-extended from the 32-bit register */
	end = sys_lseek(fd, -6, SEEK_END);
	ok(end == 24, "lseek(-6, SEEK_END) sign-extends the offset", "got %ld, want %ld", end, 24);
	n = read((int)fd, buf, 6);
	ok(n == 6 && !memcmp(buf, "itrd.\n", 6), "read after lseek", "read %ld%.0ld", n, 0);
	ok(sys_lseek(fd, -1, SEEK_SET) == -EINVAL, "lseek(-1, SEEK_SET) is -EINVAL", "got %ld%.0ld",
	   sys_lseek(fd, -1, SEEK_SET), 0);
	close((int)fd);
	ok(write(1, (void *)0x1000, 4) == -EFAULT, "write from an unmapped address: -EFAULT",
	   "%ld%.0ld", 0, 0);
	ok(read((int)fd, buf, 1) == -EBADF, "read a closed descriptor: -EBADF", "%ld%.0ld", 0, 0);
}

static void test_memory(void)
{
	long a = sys_mmap(NULL, 8192, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
			  VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);
	char *small = malloc(100), *big = malloc(200000);

	ok(!sys_failed(a) && (uint32_t)a >= 0x80000000u, "mmap returns an address below 4 GiB",
	   "%#lx%.0ld", a, 0);
	if (!sys_failed(a)) {
		memset((void *)a, 0x5a, 8192);
		ok(((unsigned char *)a)[8191] == 0x5a, "mmap memory is usable", "%ld%.0ld", 0, 0);
		ok(sys_munmap((void *)a, 8192) == 0, "munmap", "%ld%.0ld", 0, 0);
	}
	ok(small && big, "malloc small and big", "%ld %ld", (long)small, (long)big);
	if (big) {
		memset(big, 1, 200000);
		free(big);
	}
	free(small);
}

static long thread_fn(void *arg)
{
	uint32_t cs;

	__asm__ volatile("movl %%cs, %0" : "=r"(cs));
	return cs == USER_CS32 ? (long)arg * 2 : -1;
}

static void test_threads(void)
{
	struct thread t;
	long v = 0;
	int r = thread_start(&t, thread_fn, (void *)21);

	ok(r == 0, "thread_start", "%ld%.0ld", r, 0);
	if (!r)
		ok(thread_wait(&t, &v) == 0 && v == 42, "a thread of a 32-bit process is 32-bit",
		   "value %ld%.0ld", v, 0);
}

/* Named counter `name` from stats(), or -1. */
static long long named_counter(const char *name)
{
	static struct vessel_stats st;
	long n = sys_stats(&st, sizeof(st));

	if (n != (long)sizeof(st))
		return -1;
	for (uint32_t i = 0; i < st.nnamed && i < VESSEL_STATS_NAMED; i++)
		if (!strcmp(st.named[i].name, name))
			return (long long)st.named[i].value;
	return -1;
}

static void test_stats(void)
{
	long long before = named_counter("syscall.from_32bit"), after;

	for (int i = 0; i < 10; i++)
		sys_getpid();
	after = named_counter("syscall.from_32bit");
	ok(before >= 0 && after - before >= 11, "stats counts the calls of 32-bit processes",
	   "%ld calls counted%.0ld", (long)(after - before), 0);
	ok(named_counter("compat.gdt_switches") > 0, "stats counts descriptor switches", "%ld%.0ld",
	   (long)named_counter("compat.gdt_switches"), 0);
}

static void test_exit_status(void)
{
	const char *argv[] = { "echo32", "echo32", "runs", NULL };
	long st = run_wait("echo32", argv);

	ok(st == 0, "echo32 runs and exits 0", "status %#lx%.0ld", st, 0);
	st = run_wait("echo",
		      (const char *const[]){ "echo", "64-bit", "echo", "from", "ut32", NULL });
	ok(st == 0, "a 32-bit process spawns a 64-bit one", "status %#lx%.0ld", st, 0);
	st = run_wait("cat32", (const char *const[]){ "cat32", "hello.txt", NULL });
	ok(st == 0, "cat32 hello.txt exits 0", "status %#lx%.0ld", st, 0);
	st = run_wait("cat32", (const char *const[]){ "cat32", "no-such-file", NULL });
	ok(st > 0 && VESSEL_W_EXITED(st), "cat32 of a missing file exits non-zero",
	   "status %#lx%.0ld", st, 0);
	ok(sys_getpid() > 1 && sys_gettid() == sys_getpid(), "getpid and gettid", "%ld%.0ld", 0, 0);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "-a"))
		return check_args(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "-e"))
		escape(argv[2]);
	test_mode();
	test_args();
	test_files();
	test_memory();
	test_threads();
	test_stats();
	test_exit_status();
	test_escapes();
	printf("1..%d\n# ut32: %d failed\n", count, failures);
	return failures > 125 ? 125 : failures;
}
