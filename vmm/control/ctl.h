/* SPDX-License-Identifier: MIT */
/*
 * The Vessel control protocol: JSON over a UNIX stream socket, one request
 * per line, one reply per line (like QEMU's QMP or Firecracker's API).
 *
 *   request  {"command": "status"}
 *            {"command": "migrate", "uri": "tcp:HOST:PORT"}
 *            {"command": "inject-ume", "gpa": 1048576}   (or "gpa": "0x100000")
 *            {"command": "inject-ume", "gpa": 4096, "latent": true}
 *   reply    {"ok": true, "result": {...}}
 *            {"ok": false, "error": "one-line reason"}
 *
 * Commands: those registered with CTL_COMMAND (below); `help` lists them.
 * A request that is not valid JSON, not an object, over
 * CTL_MAX_REQUEST bytes, names an unknown command, lacks a required field,
 * has a field of the wrong type or an unknown field gets an error reply;
 * nothing a client sends can crash the VMM. docs/migration.md lists the
 * result fields of each command.
 */
#ifndef VESSEL_CONTROL_CTL_H
#define VESSEL_CONTROL_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CTL_MAX_REQUEST (64u << 10)
#define CTL_ERR_MAX	256

/*
 * Commands are registered by the subsystem that owns them, in its own file,
 * with CTL_COMMAND() (a linker-section list, like devices and hypercalls):
 * name, help, the fields of the request (name, type, required) and the
 * handler. The protocol validates a request against the fields before the
 * handler runs; `help` (built in) lists every registered command, and
 * `vessel ctl` uses the same list to build requests from its command line.
 */
enum ctl_type {
	CTL_STR,  /* a JSON string without NUL bytes */
	CTL_U64,  /* a non-negative integer, or a string in C syntax ("0x1000") */
	CTL_BOOL, /* true/false; on the vessel ctl command line, the field's name */
};

#define CTL_MAX_FIELDS 4

struct ctl_field {
	const char *name;
	enum ctl_type type;
	bool required;
	const char *help; /* e.g. "tcp:HOST:PORT" */
};

struct ctl_command;

/* A validated request: look fields up by name. */
struct ctl_args {
	const struct ctl_command *cmd;
	bool has[CTL_MAX_FIELDS];
	const char *str[CTL_MAX_FIELDS];
	uint64_t u64[CTL_MAX_FIELDS];
	bool b[CTL_MAX_FIELDS];
};

/* The value of field `name` (declared by the command); NULL/0/false when absent. */
const char *ctl_arg_str(const struct ctl_args *a, const char *name);
uint64_t ctl_arg_u64(const struct ctl_args *a, const char *name);
bool ctl_arg_bool(const struct ctl_args *a, const char *name);

/*
 * A command handler: fill `result` (an empty JSON object) and return 0, or
 * return -errno with a one-line message in err. ctx is the server's context
 * (the VMM passes its struct vm). Runs on a client's thread of the control
 * server, never two handlers at once.
 */
typedef int (*ctl_handler_fn)(void *ctx, const struct ctl_args *args, json_t *result, char *err,
			      size_t errlen);

struct ctl_command {
	const char *name;
	const char *help;
	struct ctl_field fields[CTL_MAX_FIELDS]; /* in command-line order; unused: name NULL */
	ctl_handler_fn fn;
};

#define CTL_COMMAND(cmd)                                                                           \
	static const struct ctl_command *const __vessel_ctl_##cmd                                  \
		__attribute__((section("vessel_ctl_commands"), used, aligned(sizeof(void *)))) = &cmd

/* ctl_command_find - the registered command called name, or NULL. */
const struct ctl_command *ctl_command_find(const char *name);

/* ctl_commands - the registered commands: *n of them, in link order. */
const struct ctl_command *const *ctl_commands(size_t *n);

/*
 * Parse, validate and dispatch one request (len bytes, need not be NUL
 * terminated). Returns the reply as a malloc'd NUL-terminated JSON string
 * without a newline (caller frees), or NULL only when out of memory.
 */
