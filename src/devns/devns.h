/* The device namespace core (DESIGN.md §4): a registry of virtual devices, each VP's
 * instances of them with the VP's access rights, the foreground switch
 * (deactivate the old VP's devices, activate the new one's), and the seccomp
 * user-notification supervisor that answers the ioctls a device traps.
 *
 * A device is one file in src/devices/ with a `struct vdev_ops` and one line in
 * registry.c. It knows nothing of the daemon: it sees its own global state, its instance
 * per VP, and the calls the core hands it. */
#ifndef CELLS_DEVNS_H
#define CELLS_DEVNS_H

#include "common/error.h"
#include "common/ioctl_trap.h"
#include "common/loop.h"
#include "vp/config.h"
#include "vp/runtime.h"

#include "devns/budget.h"
#include "devns/sysfs_tree.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define DEVNS_MAX_DEVICES 16 /* checked against the registry at build time */
#define DEVNS_MAX_FILES	  8

/* What a device instance asks to have in the VP: HOST_PATH bound at VP_PATH (any
 * absolute path: /dev/fb0, /run/udev/data) in the VP's root before its mounts are sealed.
 * The core remembers the file's identity (device, inode) to route calls. */
struct vdev_file {
	char vp_path[64];
	char host_path[256];
	dev_t dev;
	ino_t ino;
	unsigned flags;
};

#define VDEV_FILE_DIR	  1u /* a directory (a file system of the daemon's) */
#define VDEV_FILE_NO_BIND 2u /* not bound itself: inside a bound directory */
#define VDEV_FILE_KNOWN_ID                                                                         \
	4u /* dev and ino set by the device: the core stats nothing (a                             \
	    * FUSE file's server is the daemon itself) */
#define VDEV_FILE_TRANSIENT                                                                        \
	8u /* keep no reference to a caller's open file past the call:                             \
	    * its last close means something (FUSE release) */

/* What a device learns of the VP it serves. */
struct vdev_vp {
	const char *name;
	unsigned id;
	uid_t uid;	 /* host uid of the VP's root: device files are its */
	const char *dir; /* a private directory on a tmpfs of the daemon's, for its files */
	const struct vp_device_config *config; /* the device's part of the VP's config */
	const char *persist_base; /* the VP's devices' persistent data: see vdev_persist_dir */
	const char *device;	  /* the device's own name */
};

/* The device's setting KEY for the VP (its initial value unless the VP's config sets it);
 * NULL for a key the device does not declare. */
const char *vdev_setting(const struct vdev_vp *vp, const char *key);
/* The device's persistent directory for the VP (kept with the VP's state across restarts
 * of the VP and of cellsd, removed with the VP; the daemon's, never shown to the VP),
 * made on first use: its path into OUT. */
int vdev_persist_dir(const struct vdev_vp *vp, char *out, size_t size, struct error *err);

/* A command of a device's own: `cell device DEVICE VERB [ARG]...`. */
struct vdev_verb {
	const char *name;
	const char *args; /* its arguments, for the help: "VP" */
	const char *help; /* one line */
	/* On the loop's thread, without the lock. ARGS: the words after the verb (a JSON
	 * array of strings); REPLY: the object sent back, whose "text" (lines) the command
	 * line prints. */
	int (*run)(void *global, json_t *args, json_t *reply, struct error *err);
};

/* A trapped ioctl on one of a device instance's files, from a VP process. */
struct vdev_call {
	uint32_t request; /* the low 32 bits: bionic sign-extends */
	uint64_t arg;
	bool compat; /* a 32-bit caller: its own struct layouts */
	int mem_fd;  /* the caller's /proc/TID/mem */
	int maps_fd; /* and its /proc/TID/maps, to refuse what the caller itself may not touch
		      * (-1 on a kernel without PROCMAP_QUERY) */
	/* Set by the handler: the return value, or an errno. */
	long ret;
	int error;
	bool deferred; /* answered later through devns_reply() */
	/* Set by the handler: answer with what ioctl(FILE, request, &value) gives on the
	 * caller's own open file, made once the device lock is dropped (the file's server,
	 * FUSE, may need the lock). */
	struct {
		bool on;
		uint32_t request;
		int value;
	} forward;
	uint64_t notify_id;
	uint64_t listener_serial;
};

/* Copy from / to the caller's memory; -EFAULT on a bad pointer. Never with the device
 * lock held. */
