/* An errno by name ("EFAULT"), as the test programs built static for VPs print their
 * results: "0" for none, "E<number>" for one glibc has no name for. Its includer defines
 * _GNU_SOURCE before any include (strerrorname_np). */
#ifndef CELLS_TESTS_ERRNAME_H
#define CELLS_TESTS_ERRNAME_H

#include <stdio.h>
#include <string.h>

static inline const char *errname(int e)
{
	static char buf[16];
	const char *name = e ? strerrorname_np(e) : "0";

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

#endif
