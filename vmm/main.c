// SPDX-License-Identifier: MIT
/* vessel: the Vessel VMM. `main` only dispatches to a subcommand. */
#include "cmd.h"
#include "monitor/monitor.h"

#include "abi/vessel.h"

#include <stdio.h>
#include <string.h>

static const char usage[] = "usage: vessel COMMAND [options]\n"
			    "\n"
			    "Commands:\n"
			    "  run     boot a kernel in a new VM (vessel run --help)\n"
			    "  ctl     talk to a running VM's control socket (vessel ctl --help)\n"
			    "  help    this text\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return VESSEL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "__monitor")) /* internal: the process --monitor=sandboxed starts */
		return monitor_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ctl"))
		return cmd_ctl(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	fprintf(stderr, "vessel: unknown command '%s'\n%s", argv[1], usage);
	return VESSEL_EXIT_USAGE;
}
