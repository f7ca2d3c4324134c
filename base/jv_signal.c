/* jv_signal: stop requests from SIGINT/SIGTERM (see jv_signal.h). */
#include "base/jv_signal.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t pending;

static void on_signal(int signo)
{
	if (!pending)
		pending = signo;
}

void jv_signal_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int jv_signal_pending(void) { return pending; }

int jv_signal_exit_code(int signo) { return 128 + signo; }

void jv_signal_reset(void) { pending = 0; }
