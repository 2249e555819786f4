/* cellsd's state: one daemon, its VPs, its clients and its running jobs. Everything is
 * reached from struct daemon; nothing lives in globals. */
#ifndef CELLS_DAEMON_H
#define CELLS_DAEMON_H

#include "common/error.h"
#include "common/loop.h"
#include "common/proto.h"
#include "devns/core.h"
#include "scale/ksm.h"
#include "scale/lmk.h"
#include "scale/views.h"
#include "vp/runtime.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define CONSOLE_FOLLOWERS_MAX 8

enum vp_state { VP_STOPPED, VP_RUNNING, VP_STOPPING, VP_BROKEN };

struct client;
struct viewer;
struct input_play;

struct vp {
	struct vp *next;
	struct daemon *daemon;
	struct vp_config config;
	enum vp_state state;
	char broken_reason[512]; /* why the config could not be loaded */
	struct vp_runtime rt;
	struct devns_vp devns;		 /* its virtual devices */
	struct loop_watch exit_watch;	 /* cell-init's pidfd */
	struct loop_watch console_watch; /* the console's pty master */
	struct loop_watch stop_timer;	 /* grace period of a stop */
	int console_log;
	size_t console_log_size;
	char console_line[96]; /* the console's current line, looked at for notes */
	size_t console_line_len;
	char note[64]; /* how its rc ended, from cell-init ("rc exited 127") */
	int log_followers[CONSOLE_FOLLOWERS_MAX]; /* `cell logs -f`: pipes */
	int nlog_followers;
	struct client *console_client; /* `cell console` holding the pty, if any */
	struct client *stop_waiters;   /* chained by client->next_waiter */
	uint64_t started_ns;
	uint64_t left_foreground_ns; /* when it last left the foreground; 0: never in it */
	int last_status;	     /* of cell-init, as waitpid gave it */
	struct devns_vp_sched sched; /* how a device asks it to be run (sched.c) */
	bool mark_unsynced;	     /* its running mark is not yet durable */
	bool console_pending;	     /* started, its console not yet logged (vp_start_finish) */
	bool prepared;		     /* stopped, its start made up to the exec (prepare.c) */
};

struct job;
typedef void (*job_done_fn)(struct job *job, int status);

/* A child process of the daemon whose end answers a request (exec, image build). */
struct job {
	struct job *next;
	struct daemon *daemon;
	pid_t pid;
	struct loop_watch watch; /* its pidfd */
	struct client *client;
	job_done_fn done;
	char name[NAME_MAX_LEN + 1]; /* what it works on: an image name */
	char tmp_dir[PATH_MAX];	     /* removed when the job ends */
	bool ends_with_client;	     /* killed when its client goes (exec) */
	void *ctx;		     /* what DONE needs (exec: its struct exec) */
};

struct client {
	struct client *next;
	struct daemon *daemon;
	struct loop_watch watch;
	struct line_reader reader;
	bool subscribed; /* `cell events` */
	bool busy;	 /* a request is answered later (stop, exec, image build) */
	bool closed;	 /* peer gone while busy: freed when the answer is due */
	struct client *next_waiter;
	struct vp *console_vp;
};

