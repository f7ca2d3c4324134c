/*
 * fuzz_scenario: libFuzzer target for the scenario loader (INI, units,
 * includes, validation) and the resolved writer. The input is a scenario
 * file; loading it must succeed or fail with a message, never crash; a
 * loaded scenario must write a resolved file that loads again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sim/scenario.h"
#include "tests/fuzz/fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/jv-fuzz-scn-XXXXXX";
	if (fuzz_write_tmp(path, data, size) != 0)
		return 0;
	struct scn *s = NULL;
	struct jv_diag d;
	jv_diag_clear(&d);
	if (scn_load(path, NULL, 0, &s, &d) == 0) {
		char rpath[] = "/tmp/jv-fuzz-res-XXXXXX";
		int rfd = mkstemp(rpath);
		FILE *f = rfd >= 0 ? fdopen(rfd, "w") : NULL;
		if (f) {
			scn_write_resolved(s, f);
			fclose(f);
			struct scn *s2 = NULL;
			struct jv_diag d2;
			jv_diag_clear(&d2);
			/* the resolved file reloads, unless its paths no longer resolve */
			if (scn_load(rpath, NULL, 0, &s2, &d2) != 0 && d2.msg[0] == '\0')
				abort();
			scn_free(s2);
			unlink(rpath);
		}
		scn_free(s);
	} else if (d.msg[0] == '\0') {
		abort();
	}
	unlink(path);
	return 0;
}
