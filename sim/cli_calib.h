/* cli_calib: argument parsing of `joulevisor compare` and `joulevisor calib`. */
#ifndef JV_CLI_CALIB_H
#define JV_CLI_CALIB_H

#include <stdio.h>

/* argv[0] is "compare" / "calib". Return the process exit code. */
int cli_compare_main(int argc, char **argv, FILE *out, FILE *err, const char *cmdline);
int cli_calib_main(int argc, char **argv, FILE *out, FILE *err, const char *cmdline);

#endif
