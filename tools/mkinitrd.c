// SPDX-License-Identifier: MIT
/*
 * mkinitrd: pack files into a Vessel initrd, or list/check one.
 *
 *   mkinitrd [-a ALIGN] -o OUT [NAME=]FILE...
 *                                    pack (NAME defaults to FILE's basename;
 *                                    data aligned to ALIGN, default 4096)
 *   mkinitrd -l IMAGE                list the files, verify every checksum
 *
 * Files starting with the ELF magic are flagged executable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "abi/initrd.h"
#include "lib/initrd.h"
#include "mkinitrd_build.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: mkinitrd [-a ALIGN] -o OUT [NAME=]FILE...   pack files into an initrd\n"
		   "       mkinitrd -l IMAGE                           list and verify one\n");
}

/* Read a whole file; returns 0 or -errno. */
static int slurp(const char *path, void **data, uint64_t *size)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	long len;
	void *buf;

	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return -EISDIR; /* fopen accepts a directory; its "size" is nonsense */
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		int err = -errno;

		fclose(f);
		return err;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	if (len && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*data = buf;
	*size = (uint64_t)len;
	return 0;
}

static int is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int pack(const char *out, uint32_t align, int nfiles, char **files)
{
	struct mkinitrd_input *in = calloc(nfiles ? nfiles : 1, sizeof(*in));
	const char *why = "";
	size_t bad = 0, len = 0;
	void *img = NULL;
	int err, status = 1;
	FILE *f;

	if (!in) {
		fprintf(stderr, "mkinitrd: out of memory\n");
		return 1;
	}
	for (int i = 0; i < nfiles; i++) {
		char *eq = strchr(files[i], '=');
		const char *path = files[i], *slash;
		void *data;

		if (eq) {
			*eq = '\0';
			in[i].name = files[i];
			path = eq + 1;
		} else {
			slash = strrchr(path, '/');
			in[i].name = slash ? slash + 1 : path;
		}
		err = slurp(path, &data, &in[i].size);
		if (err) {
			fprintf(stderr, "mkinitrd: %s: %s\n", path, strerror(-err));
			goto out;
		}
		in[i].data = data;
		if (in[i].size >= 4 && !memcmp(data, "\177ELF", 4))
			in[i].flags |= VESSEL_INITRD_F_EXEC;
	}
	err = mkinitrd_build(in, nfiles, align, &img, &len, &why, &bad);
	if (err) {
		if (err == -EINVAL || err == -EEXIST)
			fprintf(stderr, "mkinitrd: %s: %s\n", in[bad].name, why);
		else
			fprintf(stderr, "mkinitrd: %s\n", strerror(-err));
		goto out;
	}
	f = fopen(out, "wb");
	if (!f) {
		/* nothing of ours to remove: OUT may be a directory or not ours */
		fprintf(stderr, "mkinitrd: %s: %s\n", out, strerror(errno));
		goto out;
	}
	err = fwrite(img, 1, len, f) != len ? errno : 0;
	if (fclose(f) && !err)
		err = errno;
	if (err) {
		fprintf(stderr, "mkinitrd: %s: %s\n", out, strerror(err));
		if (is_regular(out))
			remove(out); /* a partial image, never a device like /dev/full */
		goto out;
	}
	status = 0;
out:
	for (int i = 0; i < nfiles; i++)
		free((void *)in[i].data);
	free(in);
	free(img);
	return status;
}

static int list(const char *path)
{
	struct initrd rd;
	const char *why;
	uint64_t size;
	void *img;
	int err, bad = 0;

	err = slurp(path, &img, &size);
	if (err) {
		fprintf(stderr, "mkinitrd: %s: %s\n", path, strerror(-err));
		return 1;
	}
	err = initrd_open(&rd, img, size, &why);
	if (err) {
		fprintf(stderr, "mkinitrd: %s: invalid initrd: %s\n", path, why);
		free(img);
		return 1;
	}
	for (uint32_t i = 0; i < initrd_count(&rd); i++) {
		struct initrd_file f;
		int ok;

		initrd_entry(&rd, i, &f);
		ok = initrd_verify(&rd, i) == 0;
		bad += !ok;
		printf("%-24s %10llu %s%s\n", f.name, (unsigned long long)f.size,
		       f.flags & VESSEL_INITRD_F_EXEC ? "exec" : "data",
		       ok ? "" : "  CHECKSUM MISMATCH");
	}
	printf("%u files, %llu bytes\n", initrd_count(&rd), (unsigned long long)rd.size);
	free(img);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	uint32_t align = VESSEL_INITRD_WRITER_ALIGN;

	if (argc >= 3 && !strcmp(argv[1], "-a")) {
		char *end;
		unsigned long a = strtoul(argv[2], &end, 0);

		if (*end || a < VESSEL_INITRD_ALIGN || a > (1ul << 20) || (a & (a - 1))) {
			fprintf(stderr, "mkinitrd: -a %s: not a power of two in [8, 1 MiB]\n",
				argv[2]);
			return 2;
		}
		align = (uint32_t)a;
		argc -= 2;
		argv += 2;
	}
	if (argc >= 3 && !strcmp(argv[1], "-o"))
		return pack(argv[2], align, argc - 3, argv + 3);
	if (argc == 3 && !strcmp(argv[1], "-l"))
		return list(argv[2]);
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
