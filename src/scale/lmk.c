#include "scale/lmk.h"
#include "common/clock.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "vp/members.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define LMK_VPS_MAX   256
#define LMK_PROCS_MAX 8192
/* A stall of 150 ms of memory in one second: the system thrashes. */
#define PSI_TRIGGER "some 150000 1000000"
/* Between two kills for the same pressure: the last victim's memory is being freed. */
#define KILL_GAP_NS (100 * 1000000ull)
#define RETRY_NS    (200 * 1000000ull)
#define UNKILLABLE  (-1000)
/* Where the kernel refuses triggers: the 10 s average, read every second. */
#define POLL_AVG10 15.0
/* v2: memory.high is this part of memory.max below it, within these bounds. */
#define HIGH_SHARE	  8
#define HIGH_MIN_HEADROOM (8ull << 20)
#define HIGH_MAX_HEADROOM (256ull << 20)

/* Whether A goes before B (is killed first). */
static bool before(const struct lmk_vp *vps, const struct lmk_proc *a, const struct lmk_proc *b)
{
	const struct lmk_vp *va = &vps[a->vp], *vb = &vps[b->vp];

	if (va->foreground != vb->foreground)
		return !va->foreground;
	if (va->left_foreground_ns != vb->left_foreground_ns)
		return va->left_foreground_ns < vb->left_foreground_ns;
	if (a->vp != b->vp)
		return a->vp < b->vp;
	if (a->init != b->init)
		return !a->init;
	if (a->oom_score_adj != b->oom_score_adj)
		return a->oom_score_adj > b->oom_score_adj;
	if (a->rss_kb != b->rss_kb)
		return a->rss_kb > b->rss_kb;
	return a->pid < b->pid;
}

long lmk_choose(const struct lmk_vp *vps, size_t nvps, const struct lmk_proc *procs, size_t nprocs)
{
	long best = -1;

	for (size_t i = 0; i < nprocs; i++) {
		if (procs[i].vp >= nvps || procs[i].oom_score_adj <= UNKILLABLE)
			continue;
		if (best < 0 || before(vps, &procs[i], &procs[best]))
			best = (long)i;
	}
	return best;
}

/* /proc/PID/FILE's first number; -ENOENT when the process is gone. */
static int proc_number(pid_t pid, const char *file, long long *out)
{
	_cleanup_free_ char *text = NULL;
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((ret = read_file(path, 256, &text, NULL)) < 0)
		return ret;
	*out = strtoll(text, NULL, 10);
	return 0;
}

static int proc_rss_kb(pid_t pid, uint64_t *out)
{
	_cleanup_free_ char *text = NULL;
	unsigned long long size, resident;
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	if ((ret = read_file(path, 256, &text, NULL)) < 0)
		return ret;
	if (sscanf(text, "%llu %llu", &size, &resident) != 2)
		return -EINVAL;
	*out = resident * (uint64_t)(sysconf(_SC_PAGESIZE) / 1024);
	return 0;
}

/* Append the processes of VP number INDEX to PROCS. */
static size_t add_procs(const struct lmk_vp *vp, unsigned index, struct lmk_proc *procs, size_t n,
			size_t max)
{
	_cleanup_free_ char *text = NULL;

	if (read_file(vp->procs, 1 << 22, &text, NULL) < 0)
		return n;
	for (char *p = text; *p && n < max;) {
		char *end;
		long pid = strtol(p, &end, 10);
		long long adj;
		if (end == p)
			break;
		p = *end ? end + 1 : end;
		if (pid <= 0 || proc_number((pid_t)pid, "oom_score_adj", &adj) < 0)
			continue;
		procs[n] = (struct lmk_proc){.vp = index,
					     .pid = (pid_t)pid,
					     .oom_score_adj = (int)adj,
					     .init = pid == vp->init};
		if (proc_rss_kb((pid_t)pid, &procs[n].rss_kb) < 0)
			continue;
		n++;
	}
	return n;
}

static void arm_retry(struct lmk *l, uint64_t in_ns)
{
	struct itimerspec its = {
		.it_value = {(time_t)(in_ns / 1000000000ull), (long)(in_ns % 1000000000ull)}};

	if (l->retry.fd >= 0 && timerfd_settime(l->retry.fd, 0, &its, NULL) < 0)
		log_warn_errno(errno, "lmk: timer");
}

/* Whether the parent group is still at its limit with its tasks waiting (v1). */
static bool under_oom(struct lmk *l)
{
	_cleanup_free_ char *text = NULL;
	char *p;

	if (!l->oom_control[0] || read_file(l->oom_control, 4096, &text, NULL) < 0)
		return false;
	return (p = strstr(text, "under_oom ")) && p[10] == '1';
}

