/*
 * cell-init: PID 1 inside every VP.
 *
 * Starts /etc/cells/rc (or, in an image without one, a console shell that it respawns),
 * reaps every process of the VP's PID namespace, and on SIGTERM, SIGINT or SIGPWR stops
 * them all and exits 0. Static, libc only and allocation-free, so it runs in any image.
 */
#include "common/clock.h" /* header-only: still libc only */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define LOG_PREFIX	    "cell-init: "
#define RC_PATH		    "/etc/cells/rc"
#define SHELL_PATH	    "/bin/sh"
#define RESPAWN_INTERVAL_MS 1000
#define ARRAY_LEN(a)	    (sizeof(a) / sizeof((a)[0]))

enum job_kind { JOB_RC, JOB_SHELL, JOB_NONE };

struct init_state {
	int sigfd;
	enum job_kind job;
	pid_t job_pid;		 /* the running rc or shell; 0 when none runs */
	long long next_start_ms; /* a (re)start may not run before this */
	bool start_pending;
	int stop_requests; /* 0: running, 1: SIGTERM sent to all, more: SIGKILL sent */
};

/* A PID-namespace init receives signals from its parent namespace only if it has a handler. */
static const int handled_signals[] = {SIGTERM, SIGINT, SIGPWR, SIGHUP};
static const int watched_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPWR, SIGUSR1, SIGUSR2};

static char *const rc_argv[] = {RC_PATH, NULL};
static char *const shell_argv[] = {SHELL_PATH, "-l", NULL};

static void __attribute__((format(printf, 1, 2))) log_msg(const char *fmt, ...)
{
	char line[256] = LOG_PREFIX;
	int saved_errno = errno, len = sizeof(LOG_PREFIX) - 1;
	va_list ap;

	va_start(ap, fmt);
	len += vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	va_end(ap);
	if (len > (int)sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* One write per line, so lines never interleave with the VP's own output; a failure
	 * has nowhere left to be reported. */
	while (write(STDERR_FILENO, line, len) < 0 && errno == EINTR)
		;
	errno = saved_errno;
}

static void ignore_signal(int sig)
{
	(void)sig; /* never runs: the signals stay blocked and are read from the signalfd */
}

/* Returns a signalfd that delivers every watched signal, or -1. */
static int watch_signals(void)
{
	struct sigaction sa = {.sa_handler = ignore_signal};
	sigset_t watched;
	int fd;

	sigemptyset(&watched);
	for (size_t i = 0; i < ARRAY_LEN(watched_signals); i++)
		sigaddset(&watched, watched_signals[i]);
	for (size_t i = 0; i < ARRAY_LEN(handled_signals); i++) {
		if (sigaction(handled_signals[i], &sa, NULL) < 0) {
			log_msg("sigaction(%d): %m", handled_signals[i]);
			return -1;
		}
	}
	if (sigprocmask(SIG_BLOCK, &watched, NULL) < 0) {
		log_msg("sigprocmask: %m");
		return -1;
	}
	fd = signalfd(-1, &watched, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		log_msg("signalfd: %m");
	return fd;
}

/* If the console is our controlling terminal, give it up: a child's session can only take
 * a terminal no session holds, and ^C on the console must reach the shell, not stop the VP. */
static void release_console(void)
{
	if (tcgetsid(STDIN_FILENO) < 0)
		return; /* not a tty, or not ours */
	if (ioctl(STDIN_FILENO, TIOCNOTTY) < 0)
		log_msg("notice: TIOCNOTTY on the console: %m");
}

/* In the forked child: default signals, a new session owning the console, then exec. */
static void __attribute__((noreturn)) exec_on_console(char *const argv[])
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	const char *step = "sigaction";
	sigset_t none;

	for (size_t i = 0; i < ARRAY_LEN(handled_signals); i++)
		if (sigaction(handled_signals[i], &dfl, NULL) < 0)
			goto fail;
	step = "sigprocmask";
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		goto fail;
	step = "setsid";
	if (setsid() < 0)
		goto fail;
	/* Without a controlling terminal a shell still works, only without job control. */
	if (isatty(STDIN_FILENO) && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
		log_msg("notice: %s has no controlling terminal: TIOCSCTTY: %m", argv[0]);
	step = "exec";
	execv(argv[0], argv);
fail:
	log_msg("%s: %s: %m", argv[0], step);
	_exit(127);
}

static void start_job(struct init_state *st)
{
	char *const *argv = st->job == JOB_RC ? rc_argv : shell_argv;
	pid_t pid;

	st->start_pending = false;
	st->next_start_ms = (long long)monotonic_ms() + RESPAWN_INTERVAL_MS;
	pid = fork();
	if (pid < 0) {
		log_msg("fork for %s: %m", argv[0]);
		st->start_pending = true; /* try again in the next slot */
		return;
	}
	if (pid == 0)
		exec_on_console(argv);
	st->job_pid = pid;
}

static void job_exited(struct init_state *st, int status)
{
	const char *what = st->job == JOB_RC ? "rc" : "shell";

	if (WIFEXITED(status))
		log_msg("%s exited with status %d", what, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_msg("%s killed by signal %d", what, WTERMSIG(status));
	/* cellsd shows a note line as the VP's state note (cell list, cell stats); an rc
	 * ended by a stop is no news. */
	if (st->job == JOB_RC && !st->stop_requests) {
		if (WIFEXITED(status))
			log_msg("note: rc exited %d", WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			log_msg("note: rc killed by signal %d", WTERMSIG(status));
	}
	st->job_pid = 0;
	st->start_pending = st->job == JOB_SHELL && !st->stop_requests;
}

/* Reaps every exited child; returns true once none is left (ECHILD). */
static bool reap_children(struct init_state *st)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0 && errno != ECHILD)
			log_msg("waitpid: %m");
		if (pid <= 0)
			return pid < 0 && errno == ECHILD;
		if (pid == st->job_pid)
			job_exited(st, status);
	}
}

static void signal_all(int sig)
{
	/* ESRCH only means nobody but init is left. */
	if (kill(-1, sig) < 0 && errno != ESRCH)
		log_msg("kill(-1, %d): %m", sig);
}

static void request_stop(struct init_state *st, int sig)
{
	st->start_pending = false;
	if (st->stop_requests++ == 0) {
		log_msg("signal %d: stopping all processes", sig);
		signal_all(SIGTERM);
		/* Interactive shells ignore SIGTERM; a hangup ends them. */
		signal_all(SIGHUP);
		signal_all(SIGCONT); /* stopped processes must run to act on the signals */
	} else {
		log_msg("signal %d again: killing all processes", sig);
		signal_all(SIGKILL);
	}
}

/* Handles every queued signal; returns 1 when init is done, 0 to go on, -1 on error. */
static int handle_signals(struct init_state *st)
{
	struct signalfd_siginfo si[8];
	ssize_t n;

	while ((n = read(st->sigfd, si, sizeof(si))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			log_msg("read signalfd: %m");
			return -1;
		}
		/* SIGHUP, SIGUSR1 and SIGUSR2 mean nothing to init; they only must not kill it. */
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			int sig = (int)si[i].ssi_signo;

			if (sig == SIGTERM || sig == SIGINT || sig == SIGPWR)
				request_stop(st, sig);
		}
	}
	/* An extra reap is harmless (WNOHANG); a stop may find nothing left to wait for. */
	return reap_children(st) && st->stop_requests ? 1 : 0;
}