int vdev_read(const struct vdev_call *call, uint64_t addr, void *buf, size_t len);
int vdev_write(const struct vdev_call *call, uint64_t addr, const void *buf, size_t len);

struct devns;

/* The machine's system keys, by what they mean (which key is which is the input device's
 * option), and what the root did about them: never delivered to a VP as keys. */
enum devns_system_key {
	DEVNS_KEY_POWER,  /* a short press of the power key: the screen off or back on */
	DEVNS_KEY_ACCEPT, /* the phone's accept key: answer the call ringing now */
	DEVNS_SCREEN_OFF, /* the screen went off (the power device, after DEVNS_KEY_POWER) */
	DEVNS_SCREEN_ON,  /* and back on */
};

/* What attach learns of the VP, its namespaces made. */
struct vdev_started {
	pid_t pid; /* its init, in the daemon's pid namespace */
	int pidfd; /* the same, as a pidfd (setns takes one: CLONE_NEWNET and others) */
};

/* A device's part of a VP's start (DESIGN.md §4), the runtime's hooks:
 *   prepare   daemon, before clone: make the instance and the files it binds in the VP
 *   attach    daemon, every namespace of the VP made, its init waiting (a veth into its
 *             network namespace)
 *   enter     the VP's first process, in its mount namespace, after the core has bound
 *             the instance's files and before the mounts are sealed; raw system calls
 *             only (no malloc, no locks: a clone3 child of a threaded daemon)
 *   teardown  daemon, the VP stopped or its start failed after prepare
 * One unwinding rule: a hook that fails undoes what it did itself; the core then tears
 * down every instance prepared before (reverse registry order). */
struct vdev_ops {
	const char *name; /* as in the VP config: "display" */
	/* The daemon starts: the device's global state (the real hardware, a mux). */
	int (*init)(struct devns *core, void **global, struct error *err);
	void (*fini)(void *global);
	/* The device removes its files in teardown (the core never touches them: a FUSE
	 * file's server is the daemon itself). */
	int (*prepare)(void *global, const struct vdev_vp *vp, void **state,
		       struct vdev_file *files, unsigned *nfiles, struct error *err);
	int (*attach)(void *global, void *state, const struct vdev_started *vp, struct error *err);
	int (*enter)(void *global, void *state, struct error *err);
	void (*teardown)(void *global, void *state);
	void (*activate)(void *global, void *state);
	void (*deactivate)(void *global, void *state);
	/* After every switch, whether or not the VPs have an instance: who is in the
	 * foreground now (NULL: none). */
	void (*switched)(void *global, const struct vdev_vp *to);
	/* A device's line for the root's status bar (devns_announce): TEXT ("" none), with
	 * the lock held. The device that draws the bar keeps it. */
	void (*announce)(void *global, const char *device, const char *text);
	/* Its keys of `cell stats`: the daemon's part, and a VP's instance's part (its
	 * entry's keys), both on the loop's thread without the lock. */
	void (*stats)(void *global, json_t *stats);
	void (*vp_stats)(void *global, void *state, json_t *stats);
	/* Its nodes of the VP's /sys and /run/udev (sysfs_layout.h), after prepare, without
	 * the lock (it reads its new instance only): the core writes the VP's tree out and
	 * shows it there (DESIGN.md §4, "The VP's /sys"). */
	int (*sysfs)(void *global, void *state, struct sysfs_tree *tree, struct error *err);
	/* Serve now what a file system of the device has waiting (on the event loop's thread,
	 * which is waiting for a supervisor thread that may itself wait for that: a forwarded
	 * call). */
	void (*pump)(void *global);
	/* The ioctl request numbers it traps (low 32 bits), and their handler. The handler
	 * runs on a supervisor thread without the device lock: it copies the caller's
	 * argument in (vdev_read), takes the lock (devns_lock) while it looks at or changes
	 * its state, and copies the answer out (vdev_write) after dropping it. The caller's
	 * memory may be a file the daemon's own loop serves, or held by the caller's own
	 * mmap lock: touched with the lock held, it would stop every VP. */
	const struct ioctl_trap *ioctls;
	unsigned nioctls;
	void (*ioctl)(void *global, void *state, unsigned file, struct vdev_call *call);
	/* Its daemon options, ended by a {NULL} entry, and their check. */
	const struct vdev_option *options;
	int (*check_option)(const char *name, const char *value, struct error *err);
	/* Its part of a VP's config (DESIGN.md §4): the right a new VP gets, its settings
	 * (`cell create --KEY VALUE`, ended by a {NULL} entry), their check, and a running
	 * VP's change of one (NULL: the change waits for the VP's next start). */
	enum dev_access initial_access;
	const struct vp_setting_kind *settings;
	int (*check_setting)(const char *key, const char *value, struct error *err);
	int (*configure)(void *global, void *state, const char *key, const char *value,
			 struct error *err);
	/* Its commands, ended by a {NULL} entry. */
	const struct vdev_verb *verbs;
	/* The VP is to run for MS milliseconds now, whatever holds it back (devns_vp_wake):
	 * on the loop's thread, without the lock. */
	void (*wake)(void *global, void *state, unsigned ms);
	/* One of the machine's system keys was pressed (devns_system_key): each device acts
	 * on the ones it cares for. On the loop's thread, without the lock. */
	void (*system_key)(void *global, enum devns_system_key key);
};