/* PID's name into COMM (empty where it cannot be read: the process may be gone). */
static void read_comm(pid_t pid, char *comm, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, comm, size - 1);
	close(fd);
	comm[n > 0 ? n : 0] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

/* SIGKILL to PID if it is still VP's: the number came from its cgroup.procs a moment
 * ago and may be another process's by now. */
static int kill_in_vp(const struct lmk_vp *vp, pid_t pid)
{
	_cleanup_close_ int userns = vp_userns_open(vp->init, vp->init_pidfd);
	_cleanup_close_ int pidfd = -1;

	if (userns < 0)
		return userns;
	if ((pidfd = vp_member_pidfd(pid, userns)) < 0)
		return pidfd;
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0)
		return -errno;
	return 0;
}

/* Kill one process, the first in Cells' order. */
static void act(struct lmk *l, const char *reason)
{
	struct lmk_vp *vps = l->vps;
	struct lmk_proc *procs = l->procs;
	char comm[64] = "";
	uint64_t now = monotonic_ns();
	size_t nvps, nprocs = 0;
	long victim;
	int ret;

	l->triggers++;
	if (l->last_kill_ns && now - l->last_kill_ns < KILL_GAP_NS) {
		arm_retry(l, KILL_GAP_NS - (now - l->last_kill_ns));
		return;
	}
	nvps = l->host.list(l->host.ctx, vps, LMK_VPS_MAX);
	for (size_t i = 0; i < nvps; i++)
		nprocs = add_procs(&vps[i], (unsigned)i, procs, nprocs, LMK_PROCS_MAX);
	victim = lmk_choose(vps, nvps, procs, nprocs);
	if (victim < 0) {
		log_warn("lmk: memory pressure (%s) and nothing to kill", reason);
		return;
	}
	const struct lmk_proc *p = &procs[victim];
	read_comm(p->pid, comm, sizeof(comm));
	if ((ret = kill_in_vp(&vps[p->vp], p->pid)) == -EPERM) {
		log_warn("lmk: %d is no longer a process of VP %s: not killed", (int)p->pid,
			 vps[p->vp].name);
		return;
	}
	if (ret < 0) {
		/* Gone already: its memory is coming back. */
		log_debug("lmk: kill %d: %s", (int)p->pid, strerror(-ret));
		return;
	}
	l->kills++;
	l->last_kill_ns = now;
	log_info("lmk: %s: killed %d (%s) of VP %s, oom_score_adj %d, %" PRIu64 " kB", reason,
		 (int)p->pid, comm[0] ? comm : "?", vps[p->vp].name, p->oom_score_adj, p->rss_kb);
	l->host.killed(l->host.ctx, &(struct lmk_kill){.vp = vps[p->vp].name,
						       .pid = p->pid,
						       .comm = comm,
						       .oom_score_adj = p->oom_score_adj,
						       .rss_kb = p->rss_kb,
						       .reason = reason,
						       .foreground = vps[p->vp].foreground});
	if (l->oom_control[0])
		arm_retry(l, RETRY_NS);
}

static void on_psi(struct loop_watch *w, uint32_t events)
{
	struct lmk *l = container_of(w, struct lmk, psi);

	if (events & EPOLLERR) {
		log_warn("lmk: the PSI trigger on %s is gone", l->psi_path);
		loop_del(l->loop, w);
		close(w->fd);
		w->fd = -1;
		return;
	}
	act(l, "psi");
}

static void on_oom(struct loop_watch *w, uint32_t events)
{
	struct lmk *l = container_of(w, struct lmk, oom);
	uint64_t count;

	(void)events;
	if (read(w->fd, &count, sizeof(count)) < 0)
		return;
	act(l, "oom");
}

static void on_level(struct loop_watch *w, uint32_t events)
{
	struct lmk *l = container_of(w, struct lmk, level);
	uint64_t count;

	(void)events;
	if (read(w->fd, &count, sizeof(count)) < 0)
		return;
	act(l, "pressure_level");
}

static void on_retry(struct loop_watch *w, uint32_t events)
{
	struct lmk *l = container_of(w, struct lmk, retry);
	uint64_t count;

	(void)events;
	if (read(w->fd, &count, sizeof(count)) < 0)
		return;
	if (under_oom(l))
		act(l, "oom");
}

/* "some avg10=12.34 ..." */
static double psi_avg10(const char *path)
{
	_cleanup_free_ char *text = NULL;
	char *p;

	if (read_file(path, 4096, &text, NULL) < 0 || !(p = strstr(text, "some avg10=")))
		return 0;
	return strtod(p + 11, NULL);
}

