/*
 * live_spawn: the spawned command: fork it held before exec until its
 * sources are open, release it, reap it, stop it.
 *
 * The theory of operation: the top of sim/live.c; the other files of
 * live: sim/live_int.h.
 */
#include "sim/live_int.h"

/* ---------------------------------------------------------------------- */
/* the spawned command                                                      */

int live_int_spawn_hold(struct live *L, char **cmd, struct spawn *sp, struct jv_diag *d)
{
	int go[2], st[2];
	if (pipe(go))
		return jv_diag_set(d, JV_EIO, NULL, 0, "pipe: %s", strerror(errno));
	if (pipe(st)) {
		close(go[0]);
		close(go[1]);
		return jv_diag_set(d, JV_EIO, NULL, 0, "pipe: %s", strerror(errno));
	}
	for (int i = 0; i < 2; i++) {
		fcntl(go[i], F_SETFD, FD_CLOEXEC);
		fcntl(st[i], F_SETFD, FD_CLOEXEC);
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return jv_diag_set(d, JV_EIO, NULL, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(go[1]);
		close(st[0]);
		setpgid(0, 0);
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(cmd[0], cmd);
		int e = errno;
		if (write(st[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(st[1]);
	setpgid(pid, pid);
	sp->pid = pid;
	sp->go_w = go[1];
	sp->st_r = st[0];
	L->child = pid;
	return 0;
}

int live_int_spawn_release(struct spawn *sp, const char *cmd, struct jv_diag *d)
{
	char c = 'g';
	int rc = 0;
	if (write(sp->go_w, &c, 1) != 1)
		rc = jv_diag_set(d, JV_EIO, NULL, 0, "starting '%s': %s", cmd, strerror(errno));
	close(sp->go_w);
	int e = 0;
	ssize_t n = read(sp->st_r, &e, sizeof e);
	close(sp->st_r);
	if (!rc && n == (ssize_t)sizeof e)
		rc = jv_diag_set(d, e == ENOENT ? JV_ENOENT : JV_EIO, NULL, 0, "cannot run '%s': %s",
				 cmd, strerror(e));
	return rc;
}

int live_int_child_exited(struct live *L)
{
	if (!L->child || L->child_done)
		return L->child_done;
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, L->child, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == L->child)
		L->child_done = 1;
	return L->child_done;
}

void live_int_child_reap(struct live *L)
{
	if (!L->child || L->child_reaped)
		return;
	int st = 0;
	if (wait4(L->child, &st, 0, &L->child_ru) == L->child) {
		L->child_status = st;
		L->child_reaped = 1;
	}
}

/* SIGTERM to the command's process group, SIGKILL after the grace period. */
void live_int_child_stop(struct live *L)
{
	if (!L->child || live_int_child_exited(L))
		return;
	kill(-L->child, SIGTERM);
	kill(L->child, SIGTERM);
	int64_t until = live_int_mono_ns() + LIVE_GRACE_NS;
	while (!live_int_child_exited(L) && live_int_mono_ns() < until) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (!live_int_child_exited(L)) {
		kill(-L->child, SIGKILL);
		kill(L->child, SIGKILL);
		while (!live_int_child_exited(L)) {
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
}
