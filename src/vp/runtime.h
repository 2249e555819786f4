/* Starting a VP: one pipeline (DESIGN.md §3, §4) of the runtime's modules and of the
 * stages the daemon adds (its devices), each with up to four hooks.
 *   prepare  - in the daemon, before clone (make a cgroup, a pty, directories, a device's
 *              instance)
 *   attach   - in the daemon, the child waiting: the runtime's modules right after clone
 *              (uid map, cgroup, rootfs: they make the namespaces), the stages once every
 *              namespace of the VP exists (after the seal: a veth into its netns)
 *   enter    - in the child, before exec of cell-init: the stages' after the VP's root is
 *              built and before its mounts are sealed (binds at any path: /dev, /sys,
 *              /run); raw system calls only (a clone3 child of a threaded daemon)
 *   teardown - in the daemon, when the VP has stopped or its start failed
 * A module or stage whose prepare or attach fails undoes itself; the pipeline then tears
 * down everything prepared before it, in reverse order: the stages first, then the
 * modules. */
#ifndef CELLS_VP_RUNTIME_H
#define CELLS_VP_RUNTIME_H

#include "common/error.h"
#include "vp/cgroup.h"
#include "vp/config.h"

#include <limits.h>
#include <linux/filter.h>
#include "common/ioctl_trap.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define VP_STAGES_MAX 4

struct vp_runtime;

/* A part of the start the daemon adds: the same hooks as a module's, with a context. */
struct vp_stage {
	const char *name;
	int (*prepare)(void *ctx, const struct vp_runtime *rt, struct error *err);
	int (*attach)(void *ctx, const struct vp_runtime *rt, struct error *err);
	int (*enter)(void *ctx, struct error *err);
	void (*teardown)(void *ctx);
	void *ctx;
};

struct vp_runtime {
	const struct vp_config *config;
	const struct cgroup_host *cgroups;
	char cgroup[128];	     /* "cells-XXXX/NAME" */
	int cgroup_fd;		     /* v2: the group's directory, for CLONE_INTO_CGROUP */
	bool daemon_in_cgroup;	     /* v1: the daemon stands in the group around clone */
	char base_rootfs[PATH_MAX];  /* the image, shared read-only */
	char vp_state_dir[PATH_MAX]; /* holds upper/ and work/ */
	char vp_run_dir[PATH_MAX];   /* scratch mount points, console log */
	uid_t uid_base;		     /* host uid of the VP's root */
	int init_exe_fd;	     /* cell-init, opened by the daemon */
	const struct vp_filter *filter;
	/* Files to show in the VP's /sys instead of the kernel's (its devices, laid out as
	 * the kernel would): SYS_DIR, if it exists, is the whole /sys, with the few kernel
	 * paths the seal keeps bound into it; else each top-level directory of sysfs gets
	 * an empty cover. "" for none. */
	char sys_dir[PATH_MAX];
	/* A directory of per-VP views of /proc files (lxcfs: they depend on the reader's
	 * cgroup), bound over the VP's /proc/meminfo and the rest; "" for none. */
	char proc_views[PATH_MAX];
	struct vp_stage stages[VP_STAGES_MAX]; /* the daemon's, in order */
	unsigned nstages;
	int listener_fd; /* the seccomp listener of cell-init's filter, for the daemon */
	/* Called just before and after the clone (BEFORE true, then false): a daemon with
	 * threads holds them off libc's locks there, since the child does not exec at once. */
	void (*around_clone)(void *ctx, bool before);
	void *around_clone_ctx;

	pid_t pid;
	int pidfd;
	int sync_fd;		     /* socketpair end: the daemon's, or the child's */
	int rootfs_fd;		     /* detached overlay mount made by the daemon */
	int console_master;	     /* kept by the daemon */
	int console_slave;	     /* stdio of cell-init */
	char console_path[PATH_MAX]; /* the slave's path on the host */
	unsigned modules_ready;	     /* how many modules' prepare ran (for unwinding) */
	unsigned stages_ready;	     /* and how many stages' */
	bool held;		     /* prepared: the child waits before its exec (vp_prepare) */
};

struct vp_module {
	const char *name;
	int (*prepare)(struct vp_runtime *rt, struct error *err);
	int (*attach)(struct vp_runtime *rt, struct error *err);
	int (*enter)(struct vp_runtime *rt, struct error *err);
	void (*teardown)(struct vp_runtime *rt);
};

extern const struct vp_module vp_module_cgroup;
extern const struct vp_module vp_module_user;
extern const struct vp_module vp_module_console;
extern const struct vp_module vp_module_rootfs;
extern const struct vp_module vp_module_seal;
extern const struct vp_module vp_module_machine;
extern const struct vp_module vp_module_net;
extern const struct vp_module vp_module_security;

