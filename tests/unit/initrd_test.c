// SPDX-License-Identifier: MIT
/*
 * Unit tests of the initrd reader (guest/lib/initrd.c, the same source the
 * kernel compiles) against images made by the builder of tools/mkinitrd.
 * Every validation rule of include/abi/initrd.h has a test that breaks
 * exactly that rule (re-sealing the header CRC so the rule itself is hit).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "abi/initrd.h"
#include "lib/initrd.h"
#include "mkinitrd_build.h"

static const char data_a[] = "\177ELF pretend program";
static const char data_b[] = "hello, initrd\n";

struct img {
	uint8_t *p;
	size_t len;
};

/* Three files given out of order: "sh", "README", "echo" (one empty). */
static struct img build3(void)
{
	struct mkinitrd_input in[] = {
		{ "sh", data_a, sizeof(data_a), VESSEL_INITRD_F_EXEC },
		{ "README", data_b, sizeof(data_b) - 1, 0 },
		{ "echo", "", 0, VESSEL_INITRD_F_EXEC },
	};
	struct img im;
	const char *why;
	size_t bad;
	void *out;

	assert_int_equal(mkinitrd_build(in, 3, 4096, &out, &im.len, &why, &bad), 0);
	im.p = out;
	return im;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Recompute the header CRC after a deliberate corruption of the table. */
static void reseal(struct img *im, uint32_t count)
{
	uint32_t crc = initrd_crc32(0, im->p, 60);

	crc = initrd_crc32(crc, im->p + 64, (uint64_t)count * 80);
	put32(im->p + 60, crc);
}

static uint8_t *entry(struct img *im, int i)
{
	return im->p + 64 + 80 * i;
}

static int open_img(struct img *im, const char **why)
{
	struct initrd rd;

	return initrd_open(&rd, im->p, im->len, why);
}

static void test_crc32_known_vector(void **state)
{
	assert_int_equal(initrd_crc32(0, "123456789", 9), 0xcbf43926u);
	assert_int_equal(initrd_crc32(0, "", 0), 0);
	/* incremental == one shot */
	assert_int_equal(initrd_crc32(initrd_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
}

static void test_roundtrip(void **state)
{
	struct img im = build3();
	struct initrd rd;
	struct initrd_file f;
	const char *why;

	assert_int_equal(initrd_open(&rd, im.p, im.len, &why), 0);
	assert_int_equal(initrd_count(&rd), 3);
	/* sorted by name (byte order: uppercase first) */
	assert_int_equal(initrd_entry(&rd, 0, &f), 0);
	assert_string_equal(f.name, "README");
	assert_int_equal(f.size, sizeof(data_b) - 1);
	assert_memory_equal(f.data, data_b, f.size);
	assert_int_equal(f.flags, 0);
	assert_int_equal(initrd_entry(&rd, 1, &f), 0);
	assert_string_equal(f.name, "echo");
	assert_int_equal(f.size, 0);
	assert_int_equal(initrd_entry(&rd, 2, &f), 0);
	assert_string_equal(f.name, "sh");
	assert_int_equal(f.flags, VESSEL_INITRD_F_EXEC);
	assert_memory_equal(f.data, data_a, sizeof(data_a));
	assert_int_equal((uintptr_t)(f.data - im.p) % 4096, 0);
	assert_int_equal(initrd_entry(&rd, 3, &f), -ENOENT);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(initrd_verify(&rd, i), 0);
	assert_int_equal(initrd_verify(&rd, 3), -ENOENT);
	free(im.p);
}

static void test_find(void **state)
{
	struct img im = build3();
	struct initrd rd;
	struct initrd_file f;
	char longname[80];

	assert_int_equal(initrd_open(&rd, im.p, im.len, NULL), 0);
	assert_int_equal(initrd_find(&rd, "sh", 256, &f), 0);
	assert_string_equal(f.name, "sh");
	assert_int_equal(f.index, 2);
	assert_int_equal(initrd_find(&rd, "/sh", 256, &f), 0);
	assert_string_equal(f.name, "sh");
	assert_int_equal(initrd_find(&rd, "/README", 256, &f), 0);
	assert_int_equal(initrd_find(&rd, "echo", 5, &f), 0);
	assert_int_equal(initrd_find(&rd, "ech", 256, &f), -ENOENT);
	assert_int_equal(initrd_find(&rd, "echoo", 256, &f), -ENOENT);
	assert_int_equal(initrd_find(&rd, "zzz", 256, &f), -ENOENT);
	assert_int_equal(initrd_find(&rd, "", 256, &f), -ENOENT);
	assert_int_equal(initrd_find(&rd, "/", 256, &f), -ENOENT);
	assert_int_equal(initrd_find(&rd, "//sh", 256, &f), -ENOENT);
	/* no NUL within the bound: the reader must not look further */
	assert_int_equal(initrd_find(&rd, "echo", 4, &f), -ENAMETOOLONG);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(initrd_find(&rd, longname, sizeof(longname), &f), -ENAMETOOLONG);
	free(im.p);
}

static void test_empty_image(void **state)
{
	struct initrd rd;
	struct initrd_file f;
	const char *why;
	size_t len, bad;
	void *out;

	assert_int_equal(mkinitrd_build(NULL, 0, 8, &out, &len, &why, &bad), 0);
	assert_int_equal(initrd_open(&rd, out, len, &why), 0);
	assert_int_equal(initrd_count(&rd), 0);
	assert_int_equal(initrd_find(&rd, "sh", 256, &f), -ENOENT);
	free(out);
}

static void test_header_rules(void **state)
{
	struct img im = build3();
	uint8_t saved[64];
	const char *why;
	struct initrd rd;

	memcpy(saved, im.p, 64);
#define BREAK(stmt, err, resealed)                                                                 \
	do {                                                                                       \
		memcpy(im.p, saved, 64);                                                           \
		stmt;                                                                              \
		if (resealed)                                                                      \
			reseal(&im, 3);                                                            \
		assert_int_equal(open_img(&im, &why), err);                                        \
		assert_non_null(why);                                                              \
	} while (0)
	BREAK(im.p[0] ^= 1, -EINVAL, 1);		 /* magic */
	BREAK(put32(im.p + 8, 2), -EINVAL, 1);		 /* version */
	BREAK(put32(im.p + 12, 72), -EINVAL, 1);	 /* header_size */
	BREAK(put32(im.p + 16, 88), -EINVAL, 1);	 /* entry_size */
	BREAK(put32(im.p + 20, 1025), -EINVAL, 1);	 /* entry_count */
	BREAK(put32(im.p + 20, 1000), -EINVAL, 0);	 /* table past end */
	BREAK(put64(im.p + 24, 60), -EINVAL, 1);	 /* table inside header */
	BREAK(put64(im.p + 24, 68), -EINVAL, 1);	 /* table misaligned */
	BREAK(put64(im.p + 24, ~0ull - 7), -EINVAL, 1);	 /* table offset overflow */
	BREAK(put64(im.p + 32, im.len + 1), -ERANGE, 1); /* image bigger than given */
	BREAK(put64(im.p + 40, 1), -EINVAL, 1);		 /* flags */
	BREAK(im.p[50] = 1, -EINVAL, 1);		 /* reserved */
	BREAK(im.p[60] ^= 1, -EIO, 0);			 /* header CRC */
	BREAK(entry(&im, 1)[0] ^= 0x20, -EIO, 0);	 /* table covered by the CRC */
#undef BREAK
	memcpy(im.p, saved, 64);
	entry(&im, 1)[0] ^= 0x20;
	assert_int_equal(initrd_open(&rd, im.p, 63, &why), -ERANGE);
	assert_int_equal(initrd_open(&rd, NULL, 0, &why), -ERANGE);
	assert_int_equal(initrd_open(&rd, im.p, im.len, &why), 0);
	free(im.p);
}

static void test_entry_rules(void **state)
{
	struct img im = build3();
	uint8_t saved[3 * 80];
	const char *why;

	memcpy(saved, entry(&im, 0), sizeof(saved));
#define BREAK(stmt, err)                                                                           \
	do {                                                                                       \
		memcpy(entry(&im, 0), saved, sizeof(saved));                                       \
		stmt;                                                                              \
		reseal(&im, 3);                                                                    \
		assert_int_equal(open_img(&im, &why), err);                                        \
	} while (0)
	BREAK(memset(entry(&im, 0), 0, 56), -EINVAL);		  /* empty name */
	BREAK(memset(entry(&im, 2), 'z', 56), -EINVAL);		  /* no NUL */
	BREAK(entry(&im, 2)[1] = '/', -EINVAL);			  /* "s/" */
	BREAK(entry(&im, 2)[1] = ' ', -EINVAL);			  /* space */
	BREAK(entry(&im, 2)[1] = (char)0xc3, -EINVAL);		  /* non-ASCII */
	BREAK(entry(&im, 2)[40] = 'x', -EINVAL);		  /* padding not zero */
	BREAK(memcpy(entry(&im, 2), ".\0", 2), -EINVAL);	  /* "." (also unsorted) */
	BREAK(memcpy(entry(&im, 1), "sh\0\0", 4), -EINVAL);	  /* duplicate */
	BREAK(memcpy(entry(&im, 1), "z\0\0\0\0", 5), -EINVAL);	  /* not ascending */
	BREAK(put32(entry(&im, 0) + 72, 2), -EINVAL);		  /* unknown flag */
	BREAK(put64(entry(&im, 0) + 56, 4100), -EINVAL);	  /* misaligned */
	BREAK(put64(entry(&im, 0) + 56, 64), -EINVAL);		  /* over the table */
	BREAK(put64(entry(&im, 2) + 56, 0), -EINVAL);		  /* before previous */
	BREAK(put64(entry(&im, 0) + 64, 8192), -EINVAL);	  /* overlaps next */
	BREAK(put64(entry(&im, 2) + 64, im.len), -EINVAL);	  /* past end */
	BREAK(put64(entry(&im, 2) + 64, ~0ull - 4095), -EINVAL);  /* offset + size wraps */
	BREAK(put64(entry(&im, 2) + 56, ~0ull & ~7ull), -EINVAL); /* offset huge */
#undef BREAK
	memcpy(entry(&im, 0), saved, sizeof(saved));
	reseal(&im, 3);
	assert_int_equal(open_img(&im, &why), 0);
	free(im.p);
}

static void test_verify_detects_data_corruption(void **state)
{
	struct img im = build3();
	struct initrd rd;
	struct initrd_file f;

	assert_int_equal(initrd_open(&rd, im.p, im.len, NULL), 0);
	assert_int_equal(initrd_find(&rd, "README", 256, &f), 0);
	((uint8_t *)im.p)[f.data - im.p + 3] ^= 0x40;
	assert_int_equal(initrd_verify(&rd, f.index), -EIO);
	assert_int_equal(initrd_verify(&rd, 2), 0);
	free(im.p);
}

/* Every truncation of a valid image is rejected (and, under ASan, read in bounds). */
static void test_truncations(void **state)
{
	struct img im = build3();
	struct initrd rd;

	for (size_t len = 0; len < im.len; len++) {
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, im.p, len);
		assert_int_not_equal(initrd_open(&rd, copy, len, NULL), 0);
		free(copy);
	}
	free(im.p);
}

static void test_builder_rejects(void **state)
{
	struct mkinitrd_input in[2] = { { "a", "x", 1, 0 }, { "a", "y", 1, 0 } };
	const char *why;
	size_t len, bad = 99;
	void *out;

	assert_int_equal(mkinitrd_build(in, 2, 8, &out, &len, &why, &bad), -EEXIST);
	in[1].name = "a/b";
	assert_int_equal(mkinitrd_build(in, 2, 8, &out, &len, &why, &bad), -EINVAL);
	assert_int_equal(bad, 1);
	in[1].name = "b";
	in[1].flags = 8;
	assert_int_equal(mkinitrd_build(in, 2, 8, &out, &len, &why, &bad), -EINVAL);
	in[1].flags = 0;
	assert_int_equal(mkinitrd_build(in, 2, 12, &out, &len, &why, &bad), -EINVAL);
	assert_int_equal(mkinitrd_build(in, 2, 4, &out, &len, &why, &bad), -EINVAL);
	assert_int_equal(mkinitrd_build(in, 2, 8, &out, &len, &why, &bad), 0);
	free(out);
	assert_false(mkinitrd_name_valid(""));
	assert_false(mkinitrd_name_valid(".."));
	assert_false(mkinitrd_name_valid("0123456789012345678901234567890123456789012345678901234"
					 "5"));
	assert_true(mkinitrd_name_valid("0123456789012345678901234567890123456789012345678901234"));
	assert_true(mkinitrd_name_valid("..."));
	assert_true(mkinitrd_name_valid("usertests"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32_known_vector),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_empty_image),
		cmocka_unit_test(test_header_rules),
		cmocka_unit_test(test_entry_rules),
		cmocka_unit_test(test_verify_detects_data_corruption),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_builder_rejects),
	};

	return cmocka_run_group_tests_name("initrd", tests, NULL, NULL);
}
