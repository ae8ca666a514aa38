// SPDX-License-Identifier: MIT
/* C side of program start (crt0.S): run main, exit with its result. */
#include <stdlib.h>

int main(int argc, char **argv);
__attribute__((noreturn)) void __libc_start(long argc, char **argv);

__attribute__((noreturn)) void __libc_start(long argc, char **argv)
{
	exit(main((int)argc, argv));
}
