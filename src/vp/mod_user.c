/* The user namespace: VP uid/gid 0..65535 are host uid_base..uid_base+65535. */
#include "vp/runtime.h"
#include "common/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define VP_UID_COUNT 65536

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

static int user_attach(struct vp_runtime *rt, struct error *err)
{
	int ret = write_map(rt->pid, "uid_map", rt->uid_base, err);

	if (ret == 0)
		ret = write_map(rt->pid, "gid_map", rt->uid_base, err);
	return ret;
}

/* Become the VP's root. Moving to the namespace's uid 0 keeps the capabilities the
 * namespace gave us; the supplementary groups of the daemon are dropped. */
static int user_enter(struct vp_runtime *rt, struct error *err)
{
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
	return 0;
}

const struct vp_module vp_module_user = {
	.name = "user",
	.attach = user_attach,
	.enter = user_enter,
};
