// SPDX-License-Identifier: MIT
/* Who may drive the VM over the control socket (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 /* Linux 4.13 */
#endif

#define PEER_GROUPS_MAX 65536 /* NGROUPS_MAX of Linux */

int ctl_group_parse(const char *name, gid_t *gid, char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	char buf[16384], *end;
	unsigned long v;
	int rc;

	if (!*name) {
		snprintf(err, errlen, "--control-group: empty group name");
		return -EINVAL;
	}
	rc = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
	if (rc == 0 && res) {
		*gid = res->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (name[0] >= '0' && name[0] <= '9' && !*end && !errno && v < (gid_t)-1) {
		*gid = (gid_t)v; /* a number need not be in the group database */
		return 0;
	}
	snprintf(err, errlen, "--control-group '%s': no such group", name);
	return -EINVAL;
}

/* Whether the peer of fd has `group` among its supplementary groups. */
static int peer_in_group(int fd, gid_t group, bool *member)
{
	gid_t small[64], *g = small;
	socklen_t len = sizeof(small);
	int rc = 0;

	*member = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
		if (errno != ERANGE || len > PEER_GROUPS_MAX * sizeof(gid_t))
			return -errno;
		g = malloc(len); /* len is now the size needed */
		if (!g)
			return -ENOMEM;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0)
			rc = -errno;
	}
	for (size_t i = 0; !rc && i < len / sizeof(gid_t); i++)
		if (g[i] == group)
			*member = true;
	if (g != small)
		free(g);
	return rc;
}

int ctl_peer_allowed(int fd, uid_t owner, gid_t group, char *err, size_t errlen)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	bool member = false;
	int rc;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		rc = -errno;
		snprintf(err, errlen, "permission denied: cannot tell who the peer is: %s",
			 strerror(-rc));
		return rc;
	}
	if (cred.uid == 0 || cred.uid == owner)
		return 0;
	if (group == CTL_NO_GROUP) {
		snprintf(err, errlen, "permission denied: uid %u is not the VM's owner",
			 (unsigned)cred.uid);
		return -EACCES;
	}
	if (cred.gid == group)
		return 0;
	rc = peer_in_group(fd, group, &member);
	if (rc) {
		snprintf(err, errlen, "permission denied: cannot read the groups of uid %u: %s",
			 (unsigned)cred.uid, strerror(-rc));
		return rc;
	}
	if (member)
		return 0;
	snprintf(err, errlen, "permission denied: uid %u is not the VM's owner nor in group %u",
		 (unsigned)cred.uid, (unsigned)group);
	return -EACCES;
}
