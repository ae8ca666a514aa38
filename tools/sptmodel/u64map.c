// SPDX-License-Identifier: MIT
/* Linear probing with backward-shift deletion (no tombstones). */
#include "u64map.h"

#include <errno.h>
#include <stdlib.h>

static size_t slot(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

static bool find(const struct u64map *m, uint64_t key, size_t *at)
{
	if (!m->cap)
		return false;
	for (size_t i = slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i]) {
			*at = i;
			return false;
		}
		if (m->keys[i] == key) {
			*at = i;
			return true;
		}
	}
}

bool u64map_get(const struct u64map *m, uint64_t key, uint64_t *val)
{
	size_t i;

	if (!find(m, key, &i))
		return false;
	*val = m->vals[i];
	return true;
}

static int grow(struct u64map *m)
{
	struct u64map n = { .cap = m->cap ? m->cap * 2 : 64 };

	n.keys = malloc(n.cap * sizeof(*n.keys));
	n.vals = malloc(n.cap * sizeof(*n.vals));
	n.used = calloc(n.cap, 1);
	if (!n.keys || !n.vals || !n.used) {
		u64map_free(&n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t at;

		if (m->used[i] && !find(&n, m->keys[i], &at)) {
			n.used[at] = 1;
			n.keys[at] = m->keys[i];
			n.vals[at] = m->vals[i];
			n.n++;
		}
	}
	u64map_free(m);
	*m = n;
	return 0;
}

int u64map_put(struct u64map *m, uint64_t key, uint64_t val)
{
	size_t i;

	if (find(m, key, &i)) {
		m->vals[i] = val;
		return 0;
	}
	if ((m->n + 1) * 4 > m->cap * 3) { /* keep the load under 3/4 */
		if (grow(m))
			return -ENOMEM;
		find(m, key, &i);
	}
	m->used[i] = 1;
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 0;
}

bool u64map_del(struct u64map *m, uint64_t key)
{
	size_t i, j;

	if (!find(m, key, &i))
		return false;
	m->used[i] = 0;
	m->n--;
	/* move later entries of the run back into the hole if their home allows */
	for (j = (i + 1) & (m->cap - 1); m->used[j]; j = (j + 1) & (m->cap - 1)) {
		size_t home = slot(m->keys[j], m->cap);

		/* j may move to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->used[i] = 1;
			m->used[j] = 0;
			i = j;
		}
	}
	return true;
}

void u64map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	*m = (struct u64map){ 0 };
}
