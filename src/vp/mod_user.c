/* The user namespace: VP uid/gid 0..65535 are host uid_base..uid_base+65535.
 *
 * The namespace is owned by the VP's root (host uid_base), not by cellsd's root. The kernel
 * charges what a process creates (inotify instances and watches, namespaces, POSIX message
 * queue bytes, pending signals, processes) to its user and, level by level up the chain of
 * user namespaces, to the owner of each namespace in its parent: at the host's level a VP
 * spends its own uid's budget, never root's nor another VP's. Inside, the namespace has
 * limits of its own (budgets[]; docs/SECURITY.md, "Per-user kernel budgets"). */
#include "vp/runtime.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define VP_UID_COUNT 65536

/* What the VP's whole namespace may hold, each at most (the host's per-user limits, now the
 * VP's uid's, apply on top): what a phone's software needs, sandboxes that make a namespace
 * or two per process included, and little more. Entries the kernel lacks are skipped. */
static const struct {
	const char *name;
	unsigned value;
} budgets[] = {
	{"max_user_namespaces", 256},	{"max_mnt_namespaces", 256},
	{"max_pid_namespaces", 256},	{"max_net_namespaces", 256},
	{"max_ipc_namespaces", 256},	{"max_uts_namespaces", 256},
	{"max_cgroup_namespaces", 256}, {"max_time_namespaces", 256},
	{"max_inotify_instances", 128}, {"max_inotify_watches", 65536},
	{"max_fanotify_groups", 128},	{"max_fanotify_marks", 8192},
};

/* Limits of every process of the VP (cell-init's, inherited, and those of `cell exec`), which
 * it cannot raise. The nested user namespace (seal.c), made after cell-init took them, keeps
 * them as the bound of the whole VP's count. */
