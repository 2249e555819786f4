#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
	char text[1024];
	va_list ap;
	int saved = errno;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (errnum)
		fprintf(stderr, "%s: %s: %s: %s\n", log_prog, names[level], text, strerror(errnum));
	else
		fprintf(stderr, "%s: %s: %s\n", log_prog, names[level], text);
	errno = saved;
}
