/* What every process of a VP runs under, on top of its namespaces: a reduced capability
 * bounding set, no_new_privs, and a seccomp deny-list of calls no VP has any use for. */
#include "vp/runtime.h"
#include "common/cleanup.h"

#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#include <unistd.h>

/* Capabilities VP root keeps (all of them confined to the VP's own namespaces). */
static const int kept_caps[] = {
	CAP_CHOWN,	     CAP_DAC_OVERRIDE,
	CAP_DAC_READ_SEARCH, CAP_FOWNER,
	CAP_FSETID,	     CAP_KILL,
	CAP_SETGID,	     CAP_SETUID,
	CAP_SETPCAP,	     CAP_NET_BIND_SERVICE,
	CAP_NET_BROADCAST,   CAP_NET_ADMIN,
	CAP_NET_RAW,	     CAP_IPC_LOCK,
	CAP_IPC_OWNER,	     CAP_SYS_CHROOT,
	CAP_SYS_PTRACE,	     CAP_SYS_ADMIN,
	CAP_SYS_NICE,	     CAP_SYS_RESOURCE,
	CAP_LEASE,	     CAP_AUDIT_WRITE,
	CAP_SETFCAP,
};

/* Calls refused with EPERM: they reach the host kernel's global state (modules, kexec,
 * reboot, keyrings, clocks, swap, accounting, raw I/O ports) or bypass path checks. */
static const char *const denied_calls[] = {
	"init_module",
	"finit_module",
	"delete_module",
	"kexec_load",
	"kexec_file_load",
	"reboot",
	"keyctl",
	"add_key",
	"request_key",
	"open_by_handle_at",
	"name_to_handle_at",
	"swapon",
	"swapoff",
	"acct",
	"iopl",
	"ioperm",
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	"bpf",
	"perf_event_open",
	"lookup_dcookie",
	"quotactl",
	"uselib",
	"syslog",
	"vm86",
	"vm86old",
};

static bool cap_is_kept(int cap)
{
	for (size_t i = 0; i < ARRAY_SIZE(kept_caps); i++)
		if (kept_caps[i] == cap)
			return true;
	return false;
}

static int drop_capabilities(struct error *err)
{
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if (cap_is_kept(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return error_set(err, errno, "drop capability %d", cap);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return error_set(err, errno, "clear ambient capabilities");
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const char *call, unsigned argc,
		    const struct scmp_arg_cmp *arg, struct error *err)
{
	int nr = seccomp_syscall_resolve_name(call);
	int ret;

	if (nr == __NR_SCMP_ERROR)
		return error_set(err, 0, "seccomp: unknown system call %s", call);
	ret = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, argc, arg);
	if (ret < 0)
		return error_set(err, -ret, "seccomp: rule for %s", call);
	return 0;
}

/* Build the deny-list once, in the daemon, as a BPF program: a VP's start then only loads
 * it. (libseccomp 2.5 exports to a file descriptor only: a memfd serves.) */
int vp_filter_build(struct vp_filter *filter, const struct ioctl_trap *trapped_ioctls,
		    unsigned ntrapped, struct error *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int fd = -1, ret;
	off_t size;

	filter->prog.filter = NULL;
	filter->prog.len = 0;
	if (!ctx)
		return error_set(err, ENOMEM, "seccomp_init");
	/* 32-bit and x32 callers get the same rules; without these, int 0x80 would bypass. */
	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		if ((ret = seccomp_arch_add(ctx, SCMP_ARCH_X86)) < 0 && ret != -EEXIST)
			goto fail_arch;
		if ((ret = seccomp_arch_add(ctx, SCMP_ARCH_X32)) < 0 && ret != -EEXIST)
			goto fail_arch;
	}
	for (size_t i = 0; i < ARRAY_SIZE(denied_calls); i++)
		if ((ret = add_rule(ctx, denied_calls[i], 0, NULL, err)) < 0)
			goto out;
	/* Device nodes: mknod of a char or block device, whatever other bits come along. */
	const unsigned device_types[] = {S_IFCHR, S_IFBLK};
	for (size_t i = 0; i < ARRAY_SIZE(device_types); i++) {
		struct scmp_arg_cmp mode1 = SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, device_types[i]);
		struct scmp_arg_cmp mode2 = SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, device_types[i]);
		if ((ret = add_rule(ctx, "mknod", 1, &mode1, err)) < 0 ||
		    (ret = add_rule(ctx, "mknodat", 1, &mode2, err)) < 0)
			goto out;
	}
	/* Device ioctls go to the daemon; compare the low 32 bits only (bionic sign-extends). */
	for (unsigned i = 0; i < ntrapped; i++) {
		struct scmp_arg_cmp request =
			SCMP_A1(SCMP_CMP_MASKED_EQ, trapped_ioctls[i].mask,
				trapped_ioctls[i].request & trapped_ioctls[i].mask);
		ret = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(ioctl), 1, &request);
		if (ret < 0) {
			error_set(err, -ret, "seccomp: notify rule for ioctl 0x%x",
				  trapped_ioctls[i].request);
			goto out;
		}
	}
	filter->notifies = ntrapped > 0;
	fd = memfd_create("cells-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		ret = error_set(err, errno, "memfd_create");
		goto out;
	}
	if ((ret = seccomp_export_bpf(ctx, fd)) < 0) {
		error_set(err, -ret, "seccomp_export_bpf");
		goto out;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
	    !(filter->prog.filter = malloc((size_t)size))) {
		ret = error_set(err, size < 0 ? errno : EINVAL, "read the seccomp program");
		goto out;
	}
	if (pread(fd, filter->prog.filter, (size_t)size, 0) != size) {
		ret = error_set(err, errno, "read the seccomp program");
		free(filter->prog.filter);
		filter->prog.filter = NULL;
		goto out;
	}
	filter->prog.len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	ret = 0;
	goto out;
fail_arch:
	error_set(err, -ret, "seccomp: add 32-bit architectures");
out:
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return ret < 0 ? ret : 0;
}

void vp_filter_free(struct vp_filter *filter)
{
	free(filter->prog.filter);
	filter->prog.filter = NULL;
	filter->prog.len = 0;
}

int vp_restrict(const struct vp_filter *filter, int *listener, struct error *err)
{
	/* WAIT_KILLABLE_RECV: once the daemon has received a call, a signal cannot make the
	 * caller restart it (and a handler run twice). Linux 5.19+. */
	unsigned long flags = filter->notifies ? SECCOMP_FILTER_FLAG_NEW_LISTENER |
							 SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
					       : 0;
	int ret = drop_capabilities(err);
	long fd;

	*listener = -1;
	if (ret < 0)
		return ret;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return error_set(err, errno, "set no_new_privs");
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &filter->prog);
	if (fd < 0 && errno == EINVAL && (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV))
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			     flags & ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &filter->prog);
	if (fd < 0)
		return error_set(err, errno, "load the seccomp filter");
	if (filter->notifies)
		*listener = (int)fd;
	return 0;
}