char *ctl_handle_request(void *ctx, const char *req, size_t len);

struct ctl_server;

#define CTL_MAX_CLIENTS 16 /* connections served at once; more get an error line */
#define CTL_NO_GROUP	((gid_t)-1)

/*
 * Serve `path` (a UNIX socket; a stale socket file there is replaced, one
 * that accepts connections is -EADDRINUSE, any other file is -EEXIST) on a
 * new thread, dispatching to the registered commands with ctx.
 *
 * Who: the socket file is created 0600 whatever the umask (it never exists
 * with a wider mode), and every client's credentials (SO_PEERCRED) are
 * checked: root and the VMM's own user are admitted. With a `group` (not
 * CTL_NO_GROUP) the file is 0660 with that group, and members of it (as
 * primary or supplementary group of the client process) are admitted too.
 * Anyone else gets one error line ("permission denied: uid N is not the
 * VM's owner") and is closed.
 *
 * Clients are served concurrently (a thread each, CTL_MAX_CLIENTS at most):
 * a client that is slow to send holds up nobody else. A request line must
 * arrive within 3 s of the connection or of the previous reply, however the
 * bytes trickle in; the client is dropped otherwise. Handlers run one at a
 * time (a request may wait behind a long pause or migrate); a request whose
 * client has closed its socket by the time its turn comes is dropped
 * unexecuted, so a client must wait for its reply.
 * Returns 0 with *out set, or -errno with err set.
 */
int ctl_server_start(const char *path, gid_t group, void *ctx, struct ctl_server **out,
		     char *err, size_t errlen);

/* What a server has done with its clients so far. */
struct ctl_server_stats {
	unsigned long executed;	    /* requests dispatched (whatever the reply) */
	unsigned long dropped_gone; /* requests not run: their client had gone */
	unsigned long timed_out;    /* clients without a whole request line in time */
	unsigned long refused_busy; /* connections over CTL_MAX_CLIENTS */
	unsigned long refused_perm; /* peers neither owner, root nor in the group */
};

/* ctl_server_get_stats - a consistent copy of the counters (any thread). */
void ctl_server_get_stats(struct ctl_server *s, struct ctl_server_stats *st);

/*
 * Stop serving, join every thread (waiting for a running handler), remove
 * the socket file. Not from a handler. NULL is fine.
 */
void ctl_server_stop(struct ctl_server *s);

/*
 * ctl_group_parse - resolve `vessel run --control-group GROUP`: a group name
 * from the group database or a numeric gid. 0 and *gid, or -EINVAL with a
 * message naming the group.
 */
int ctl_group_parse(const char *name, gid_t *gid, char *err, size_t errlen);

/*
 * ctl_peer_allowed - whether the process at the other end of the connected
 * UNIX socket fd may drive the VM: its uid is 0 or `owner`, or `group` (not
 * CTL_NO_GROUP) is its primary group or one of its supplementary groups
 * (SO_PEERGROUPS, as they were when it connected). 0 if so, else -EACCES
 * (or the -errno of a failed query) with the one-line refusal in err.
 */
int ctl_peer_allowed(int fd, uid_t owner, gid_t group, char *err, size_t errlen);

/*
 * Client: connect to path, send one request line, wait at most timeout_ms
 * for the reply. Returns 0 with *reply (malloc'd, no newline) or -errno
 * with err set.
 */
int ctl_request(const char *path, const char *req, char **reply, int timeout_ms, char *err,
		size_t errlen);

/*
 * `vessel ctl PATH COMMAND [ARG]` and `vessel ctl PATH --json REQUEST`:
 * argv[0] is "ctl". Prints the reply's result (or the error on stderr) and
 * returns the process exit status: 0 ok, 1 error reply or failure, 2 usage.
 */
int ctl_client_main(int argc, char **argv);

#endif /* VESSEL_CONTROL_CTL_H */