/* A daemon option of a device: `cellsd --NAME ARG` (ARG NULL: none). The daemon lists
 * them in its help and keeps what it was given; the device reads them back in init
 * (devns_option_values) and says at parse time whether a value is good (check_option). */
struct vdev_option {
	const char *name, *arg;
	const char *help; /* lines of at most 50 characters, joined by \n */
};

/* A value the daemon was given for a device's option. */
struct devns_option_value {
	const char *name, *value;
};

/* How the daemon runs a VP's processes for a device (the power device's background
 * policy): the runtime owns the VP's cgroup; a device never touches it. */
struct devns_vp_sched {
	bool frozen;	      /* every process stopped (v1 freezer, v2 cgroup.freeze) */
	unsigned cpu_percent; /* a cap, in percent of one CPU, below the VP's own limit
			       * (0: its own limit alone) */
};

/* What the core needs of the daemon: the screen, the options given to devices, and who
 * makes a switch a device asks for (the system switch keys). */
struct devns_host {
	unsigned screen_width, screen_height; /* the panel's mode */
	const struct devns_option_value *options;
	unsigned noptions;
	void (*request_switch)(void *ctx, int direction); /* +1 next, -1 previous */
	/* Bring the running VP named VP to the foreground: 0, or a negative errno. */
	int (*request_foreground)(void *ctx, const char *vp);
	/* Send EVENT (taken) to the event stream's subscribers; on the loop's thread. */
	void (*emit_event)(void *ctx, json_t *event);
	/* Run the VP named VP as S says (devns_vp_schedule); on the loop's thread. */
	int (*vp_schedule)(void *ctx, const char *vp, const struct devns_vp_sched *s,
			   struct error *err);
	void *ctx;
	const char *vps_dir; /* the VPs' state: VPS_DIR/NAME/devices/DEVICE persists */
	const char *run_dir; /* devns_run_dir */
};

#define DEVNS_SCREEN_WIDTH  720
#define DEVNS_SCREEN_HEIGHT 1280

/* What one device provides the daemon's own users (VNC, screenshots, `cell input`), who
 * use it without knowing which device it is: the screen's picture, and a way into the
 * foreground VP's input. Provided from init; called on the loop's thread, or a sink's
 * own thread for compose. */
struct devns_screen_ops {
	void (*size)(void *dev, int *width, int *height);
	/* What the output shows now into OUT (width*height XRGB8888 pixels, stride width):
	 * the foreground VP's visible page, or black, under the root's status bar. Returns
	 * a counter that changes whenever the picture may have (a flip, a switch). */
	uint64_t (*compose)(void *dev, uint32_t *out);
	/* CHANGED(ARG) is told whenever the picture may have changed: a flip, a blank, a
	 * switch. It runs with the device lock held, in whichever thread made the change, so
	 * it may only signal (an atomic, an eventfd). CHANGED NULL: nobody is told; once
	 * this returns, the old one is not running and will not be called. */
	void (*watch)(void *dev, void (*changed)(void *arg), void *arg);
};
struct devns_input_ops {
	void (*size)(void *dev, int *width, int *height); /* the pointer's range */
	void (*pointer)(void *dev, int x, int y, bool down);
	void (*key)(void *dev, unsigned code, int value);
	/* A key as a character: with SHIFT (0/1) pressed around it if the VP's own shift
	 * state differs; TAP presses and releases. */
	void (*key_shift)(void *dev, unsigned code, int value, int shift, bool tap);
};
struct devns_provided_screen {
	const struct devns_screen_ops *ops;
	void *dev;
};
struct devns_provided_input {
	const struct devns_input_ops *ops;
	void *dev;
};