static void on_poll(struct loop_watch *w, uint32_t events)
{
	struct lmk *l = container_of(w, struct lmk, poll);
	uint64_t count;

	(void)events;
	if (read(w->fd, &count, sizeof(count)) < 0)
		return;
	if (psi_avg10(l->psi_path) >= POLL_AVG10)
		act(l, "psi");
}

static void unwatch(struct lmk *l, struct loop_watch *w)
{
	if (w->fd < 0)
		return;
	loop_del(l->loop, w);
	close(w->fd);
	w->fd = -1;
}

static int watch_psi(struct lmk *l, const char *path, struct error *err)
{
	int ret;

	snprintf(l->psi_path, sizeof(l->psi_path), "%s", path);
	l->psi.fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (l->psi.fd < 0)
		return error_set(err, errno, "lmk: open %s", path);
	if (write(l->psi.fd, PSI_TRIGGER, sizeof(PSI_TRIGGER)) < 0) {
		struct itimerspec its = {.it_value = {1, 0}, .it_interval = {1, 0}};
		log_info("notice: lmk: the kernel refuses the PSI trigger '%s' on %s (%s); "
			 "reading its 10 s average every second instead",
			 PSI_TRIGGER, path, strerror(errno));
		close(l->psi.fd);
		l->psi.fd = -1;
		l->poll.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		l->poll.handle = on_poll;
		ret = l->poll.fd < 0 || timerfd_settime(l->poll.fd, 0, &its, NULL) < 0 ? -errno : 0;
		if (ret == 0)
			ret = loop_add(l->loop, &l->poll, EPOLLIN);
		if (ret < 0) {
			if (l->poll.fd >= 0)
				close(l->poll.fd);
			l->poll.fd = -1;
			return error_set(err, ret, "lmk: timer");
		}
		return 0;
	}
	l->psi.handle = on_psi;
	if ((ret = loop_add(l->loop, &l->psi, EPOLLPRI)) < 0) {
		close(l->psi.fd);
		l->psi.fd = -1;
		return error_set(err, ret, "lmk: watch %s", path);
	}
	return 0;
}

/* v2: at memory.max the kernel's OOM killer takes the biggest task of the whole group,
 * the foreground's as well, with hardly a stall for PSI to see first. Past memory.high
 * the kernel makes each allocating task reclaim, then sleep in proportion to what it
 * could not reclaim: that sleep is a memory stall of the group (the trigger fires), and
 * the headroom left up to memory.max is the time this killer has. Cache that reclaim
 * frees costs no sleep. */
static int set_high(struct lmk *l, const struct cgroup_host *cg, const char *parent,
		    struct error *err)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX], value[32];
	uint64_t max, headroom, high;
	int ret;

	if ((ret = cgroup_path(cg, NULL, parent, "memory.max", path, sizeof(path))) < 0 ||
	    (ret = cgroup_path(cg, NULL, parent, "memory.high", l->memory_high,
			       sizeof(l->memory_high))) < 0)
		return error_set(err, ret, "lmk: cgroup path of %s", parent);
	if ((ret = read_file(path, 64, &text, NULL)) < 0)
		return error_set(err, ret, "lmk: read %s", path);
	max = strtoull(text, NULL, 10); /* "max": 0, no limit */
	if (max == 0) {
		l->memory_high[0] = '\0';
		return 0;
	}
	headroom = max / HIGH_SHARE;
	headroom = headroom < HIGH_MIN_HEADROOM	  ? HIGH_MIN_HEADROOM
		   : headroom > HIGH_MAX_HEADROOM ? HIGH_MAX_HEADROOM
						  : headroom;
	high = max > 2 * headroom ? max - headroom : max / 2;
	snprintf(value, sizeof(value), "%" PRIu64, high);
	if ((ret = write_string(l->memory_high, value)) < 0) {
		error_set(err, ret, "lmk: write %s to %s", value, l->memory_high);
		l->memory_high[0] = '\0';
		return ret;
	}
	log_info("lmk: %s is %" PRIu64 " MiB, %" PRIu64 " MiB below memory.max: tasks past "
		 "it stall before the kernel's OOM killer acts",
		 l->memory_high, high >> 20, (max - high) >> 20);
	return 0;
}

