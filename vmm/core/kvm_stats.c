// SPDX-License-Identifier: MIT
#include "core/kvm_stats.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DESC_MAX_BYTES (1u << 20) /* far more than KVM's few hundred descriptors */

int kvm_stats_read(int sfd, const char *const names[], uint64_t vals[], unsigned n)
{
	struct kvm_stats_header h;
	size_t each, total;
	uint8_t *descs = NULL;
	int rc = 0;

	memset(vals, 0, n * sizeof(*vals));
	if (sfd < 0)
		return -EBADF;
	if (pread(sfd, &h, sizeof(h), 0) != sizeof(h)) {
		rc = -EIO;
		goto out;
	}
	each = sizeof(struct kvm_stats_desc) + h.name_size;
	total = each * h.num_desc;
	if (h.name_size == 0 || h.name_size > 4096 || total > DESC_MAX_BYTES) {
		rc = -EPROTO;
		goto out;
	}
	descs = malloc(total);
	if (!descs) {
		rc = -ENOMEM;
		goto out;
	}
	if (pread(sfd, descs, total, h.desc_offset) != (ssize_t)total) {
		rc = -EIO;
		goto out;
	}
	for (uint32_t i = 0; i < h.num_desc; i++) {
		const struct kvm_stats_desc *d = (const void *)(descs + i * each);

		for (unsigned k = 0; k < n; k++) {
			if (strncmp(d->name, names[k], h.name_size))
				continue;
			if (pread(sfd, &vals[k], sizeof(vals[k]), h.data_offset + d->offset) !=
			    sizeof(vals[k]))
				vals[k] = 0;
		}
	}
out:
	free(descs);
	return rc;
}
