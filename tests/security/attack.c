/* The attacks of tests/security, run inside a VP (built static by the tests).
 *
 *   attack syscalls            try every call the VP is denied; one NAME=RESULT line each
 *   attack int80               the same for the i386 table (int $0x80); exit 3 if the
 *                              kernel cannot run 32-bit calls
 *   attack unshare             new user, mount and network namespaces
 *   attack vsock-bind PORT     bind an AF_VSOCK port and hold it until stdin closes
 *   attack mknod PATH          a character device (1,3)
 *   attack umount PATH | umount-detach PATH | remount-rw PATH | mount TYPE PATH
 *   attack write PATH TEXT | open PATH
 *   attack ptrace PID | kill PID | connect PATH
 *   attack cache-read FILE     read FILE (into the page cache)
 *   attack cache-probe FILE [WAYS]  its pages in the page cache, seen up to three ways
 *   attack cache-evict FILE    try to evict FILE's pages (fadvise, madvise)
 *
 * RESULT is "ok" or the errno's name; a command's exit status is 0 when its call worked,
 * 1 when it failed (the error on stdout), 2 on bad usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../integration/errname.h"

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x8
#endif
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

static const char *result(long ret)
{
	return ret >= 0 ? "ok" : errname(errno);
}

static int report(const char *name, long ret)
{
	printf("%s=%s\n", name, result(ret));
	fflush(stdout);
	return ret < 0;
}

/* Each call with arguments that do no harm if it is let through; the closing of what a
 * call let through is the test's business (it reports "ok"). */