struct daemon {
	char state_dir[PATH_MAX];
	char vps_dir[PATH_MAX + 8]; /* STATE/vps */
	char run_dir[PATH_MAX];
	char lib_dir[PATH_MAX]; /* cell-init, apps/, images/ */
	char cgroup_parent[64];
	uid_t uid_base;
	struct cgroup_host cgroups;
	struct loop loop;
	struct loop_watch listener;
	struct loop_watch signals;
	int lock_fd;	   /* RUN/cellsd.pid, locked */
	int state_lock_fd; /* STATE/cellsd.lock, locked */
	bool owns_run_dir; /* both locks held: its files are this daemon's to remove */
	bool devns_ready;
	int foreground_fd; /* STATE/foreground, opened at the first switch */
	int init_exe_fd;
	struct vp_filter filter;
	struct devns_host devices; /* what the device framework has of the daemon */
	struct devns_option_value device_options[32]; /* as given on the command line */
	unsigned ndevice_options;
	struct devns devns;
	struct viewer *viewer; /* VNC and the web page, if either runs */
	char vnc_addr[64];     /* "none", "unix" or ADDR:PORT */
	char web_addr[64];
	struct input_play *input_plays; /* text and swipes: the first plays, the rest wait */
	struct vp *vps;
	struct vp *foreground;
	struct client *clients;
	struct job *jobs;
	bool shutting_down;
	uint64_t switches;
	uint64_t last_switch_ns;
	unsigned stop_timeout_s;
	uint64_t default_disk;		 /* of a VP created without --disk; 0: none */
	int prepare_max;		 /* --prepare: how many stopped VPs to prepare; -1 all */
	struct loop_watch prepare_timer; /* preparing, soon after what made it due */
	/* scale.c */
	uint64_t memory_total; /* --memory-total: the VPs' parent group's limit; 0: none */
	struct ksm_policy ksm_policy;
	struct ksm ksm;
	struct lmk lmk;
	struct views views;
	bool lmk_off, views_off;
	bool ksm_ready, lmk_ready, views_ready;
};

/* vps.c: the registry and the lifecycle */
struct vp *vp_find(struct daemon *d, const char *name);
int vps_load(struct daemon *d);
int vp_create(struct daemon *d, const struct vp_config *config, struct error *err);
int vp_start(struct vp *vp, struct error *err);
/* What a start does that need not delay its answer, called right after it: the console
 * log (a new one for each run) and its watch, the running mark's fsync. */
void vp_start_finish(struct vp *vp);
/* Ask VP to stop; CLIENT (may be NULL) gets its answer when it has. */
int vp_stop(struct vp *vp, unsigned timeout_s, struct client *client, struct error *err);
int vp_destroy(struct vp *vp, bool force, struct error *err);
/* Replace VP's config with CONFIG (same name and id). A running VP takes new limits and
 * restart policy at once; its image and devices change only while it is stopped. */
int vp_reconfigure(struct vp *vp, const struct vp_config *config, struct error *err);
/* prepare.c: stopped VPs started ahead up to their exec (vp_prepare), `cellsd --prepare`.
 * Soon (on the loop, after the current request's answer), prepare the stopped VPs that
 * are due, up to the daemon's count. */
void vps_prepare_soon(struct daemon *d);
/* Tear down VP's prepared start, if it has one (its config, image or devices change). */
void vp_unprepare(struct vp *vp);
/* ... of every VP on IMAGE (NULL: every VP). */
void vps_unprepare_image(struct daemon *d, const char *image);
/* ... of every VP holding a device that CONFIG asks for exclusively. */
void vps_unprepare_conflicting(struct daemon *d, const struct vp_config *config);
/* The start's setup of VP's runtime, shared by a start and a preparation (vps.c). */
int vp_runtime_setup(struct vp *vp, struct error *err);

/* sched.c: the devices' devns_vp_schedule (devns_host.vp_schedule), and the cgroup limits
 * of a VP's CONFIG under the cap a device asked for. */
int vp_schedule(void *ctx, const char *name, const struct devns_vp_sched *s, struct error *err);
struct cgroup_limits vp_limits(const struct vp *vp, const struct vp_config *config);
void vps_stop_all(struct daemon *d);
/* Whether VP, stopped, should start now that cellsd starts: its restart policy, and for
 * unless-stopped whether it was running when the last daemon stopped or died. */
bool vp_should_restart(struct vp *vp);
bool vps_any_running(struct daemon *d);
const char *vp_state_name(enum vp_state s);
json_t *vp_describe(struct vp *vp);

/* foreground.c */
int foreground_switch(struct daemon *d, struct vp *to, struct error *err);
struct vp *foreground_neighbour(struct daemon *d, int direction);
/* The VP that was in the foreground when the last daemon stopped, if it still exists. */
struct vp *foreground_saved(struct daemon *d);
/* The foreground VP went away: hand the screen to the next running one. */
void foreground_lost(struct daemon *d, struct vp *gone);

