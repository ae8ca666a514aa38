/* SPDX-License-Identifier: MIT */
/*
 * Kernel command line parsing: space-separated words; `key=value` words.
 * Also built for the host and unit-tested there.
 */
#ifndef GUEST_LIB_CMDLINE_H
#define GUEST_LIB_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

/* 1 if `word` appears as a whole word in cmdline, else 0. */
int cmdline_has(const char *cmdline, const char *word);
/*
 * Finds the word starting with `key` (e.g. "init=") and copies the value
 * after it up to the end of that word into out (size n). Returns the value
 * length, -ENOENT if absent, -ENAMETOOLONG if it does not fit.
 */
int cmdline_get(const char *cmdline, const char *key, char *out, size_t n);
/*
 * Like cmdline_get for the n-th (0-based) word starting with `key`: a key
 * may appear several times (virtio_mmio.device=... once per device).
 */
int cmdline_get_nth(const char *cmdline, const char *key, int n, char *out, size_t len);
/*
 * Parses a Linux-style virtio-mmio device description "SIZE@BASE:IRQ"
 * (e.g. "512@0xfeb00e00:12"): numbers in decimal or 0x-hex, SIZE may end
 * in K or M. Returns 0, or -EINVAL for anything else (a zero size or a
 * base + size that wraps included).
 */
int cmdline_parse_virtio_mmio(const char *s, uint64_t *size, uint64_t *base, uint32_t *irq);
/*
 * Like cmdline_get, but the value runs to the end of the command line
 * (used for `init=PROG args...`, which must come last).
 */
int cmdline_get_rest(const char *cmdline, const char *key, char *out, size_t n);
/*
 * Splits s in place into at most max words separated by spaces/tabs.
 * Returns the word count (extra words are dropped).
 */
int cmdline_split(char *s, char **argv, int max);

#endif
