/* Logging to stderr with the program's name; *_errno variants append strerror(errno). */
#ifndef CELLS_LOG_H
#define CELLS_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_init(const char *prog, enum log_level max_level);
/* Whether debug messages are shown (a child started with the same verbosity). */
bool log_verbose(void);
void log_msg(enum log_level level, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(...)		log_msg(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warn(...)		log_msg(LOG_LEVEL_WARN, 0, __VA_ARGS__)
#define log_info(...)		log_msg(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...)		log_msg(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_msg(LOG_LEVEL_ERROR, (e), __VA_ARGS__)
#define log_warn_errno(e, ...)	log_msg(LOG_LEVEL_WARN, (e), __VA_ARGS__)

#endif
