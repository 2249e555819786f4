/* A harness's input as the code under test receives it: in memory of its own, so that ASan
 * catches any read past its end. */
#ifndef CELLS_TESTS_FUZZ_COPY_H
#define CELLS_TESTS_FUZZ_COPY_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Exactly SIZE bytes (NULL when out of memory). */
static inline uint8_t *fuzz_copy(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (copy)
		memcpy(copy, data, size);
	return copy;
}

/* A C string, as jansson hands cellsd one: NUL bytes cut it short. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