/* The core's own state (core.h): opaque to devices, which reach it only through the
 * functions below. */
struct devns;
struct devns_vp;

extern const struct vdev_ops *const vdev_registry[];
extern const unsigned vdev_count;

int devns_init(struct devns *core, struct loop *loop, const char *dir,
	       const struct devns_host *host, struct error *err);

/* The services a device has of the core (DESIGN.md §4), beside the lock, devns_reply and
 * the loop. The values given for its option NAME, in order, at most MAX into VALUES: how
 * many were given. */
unsigned devns_option_values(const struct devns *core, const char *name, const char **values,
			     unsigned max);
/* The panel's mode. */
void devns_panel_size(const struct devns *core, unsigned *width, unsigned *height);
/* The daemon's run directory (cellsd --run), on the host's file system: what a device
 * makes there (under its own name) is seen by the host's programs, as a socket a
 * supplicant answers; NULL if the daemon gave none. A killed daemon's stays there. */
const char *devns_run_dir(const struct devns *core);
/* Switch the foreground to the next (+1) or previous (-1) VP; on the loop's thread. */
void devns_request_switch(struct devns *core, int direction);
/* Switch the foreground to the running VP named VP (a device's reason: a call it
 * rings); on the loop's thread, without the lock. 0, or -ESRCH (no such running VP). */
int devns_request_foreground(struct devns *core, const char *vp);
/* A line of DEVICE's for the root's status bar ("call for work from +1555..."), until
 * the next one; "" clears it. On the loop's thread, without the lock: the core calls
 * every device's announce hook (the one that draws the bar keeps it). */
void devns_announce(struct devns *core, const char *device, const char *text);
void devns_provide_screen(struct devns *core, const struct devns_screen_ops *ops, void *dev);
void devns_provide_input(struct devns *core, const struct devns_input_ops *ops, void *dev);
/* NULL where no device provides it. The result stays valid while the daemon runs. */
const struct devns_provided_screen *devns_screen(struct devns *core);
const struct devns_provided_input *devns_input(struct devns *core);
/* The devices as a VP's config knows them (their names, rights and settings). Valid
 * from devns_init on. */
const struct vp_catalog *devns_catalog(const struct devns *core);
/* A running VP's config changes from OLD to NEW: tell each device whose settings changed
 * (refused, nothing changed, where one cannot take it live). */
int devns_vp_configure(struct devns_vp *dvp, const struct vp_config *old,
		       const struct vp_config *new, struct error *err);
/* Watch W's fd on the daemon's event loop (a timer is a timerfd): W->handle runs on the
 * loop's thread, without the lock. devns_unwatch stops it (before W's fd is closed). */
int devns_watch(struct devns *core, struct loop_watch *w, uint32_t events);
void devns_unwatch(struct devns *core, struct loop_watch *w);
/* What a FUSE tree of a device's needs of the core (its loop and the device lock), set
 * into CONFIG before fusetree_create. */
struct fusetree_config;
void devns_fusetree_config(struct devns *core, struct fusetree_config *config);
/* An event of DEVICE's (an object with its own "event" key; taken) for `cell events`:
 * the core adds "device". On the loop's thread. */
void devns_emit_event(struct devns *core, const char *device, json_t *event);
/* DEVICE's instance in the running VP named VP, or NULL (no such VP, or none of the
 * device in it). On the loop's thread, which alone makes and tears down instances. */
void *devns_instance(struct devns *core, const char *vp, const char *device);
/* What `cell device` lists: every device, its right for a new VP, settings and verbs. */
json_t *devns_describe(const struct devns *core);
/* Run DEVICE's VERB with ARGS (a JSON array of strings) into REPLY. */
int devns_run_verb(struct devns *core, const char *device, const char *verb, json_t *args,
		   json_t *reply, struct error *err);
/* Have the daemon run the VP named VP as S says: freeze or thaw its processes, cap its
 * CPU or give it back its own limit. On the loop's thread, with or without the lock (the
 * daemon takes none of the core's). 0, or -ENOENT for a VP that is not running. */
