#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The program's name and verbosity are set once at start-up and only read after. */
static const char *log_prog = "cells";
static enum log_level log_max = LOG_LEVEL_INFO;

void log_init(const char *prog, enum log_level max_level)
{
	log_prog = prog;
	log_max = max_level;
}

bool log_verbose(void)
{
	return log_max >= LOG_LEVEL_DEBUG;
}

void log_msg(enum log_level level, int errnum, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char text[1024], line[1280], unknown[32];
	const char *why = errnum ? strerrordesc_np(errnum) : NULL;
	va_list ap;
	int saved = errno, n;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (errnum && !why) {
		snprintf(unknown, sizeof(unknown), "error %d", errnum);
		why = unknown;
	}
	n = snprintf(line, sizeof(line), "%s: %s: %s%s%s\n", log_prog, names[level], text,
		     why ? ": " : "", why ? why : "");
	if (n >= (int)sizeof(line)) {
		n = sizeof(line);
		line[n - 1] = '\n';
	}
	/* One write, no stdio lock: the daemon's supervisor threads log while another thread
	 * may clone a child that runs on without exec (DESIGN.md §4), and lines from threads
	 * stay whole. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* stderr is gone: nowhere to say so */
	}
	errno = saved;
}