void vp_runtime_init(struct vp_runtime *rt);

/* The cgroup limits a VP's config asks for, at its start or changed while it runs. */
static inline struct cgroup_limits vp_config_limits(const struct vp_config *c)
{
	return (struct cgroup_limits){
		.memory = c->memory, .pids = c->pids, .cpu_percent = c->cpu_percent};
}

/* Start the VP: on success rt->pid/pidfd name cell-init, which is running. */
int vp_spawn(struct vp_runtime *rt, struct error *err);

/* The start cut in two, as an OCI runtime's create and start: vp_prepare runs the whole
 * pipeline (every prepare, attach and enter hook, the restrictions, the listener handed
 * over in rt->listener_fd) and leaves the child waiting just before its exec of cell-init;
 * vp_release lets it exec and waits for that, as vp_spawn's end. A release that fails
 * (the child died meanwhile) has discarded it. vp_spawn_discard kills a prepared child and
 * undoes its pipeline, as a failed start does. */
int vp_prepare(struct vp_runtime *rt, struct error *err);
int vp_release(struct vp_runtime *rt, struct error *err);
void vp_spawn_discard(struct vp_runtime *rt);

/* After cell-init has exited and been reaped: undo every module. */
void vp_teardown(struct vp_runtime *rt);

/* What `cell exec` runs, and how. */
struct vp_exec_args {
	char *const *argv;
	/* The command's stdin, stdout and stderr: ends of the daemon's own pipes, never a
	 * descriptor of the caller's. With TTY, only stderr (for errors before the pty). */
	int stdio[3];
	const char *term;
	bool tty; /* on a new pty of the VP's, ROWS x COLS, instead of STDIO */
	unsigned short rows, cols;
};

/* Start a command inside a running VP (its namespaces, cgroup and restrictions). Returns
 * the pid of a helper (a child of the caller) whose exit status is the command's, or a
 * negative errno; killing the helper kills every process the command started. Nothing is
 * waited for: the helper sends what the caller needs on *SOCK (non-blocking), read with
 * vp_exec_receive, and hangs it up once the command runs. The helper holds no descriptor
 * of the caller's but SOCK's other end, the VP's pidfd and ARGS->stdio. */
pid_t vp_exec(const struct vp_runtime *rt, const struct vp_exec_args *args, int *sock,
	      struct error *err);

/* clone3 ARGS with the VP's root (host uid_base) as the creator, and so the owner, of the user
 * namespace it makes (CLONE_NEWUSER): the child's pid, 0 in the child, or a negative errno. The
 * calling thread's credentials are as before when it returns (mod_user.c). */
struct clone_args;
long vp_user_clone(const struct vp_runtime *rt, struct clone_args *args, struct error *err);

/* In a process about to become one of the VP's: the resource limits of the VP's processes. */
int vp_set_rlimits(struct error *err);

enum vp_exec_message {
	VP_EXEC_LISTENER = 'L', /* the command's seccomp listener (when the filter traps) */
	VP_EXEC_PTY = 'P',	/* with a terminal: the pty's master */
};

/* One message of an exec's SOCK: 1 with *KIND and its descriptor *FD (the caller's to
 * close); 0 when the helper has hung up (all is sent); -EAGAIN when none waits yet. */
int vp_exec_receive(int sock, enum vp_exec_message *kind, int *fd);

/* In a child of the daemon: give back the signal mask and dispositions it changed. */
void vp_reset_signals(void);

/* In the child, after its file system is built: nest the VP in a second user namespace with
 * a copy of its mount namespace, so the kernel locks its mounts (see seal.c). */
int vp_seal(const char *sys_dir, struct error *err);

/* The seccomp filter, compiled once by the daemon: the deny-list, and the ioctl numbers
 * the devices trap (answered by the daemon through the filter's listener). */
struct vp_filter {
	struct sock_fprog prog;
	bool notifies;
};

int vp_filter_build(struct vp_filter *filter, const struct ioctl_trap *trapped_ioctls,
		    unsigned ntrapped, struct error *err);
void vp_filter_free(struct vp_filter *filter);

/* The deny rules on arguments that libseccomp cannot express for every architecture
 * (argfilter.c): a program of its own, loaded before the deny-list. */
const struct sock_fprog *vp_arg_filter(void);

/* The restrictions of every process in a VP, applied in its namespaces before exec:
 * a reduced capability bounding set, no_new_privs and FILTER. *LISTENER is the filter's
 * seccomp listener for the daemon, or -1 when it traps nothing. */
int vp_restrict(const struct vp_filter *filter, int *listener, struct error *err);

#endif