static void try_syscalls(void)
{
	char buf[64] = {0};
	long r;

	report("init_module", syscall(SYS_init_module, buf, 0, ""));
	report("finit_module", syscall(SYS_finit_module, -1, "", 0));
	report("delete_module", syscall(SYS_delete_module, "cells-none", O_NONBLOCK));
	report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
	report("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, "", 0));
	/* An invalid magic: let through, the kernel would answer EINVAL. */
	report("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
	report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
	report("add_key", syscall(SYS_add_key, "user", "cells", "x", 1, -3));
	report("request_key", syscall(SYS_request_key, "user", "cells", NULL, 0));
	report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, buf, 0));
	report("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, "/", buf, buf, 0));
	report("swapon", syscall(SYS_swapon, "/nonexistent", 0));
	report("swapoff", syscall(SYS_swapoff, "/nonexistent"));
	report("acct", syscall(SYS_acct, NULL));
	report("iopl", syscall(SYS_iopl, 0));
	report("ioperm", syscall(SYS_ioperm, 0x80, 1, 0));
	report("settimeofday", syscall(SYS_settimeofday, NULL, NULL));
	report("clock_settime", syscall(SYS_clock_settime, 99, NULL));
	report("clock_adjtime", syscall(SYS_clock_adjtime, 99, NULL));
	report("adjtimex", syscall(SYS_adjtimex, NULL));
	report("bpf", syscall(SYS_bpf, 0, NULL, 0));
	report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	report("fanotify_init", syscall(SYS_fanotify_init, 0, O_RDONLY));
	report("lookup_dcookie", syscall(SYS_lookup_dcookie, 0, buf, sizeof(buf)));
	report("quotactl", syscall(SYS_quotactl, 0, NULL, 0, NULL));
	report("quotactl_fd", syscall(443, -1, 0, 0, NULL));
	report("uselib", syscall(SYS_uselib, "/nonexistent"));
	report("syslog", syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
	report("io_uring_setup", syscall(SYS_io_uring_setup, 0, NULL));
	report("io_uring_enter", syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
	report("io_uring_register", syscall(SYS_io_uring_register, -1, 0, NULL, 0));
	r = syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */);
	report("userfaultfd", r);
	if (r >= 0)
		close((int)r);
	report("modify_ldt", syscall(SYS_modify_ldt, 0, buf, sizeof(buf)));
	r = syscall(447 /* memfd_secret */, 0);
	report("memfd_secret", r);
	if (r >= 0)
		close((int)r);
	report("cachestat", syscall(__NR_cachestat, -1, NULL, NULL, 0));
	/* The families of socket and socketpair, with high bits the kernel ignores. */
	const struct {
		const char *name;
		long family;
	} families[] = {
		{"socket_vsock", AF_VSOCK},
		{"socket_vsock_highbits", AF_VSOCK | 0x100000000L},
		{"socket_alg", AF_ALG},
	};
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		r = syscall(SYS_socket, families[i].family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (families[i].family == AF_ALG && r < 0 && errno == EINVAL)
			r = syscall(SYS_socket, families[i].family, SOCK_SEQPACKET, 0);
		report(families[i].name, r);
		if (r >= 0)
			close((int)r);
	}
	int sv[2];
	report("socketpair_vsock", syscall(SYS_socketpair, AF_VSOCK, SOCK_STREAM, 0, sv));
	/* What stays allowed: a packet socket of the VP's own network namespace. */
	r = syscall(SYS_socket, AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	report("socket_packet", r);
	if (r >= 0)
		close((int)r);
	r = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	report("socket_inet", r);
	if (r >= 0)
		close((int)r);
	/* mknod of a device (and of a FIFO, which is allowed) */
	report("mknod_chr", syscall(SYS_mknodat, AT_FDCWD, "/tmp/.attack-chr",
				    (long)(S_IFCHR | 0600), (long)makedev(1, 3)));
	unlink("/tmp/.attack-fifo");
	report("mknod_fifo", syscall(SYS_mknodat, AT_FDCWD, "/tmp/.attack-fifo",
				     (long)(S_IFIFO | 0600), 0L));
	unlink("/tmp/.attack-fifo");
}

/* The i386 table through int $0x80 (a 64-bit process may use it where the kernel runs
 * 32-bit programs); only calls whose arguments fit in 32 bits. */
static long int80(long nr, long a, long b, long c, long d, long e)
{
	long ret;

	__asm__ volatile("push %%rbp\n\tint $0x80\n\tpop %%rbp"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
			 : "memory", "r8", "r9", "r10", "r11");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

static void segv(int sig)
{
	(void)sig;
	_exit(3);
}

static int try_int80(void)
{
	/* Memory below 4 GiB, for the pointers of 32-bit calls. */
	char *low = mmap((void *)0x10000000, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	long r;

	signal(SIGSEGV, segv);
	if (int80(20 /* getpid */, 0, 0, 0, 0, 0) != getpid())
		return 3;
	if (low == MAP_FAILED)
		return 1;
	memset(low, 0, 4096);
	report("i386_init_module", int80(128, (long)low, 0, (long)low, 0, 0));
	report("i386_kexec_load", int80(283, 0, 0, 0, 0, 0));
	report("i386_keyctl", int80(288, 0, -3, 0, 0, 0));
	report("i386_bpf", int80(357, 0, 0, 0, 0, 0));
	report("i386_perf_event_open", int80(336, 0, 0, -1, -1, 0));
	report("i386_io_uring_setup", int80(425, 0, 0, 0, 0, 0));
	report("i386_userfaultfd", int80(374, O_CLOEXEC | 1, 0, 0, 0, 0));
	report("i386_modify_ldt", int80(123, 0, (long)low, 64, 0, 0));
	report("i386_vm86", int80(166, 0, 0, 0, 0, 0));
	report("i386_stime", int80(25, (long)low, 0, 0, 0, 0));
	report("i386_clock_settime64", int80(404, 99, 0, 0, 0, 0));
	r = int80(359 /* socket */, AF_VSOCK, SOCK_STREAM, 0, 0, 0);
	report("i386_socket_vsock", r);
	if (r >= 0)
		close((int)r);
	r = int80(359, AF_INET, SOCK_STREAM, 0, 0, 0);
	report("i386_socket_inet", r);
	if (r >= 0)
		close((int)r);
	/* socketcall(SYS_SOCKET): the family is behind a pointer (SECURITY.md). */
	((uint32_t *)low)[0] = AF_INET;
	((uint32_t *)low)[1] = SOCK_STREAM;
	((uint32_t *)low)[2] = 0;
	r = int80(102, 1, (long)low, 0, 0, 0);
	report("i386_socketcall_inet", r);
	if (r >= 0)
		close((int)r);
	report("i386_mknod_chr", int80(14, (long)"/tmp/.attack-chr", S_IFCHR | 0600, 0x103, 0,
					0));
	return 0;
}

static int vsock_bind(unsigned port)
{
	struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				   .svm_port = port};
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char c;

	if (fd < 0)
		return report("socket", -1);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return report("bind", -1);
	report("bind", 0);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	return report("connect", fd < 0 ? -1 : connect(fd, (struct sockaddr *)&addr, sizeof(addr)));
}

static int do_ptrace(pid_t pid)
{
	int status;

	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
		return report("ptrace", -1);
	waitpid(pid, &status, __WALL);
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return report("ptrace", 0);
}

/* Pages of FILE in the page cache by mincore on a fresh mapping (m), by preadv2(RWF_NOWAIT)
 * (n: its misses start readahead, so it loads what it probes) and by cachestat (c), the
 * ways WAYS names. */
static int cache_probe(const char *path, const char *ways)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	long page = sysconf(_SC_PAGESIZE);

	if (fd < 0 || fstat(fd, &st) < 0)
		return report("open", -1);
	size_t pages = (size_t)((st.st_size + page - 1) / page);
	unsigned char *vec = calloc(pages ? pages : 1, 1);
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	long resident = -1, nowait = 0;
	char *buf = malloc((size_t)page);

	if (strchr(ways, 'm') && map != MAP_FAILED &&
	    mincore(map, (size_t)st.st_size, vec) == 0) {
		resident = 0;
		for (size_t i = 0; i < pages; i++)
			resident += vec[i] & 1;
	}
	printf("pages=%zu\nmincore=%ld\n", pages, resident);
	for (size_t i = 0; strchr(ways, 'n') && i < pages; i++) {
		struct iovec iov = {buf, 1};
		if (preadv2(fd, &iov, 1, (off_t)i * page, RWF_NOWAIT) == 1)
			nowait++;
		else if (errno != EAGAIN) {
			nowait = -errno;
			break;
		}
	}
	printf("nowait=%ld\n", nowait);
	struct {
		uint64_t off, len;
	} range = {0, 0};
	uint64_t cs[5] = {0};
	if (!strchr(ways, 'c'))
		;
	else if (syscall(__NR_cachestat, fd, &range, cs, 0) == 0)
		printf("cachestat=%llu\n", (unsigned long long)cs[0]);
	else
		printf("cachestat=%s\n", result(-1));
	free(buf);
	free(vec);
	return 0;
}

static int cache_evict(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return report("open", -1);
	errno = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	report("fadvise", errno ? -1 : 0);
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return report("mmap", -1);
	report("pageout", madvise(map, (size_t)st.st_size, MADV_PAGEOUT));
	return 0;
}

static int cache_read(const char *path)
{
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return report("open", -1);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	return report("read", n);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : "";

	if (strcmp(cmd, "syscalls") == 0) {
		try_syscalls();
		return 0;
	}
	if (strcmp(cmd, "int80") == 0)
		return try_int80();
	if (strcmp(cmd, "unshare") == 0) /* what sandboxes inside a VP do */
		return report("unshare", unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET));
	if (argc < 3)
		return 2;
	if (strcmp(cmd, "vsock-bind") == 0)
		return vsock_bind((unsigned)strtoul(arg, NULL, 10));
	if (strcmp(cmd, "mknod") == 0)
		return report("mknod", mknod(arg, S_IFCHR | 0600, makedev(1, 3)));
	if (strcmp(cmd, "umount") == 0)
		return report("umount", umount2(arg, 0));
	if (strcmp(cmd, "umount-detach") == 0)
		return report("umount", umount2(arg, MNT_DETACH));
	if (strcmp(cmd, "remount-rw") == 0)
		return report("remount", mount(NULL, arg, NULL, MS_REMOUNT | MS_BIND, NULL));
	if (strcmp(cmd, "mount") == 0 && argc > 3) /* mount TYPE PATH */
		return report("mount", mount(arg, argv[3], arg, 0, NULL));
	if (strcmp(cmd, "write") == 0 && argc > 3) {
		int fd = open(arg, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return report("open", -1);
		return report("write", write(fd, argv[3], strlen(argv[3])));
	}
	if (strcmp(cmd, "open") == 0)
		return report("open", open(arg, O_RDONLY | O_CLOEXEC));
	if (strcmp(cmd, "ptrace") == 0)
		return do_ptrace((pid_t)atoi(arg));
	if (strcmp(cmd, "kill") == 0)
		return report("kill", kill((pid_t)atoi(arg), SIGKILL));
	if (strcmp(cmd, "connect") == 0)
		return connect_unix(arg);
	if (strcmp(cmd, "cache-read") == 0)
		return cache_read(arg);
	if (strcmp(cmd, "cache-probe") == 0)
		return cache_probe(arg, argc > 3 ? argv[3] : "mnc");
	if (strcmp(cmd, "cache-evict") == 0)
		return cache_evict(arg);
	return 2;
}
