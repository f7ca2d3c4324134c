/*
 * jv_signal: SIGINT/SIGTERM as a request to stop (design §7 exit codes
 * 130/143). Handlers only record the signal; long loops poll
 * jv_signal_pending() and wind down cleanly: outputs written for what is
 * complete, runs marked incomplete, live changes restored.
 */
#ifndef JV_SIGNAL_H
#define JV_SIGNAL_H

/* Install the handlers (idempotent). */
void jv_signal_install(void);
/* The first SIGINT/SIGTERM received since install, 0 if none. */
int jv_signal_pending(void);
/* 128 + signo (130 for SIGINT, 143 for SIGTERM). */
int jv_signal_exit_code(int signo);
/* Tests: forget a received signal. */
void jv_signal_reset(void);

#endif
