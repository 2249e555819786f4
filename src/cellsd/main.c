/* cellsd: the root daemon of Cells. It owns the VPs' configs and state, starts and stops
 * them, keeps track of the foreground, and answers `cell` on its control socket. */
#include "cellsd/daemon.h"
#include "cellsd/viewer.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/sealed.h"
#include "common/version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_STATE_DIR "/var/lib/cells"
#define DEFAULT_RUN_DIR	  "/run/cells"
/* Far above the uids of host users and the usual /etc/subuid ranges. */
#define DEFAULT_UID_BASE 1000000000u
#define DEFAULT_STOP_S	 10
#define DEFAULT_VNC	 "unix"
#define DEFAULT_WEB	 "unix"

#ifndef PR_GET_MEMORY_MERGE
#define PR_GET_MEMORY_MERGE 68
#endif

/* The devices' own options, in the help's layout: the name, then the help, at column 18. */
static void print_device_options(FILE *out)
{
	for (unsigned d = 0; d < vdev_count; d++)
		for (const struct vdev_option *o = vdev_registry[d]->options; o && o->name; o++) {
			int n = fprintf(out, "  --%s%s%s", o->name, o->arg ? " " : "",
					o->arg ? o->arg : "");
			const char *line = o->help;
			if (n >= 17)
				fprintf(out, "\n%18s", "");
			else
				fprintf(out, "%*s", 18 - n, "");
			while (line && *line) {
				size_t len = strcspn(line, "\n");
				fprintf(out, "%.*s\n", (int)len, line);
				line += len + (line[len] == '\n');
				if (*line)
					fprintf(out, "%18s", "");
			}
		}
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cellsd [--state DIR] [--run DIR] [--lib DIR] [--uid-base UID]\n"
		"              [--vnc unix|ADDR:PORT|none] [--web unix|ADDR:PORT|none]\n"
		"              [--display WxH] [DEVICE OPTIONS]...\n"
		"              [--stop-timeout SECONDS] [--default-disk SIZE|none]\n"
		"              [--prepare N|all|none] [--verbose] [--help] [--version]\n"
		"  --state DIR     VP configs, upper layers and images (default %s)\n"
		"  --run DIR       control socket and runtime files (default %s)\n"
		"  --lib DIR       cell-init, apps/ and images/ (default: beside cellsd,\n"
		"                  else ../lib/cells from it, as installed)\n"
		"  --uid-base UID  host uid of VP 0's root; VP n gets UID + n*65536 (default %u)\n"
		"  --vnc unix|ADDR:PORT|none\n"
		"                  the screen over VNC: RUN/viewer/vnc.sock (root only), and\n"
		"                  with ADDR:PORT also over TCP with a password (default %s)\n"
		"  --web unix|ADDR:PORT|none\n"
		"                  a web page: the screen (noVNC), the VPs, switch buttons:\n"
		"                  RUN/viewer/web.sock, and with ADDR:PORT also over TCP\n"
		"                  with a token (default %s); `cell viewer` shows both\n"
		"  --display WxH   the screen's mode, every VP's /dev/fb0 (default %ux%u)\n",
		DEFAULT_STATE_DIR, DEFAULT_RUN_DIR, DEFAULT_UID_BASE, DEFAULT_VNC, DEFAULT_WEB,
		DEVNS_SCREEN_WIDTH, DEVNS_SCREEN_HEIGHT);
	print_device_options(out);
	fprintf(out,
		"  --memory-total SIZE\n"
		"                  memory of all VPs together (a parent cgroup), like 2G;\n"
		"                  the low-memory killer picks what dies there (default: none)\n"
		"  --ksm on|off    drive the KSM scanner while VPs run (default on)\n"
		"  --ksm-hard SLEEP_MS,PAGES,SECONDS\n"
		"                  the scanner after a VP starts (default 100,500,70)\n"
		"  --ksm-gentle SLEEP_MS,PAGES\n"
		"                  the scanner after that (default 1500,100)\n"
		"  --lmk on|off    the low-memory killer (default on)\n"
		"  --proc-views on|off\n"
		"                  lxcfs's per-VP /proc/meminfo, cpuinfo, stat, uptime,\n"
		"                  loadavg, diskstats, swaps (default on, where installed)\n"
		"  --stop-timeout SECONDS\n"
		"                  grace period of a stop before SIGKILL, 0..3600 (default %u)\n"
		"  --default-disk SIZE|none\n"
		"                  the disk of a VP created without --disk (default %lluG;\n"
		"                  none: a plain directory, no quota)\n"
		"  --prepare N|all|none\n"
		"                  keep up to N stopped VPs started up to their init's exec,\n"
		"                  so that `cell start` only releases it (default none)\n"
		"  --verbose, -v   debug messages in the log (default: info and above)\n"
		"  --help, -h      this help\n"
		"  --version       print \"cellsd " CELLS_VERSION "\" and exit\n",
		DEFAULT_STOP_S, (unsigned long long)(VP_DISK_DEFAULT >> 30));
}

