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

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
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

/* Calls a VP is refused (SECURITY.md has the table and the reasons). EPERM: they reach
 * the host kernel's global state (modules, kexec, reboot, keyrings, clocks, swap,
 * accounting, raw I/O ports, the kernel log, tracing and BPF) or bypass path checks (file
 * handles). ENOSYS, as a kernel built without them answers, so that programs take the
 * fallback they have: kernel interfaces no phone program needs that have been a steady
 * source of kernel exploits (io_uring, userfaultfd, the LDT) or that hide memory from the
 * host (memfd_secret), and cachestat, which shows another VP's use of the shared image. */
static const struct {
	const char *name;
	int errnum;
} denied_calls[] = {
	{"init_module", EPERM},
	{"finit_module", EPERM},
	{"delete_module", EPERM},
	{"kexec_load", EPERM},
	{"kexec_file_load", EPERM},
	{"reboot", EPERM},
	{"keyctl", EPERM},
	{"add_key", EPERM},
	{"request_key", EPERM},
	{"open_by_handle_at", EPERM},
	{"name_to_handle_at", EPERM},
	{"swapon", EPERM},
	{"swapoff", EPERM},
	{"acct", EPERM},
	{"iopl", EPERM},
	{"ioperm", EPERM},
	{"settimeofday", EPERM},
	{"stime", EPERM},
	{"clock_settime", EPERM},
	{"clock_settime64", EPERM},
	{"clock_adjtime", EPERM},
	{"clock_adjtime64", EPERM},
	{"adjtimex", EPERM},
	{"bpf", EPERM},
	{"perf_event_open", EPERM},
	{"fanotify_init", EPERM},
	{"lookup_dcookie", EPERM},
	{"quotactl", EPERM},
	{"quotactl_fd", EPERM},
	{"uselib", EPERM},
	{"syslog", EPERM},
	{"vm86", EPERM},
	{"vm86old", EPERM},
	{"io_uring_setup", ENOSYS},
	{"io_uring_enter", ENOSYS},
	{"io_uring_register", ENOSYS},
	{"userfaultfd", ENOSYS},
	{"modify_ldt", ENOSYS},
	{"memfd_secret", ENOSYS},
	{"cachestat", ENOSYS},
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

static int add_rule(scmp_filter_ctx ctx, const char *call, int errnum, unsigned argc,
		    const struct scmp_arg_cmp *arg, struct error *err)
{
	int nr = seccomp_syscall_resolve_name(call);
	int ret;

	if (nr == __NR_SCMP_ERROR)
		return error_set(err, 0, "seccomp: unknown system call %s", call);
	ret = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(errnum), nr, argc, arg);
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
		if ((ret = add_rule(ctx, denied_calls[i].name, denied_calls[i].errnum, 0, NULL,
				    err)) < 0)
			goto out;
	/* MADV_PAGEOUT succeeds and does nothing: on a mapping of the shared image it would
	 * evict pages that another VP has read (its argument is at the same place in every
	 * table, so libseccomp can say it). */
	struct scmp_arg_cmp pageout2 = SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffu, MADV_PAGEOUT);
	struct scmp_arg_cmp pageout3 = SCMP_A3(SCMP_CMP_MASKED_EQ, 0xffffffffu, MADV_PAGEOUT);
	if ((ret = add_rule(ctx, "madvise", 0, 1, &pageout2, err)) < 0 ||
	    (ret = add_rule(ctx, "process_madvise", 0, 1, &pageout3, err)) < 0)
		goto out;
	/* Device nodes: mknod of a char or block device, whatever other bits come along. */
	const unsigned device_types[] = {S_IFCHR, S_IFBLK};
	for (size_t i = 0; i < ARRAY_SIZE(device_types); i++) {
		struct scmp_arg_cmp mode1 = SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, device_types[i]);
		struct scmp_arg_cmp mode2 = SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, device_types[i]);
		if ((ret = add_rule(ctx, "mknod", EPERM, 1, &mode1, err)) < 0 ||
		    (ret = add_rule(ctx, "mknodat", EPERM, 1, &mode2, err)) < 0)
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
	/* Calls the daemon answers too: mincore without the page cache (devns/mincore.h);
	 * statfs and fstatfs, saying sysfs on the VP's composed /sys (devns/statfs.h), every
	 * other one made by the kernel; sysinfo with the VP's memory, processes and uptime
	 * (devns/sysinfo.h). With no listener at all mincore is refused like the
	 * denied calls, and statfs is the kernel's alone. */
	const struct {
		const char *name;
		int nr;
		bool refused_alone;
	} answered[] = {
		{"mincore", SCMP_SYS(mincore), true},
		{"statfs", SCMP_SYS(statfs), false},
		{"fstatfs", SCMP_SYS(fstatfs), false},
		{"sysinfo", SCMP_SYS(sysinfo), false},
	};
	for (size_t i = 0; i < ARRAY_SIZE(answered); i++) {
		if (ntrapped == 0 && !answered[i].refused_alone)
			continue;
		ret = seccomp_rule_add_array(
			ctx, ntrapped > 0 ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(ENOSYS),
			answered[i].nr, 0, NULL);
		if (ret < 0) {
			error_set(err, -ret, "seccomp: rule for %s", answered[i].name);
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
	/* The kernel runs both programs on every call and takes the stricter answer: an
	 * errno of the argument rules outranks the deny-list's notification. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, vp_arg_filter()) < 0)
		return error_set(err, errno, "load the seccomp argument filter");
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
