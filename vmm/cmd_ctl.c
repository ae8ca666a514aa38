// SPDX-License-Identifier: MIT
/* `vessel ctl SOCKET COMMAND [ARG]`: the client of a VM's control socket. */
#include "cmd.h"
#include "control/ctl.h"

int cmd_ctl(int argc, char **argv)
{
	return ctl_client_main(argc, argv);
}
