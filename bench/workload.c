/* workload: the same code on the host and inside a VP, for bench/overhead.py. Built
 * static, so both run the very same binary. Prints one JSON object.
 *
 *   workload cpu N            N rounds of integer arithmetic in registers: ns in all
 *   workload syscall N        N getppid() calls: ns per call (each passes the VP's
 *                             seccomp filter)
 *   workload write DIR MB     MB MiB written to DIR/workload.dat in 64 KiB writes, fsync'd:
 *                             MB/s; then read back (page cache): MB/s; then removed
 *   workload files DIR N      N files created, written (4 KiB), closed and removed: per s,
 *                             in a new directory made in DIR (removed after); with
 *                             "files-here", in DIR itself
 *   workload syscall-filtered N  as syscall, under a seccomp filter of one rule (a peer:
 *                             what any seccomp filter costs a system call here)
 *   workload periodic MS US   forever: US microseconds of arithmetic every MS
 *                             milliseconds (an audio decoder's shape), for bench/five_vp.py
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cpu(long n)
{
	uint64_t x = 88172645463325252ULL, acc = 0;
	long long t0 = now_ns();

	for (long i = 0; i < n; i++) { /* xorshift64 and a multiply: no memory, no calls */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		acc += x * 2654435761ULL;
	}
	printf("{\"ns\": %lld, \"check\": %llu}\n", now_ns() - t0,
	       (unsigned long long)(acc & 0xff));
	return 0;
}

static int syscalls(long n)
{
	long long t0 = now_ns();

	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	printf("{\"ns_per_call\": %.2f}\n", (double)(now_ns() - t0) / (double)n);
	return 0;
}

static int write_read(const char *dir, long mb)
{
	static char buf[64 * 1024];
	char path[4096];
	long long t0, t1, t2;
	long chunks = mb * 16;
	int fd;

	snprintf(path, sizeof(path), "%s/workload.dat", dir);
	memset(buf, 0x5a, sizeof(buf));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "workload: %s: %s\n", path, strerror(errno));
		return 1;
	}
	t0 = now_ns();
	for (long i = 0; i < chunks; i++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return 1;
	if (fsync(fd) < 0)
		return 1;
	t1 = now_ns();
	if (lseek(fd, 0, SEEK_SET) < 0)
		return 1;
	for (long i = 0; i < chunks; i++)
		if (read(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return 1;
	t2 = now_ns();
	close(fd);
	unlink(path);
	printf("{\"write_mb_s\": %.1f, \"read_mb_s\": %.1f}\n",
	       (double)mb * 1e9 / (double)(t1 - t0), (double)mb * 1e9 / (double)(t2 - t1));
	return 0;
}

static int files(const char *parent, long n, int here)
{
	static char buf[4096];
	char path[4200], dir[4096];
	long long t0;

	snprintf(dir, sizeof(dir), "%s/workload-%d", parent, (int)getpid());
	if (here)
		snprintf(dir, sizeof(dir), "%s", parent);
	else if (mkdir(dir, 0700) < 0) {
		fprintf(stderr, "workload: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/w%ld", dir, i);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
			fprintf(stderr, "workload: %s: %s\n", path, strerror(errno));
			return 1;
		}
		close(fd);
		unlink(path);
	}
	printf("{\"files_per_s\": %.0f}\n", (double)n * 1e9 / (double)(now_ns() - t0));
	if (!here)
		rmdir(dir);
	return 0;
}

static int periodic(long period_ms, long busy_us)
{
	struct timespec next;
	uint64_t x = 88172645463325252ULL;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		long long until = now_ns() + busy_us * 1000;

		while (now_ns() < until)
			for (int i = 0; i < 1000; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
			}
		next.tv_nsec += period_ms * 1000000;
		next.tv_sec += next.tv_nsec / 1000000000;
		next.tv_nsec %= 1000000000;
		/* A late wake-up (a frozen or throttled VP) skips what it missed. */
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == 0 &&
		    now_ns() > (long long)next.tv_sec * 1000000000LL + next.tv_nsec +
				       period_ms * 1000000)
			clock_gettime(CLOCK_MONOTONIC, &next);
		if (x == 0) /* never: keeps the loop's work */
			return 1;
	}
}

/* A filter of one rule (uselib: EPERM), as raw BPF: the cost of seccomp itself. */
static int syscalls_filtered(long n)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_uselib, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		fprintf(stderr, "workload: seccomp: %s\n", strerror(errno));
		return 1;
	}
	return syscalls(n);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "cpu"))
		return cpu(atol(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "syscall"))
		return syscalls(atol(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "write"))
		return write_read(argv[2], atol(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "files"))
		return files(argv[2], atol(argv[3]), 0);
	if (argc == 4 && !strcmp(argv[1], "files-here"))
		return files(argv[2], atol(argv[3]), 1);
	if (argc == 3 && !strcmp(argv[1], "syscall-filtered"))
		return syscalls_filtered(atol(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "periodic") && atol(argv[2]) > 0)
		return periodic(atol(argv[2]), atol(argv[3]));
	fprintf(stderr, "usage: workload cpu N | syscall N | syscall-filtered N | write DIR MB | "
			"files DIR N"
			" | files-here DIR N | periodic MS US\n");
	return 2;
}
