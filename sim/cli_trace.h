/* cli_trace: `joulevisor trace import|info|convert|cat|head|tail`. */
#ifndef JV_CLI_TRACE_H
#define JV_CLI_TRACE_H

#include <stdio.h>

/* argv[0] is "trace". Returns the process exit code. */
int cli_trace_main(int argc, char **argv, FILE *out, FILE *err);

#endif
