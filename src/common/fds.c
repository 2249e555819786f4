/* Closing all descriptors but a few, in the gaps between them (close_range). */
#include "common/fds.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

int close_all_but(const int *keep, size_t n)
{
	int sorted[FDS_KEEP_MAX], count = 0, prev = 2;

	if (n > FDS_KEEP_MAX)
		return errno = EINVAL, -1;
	/* An insertion sort: no allocation, and N is tiny. */
	for (size_t i = 0; i < n; i++) {
		int j = count++;
		for (; j > 0 && sorted[j - 1] > keep[i]; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = keep[i];
	}
	for (int i = 0; i < count; i++) {
		if (sorted[i] > prev + 1 &&
		    syscall(SYS_close_range, prev + 1, sorted[i] - 1, 0) < 0)
			return -1;
		if (sorted[i] > prev)
			prev = sorted[i];
	}
	return (int)syscall(SYS_close_range, prev + 1, ~0U, 0);
}
