/* SPDX-License-Identifier: MIT */
/* Parsing of command-line numbers and sizes (no side effects, unit-tested). */
#ifndef VMM_CORE_PARSE_H
#define VMM_CORE_PARSE_H

#include <stdint.h>

/*
 * parse_size - parse "SIZE" as bytes: a decimal number with an optional
 * suffix K, M, G, T (powers of 1024; "KiB", "MiB", "GiB", "TiB" and "B" are
 * accepted too, case-insensitive). A number without suffix means MiB,
 * like QEMU's -m. Returns 0 and stores the result, -EINVAL for malformed
 * text, -ERANGE when the value overflows 64 bits.
 */
int parse_size(const char *s, uint64_t *out);

/*
 * parse_uint - parse a decimal unsigned integer within [min, max].
 * Returns 0, -EINVAL (malformed) or -ERANGE (outside the bounds).
 */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