int devns_vp_schedule(struct devns *core, const char *vp, const struct devns_vp_sched *s,
		      struct error *err);
/* Let the VP named VP run for MS milliseconds even if it is in the background and held
 * back (frozen): before an incoming call's RING or an SMS is delivered to it, a device
 * calls this and delivers once it returns (its processes are thawed). Each device with
 * a `wake` hook decides what it means for it; after MS the VP may be held back again. On
 * the loop's thread, without the lock. -ENOENT if no such VP runs. */
int devns_vp_wake(struct devns *core, const char *vp, unsigned ms);
/* One of the machine's system keys, never a VP's, was pressed (the device that reads the
 * keys calls it): every device with a `system_key` hook is told. On the loop's thread,
 * without the lock. */
void devns_system_key(struct devns *core, enum devns_system_key key);
/* The output's brightness, LEVEL of MAX (a backlight without a real one): the daemon
 * dims what it composes (screenshots, VNC) to it. Any thread, with or without the lock. */
void devns_output_brightness(struct devns *core, unsigned level, unsigned max);
/* The daemon's side: dim N composed pixels (XRGB8888) to the output's brightness. */
void devns_dim(const struct devns *core, uint32_t *pixels, size_t n);
/* Every device's part of `cell stats` (its own keys) into STATS. */
void devns_stats(struct devns *core, json_t *stats);

/* A device's option by name: its ops and the option, or NULL. */
const struct vdev_option *devns_find_option(const char *name, const struct vdev_ops **device);
void devns_fini(struct devns *core);

/* Every ioctl number any device traps: the seccomp filter's notify rules. */
unsigned devns_trapped_ioctls(struct ioctl_trap *out, unsigned max);

/* A VP's devices as one stage of its start (vp/runtime.h): prepare makes the instances
 * its config grants (refused, with the holder named, where a device is held exclusively
 * or asked for exclusively while others have it), enter binds their files, attach and
 * teardown run the devices' own. */
void devns_vp_stage(struct devns *core, struct devns_vp *dvp, struct vp_stage *stage);
/* Where the stage composes the VP NAME's /sys (files of its devices, laid out as the
 * kernel's), for the seal to show (vp/runtime.h's sys_dir). */
int devns_sys_dir(const struct devns *core, const char *name, char *out, size_t size);
/* The VP NAME is gone (destroyed): what the stage kept of it for its next start too. */
void devns_vp_forget(struct devns *core, const char *name);
/* Undo what the stage did (once; a no-op after). */
void devns_vp_destroy(struct devns_vp *dvp);
/* A prepared VP (HELD, cellsd --prepare) is not started: devns_instance and
 * devns_vp_wake do not find it until it is released (HELD false). */
void devns_vp_hold(struct devns_vp *dvp, bool held);
/* A seccomp listener of one of the VP's processes (its init's, an exec's). Takes FD. */
int devns_vp_listen(struct devns_vp *dvp, int fd, struct error *err);

/* Deactivate FROM's devices, then activate TO's (either may be NULL). */
void devns_switch(struct devns_vp *from, struct devns_vp *to);

void devns_lock(struct devns *core);
void devns_unlock(struct devns *core);
/* The fork rule (fork.c): every fork or clone of the daemon whose child runs on without
 * exec is made through one of these. devns_fork is fork(2); devns_hold_for_clone goes
 * around a clone3 (CORE is a struct devns; BEFORE true, then false in the parent). */
pid_t devns_fork(struct devns *core);
void devns_hold_for_clone(void *core, bool before);

/* What a VP's trapped calls cost the daemon since it started. */
struct devns_usage {
	uint64_t calls, busy_ns;
	uint64_t throttled; /* calls that waited for the VP's share to come back */
};
void devns_vp_usage(struct devns_vp *dvp, struct devns_usage *usage);
/* Its devices' part of its entry in `cell stats` (their own keys) into STATS; on the
 * loop's thread. */
void devns_vp_stats(struct devns_vp *dvp, json_t *stats);

/* Answer a deferred call, on the loop's thread (which alone adds and removes listeners),
 * without the lock. Ignored if its listener is gone. */
void devns_reply(struct devns *core, uint64_t listener_serial, uint64_t notify_id, long ret,
		 int error);

#endif
