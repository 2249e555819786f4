/*
 * memhog: allocate MIB mebibytes in steps and hold them, so tests can watch a VP's
 * memory limit kill it. Usage: memhog MIB [STEP_MIB]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB		 (1024 * 1024)
#define DEFAULT_STEP_MIB 16

/* The chunks, linked through their first bytes: held until killed, not leaked. */
static void *held_chunks;

static int usage(void)
{
	fprintf(stderr, "usage: memhog MIB [STEP_MIB]\n");
	return 2;
}

/* A positive count of MiB whose size in bytes fits a size_t; 0 when the text is not one. */
static size_t parse_mib(const char *text)
{
	unsigned long long value;
	char *end;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || value == 0 || value > SIZE_MAX / MIB)
		return 0;
	return (size_t)value;
}

/* Touches every page with content of its own (its index in the whole hog, so chunks
 * differ too): neither the zero page nor KSM can share them within the process, and the
 * hog really costs what it claims. (Two memhogs of the same size hold the same pages.) */
static void touch_pages(char *chunk, size_t len, size_t page_size, size_t *page_index)
{
	memset(chunk, 0xa5, len);
	for (size_t off = 0; off + sizeof(*page_index) <= len; off += page_size, (*page_index)++)
		memcpy(chunk + off, page_index, sizeof(*page_index));
}

int main(int argc, char **argv)
{
	size_t total_mib, step_mib = DEFAULT_STEP_MIB, held_mib = 0, page_index = 0;
	long page_size;

	if (argc < 2 || argc > 3)
		return usage();
	total_mib = parse_mib(argv[1]);
	if (argc == 3)
		step_mib = parse_mib(argv[2]);
	if (!total_mib || !step_mib)
		return usage();
	page_size = sysconf(_SC_PAGESIZE);
	if (page_size <= 0) {
		fprintf(stderr, "memhog: sysconf(_SC_PAGESIZE): %m\n");
		return 1;
	}

	while (held_mib < total_mib) {
		size_t chunk_mib =
			total_mib - held_mib < step_mib ? total_mib - held_mib : step_mib;
		char *chunk = malloc(chunk_mib * MIB);

		if (!chunk) {
			fprintf(stderr, "memhog: malloc of %zu MiB after %zu MiB: %m\n", chunk_mib,
				held_mib);
			return 1;
		}
		touch_pages(chunk, chunk_mib * MIB, (size_t)page_size, &page_index);
		memcpy(chunk, &held_chunks, sizeof(held_chunks)); /* still unique to its page */
		held_chunks = chunk;
		held_mib += chunk_mib;
		printf("memhog: %zu MiB\n", held_mib);
		if (fflush(stdout) == EOF) {
			fprintf(stderr, "memhog: writing to stdout: %m\n");
			return 1;
		}
	}
	printf("memhog: done\n");
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "memhog: writing to stdout: %m\n");
		return 1;
	}
	/* Hold the memory until killed: the test decides when it has seen enough. */
	for (;;)
		pause();
}
