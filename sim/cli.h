/* cli: the `joulevisor` command line (git/perf style subcommands). */
#ifndef JV_CLI_H
#define JV_CLI_H

#include <stdio.h>

/* Run the CLI with argv; returns the process exit code (design §7). */
int cli_main(int argc, char **argv, FILE *out, FILE *err);

#endif
