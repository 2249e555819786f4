/* Closing all descriptors but a few (src/common/fds.c), in a child as the runtime does. */
#include "common/fds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define SPAN 64

/* In a child: open descriptors up to SPAN, keep KEEP (with the report pipe), and report
 * which of 0..SPAN-1 are still open as a bit mask. */
static uint64_t open_after(const int *keep, size_t n)
{
	int report[2], status;
	uint64_t mask = 0;
	pid_t pid;

	assert_int_equal(pipe(report), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int kept[FDS_KEEP_MAX + 1];
		uint64_t open_now = 0;
		int fd = report[1];
		close(report[0]);
		/* The report pipe moves to the top, so the descriptors asked for are free. */
		if (dup2(fd, SPAN) < 0)
			_exit(1);
		close(fd);
		while ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd < SPAN - 1)
			;
		for (size_t i = 0; i < n; i++)
			kept[i] = keep[i];
		kept[n] = SPAN;
		if (close_all_but(kept, n + 1) < 0)
			_exit(2);
		for (int i = 0; i < SPAN; i++)
			if (fcntl(i, F_GETFD) >= 0)
				open_now |= 1ull << i;
		_exit(write(SPAN, &open_now, sizeof(open_now)) == sizeof(open_now) ? 0 : 3);
	}
	close(report[1]);
	assert_int_equal(read(report[0], &mask, sizeof(mask)), (ssize_t)sizeof(mask));
	close(report[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return mask;
}

static void test_keeps_the_listed_and_stdio(void **state)
{
	const int keep[] = {40, 7, -1, 2, 7, 63};

	(void)state;
	/* Unsorted, repeated, negative and 0..2: 0..2 stay whatever the list says. */
	assert_int_equal(open_after(keep, 6), 0x7ull | 1ull << 7 | 1ull << 40 | 1ull << 63);
	assert_int_equal(open_after(NULL, 0), 0x7ull);
	/* Neighbours: no empty range between them is closed by mistake. */
	assert_int_equal(open_after((const int[]){3, 4, 5}, 3), 0x3full);
}

static void test_too_many_is_einval(void **state)
{
	int keep[FDS_KEEP_MAX + 1] = {0};

	(void)state;
	errno = 0;
	assert_int_equal(close_all_but(keep, FDS_KEEP_MAX + 1), -1);
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keeps_the_listed_and_stdio),
		cmocka_unit_test(test_too_many_is_einval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