/* v1: an eventfd told of FILE's events through the group's cgroup.event_control. */
static int watch_v1(struct lmk *l, struct loop_watch *w, const struct cgroup_host *cg,
		    const char *parent, const char *file, const char *args,
		    void (*handle)(struct loop_watch *, uint32_t), struct error *err)
{
	_cleanup_close_ int target = -1;
	char path[PATH_MAX], control[PATH_MAX], line[64];
	int ret;

	if ((ret = cgroup_path(cg, "memory", parent, file, path, sizeof(path))) < 0 ||
	    (ret = cgroup_path(cg, "memory", parent, "cgroup.event_control", control,
			       sizeof(control))) < 0)
		return error_set(err, ret, "lmk: path of %s", file);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0)
		return error_set(err, errno, "lmk: open %s", path);
	w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->fd < 0)
		return error_set(err, errno, "lmk: eventfd");
	snprintf(line, sizeof(line), "%d %d%s%s", w->fd, target, args ? " " : "", args ? args : "");
	if ((ret = write_string(control, line)) < 0) {
		unwatch(l, w);
		return error_set(err, ret, "lmk: write '%s' to %s", line, control);
	}
	w->handle = handle;
	if ((ret = loop_add(l->loop, w, EPOLLIN)) < 0) {
		close(w->fd);
		w->fd = -1;
		return error_set(err, ret, "lmk: watch %s", path);
	}
	return 0;
}

int lmk_init(struct lmk *l, struct loop *loop, const struct lmk_host *host,
	     const struct cgroup_host *cgroups, const char *parent, struct error *err)
{
	char path[PATH_MAX];
	int ret;

	memset(l, 0, sizeof(*l));
	l->host = *host;
	l->loop = loop;
	l->psi.fd = l->level.fd = l->oom.fd = l->retry.fd = l->poll.fd = -1;
	l->vps = calloc(LMK_VPS_MAX, sizeof(*l->vps));
	l->procs = calloc(LMK_PROCS_MAX, sizeof(*l->procs));
	if (!l->vps || !l->procs) {
		lmk_fini(l);
		return error_set(err, ENOMEM, "lmk: the kill lists");
	}
	l->retry.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	l->retry.handle = on_retry;
	if (l->retry.fd < 0)
		return error_set(err, errno, "lmk: timerfd");
	if ((ret = loop_add(loop, &l->retry, EPOLLIN)) < 0) {
		close(l->retry.fd);
		l->retry.fd = -1;
		return error_set(err, ret, "lmk: watch the timer");
	}
	if (parent && cgroups->v2) {
		/* The group's own PSI: pressure from its limit, not the host's. */
		if ((ret = cgroup_path(cgroups, NULL, parent, "memory.pressure", path,
				       sizeof(path))) < 0)
			goto fail_path;
		if ((ret = set_high(l, cgroups, parent, err)) < 0 ||
		    (ret = watch_psi(l, path, err)) < 0)
			goto fail;
		return 0;
	}
	/* v1 has no PSI per group: the system's, and the group's own notifications. */
	if (access("/proc/pressure/memory", F_OK) == 0 &&
	    (ret = watch_psi(l, "/proc/pressure/memory", err)) < 0)
		goto fail;
	if (!parent)
		return 0;
	if ((ret = watch_v1(l, &l->level, cgroups, parent, "memory.pressure_level", "critical",
			    on_level, err)) < 0 ||
	    (ret = watch_v1(l, &l->oom, cgroups, parent, "memory.oom_control", NULL, on_oom, err)) <
		    0)
		goto fail;
	/* The tasks of a group at its limit wait, rather than die by the kernel's choice,
	 * until this one has killed what Cells' order says. */
	if ((ret = cgroup_path(cgroups, "memory", parent, "memory.oom_control", l->oom_control,
			       sizeof(l->oom_control))) < 0)
		goto fail_path;
	if ((ret = write_string(l->oom_control, "1")) < 0) {
		error_set(err, ret, "lmk: turn the kernel's OOM killer off in %s", l->oom_control);
		goto fail;
	}
	return 0;
fail_path:
	error_set(err, ret, "lmk: cgroup path of %s", parent);
fail:
	lmk_fini(l);
	return ret;
}

void lmk_fini(struct lmk *l)
{
	/* The group goes with the daemon; until then its tasks must not wait for nobody. */
	if (l->oom_control[0])
		write_string(l->oom_control, "0");
	l->oom_control[0] = '\0';
	if (l->memory_high[0])
		write_string(l->memory_high, "max");
	l->memory_high[0] = '\0';
	unwatch(l, &l->psi);
	unwatch(l, &l->level);
	unwatch(l, &l->oom);
	unwatch(l, &l->retry);
	unwatch(l, &l->poll);
	free(l->vps);
	free(l->procs);
	l->vps = NULL;
	l->procs = NULL;
}
