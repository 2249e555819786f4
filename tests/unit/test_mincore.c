/* Unit tests of src/devns/mincore.c against this process's own memory: the answer's
 * errors in the kernel's order, a vector of ones for any mapped range (PROT_NONE
 * included), the same through the map's text where PROCMAP_QUERY is missing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "devns/mincore.h"
#include "devns/vma_access.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Four pages: read-write, none, a hole, read-only; and a vector of 8 bytes. */
struct fixture {
	int mem_fd, maps_fd;
	uint8_t *pages;
	uint64_t page;
	unsigned char vec[8];
};

static int setup(void **state)
{
	static struct fixture f;

	f.page = (uint64_t)sysconf(_SC_PAGESIZE);
	f.mem_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	f.maps_fd = vma_access_supported() ? open("/proc/self/maps", O_RDONLY | O_CLOEXEC) : -1;
	f.pages =
		mmap(NULL, 4 * f.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f.mem_fd < 0 || f.pages == MAP_FAILED)
		return -1;
	if (mprotect(f.pages + f.page, f.page, PROT_NONE) < 0 ||
	    munmap(f.pages + 2 * f.page, f.page) < 0 ||
	    mprotect(f.pages + 3 * f.page, f.page, PROT_READ) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	munmap(f->pages, 2 * f->page);
	munmap(f->pages + 3 * f->page, f->page);
	close(f->mem_fd);
	if (f->maps_fd >= 0)
		close(f->maps_fd);
	return 0;
}

static int ask(struct fixture *f, int maps_fd, uint64_t addr, uint64_t len, uint64_t vec)
{
	struct mincore_call call = {.addr = addr,
				    .len = len,
				    .vec = vec,
				    .mem_fd = f->mem_fd,
				    .maps_fd = maps_fd,
				    .tid = getpid()};

	memset(f->vec, 0, sizeof(f->vec));
	return mincore_answer(&call);
}

static void mapped_pages_all_read_resident(void **state)
{
	struct fixture *f = *state;
	uint64_t base = (uintptr_t)f->pages, vec = (uintptr_t)f->vec;

	for (int text = 0; text < 2; text++) {
		int maps_fd = text ? -1 : f->maps_fd;
		if (maps_fd < 0 && !text)
			continue;
		/* Two pages, the second PROT_NONE; a length that ends inside a page counts it. */
		assert_int_equal(ask(f, maps_fd, base, f->page + 1, vec), 0);
		assert_int_equal(f->vec[0], 1);
		assert_int_equal(f->vec[1], 1);
		assert_int_equal(f->vec[2], 0);
		assert_int_equal(ask(f, maps_fd, base + 3 * f->page, f->page, vec), 0);
		assert_int_equal(f->vec[0], 1);
	}
}

static void errors_come_in_the_kernels_order(void **state)
{
	struct fixture *f = *state;
	uint64_t base = (uintptr_t)f->pages, vec = (uintptr_t)f->vec;

	for (int text = 0; text < 2; text++) {
		int maps_fd = text ? -1 : f->maps_fd;
		if (maps_fd < 0 && !text)
			continue;
		assert_int_equal(ask(f, maps_fd, base + 1, f->page, vec), -EINVAL);
		assert_int_equal(ask(f, maps_fd, base, 4 * f->page, vec), -ENOMEM);
		assert_int_equal(ask(f, maps_fd, base, UINT64_MAX - base + 1, vec), -ENOMEM);
		assert_int_equal(ask(f, maps_fd, base, f->page, UINT64_MAX - 2), -EFAULT);
		assert_int_equal(ask(f, maps_fd, base, 0, 0), 0);
	}
}

static void a_vector_the_caller_may_not_write_is_efault(void **state)
{
	struct fixture *f = *state;
	uint64_t base = (uintptr_t)f->pages;

	if (f->maps_fd < 0)
		skip(); /* without PROCMAP_QUERY rights go unchecked (vma_access.h) */
	assert_int_equal(ask(f, f->maps_fd, base, f->page, base + 3 * f->page), -EFAULT);
	assert_int_equal(ask(f, f->maps_fd, base, f->page, base + f->page), -EFAULT);
	assert_int_equal(ask(f, f->maps_fd, base, f->page, base + 2 * f->page), -EFAULT);
}

static void a_32_bit_caller_ends_at_4_gib(void **state)
{
	struct fixture *f = *state;
	struct mincore_call call = {.addr = 0xfffff000ULL,
				    .len = f->page,
				    .vec = 0x1000,
				    .compat = true,
				    .mem_fd = f->mem_fd,
				    .maps_fd = -1,
				    .tid = getpid()};

	assert_int_equal(mincore_answer(&call), -ENOMEM);
}

static void the_maps_text_is_read_in_order(void **state)
{
	const char *text = "1000-3000 r-xp 00000000 08:01 12 /bin/x\n"
			   "3000-4000 ---p 00000000 00:00 0 \n"
			   "6000-7000 rw-p 00000000 00:00 0 [heap]\n";
	size_t n = strlen(text);

	(void)state;
	assert_true(maps_text_covers(text, n, 0x1000, 0x4000));
	assert_true(maps_text_covers(text, n, 0x2000, 0x3001));
	assert_true(maps_text_covers(text, n, 0x6000, 0x7000));
	assert_false(maps_text_covers(text, n, 0x3000, 0x6001)); /* the hole */
	assert_false(maps_text_covers(text, n, 0x0, 0x1000));
	assert_false(maps_text_covers(text, n, 0x6000, 0x8000)); /* past the last */
	assert_false(maps_text_covers("garbage\n", 8, 0x1000, 0x2000));
	assert_false(maps_text_covers("5000-4000 r--p\n", 15, 0x4000, 0x4001));
	/* A line without its newline (the end of the buffer) still counts. */
	assert_true(maps_text_covers("1000-2000 r--p", 14, 0x1000, 0x2000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mapped_pages_all_read_resident),
		cmocka_unit_test(errors_come_in_the_kernels_order),
		cmocka_unit_test(a_vector_the_caller_may_not_write_is_efault),
		cmocka_unit_test(a_32_bit_caller_ends_at_4_gib),
		cmocka_unit_test(the_maps_text_is_read_in_order),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
