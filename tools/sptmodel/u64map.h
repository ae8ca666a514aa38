/* SPDX-License-Identifier: MIT */
/* A hash map from uint64_t keys to uint64_t values (open addressing). */
#ifndef SPTMODEL_U64MAP_H
#define SPTMODEL_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map {
	uint64_t *keys, *vals;
	uint8_t *used;
	size_t cap, n; /* cap: a power of two, 0 while empty */
};

/* u64map_get - true with *val set if key is present. */
bool u64map_get(const struct u64map *m, uint64_t key, uint64_t *val);

/* u64map_put - insert or replace. 0 or -ENOMEM (the map is unchanged). */
int u64map_put(struct u64map *m, uint64_t key, uint64_t val);

/* u64map_del - remove key; true if it was there. */
bool u64map_del(struct u64map *m, uint64_t key);

/* u64map_free - release the memory; the map is empty and usable again. */
void u64map_free(struct u64map *m);

#endif
