/* Unit tests of src/devns/statfs.c against this process: fstatfs of a file on "the
 * composed /sys" (a tmpfs made here) says SYSFS_MAGIC with the rest of the kernel's answer;
 * any other file, and any path outside /sys, is left to the kernel. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "devns/statfs.h"
#include "devns/vma_access.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

struct fixture {
	int pidfd, mem_fd, maps_fd, sys_fd, other_fd;
	dev_t sys_dev;
	char dir[64];
};

static int setup(void **state)
{
	static struct fixture f;
	struct stat st;

	snprintf(f.dir, sizeof(f.dir), "/dev/shm/cells-statfs-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	f.sys_fd = open(f.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	f.other_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	f.pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	f.mem_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	f.maps_fd = vma_access_supported() ? open("/proc/self/maps", O_RDONLY | O_CLOEXEC) : -1;
	if (f.sys_fd < 0 || f.other_fd < 0 || f.pidfd < 0 || f.mem_fd < 0 || fstat(f.sys_fd, &st))
		return -1;
	f.sys_dev = st.st_dev;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->sys_fd);
	close(f->other_fd);
	close(f->pidfd);
	close(f->mem_fd);
	if (f->maps_fd >= 0)
		close(f->maps_fd);
	rmdir(f->dir);
	return 0;
}

static struct sysfs_statfs_call call_of(struct fixture *f, int fd, void *buf)
{
	return (struct sysfs_statfs_call){.fd = fd,
					  .buf = (uintptr_t)buf,
					  .tid = getpid(),
					  .pidfd = f->pidfd,
					  .mem_fd = f->mem_fd,
					  .maps_fd = f->maps_fd,
					  .sys_dev = f->sys_dev};
}

static void a_file_of_the_composed_sys_says_sysfs(void **state)
{
	struct fixture *f = *state;
	struct statfs got, real;
	struct sysfs_statfs_call call = call_of(f, f->sys_fd, &got);
	int error = -1;

	memset(&got, 0, sizeof(got));
	assert_int_equal(fstatfs(f->sys_fd, &real), 0);
	assert_int_equal(sysfs_statfs_answer(&call, &error), 1);
	assert_int_equal(error, 0);
	assert_int_equal(got.f_type, SYSFS_MAGIC);
	assert_int_equal(got.f_bsize, real.f_bsize);
	assert_int_equal(got.f_namelen, real.f_namelen);
}

static void any_other_file_is_the_kernels(void **state)
{
	struct fixture *f = *state;
	struct statfs got;
	struct sysfs_statfs_call call = call_of(f, f->other_fd, &got);
	int error = 0;

	assert_int_equal(sysfs_statfs_answer(&call, &error), 0);
	call.fd = 9999; /* not open: the kernel says EBADF */
	assert_int_equal(sysfs_statfs_answer(&call, &error), 0);
}

static void paths_outside_sys_are_the_kernels(void **state)
{
	struct fixture *f = *state;
	struct statfs got;
	struct sysfs_statfs_call call = call_of(f, -1, &got);
	int error = 0;
	static const char *const paths[] = {"/", "/system", "/dev/shm", "sys", "/sys"};

	call.by_path = true;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		call.path = (uintptr_t)paths[i];
		/* "/sys" here is the host's sysfs, not the composed one: the kernel's too. */
		assert_int_equal(sysfs_statfs_answer(&call, &error), 0);
	}
	call.path = 0x10; /* unreadable */
	assert_int_equal(sysfs_statfs_answer(&call, &error), 0);
}

static void a_buffer_the_caller_may_not_write_is_efault(void **state)
{
	struct fixture *f = *state;
	long page = sysconf(_SC_PAGESIZE);
	void *ro = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sysfs_statfs_call call = call_of(f, f->sys_fd, ro);
	int error = 0;

	if (f->maps_fd < 0)
		skip(); /* without PROCMAP_QUERY rights go unchecked (vma_access.h) */
	assert_ptr_not_equal(ro, MAP_FAILED);
	assert_int_equal(sysfs_statfs_answer(&call, &error), 1);
	assert_int_equal(error, EFAULT);
	munmap(ro, (size_t)page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_file_of_the_composed_sys_says_sysfs),
		cmocka_unit_test(any_other_file_is_the_kernels),
		cmocka_unit_test(paths_outside_sys_are_the_kernels),
		cmocka_unit_test(a_buffer_the_caller_may_not_write_is_efault),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
