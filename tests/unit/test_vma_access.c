/* Unit tests of src/devns/vma_access.c against this process's own map: a read needs any
 * access right, a write needs write, a range must be mapped from end to end. They need
 * PROCMAP_QUERY (Linux 6.11) and are skipped without it (every range is allowed there). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "devns/vma_access.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

/* Four pages: read-write, read-only, none, read-write. */
struct fixture {
	int maps_fd;
	uint8_t *pages;
	size_t page;
};

static int setup(void **state)
{
	static struct fixture f;

	f.page = (size_t)sysconf(_SC_PAGESIZE);
	f.maps_fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	f.pages =
		mmap(NULL, 4 * f.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f.maps_fd < 0 || f.pages == MAP_FAILED)
		return -1;
	if (mprotect(f.pages + f.page, f.page, PROT_READ) < 0 ||
	    mprotect(f.pages + 2 * f.page, f.page, PROT_NONE) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	munmap(f->pages, 4 * f->page);
	close(f->maps_fd);
	return 0;
}

static int ask(const struct fixture *f, const void *p, size_t len, bool write)
{
	if (!vma_access_supported())
		skip();
	return vma_access(f->maps_fd, (uint64_t)(uintptr_t)p, len, write);
}

static void read_write_page_allows_both(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ask(f, f->pages, f->page, false), 0);
	assert_int_equal(ask(f, f->pages + 8, 64, true), 0);
}

static void read_only_page_refuses_a_write(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ask(f, f->pages + f->page, 16, false), 0);
	assert_int_equal(ask(f, f->pages + f->page, 16, true), -EFAULT);
}

static void prot_none_page_refuses_both(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ask(f, f->pages + 2 * f->page, 4, false), -EFAULT);
	assert_int_equal(ask(f, f->pages + 2 * f->page, 4, true), -EFAULT);
}

static void range_across_mappings_needs_all_of_them(void **state)
{
	struct fixture *f = *state;

	/* The last bytes of the writable page and the first of the read-only one. */
	assert_int_equal(ask(f, f->pages + f->page - 8, 16, false), 0);
	assert_int_equal(ask(f, f->pages + f->page - 8, 16, true), -EFAULT);
	/* Into the PROT_NONE page. */
	assert_int_equal(ask(f, f->pages + 2 * f->page - 8, 16, false), -EFAULT);
}

static void unmapped_and_kernel_addresses_are_efault(void **state)
{
	struct fixture *f = *state;
	uint8_t *hole = mmap(NULL, f->page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_ptr_not_equal(hole, MAP_FAILED);
	munmap(hole, f->page);
	assert_int_equal(ask(f, hole, 8, false), -EFAULT);
	assert_int_equal(ask(f, NULL, 8, false), -EFAULT);
	assert_int_equal(ask(f, (void *)(uintptr_t)0xffff888000000000ull, 8, false), -EFAULT);
}

static void range_wrapping_around_is_efault(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vma_access(f->maps_fd, UINT64_MAX - 4, 16, false), -EFAULT);
}

static void without_a_map_every_range_is_allowed(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vma_access(-1, (uint64_t)(uintptr_t)(f->pages + 2 * f->page), 4, true), 0);
}

static void empty_range_is_allowed(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ask(f, f->pages + 2 * f->page, 0, true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_write_page_allows_both),
		cmocka_unit_test(read_only_page_refuses_a_write),
		cmocka_unit_test(prot_none_page_refuses_both),
		cmocka_unit_test(range_across_mappings_needs_all_of_them),
		cmocka_unit_test(unmapped_and_kernel_addresses_are_efault),
		cmocka_unit_test(range_wrapping_around_is_efault),
		cmocka_unit_test(without_a_map_every_range_is_allowed),
		cmocka_unit_test(empty_range_is_allowed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
