/* main: the joulevisor executable; everything else lives in the core library. */
#include <stdio.h>

#include "sim/cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv, stdout, stderr);
}