/* console.c */
int console_start(struct vp *vp, struct error *err);
void console_stop(struct vp *vp);
int console_attach(struct vp *vp, struct client *c, int *fd, struct error *err);
void console_detach(struct vp *vp);
/* The log for `cell logs`: descriptors of the older and the current file (those that
 * exist, their sizes appended to SIZES), and with FOLLOW, of a running VP, a pipe that
 * gets what comes next and ends with the run. */
int console_logs(struct vp *vp, bool follow, int fds[3], int *nfds, json_t *sizes,
		 struct error *err);

/* jobs.c */
struct job *job_start(struct daemon *d, pid_t pid, struct client *c, job_done_fn done,
		      struct error *err);
void job_cancel_client(struct daemon *d, struct client *c);
bool jobs_busy_with(struct daemon *d, const char *name);

/* images.c */
int image_path(struct daemon *d, const char *name, char *buf, size_t len);
bool image_exists(struct daemon *d, const char *name);
json_t *images_list(struct daemon *d);
/* Both answer CLIENT when done; the recipe's or the copy's output goes to OUTPUT_FD. */
int image_build(struct daemon *d, const char *name, struct client *c, int output_fd,
		struct error *err);
int image_import(struct daemon *d, const char *name, const char *source, struct client *c,
		 int output_fd, struct error *err);
/* Refused while a VP, running or not, uses the image or a job builds it. */
int image_remove(struct daemon *d, const char *name, struct error *err);

/* control.c */
int control_listen(struct daemon *d, struct error *err);
void client_reply(struct client *c, json_t *reply);
/* The same with descriptors beside the line (stolen REPLY; FDS stay the caller's). */
void client_reply_fds(struct client *c, json_t *reply, const int *fds, int nfds);
void client_reply_error(struct client *c, const char *msg);
/* A deferred answer is done: the client may read the next request or be freed. */
void client_release(struct client *c);

/* commands.c */
void command_dispatch(struct client *c, json_t *req, int *fds, int nfds);
/* The VP named by the request's "name", or NULL after answering the client why not. */
struct vp *req_vp(struct client *c, json_t *req);

/* exec.c: `cell exec`, answered with the command's pipes, with a terminal then its pty,
 * and last with its exit status */
void cmd_exec(struct client *c, json_t *req, int *fds, int nfds);

/* events.c */
void event_emit(struct daemon *d, json_t *event);
void event_state(struct vp *vp, const char *reason);

/* input_play.c: `cell input text` and `swipe`, paced on the loop; each answers its client
 * when done */
#define INPUT_TEXT_MAX 4096 /* bytes */
int input_play_text(struct daemon *d, struct client *c, const char *text, size_t len,
		    struct error *err);
int input_play_swipe(struct daemon *d, struct client *c, const int xy[4], unsigned ms,
		     struct error *err);
/* Its client went: what it asked for ends, and no answer is due. */
void input_play_cancel_client(struct daemon *d, struct client *c);
void input_play_stop_all(struct daemon *d);

/* scale.c: KSM, the low-memory killer, /proc views */
/* An option of scale's (memory-total, ksm, ksm-hard, ksm-gentle, lmk, proc-views): -1
 * after saying why it is wrong. */
int scale_option(struct daemon *d, const char *name, const char *value);
int scale_init(struct daemon *d, struct error *err);
void scale_fini(struct daemon *d);
/* A VP started (STARTED) or stopped. */
void scale_vps_changed(struct daemon *d, bool started);
/* Before VP's start: where its runtime finds the /proc views. */
void scale_prepare_vp(struct vp *vp);
void scale_vp_stats(struct vp *vp, json_t *j);
void scale_stats(struct daemon *d, json_t *extra);

/* stale.c: what a killed daemon left behind */
void stale_cleanup(struct daemon *d);

#endif