static const struct {
	int resource;
	const char *name;
	rlim_t value;
} rlimits[] = {
	{RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", 819200}, /* bytes: Linux's default */
	{RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING", 16384},
};

static int write_map(pid_t pid, const char *file, uid_t base, struct error *err)
{
	char path[64], map[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	snprintf(map, sizeof(map), "0 %u %u\n", (unsigned)base, VP_UID_COUNT);
	ret = write_string(path, map);
	if (ret < 0)
		return error_set(err, ret, "write %s", path);
	return 0;
}

/* The thread's credentials of before vp_user_clone, given back after it. */
struct creds {
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	int dumpable, pdeath;
};

static void restore_creds(struct creds *saved)
{
	/* A daemon left with a VP's uid would create its files as the VP's: no way on. */
	if (syscall(SYS_setresuid, -1, 0, -1) < 0) {
		log_error_errno(errno, "cannot take back uid 0 after a VP's clone");
		abort();
	}
	syscall(SYS_capset, &saved->hdr, saved->caps);
	/* A change of uid makes the process non-dumpable and clears the thread's parent-death
	 * signal; both were the daemon's choice. */
	if (saved->dumpable >= 0)
		prctl(PR_SET_DUMPABLE, saved->dumpable, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, saved->pdeath, 0, 0, 0);
}

/* The kernel makes the creator's effective uid the owner of a new user namespace, so the
 * thread that clones takes the VP's root as its effective uid for the clone alone. Its real
 * and saved uids stay 0, to come back; its effective capabilities, which the change drops,
 * are raised again from the permitted ones, so the clone is as privileged as before
 * (CLONE_INTO_CGROUP, hosts that restrict user namespaces to CAP_SYS_ADMIN). System calls,
 * not glibc's wrappers: those change the ids of every thread of the daemon. */
long vp_user_clone(const struct vp_runtime *rt, struct clone_args *args, struct error *err)
{
	struct creds saved = {.hdr = {.version = _LINUX_CAPABILITY_VERSION_3}};
	struct __user_cap_data_struct raised[_LINUX_CAPABILITY_U32S_3];
	long pid;
	int errnum;

	if (syscall(SYS_capget, &saved.hdr, saved.caps) < 0 ||
	    prctl(PR_GET_PDEATHSIG, &saved.pdeath, 0, 0, 0) < 0)
		return error_set(err, errno, "read the daemon's credentials");
	saved.dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	memcpy(raised, saved.caps, sizeof(raised));
	for (size_t i = 0; i < ARRAY_SIZE(raised); i++)
		raised[i].effective = raised[i].permitted;
	if (syscall(SYS_setresuid, -1, rt->uid_base, -1) < 0)
		return error_set(err, errno, "take the uid of the VP's root");
	if (syscall(SYS_capset, &saved.hdr, raised) < 0) {
		errnum = errno;
		restore_creds(&saved);
		return error_set(err, errnum, "keep the capabilities for the clone");
	}
	pid = syscall(SYS_clone3, args, sizeof(*args));
	if (pid == 0)
		return 0;
	errnum = errno;
	restore_creds(&saved);
	if (pid < 0)
		return error_set(err, errnum, "clone3");
	return pid;
}

static int user_attach(struct vp_runtime *rt, struct error *err)
{
	int ret = write_map(rt->pid, "uid_map", rt->uid_base, err);

	if (ret == 0)
		ret = write_map(rt->pid, "gid_map", rt->uid_base, err);
	return ret;
}

/* In the child, still in the namespace made at clone (a sysctl of /proc/sys/user is the
 * opener's user namespace's), as its root: only the daemon's code runs in this namespace,
 * the VP's processes in a nested one (seal.c), which cannot change these. */
static int set_budgets(struct error *err)
{
	char path[64], value[16];
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(budgets); i++) {
		snprintf(path, sizeof(path), "/proc/sys/user/%s", budgets[i].name);
		snprintf(value, sizeof(value), "%u\n", budgets[i].value);
		if ((ret = write_string(path, value)) < 0 && ret != -ENOENT)
			return error_set(err, ret, "write %s", path);
	}
	return 0;
}

int vp_set_rlimits(struct error *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimits); i++) {
		struct rlimit lim;
		if (getrlimit(rlimits[i].resource, &lim) < 0)
			return error_set(err, errno, "getrlimit %s", rlimits[i].name);
		/* Lower only: a daemon started with less keeps its own. */
		if (lim.rlim_max > rlimits[i].value)
			lim.rlim_max = rlimits[i].value;
		lim.rlim_cur = lim.rlim_max;
		if (setrlimit(rlimits[i].resource, &lim) < 0)
			return error_set(err, errno, "setrlimit %s", rlimits[i].name);
	}
	return 0;
}

/* Become the VP's root. Moving to the namespace's uid 0 keeps the capabilities the
 * namespace gave us; the supplementary groups of the daemon are dropped. */
static int user_enter(struct vp_runtime *rt, struct error *err)
{
	int ret;

	(void)rt;
	/* The system calls, not glibc's wrappers: in this child of a bare clone3, glibc
	 * still lists the daemon's threads, and its wrappers would wait for each of them to
	 * change ids too. One being created at the clone made that wait endless, and with it
	 * cellsd's wait for the VP's exec (found by tests/integration/test_soak.py). */
	if (syscall(SYS_setgroups, 0, NULL) < 0)
		return error_set(err, errno, "setgroups");
	if (syscall(SYS_setresgid, 0, 0, 0) < 0)
		return error_set(err, errno, "setresgid");
	if (syscall(SYS_setresuid, 0, 0, 0) < 0)
		return error_set(err, errno, "setresuid");
	/* The uid change made us non-dumpable, which hands our /proc files to the host's
	 * root; seal.c's helper, the VP's root, must write our id maps there. (Exec makes an
	 * ordinary program dumpable again anyway.) */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return error_set(err, errno, "set dumpable");
	ret = set_budgets(err);
	return ret < 0 ? ret : vp_set_rlimits(err);
}

const struct vp_module vp_module_user = {
	.name = "user",
	.attach = user_attach,
	.enter = user_enter,
};
