// SPDX-License-Identifier: MIT
/*
 * Per-process trampolines (docs/jumpswitch.md, K2): read() and write() call
 * the file operation of the descriptor's kind through a region mapped at
 * the same kernel address in every process with per-process contents. Each
 * process learns its own hot operations; a new process starts with nothing
 * learned. Checked through the calling process's own counters (jsproc.*).
 */
#include <stdlib.h>
#include <vessel/thread.h>

#include "ut.h"

/* Keys (kernel/jumpswitch_proc.h): (kind - console) * 2 + write; kinds console, file, disk. */
#define KEY_CONSOLE_WRITE 1
#define KEY_FILE_READ	  2
#define LEARN_CALLS	  300 /* several learning periods (jumpswitch.fd.period, 64) */
#define HOT_CALLS	  128 /* after learning: every one must hit */

struct jsp_counts {
	long long hits, misses, relearn, skipped, entries, keys;
};

static void jsp_counts(struct jsp_counts *c)
{
	struct vessel_stats s;

	ut_stats(&s);
	c->hits = ut_named(&s, "jsproc.hits");
	c->misses = ut_named(&s, "jsproc.misses");
	c->relearn = ut_named(&s, "jsproc.relearn");
	c->skipped = ut_named(&s, "jsproc.skipped");
	c->entries = ut_named(&s, "jsproc.entries");
	c->keys = ut_named(&s, "jsproc.keys");
}

static int jumpswitch_is_on(void)
{
	struct vessel_stats s;
	long long on;

	ut_stats(&s);
	on = ut_named(&s, "jumpswitch.on");
	CHECK(on == 0 || on == 1);
	return (int)on;
}

/* n reads of the first byte of /hello.txt ('H'), each checked. */
static void file_reads(long fd, int n)
{
	for (int i = 0; i < n; i++) {
		char c = 0;

		CHECK_EQ(sys_lseek(fd, 0, VESSEL_SEEK_SET), 0);
		CHECK_EQ(sys_read(fd, &c, 1), 1);
		CHECK_EQ(c, 'H');
	}
}

/* n empty writes to the console (the console's write operation, nothing printed). */
static void console_writes(int n)
{
	for (int i = 0; i < n; i++)
		CHECK_EQ(sys_write(1, "", 0), 0);
}

/* One operation: the reader's file read or the writer's console write. */
static void op(int reader, long fd, int n)
{
	if (reader)
		file_reads(fd, n);
	else
		console_writes(n);
}

/*
 * Learns the calling process's hot operation (key) from a clean start and
 * checks the counters: the first call misses, learning installs exactly
 * that key, and then every call hits.
 */
static void learn_and_check(int reader, long fd, int on)
{
	struct jsp_counts c0, c1, c2;
	long long key = reader ? KEY_FILE_READ : KEY_CONSOLE_WRITE;

	jsp_counts(&c0);
	/* a new process: nothing counted, nothing learned */
	CHECK_EQ(c0.hits, 0);
	CHECK_EQ(c0.misses, 0);
	CHECK_EQ(c0.relearn, 0);
	CHECK_EQ(c0.entries, 0);
	CHECK_EQ(c0.keys, 0);
	op(reader, fd, 1);
	jsp_counts(&c1);
	/* the first call missed, even where the parent's region holds this very target */
	CHECK_EQ(c1.hits, 0);
	CHECK_EQ(c1.misses, on);
	op(reader, fd, LEARN_CALLS);
	jsp_counts(&c1);
	op(reader, fd, HOT_CALLS);
	jsp_counts(&c2);
	if (!on) {
		CHECK_EQ(c2.hits + c2.misses + c2.relearn + c2.entries + c2.keys, 0);
		return;
	}
	CHECK(c1.relearn >= 1);
	CHECK_EQ(c1.entries, 1);
	CHECK_EQ(c1.keys, 1ll << key);
	CHECK_EQ(c2.hits - c1.hits, HOT_CALLS);
	CHECK_EQ(c2.misses, c1.misses);
	CHECK_EQ(c2.keys, c1.keys);
}

