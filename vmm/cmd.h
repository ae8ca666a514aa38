/* SPDX-License-Identifier: MIT */
/* The `vessel` subcommands (kvmtool's builtin-*.c). */
#ifndef VMM_CMD_H
#define VMM_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RUN_DEFAULT_CPUS 2u
#define RUN_DEFAULT_MEM	 (256ull << 20)

#define RUN_DEFAULT_INCOMING_TIMEOUT 3600u /* seconds */

struct run_opts {
	unsigned cpus;
	uint64_t mem;
	const char *kernel; /* NULL: the bundled kernel */
	const char *initrd; /* NULL: the bundled initrd if present */
	bool no_initrd;
	bool stats;	      /* --stats: print exit counts when the VM stops */
	bool no_hcb;	      /* --no-hyper-callbacks */
	bool mem_prealloc;    /* --mem-prealloc: allocate guest RAM before starting */
	const char *cmdline;  /* "" by default */
	const char *control;  /* --control PATH: JSON control socket (migrate/live) */
	const char *incoming; /* --incoming tcp:HOST:PORT: wait for a migration */
	const char *pt_trace; /* --pt-trace FILE: record the guest's page-table trace */
	int integrity;	      /* --integrity: enum integrity_mode (domain/integrity.h) */
	bool help;
	/* device options (dev/device.h), in command-line order */
	struct vm_device_arg_opt {
		const char *option;
		const char *arg;
	} devices[16];
	unsigned nr_devices;
	const char *control_group; /* --control-group GROUP: its members may use it too */

	/* migration options (live_set_mig_opts) */
	const char *tls_creds;	   /* --tls-creds DIR: for tls: migrations */
	unsigned incoming_timeout; /* --incoming-timeout SECONDS (0: none) */
	bool no_postcopy;	   /* --no-postcopy: refuse a post-copy migration in */
};

/*
 * run_parse_args - parse `vessel run` options (argv[0] is "run"). Accepts
 * "--opt VALUE" and "--opt=VALUE". Returns 0, or -EINVAL with a message
 * naming the bad option or value in err. Pure: no I/O.
 */
int run_parse_args(int argc, char **argv, struct run_opts *o, char *err, size_t errlen);

/* run_usage - the help text of `vessel run` (with every device's option). */
const char *run_usage(void);

/* cmd_run - `vessel run`: returns the process exit status. */
int cmd_run(int argc, char **argv);

struct vm;
/*
 * vm_control_start - serve the JSON control socket of vm at path (ctl_vm.c),
 * also to members of group (CTL_NO_GROUP: none); vm_destroy() stops it.
 * Before vm_start(). 0 or -errno with err set.
 */
int vm_control_start(struct vm *vm, const char *path, gid_t group, char *err, size_t errlen);

/* cmd_ctl - `vessel ctl SOCKET COMMAND [ARG]`: the control-socket client. */
int cmd_ctl(int argc, char **argv);

#endif
