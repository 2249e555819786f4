/* The viewer gives up root before it reads a byte from the network: it starts as root
 * only to lock itself in (cellsd could not chroot it after exec). In order: at most
 * FD_SETSIZE descriptors, an empty root directory, no capability in any set (bounding and
 * ambient included), its own uid and gid without supplementary groups, not dumpable (no
 * ptrace, no /proc/PID/mem by the same uid), no_new_privs, then its own seccomp filter
 * (sandbox_filter), an allow-list of what a poll loop serving sockets needs. */
#include "common/log.h"
#include "viewer/viewer.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

int sandbox_enter(uid_t uid, gid_t gid, const char *root, struct error *err)
{
	struct rlimit files = {FD_SETSIZE, FD_SETSIZE};

	if (uid == 0 || gid == 0)
		return error_set(err, 0, "viewer: will not run as uid or gid 0");
	if (setrlimit(RLIMIT_NOFILE, &files) < 0)
		return error_set(err, errno, "viewer: RLIMIT_NOFILE");
	if (chroot(root) < 0 || chdir("/") < 0)
		return error_set(err, errno, "viewer: chroot %s", root);
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return error_set(err, errno, "viewer: drop capability %d", cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return error_set(err, errno, "viewer: clear ambient capabilities");
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return error_set(err, errno, "viewer: become %u:%u", (unsigned)uid, (unsigned)gid);
	if (setresuid(0, 0, 0) == 0)
		return error_set(err, 0, "viewer: could become root again");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return error_set(err, errno, "viewer: prctl");
	return 0;
}

int sandbox_filter(struct error *err)
{
	static const int allowed[] = {
		SCMP_SYS(read),
		SCMP_SYS(write),
		SCMP_SYS(readv),
		SCMP_SYS(writev),
		SCMP_SYS(close),
		SCMP_SYS(poll),
		SCMP_SYS(ppoll),
		SCMP_SYS(select),
		SCMP_SYS(pselect6),
		SCMP_SYS(recvfrom),
		SCMP_SYS(recvmsg),
		SCMP_SYS(sendto),
		SCMP_SYS(sendmsg),
		SCMP_SYS(accept4),
		SCMP_SYS(accept),
		SCMP_SYS(getsockopt),
		SCMP_SYS(setsockopt),
		SCMP_SYS(getpeername),
		SCMP_SYS(getsockname),
		SCMP_SYS(shutdown),
		SCMP_SYS(fcntl),
		SCMP_SYS(fstat),
		SCMP_SYS(munmap),
		SCMP_SYS(brk),
		SCMP_SYS(madvise),
		SCMP_SYS(mremap),
		SCMP_SYS(rt_sigreturn),
		SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(clock_gettime),
		SCMP_SYS(gettimeofday),
		SCMP_SYS(clock_nanosleep),
		SCMP_SYS(nanosleep),
		SCMP_SYS(getrandom),
		SCMP_SYS(getpid),
		SCMP_SYS(gettid),
		SCMP_SYS(futex),
		SCMP_SYS(exit),
		SCMP_SYS(exit_group),
		SCMP_SYS(restart_syscall),
		SCMP_SYS(time),
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int ret = 0;

	if (!ctx)
		return error_set(err, ENOMEM, "viewer: seccomp_init");
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && ret == 0; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* No new socket: syslog() (libgcrypt's warnings) gets an error. */
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 0);
	/* Nor a look at a file by name: libgcrypt's first use (libvncserver's DES) asks
	 * whether /etc/gcrypt/fips_enabled exists. */
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(access), 0);
	/* Nor an open: its root is empty anyway, and libgcrypt looks for its FIPS files. */
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(openat), 0);
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(open), 0);
	/* Memory, never executable. No open of any file: noVNC's are in memory. */
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (ret == 0)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret < 0 ? error_set(err, -ret, "viewer: seccomp filter") : 0;
}