static volatile int main_done; /* the main thread made its calls */

/* Reads, then stays alive until the main thread is done: two threads throughout. */
static long reader_thread(void *arg)
{
	file_reads((long)arg, LEARN_CALLS);
	while (!main_done)
		sys_yield();
	return 0;
}

/*
 * Two threads: a learning step finds the process multi-threaded and skips
 * (its region may be running on the other CPU); results stay right. Once
 * the second thread is gone, the process learns again.
 */
static void threads_skip_learning(int on)
{
	long fd = CHECK_OK(sys_open("/hello.txt", VESSEL_O_RDONLY)), v = -1;
	struct jsp_counts c0, c1;
	struct thread t;

	CHECK_OK(thread_start(&t, reader_thread, (void *)fd));
	console_writes(LEARN_CALLS);
	main_done = 1;
	CHECK_OK(thread_wait(&t, &v));
	CHECK_EQ(v, 0);
	jsp_counts(&c0);
	file_reads(fd, LEARN_CALLS);
	jsp_counts(&c1);
	if (!on) {
		CHECK_EQ(c1.hits + c1.misses + c1.relearn + c1.keys, 0);
		return;
	}
	CHECK(c0.hits + c0.misses >= 2 * LEARN_CALLS);
	CHECK(c0.skipped >= 2 * LEARN_CALLS / 64 - 1); /* jumpswitch.fd.period */
	CHECK_EQ(c0.relearn, 0);		       /* never written while two threads ran */
	CHECK_EQ(c0.entries, 0);
	CHECK(c1.relearn >= 1); /* one thread again: learned */
	CHECK_EQ(c1.keys, 1ll << KEY_FILE_READ);
}

int h_jsproc(const char *mode)
{
	int reader = !strcmp(mode, "reader");

	if (!strcmp(mode, "threads")) {
		threads_skip_learning(jumpswitch_is_on());
		return 0;
	}
	long fd = reader ? CHECK_OK(sys_open("/hello.txt", VESSEL_O_RDONLY)) : 1;

	learn_and_check(reader, fd, jumpswitch_is_on());
	return 0;
}

void test_jumpswitch_proc(void)
{
	int on = jumpswitch_is_on();
	long fd = CHECK_OK(sys_open("/hello.txt", VESSEL_O_RDONLY)), reader, writer;
	struct jsp_counts c0, c1;

	/* this process learns the file read */
	file_reads(fd, LEARN_CALLS);
	jsp_counts(&c0);
	if (on) {
		CHECK_EQ(c0.keys, 1ll << KEY_FILE_READ);
		CHECK(c0.hits > 0);
	}
	/*
	 * Two children at once: one learns the file read, one the console
	 * write; both start clean (the reader's first read misses although
	 * this process's region, at the same address, holds the file read).
	 */
	reader = CHECK_OK(ut_spawn_helper("jsproc", "reader", NULL));
	writer = CHECK_OK(ut_spawn_helper("jsproc", "writer", NULL));
	CHECK_EQ(ut_wait(reader), EXITED(0));
	CHECK_EQ(ut_wait(writer), EXITED(0));
	CHECK_EQ(ut_run_helper("jsproc", "threads", NULL), EXITED(0));
	/* this process's region was not touched by theirs: still every read hits */
	file_reads(fd, HOT_CALLS);
	jsp_counts(&c1);
	if (on) {
		CHECK_EQ(c1.keys, 1ll << KEY_FILE_READ);
		CHECK_EQ(c1.misses, c0.misses);
		CHECK_EQ(c1.hits - c0.hits, HOT_CALLS);
	} else {
		CHECK_EQ(c1.hits + c1.misses + c1.relearn + c1.keys, 0);
	}
	ut_note("jumpswitch %s: this process %lld hits, %lld misses, %lld re-learnings",
		on ? "on" : "off", c1.hits, c1.misses, c1.relearn);
	CHECK_OK(sys_close(fd));
}
