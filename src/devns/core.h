/* The device core's state: embedded by the daemon and used by the core's files, never
 * included by a device (devices see devns.h's functions only). */
#ifndef CELLS_DEVNS_CORE_H
#define CELLS_DEVNS_CORE_H

#include "devns/devns.h"

/* One VP's devices. */
struct devns_vp {
	struct devns *core;
	char name[NAME_MAX_LEN + 1];
	char dir[256]; /* its files' directory: the VP's root's alone (0700) */
	unsigned id;
	dev_t sys_dev;	   /* the tmpfs of its composed /sys (statfs.c), 0 if none */
	char sys_dir[272]; /* where it is mounted: devns_sys_dir's */
	char persist[300]; /* its devices' persistent directories' parent (vdev_persist_dir) */
	void *state[DEVNS_MAX_DEVICES];
	struct vdev_file files[DEVNS_MAX_DEVICES][DEVNS_MAX_FILES];
	unsigned nfiles[DEVNS_MAX_DEVICES];
	enum dev_access access[DEVNS_MAX_DEVICES];
	struct devns_listener *listeners;
	struct devns_vp *next; /* the core's list of VPs with instances */
	bool active;
	bool held; /* a prepared VP's (not started): hidden from devns_instance, wake */
	struct devns_budget budget; /* its share of the daemon's time for its calls */
};

struct devns {
	struct loop *loop;
	struct devns_host host;
	/* Device state is shared between the event loop and the supervisor threads (one per
	 * seccomp listener, blocked in RECV so the caller's wake-up stays on its CPU). Held
	 * by a device while it touches its state, never while it touches a VP's memory or
	 * files, and around every clone of the daemon whose child runs on without exec:
	 * supervisor threads take libc's locks (malloc) only under it, and outside it make
	 * system calls alone (logging is one write). */
	pthread_mutex_t lock;
	char dir[256]; /* the daemon's tmpfs for device files */
	void *global[DEVNS_MAX_DEVICES];
	struct devns_vp *exclusive[DEVNS_MAX_DEVICES]; /* who holds an exclusive device */
	unsigned holders[DEVNS_MAX_DEVICES];	       /* how many VPs have an instance */
	struct devns_vp *vps;
	struct devns_provided_screen screen;
	struct devns_provided_input input;
	struct devns_listener *all_listeners;
	uint64_t next_serial;
	unsigned notif_size, resp_size;
	atomic_ullong calls, calls_emulated;
	struct budget_pool budget; /* the VPs' shares of the supervisor threads' time */
	struct vp_device_kind kinds[DEVNS_MAX_DEVICES];
	struct vp_catalog catalog; /* the registry as VP configs see it */
	atomic_uint output_scale;  /* the output's brightness, of 256 (devns_dim) */
};

#endif