/* The system switch keys were pressed (the input router asks on the loop). */
static void system_switch(void *ctx, int direction)
{
	struct daemon *d = ctx;
	struct vp *to = foreground_neighbour(d, direction);

	if (to)
		foreground_switch(d, to, NULL);
}

/* A device brings a VP to the front (devns_request_foreground): its call rings. */
static int device_foreground(void *ctx, const char *name)
{
	struct daemon *d = ctx;
	struct vp *to = vp_find(d, name);

	if (!to)
		return -ESRCH;
	return foreground_switch(d, to, NULL) < 0 ? -ESRCH : 0;
}

/* A device's event (devns_emit_event). */
static void device_event(void *ctx, json_t *event)
{
	event_emit(ctx, event);
}

/* The build tree keeps cell-init beside cellsd; `make install` puts cellsd in PREFIX/sbin
 * and the rest in PREFIX/lib/cells. Returns the directory to use as --lib. */
static const char *default_lib_dir(const char *exe_dir, char *buf, size_t size)
{
	char probe[PATH_MAX];

	snprintf(probe, sizeof(probe), "%s/cell-init", exe_dir);
	if (access(probe, X_OK) == 0)
		return exe_dir;
	snprintf(buf, size, "%s/../lib/cells", exe_dir);
	snprintf(probe, sizeof(probe), "%s/cell-init", buf);
	return access(probe, X_OK) == 0 ? buf : exe_dir;
}

#define DEVICE_OPTION 0x100 /* getopt's value of the devices' options: + their index */
#define OPTIONS_MAX   64

/* The daemon's own options, then every device's (which the devices parse themselves). */
static int all_options(const struct option *own, struct option *all,
		       const struct vdev_option **device, unsigned max)
{
	unsigned n = 0, k = 0;

	while (own[n].name && n < max)
		all[n] = own[n], n++;
	for (unsigned d = 0; d < vdev_count; d++)
		for (const struct vdev_option *o = vdev_registry[d]->options; o && o->name; o++) {
			if (n + 1 >= max)
				return -E2BIG;
			device[k] = o;
			all[n++] =
				(struct option){o->name, o->arg ? required_argument : no_argument,
						NULL, DEVICE_OPTION + (int)k++};
		}
	all[n] = (struct option){NULL, 0, NULL, 0};
	return 0;
}

/* A device's option as given: checked by its device, kept for its init. */
static int keep_device_option(struct daemon *d, const struct vdev_option *o, const char *value)
{
	const struct vdev_ops *device = NULL;
	struct error err = {{0}};

	devns_find_option(o->name, &device);
	if (device && device->check_option && device->check_option(o->name, value, &err) < 0) {
		fprintf(stderr, "cellsd: %s\n", err.msg);
		return -1;
	}
	if (d->ndevice_options == ARRAY_SIZE(d->device_options)) {
		fprintf(stderr, "cellsd: too many device options (at most %zu)\n",
			ARRAY_SIZE(d->device_options));
		return -1;
	}
	d->device_options[d->ndevice_options++] =
		(struct devns_option_value){.name = o->name, .value = value ? value : ""};
	return 0;
}