static enum job_kind choose_job(void)
{
	if (access(RC_PATH, F_OK) == 0)
		return JOB_RC;
	if (errno != ENOENT)
		log_msg("%s: %m; starting a console shell instead", RC_PATH);
	if (access(SHELL_PATH, X_OK) == 0)
		return JOB_SHELL;
	log_msg("no %s and no usable %s (%m): idling", RC_PATH, SHELL_PATH);
	log_msg("note: no rc and no shell");
	return JOB_NONE;
}

int main(void)
{
	struct init_state st = {.sigfd = -1, .job = JOB_NONE};
	int ret = EXIT_FAILURE, done = 0;

	/* Run from a memfd (cellsd's sealed copy), whose name the kernel gave us. */
	prctl(PR_SET_NAME, "cell-init", 0, 0, 0);
	/* kill(-1) outside a PID namespace would hit every process of the host. */
	if (getpid() != 1) {
		log_msg("must run as PID 1 of a PID namespace");
		goto out;
	}
	st.sigfd = watch_signals();
	if (st.sigfd < 0)
		goto out;
	release_console();
	st.job = choose_job();
	st.start_pending = st.job != JOB_NONE; /* due at once: next_start_ms is 0 */

	while (!done) {
		struct pollfd pfd = {.fd = st.sigfd, .events = POLLIN};
		long long timeout = -1;

		if (st.start_pending) {
			timeout = st.next_start_ms - (long long)monotonic_ms();
			if (timeout <= 0) {
				start_job(&st);
				continue;
			}
		}
		if (poll(&pfd, 1, (int)timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_msg("poll: %m");
			goto out;
		}
		done = handle_signals(&st);
		if (done < 0)
			goto out;
	}
	log_msg("all processes stopped");
	ret = EXIT_SUCCESS;
out:
	if (st.sigfd >= 0)
		close(st.sigfd);
	return ret;
}
