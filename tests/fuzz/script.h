/* A harness's input read as a script of steps: numbers of 1 to 4 bytes, big-endian, taken
 * in turn (what is missing at the end reads as zeros). */
#ifndef CELLS_TESTS_FUZZ_SCRIPT_H
#define CELLS_TESTS_FUZZ_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

struct script {
	const uint8_t *p;
	size_t left;
};

static inline unsigned take(struct script *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n && s->left; i++, s->p++, s->left--)
		v = v << 8 | *s->p;
	return v;
}

#endif