static int parse_args(struct daemon *d, int argc, char **argv)
{
	static const struct option own[] = {
		{"state", required_argument, NULL, 's'},
		{"run", required_argument, NULL, 'r'},
		{"lib", required_argument, NULL, 'l'},
		{"uid-base", required_argument, NULL, 'u'},
		{"stop-timeout", required_argument, NULL, 't'},
		{"vnc", required_argument, NULL, 'n'},
		{"web", required_argument, NULL, 'w'},
		{"display", required_argument, NULL, 'd'},
		{"default-disk", required_argument, NULL, 'D'},
		{"memory-total", required_argument, NULL, 'S'},
		{"ksm", required_argument, NULL, 'S'},
		{"ksm-hard", required_argument, NULL, 'S'},
		{"ksm-gentle", required_argument, NULL, 'S'},
		{"lmk", required_argument, NULL, 'S'},
		{"proc-views", required_argument, NULL, 'S'},
		{"prepare", required_argument, NULL, 'p'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct option opts[OPTIONS_MAX];
	const struct vdev_option *device_opts[OPTIONS_MAX];
	const char *state = DEFAULT_STATE_DIR, *run = DEFAULT_RUN_DIR, *lib = NULL;
	char self[PATH_MAX], installed[PATH_MAX];
	unsigned long value;
	char *end;
	int opt, index;

	d->uid_base = DEFAULT_UID_BASE;
	d->ksm_policy = KSM_DEFAULT_POLICY;
	if (all_options(own, opts, device_opts, OPTIONS_MAX) < 0) {
		fprintf(stderr, "cellsd: more options than %d\n", OPTIONS_MAX);
		return -1;
	}
	d->devices.screen_width = DEVNS_SCREEN_WIDTH;
	d->devices.screen_height = DEVNS_SCREEN_HEIGHT;
	d->devices.request_switch = system_switch;
	d->devices.request_foreground = device_foreground;
	d->devices.emit_event = device_event;
	d->devices.vp_schedule = vp_schedule;
	d->devices.ctx = d;
	d->stop_timeout_s = DEFAULT_STOP_S;
	d->prepare_max = 0;
	d->default_disk = VP_DISK_DEFAULT;
	snprintf(d->vnc_addr, sizeof(d->vnc_addr), "%s", DEFAULT_VNC);
	snprintf(d->web_addr, sizeof(d->web_addr), "%s", DEFAULT_WEB);
	while ((opt = getopt_long(argc, argv, "vh", opts, &index)) != -1) {
		switch (opt) {
		case 's':
			state = optarg;
			break;
		case 'r':
			run = optarg;
			break;
		case 'l':
			lib = optarg;
			break;
		case 'u':
		case 't':
			errno = 0;
			value = strtoul(optarg, &end, 10);
			if (errno || *end || !optarg[0] ||
			    (opt == 'u' && value > 0xffffffffUL - (VP_ID_MAX + 1ul) * 65536) ||
			    (opt == 't' && value > 3600)) {
				fprintf(stderr, "cellsd: invalid --%s '%s'\n",
					opt == 'u' ? "uid-base" : "stop-timeout", optarg);
				return -1;
			}
			if (opt == 'u')
				d->uid_base = (uid_t)value;
			else
				d->stop_timeout_s = (unsigned)value;
			break;
		case 'n':
		case 'w':
			if (snprintf(opt == 'n' ? d->vnc_addr : d->web_addr, sizeof(d->vnc_addr),
				     "%s", optarg) >= (int)sizeof(d->vnc_addr)) {
				fprintf(stderr, "cellsd: '%s' is too long\n", optarg);
				return -1;
			}
			break;
		case 'd':
			if (parse_mode(optarg, &d->devices.screen_width,
				       &d->devices.screen_height) < 0) {
				fprintf(stderr,
					"cellsd: --display wants WIDTHxHEIGHT, 64 to 4096 each, "
					"like 720x1280; not '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'D': {
			struct vp_config scratch;
			struct error err = {{0}};
			vp_config_defaults(&scratch, "x", NULL);
			if (vp_config_set_option(&scratch, "disk", optarg, &err) < 0) {
				fprintf(stderr, "cellsd: %s\n", err.msg);
				return -1;
			}
			d->default_disk = scratch.disk;
			break;
		}
		case 'S':
			if (scale_option(d, opts[index].name, optarg) < 0)
				return -1;
			break;
		case 'p':
			errno = 0;
			value = strtoul(optarg, &end, 10);
			if (strcmp(optarg, "all") == 0)
				d->prepare_max = -1;
			else if (strcmp(optarg, "none") == 0)
				d->prepare_max = 0;
			else if (!errno && !*end && optarg[0] && value <= VP_ID_MAX)
				d->prepare_max = (int)value;
			else {
				fprintf(stderr,
					"cellsd: --prepare wants N, all or none; not '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'v':
			log_init("cellsd", LOG_LEVEL_DEBUG);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("cellsd %s\n", CELLS_VERSION);
			exit(0);
		default:
			if (opt >= DEVICE_OPTION && opt < DEVICE_OPTION + OPTIONS_MAX) {
				if (keep_device_option(d, device_opts[opt - DEVICE_OPTION],
						       optarg) < 0)
					return -1;
				break;
			}
			usage(stderr);
			return -1;
		}
	}
	d->devices.options = d->device_options;
	d->devices.noptions = d->ndevice_options;
	if (optind != argc) {
		fprintf(stderr, "cellsd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	if (!lib) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0) {
			log_error_errno(errno, "readlink /proc/self/exe");
			return -1;
		}
		self[n] = '\0';
		lib = default_lib_dir(dirname(self), installed, sizeof(installed));
	}
	if (mkdir_p(state, 0700) < 0 || mkdir_p(run, 0711) < 0) {
		log_error_errno(errno, "create %s or %s", state, run);
		return -1;
	}
	if (!realpath(state, d->state_dir) || !realpath(run, d->run_dir) ||
	    !realpath(lib, d->lib_dir)) {
		log_error_errno(errno, "resolve the state, run or lib directory");
		return -1;
	}
	return 0;
}

/* Several daemons may run side by side (tests do): each gets its own cgroup subtree,
 * named after its run directory. */
static void name_cgroup_parent(struct daemon *d)
{
	uint32_t hash = 2166136261u;

	if (strcmp(d->run_dir, DEFAULT_RUN_DIR) == 0) {
		snprintf(d->cgroup_parent, sizeof(d->cgroup_parent), "cells");
		return;
	}
	for (const char *p = d->run_dir; *p; p++)
		hash = (hash ^ (unsigned char)*p) * 16777619u;
	snprintf(d->cgroup_parent, sizeof(d->cgroup_parent), "cells-%08x", hash);
}

static void on_signal(struct loop_watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, signals);
	struct signalfd_siginfo si;

	(void)events;
	if (read(w->fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP)
		return;
	if (d->shutting_down) {
		log_info("second signal: killing every VP now");
		for (struct vp *vp = d->vps; vp; vp = vp->next)
			if (vp->state == VP_RUNNING || vp->state == VP_STOPPING)
				cgroup_kill(vp->rt.cgroups, vp->rt.cgroup);
		return;
	}
	log_info("signal %u: stopping every VP", si.ssi_signo);
	d->shutting_down = true;
	vps_unprepare_image(d, NULL);
	vps_stop_all(d);
	if (!vps_any_running(d))
		d->loop.quit = true;
}

/* A VP's root (an unprivileged host uid) attaches its file system under RUN/vps/NAME from
 * inside its user namespace, so the way there must be searchable by others (as LXC asks of
 * its container paths). */
static int check_run_dir_searchable(struct daemon *d, struct error *err)
{
	char path[PATH_MAX];
	struct stat st;

	if (chmod(d->run_dir, 0711) < 0)
		return error_set(err, errno, "chmod %s", d->run_dir);
	snprintf(path, sizeof(path), "%s", d->run_dir);
	for (char *slash; (slash = strrchr(path, '/')) && slash != path;) {
		*slash = '\0';
		if (stat(path, &st) < 0)
			return error_set(err, errno, "stat %s", path);
		if (!(st.st_mode & S_IXOTH))
			return error_set(err, 0,
					 "%s must be searchable by others (chmod o+x) to hold "
					 "the run directory %s",
					 path, d->run_dir);
	}
	return 0;
}

/* VNC and the web page, in the viewer's process; an address that cannot be used is
 * fatal: a user who asked for it would otherwise look for it in vain. */
static int start_viewer(struct daemon *d, struct error *err)
{
	return viewer_start(d, d->vnc_addr, d->web_addr, &d->viewer, err);
}

/* Lock PATH and write CONTENT in it; held until the daemon exits. When another process
 * holds it: -EWOULDBLOCK, with the first line it wrote in HOLDER. A process's record lock
 * (not flock's, which belongs to the open file) ends with the daemon itself: the children
 * it forked, a prepared VP waiting before its exec, hold copies of the descriptor for a
 * moment after a crash, and a new daemon must not see the dead one's lock in them. (The
 * daemon must never close another descriptor of these files: that drops the lock.) */
static int take_lock(const char *path, const char *content, int *fd, char *holder,
		     size_t holder_len, struct error *err)
{
	struct flock whole = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	ssize_t n;

	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return error_set(err, errno, "open %s", path);
	if (fcntl(*fd, F_SETLK, &whole) < 0) {
		if (errno != EACCES && errno != EAGAIN)
			return error_set(err, errno, "lock %s", path);
		n = pread(*fd, holder, holder_len - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		return -EWOULDBLOCK;
	}
	if (ftruncate(*fd, 0) < 0 || write(*fd, content, strlen(content)) < 0)
		return error_set(err, errno, "write %s", path);
	return 0;
}

/* One daemon per state directory (two would start the same VP twice on one upper layer)
 * and one per run directory (its socket, pid file and mounts). The state lock names the
 * holder's pid and run directory; the run lock is the pid file, which holds the pid alone
 * (for `kill $(cat cellsd.pid)`). */
static int lock_dirs(struct daemon *d, struct error *err)
{
	char path[PATH_MAX], content[PATH_MAX + 32], holder[PATH_MAX + 32];
	int ret, pid, end = 0;

	snprintf(path, sizeof(path), "%s/cellsd.lock", d->state_dir);
	snprintf(content, sizeof(content), "%d %s\n", (int)getpid(), d->run_dir);
	ret = take_lock(path, content, &d->state_lock_fd, holder, sizeof(holder), err);
	if (ret == -EWOULDBLOCK) {
		if (sscanf(holder, "%d %n", &pid, &end) == 1 && end > 0 && holder[end])
			return error_set(err, 0,
					 "another cellsd (pid %d, run directory %s) holds the "
					 "state directory %s",
					 pid, holder + end, d->state_dir);
		return error_set(err, 0, "another cellsd holds the state directory %s",
				 d->state_dir);
	}
	if (ret < 0)
		return ret;
	snprintf(path, sizeof(path), "%s/cellsd.pid", d->run_dir);
	snprintf(content, sizeof(content), "%d\n", (int)getpid());
	ret = take_lock(path, content, &d->lock_fd, holder, sizeof(holder), err);
	if (ret == -EWOULDBLOCK)
		return error_set(err, 0, "another cellsd (pid %s) runs on %s",
				 holder[0] ? holder : "unknown", d->run_dir);
	if (ret < 0)
		return ret;
	d->owns_run_dir = true;
	return 0;
}

static int setup(struct daemon *d, struct error *err)
{
	char path[PATH_MAX];
	sigset_t mask;
	int ret;

	if ((ret = lock_dirs(d, err)) < 0)
		return ret;
	if ((ret = check_run_dir_searchable(d, err)) < 0)
		return ret;
	if ((ret = cgroup_host_detect(&d->cgroups, err)) < 0)
		return ret;
	name_cgroup_parent(d);
	snprintf(path, sizeof(path), "%s/cell-init", d->lib_dir);
	/* Run from a sealed copy: the VP's /proc/1/exe names no host path. */
	d->init_exe_fd = sealed_copy(path, "cell-init", err);
	if (d->init_exe_fd < 0)
		return d->init_exe_fd;
	struct ioctl_trap trapped[64];
	unsigned ntrapped = devns_trapped_ioctls(trapped, 64);
	if ((ret = vp_filter_build(&d->filter, trapped, ntrapped, err)) < 0)
		return ret;
	if (prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) < 0)
		log_info("notice: this kernel has no PR_SET_MEMORY_MERGE; VPs run without KSM");

	stale_cleanup(d);
	/* Root's alone, whatever an older daemon or the admin left: a VP's upper layer holds
	 * files of modes the VP chose. */
	const char *state_dirs[] = {"vps", "images"};
	for (size_t i = 0; i < ARRAY_SIZE(state_dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", d->state_dir, state_dirs[i]);
		if ((ret = mkdir_p(path, 0700)) < 0)
			return error_set(err, ret, "create %s", path);
		if (chmod(path, 0700) < 0)
			return error_set(err, errno, "chmod %s", path);
	}

	if ((ret = loop_init(&d->loop)) < 0)
		return error_set(err, ret, "epoll");
	snprintf(d->vps_dir, sizeof(d->vps_dir), "%s/vps", d->state_dir);
	d->devices.vps_dir = d->vps_dir;
	d->devices.run_dir = d->run_dir;
	snprintf(path, sizeof(path), "%s/dev", d->run_dir);
	if ((ret = devns_init(&d->devns, &d->loop, path, &d->devices, err)) < 0)
		return ret;
	d->devns_ready = true;
	if ((ret = scale_init(d, err)) < 0)
		return ret;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signals.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->signals.handle = on_signal;
	if (d->signals.fd < 0 || loop_add(&d->loop, &d->signals, EPOLLIN) < 0)
		return error_set(err, errno, "signalfd");
	if ((ret = start_viewer(d, err)) < 0)
		return ret;
	if ((ret = vps_load(d)) < 0)
		return error_set(err, ret, "load VPs");
	return control_listen(d, err);
}

/* The VPs that were running when the last daemon stopped or died (or whose policy is
 * always) run again, and the foreground of then is the foreground again. */
static void restart_vps(struct daemon *d)
{
	struct vp *foreground = foreground_saved(d);

	for (struct vp *vp = d->vps; vp; vp = vp->next) {
		struct error err = {{0}};
		if (vp_should_restart(vp) && vp_start(vp, &err) < 0)
			log_error("restart: %s", err.msg);
		vp_start_finish(vp);
	}
	if (foreground && foreground->state == VP_RUNNING)
		foreground_switch(d, foreground, NULL);
}

/* Undo what setup did, also when it stopped half-way: a daemon that failed to start
 * leaves nothing behind, and never touches the files of the daemon that holds its
 * directories. */
static void shutdown_daemon(struct daemon *d)
{
	char path[PATH_MAX];

	input_play_stop_all(d);
	while (d->clients) {
		struct client *c = d->clients;
		d->clients = c->next;
		line_reader_release(&c->reader);
		close(c->watch.fd);
		free(c);
	}
	vps_unprepare_image(d, NULL);
	if (d->prepare_timer.fd >= 0)
		close(d->prepare_timer.fd);
	while (d->vps) {
		struct vp *vp = d->vps;
		d->vps = vp->next;
		free(vp);
	}
	viewer_stop(d->viewer);
	d->viewer = NULL;
	scale_fini(d);
	if (d->devns_ready)
		devns_fini(&d->devns);
	loop_fini(&d->loop);
	vp_filter_free(&d->filter);
	if (d->init_exe_fd >= 0)
		close(d->init_exe_fd);
	if (d->foreground_fd >= 0)
		close(d->foreground_fd);
	if (d->owns_run_dir) {
		if (d->cgroup_parent[0])
			cgroup_destroy_tree(&d->cgroups, d->cgroup_parent);
		snprintf(path, sizeof(path), "%s/vps", d->run_dir);
		rm_rf(path);
		snprintf(path, sizeof(path), "%s/dev", d->run_dir);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/viewer/root", d->run_dir);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/viewer", d->run_dir);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/cellsd.sock", d->run_dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/cellsd.pid", d->run_dir);
		unlink(path);
	}
	/* The state directory's lock file stays: removing it would race a new daemon's open. */
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	if (d->state_lock_fd >= 0)
		close(d->state_lock_fd);
}

int main(int argc, char **argv)
{
	struct daemon d = {.lock_fd = -1,
			   .state_lock_fd = -1,
			   .foreground_fd = -1,
			   .init_exe_fd = -1,
			   .prepare_timer.fd = -1,
			   .loop.epfd = -1};
	struct error err = {{0}};
	int ret;

	/* glibc's mmap threshold, left dynamic, climbs to the largest block freed
	 * (libnftables' 2 MiB batch, one per transaction); then each VP's 1 MiB FUSE buffer
	 * and every batch come from the heap, which fragments and keeps what was touched
	 * (docs/BENCHMARKS.md, "The network": 50 VPs, 37 against 19 MB). A fixed one keeps
	 * large blocks mapped and returned. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	log_init("cellsd", LOG_LEVEL_INFO);
	if (parse_args(&d, argc, argv) < 0)
		return 2;
	if (geteuid() != 0) {
		log_error("cellsd must run as root");
		return 1;
	}
	if (setup(&d, &err) < 0) {
		log_error("%s", err.msg);
		shutdown_daemon(&d);
		return 1;
	}
	log_info("ready: state %s, control socket %s/cellsd.sock, cgroup %s (%s)", d.state_dir,
		 d.run_dir, d.cgroup_parent, d.cgroups.v2 ? "v2" : "v1");
	restart_vps(&d);
	vps_prepare_soon(&d);
	ret = loop_run(&d.loop);
	if (ret < 0)
		log_error_errno(-ret, "event loop");
	shutdown_daemon(&d);
	log_info("stopped");
	return ret < 0 ? 1 : 0;
}
