/* A VP's processes, named by number (a line of its cgroup.procs), made safe to act on: a
 * number read a moment ago may be another process's by now. A process belongs to a VP
 * when its user namespace is the VP's or one below it (a VP cannot leave its namespace for
 * an ancestor), and the check holds a pidfd, so the answer stays that process's. */
#ifndef CELLS_VP_MEMBERS_H
#define CELLS_VP_MEMBERS_H

#include <stddef.h>
#include <sys/types.h>

/* The user namespace of the process INIT, whose pidfd is INIT_PIDFD (a VP's init): a
 * descriptor, or -ESRCH when it has exited, or another -errno. */
int vp_userns_open(pid_t init, int init_pidfd);

/* A pidfd for PID when it is a process inside USERNS (from vp_userns_open): -ESRCH when
 * there is no such process, -EPERM when it is not inside, or another -errno. */
int vp_member_pidfd(pid_t pid, int userns);

#define VP_MOUNT_NS_MAX 64

/* A pidfd of one process for each mount namespace of the VP's processes (those of PROCS,
 * its cgroup.procs, inside INIT's user namespace) other than INIT's own: at most MAX (and
 * at most VP_MOUNT_NS_MAX) into PIDFDS, the caller closes them. Returns how many, or
 * -errno; *SKIPPED counts the processes whose namespace did not fit. */
int vp_other_mount_namespaces(const char *procs, pid_t init, int init_pidfd, int *pidfds,
			      size_t max, unsigned *skipped);

#endif
