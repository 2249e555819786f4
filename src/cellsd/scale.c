/* The daemon's side of scale (src/scale/): the VPs' parent group with its memory budget
 * (--memory-total), the KSM scanner, the low-memory killer fed with what the daemon knows
 * of the foreground, and lxcfs for the VPs' /proc views. */
#include "cellsd/daemon.h"
#include "common/clock.h"
#include "common/log.h"
#include "vp/members.h"
#include "vp/proc_views.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

int scale_option(struct daemon *d, const char *name, const char *value)
{
	struct error err = {{0}};

	if (strcmp(name, "memory-total") == 0) {
		struct vp_config scratch;
		vp_config_defaults(&scratch, "x", NULL);
		if (vp_config_set_option(&scratch, "memory", value, &err) < 0) {
			fprintf(stderr, "cellsd: --memory-total: %s\n", err.msg);
			return -1;
		}
		d->memory_total = scratch.memory;
		return 0;
	}
	if (strcmp(name, "lmk") == 0 || strcmp(name, "proc-views") == 0) {
		if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
			fprintf(stderr, "cellsd: --%s wants on or off, not '%s'\n", name, value);
			return -1;
		}
		*(name[0] == 'l' ? &d->lmk_off : &d->views_off) = strcmp(value, "off") == 0;
		return 0;
	}
	if (ksm_parse_option(&d->ksm_policy, name, value, &err) < 0) {
		fprintf(stderr, "cellsd: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static unsigned running_count(struct daemon *d)
{
	unsigned n = 0;

	for (struct vp *vp = d->vps; vp; vp = vp->next)
		n += vp->state == VP_RUNNING || vp->state == VP_STOPPING;
	return n;
}

/* The processes of a VP are those of its memory group (the one the LMK's budget is of). */
static void procs_path(struct vp *vp, char *buf, size_t len)
{
	if (cgroup_path(vp->rt.cgroups, "memory", vp->rt.cgroup, "cgroup.procs", buf, len) < 0)
		buf[0] = '\0';
}

static size_t lmk_list(void *ctx, struct lmk_vp *out, size_t max)
{
	struct daemon *d = ctx;
	size_t n = 0;

	for (struct vp *vp = d->vps; vp && n < max; vp = vp->next) {
		if (vp->state != VP_RUNNING && vp->state != VP_STOPPING)
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%s", vp->config.name);
		procs_path(vp, out[n].procs, sizeof(out[n].procs));
		out[n].init = vp->rt.pid;
		out[n].init_pidfd = vp->rt.pidfd;
		out[n].foreground = d->foreground == vp;
		out[n].left_foreground_ns = vp->left_foreground_ns;
		n++;
	}
	return n;
}

static void lmk_killed(void *ctx, const struct lmk_kill *k)
{
	event_emit(ctx, json_pack("{s:s, s:s, s:i, s:s, s:i, s:I, s:s, s:b}", "event", "lmk-kill",
				  "vp", k->vp, "pid", (int)k->pid, "comm", k->comm, "oom_score_adj",
				  k->oom_score_adj, "rss_kb", (json_int_t)k->rss_kb, "reason",
				  k->reason, "foreground", k->foreground));
}

/* Longer than a bind of seven files takes (a few ms): a VP whose lookups hang (a FUSE
 * mount of its own over /proc) costs the daemon this once per restart. */
#define REBIND_TIMEOUT_MS 2000

static void views_exited(void *ctx, pid_t pid, unsigned delay_ms)
{
	event_emit(ctx, json_pack("{s:s, s:i, s:i}", "event", "lxcfs-exited", "pid", (int)pid,
				  "restart_in_ms", (int)delay_ms));
}

/* A VP's programs that made mount namespaces of their own (unshare -m, a sandbox) took
 * copies of the dead instance's files along: there the new files replace those that fail.
 * All of one VP's namespaces share one timeout. */
static void rebind_other_namespaces(struct vp *vp, const char *dir, unsigned *healed,
				    unsigned *failed)
{
	int pidfds[VP_MOUNT_NS_MAX];
	char procs[PATH_MAX];
	long long deadline = (long long)monotonic_ms() + REBIND_TIMEOUT_MS;
	unsigned skipped;
	int n;

	procs_path(vp, procs, sizeof(procs));
	n = vp_other_mount_namespaces(procs, vp->rt.pid, vp->rt.pidfd, pidfds, VP_MOUNT_NS_MAX,
				      &skipped);
	if (n < 0) {
		log_warn("VP %s: its mount namespaces: %s", vp->config.name, strerror(-n));
		(*failed)++;
		return;
	}
	if (skipped)
		log_warn("VP %s: %u processes in mount namespaces past the first %d: their /proc "
			 "views are not bound again",
			 vp->config.name, skipped, VP_MOUNT_NS_MAX);
	for (int i = 0; i < n; i++) {
		struct error err = {{0}};
		long long left = deadline - (long long)monotonic_ms();
		unsigned bound = 0;
		int ret = left <= 0 ? error_set(&err, ETIMEDOUT, "bind the /proc views again")
				    : vp_proc_views_rebind(pidfds[i], dir, VP_VIEWS_DEAD, (int)left,
							   &bound, &err);
		close(pidfds[i]);
		if (ret < 0) {
			log_warn("VP %s: lxcfs's new /proc views in a mount namespace of its own: "
				 "%s",
				 vp->config.name, err.msg);
			(*failed)++;
		} else if (bound) {
			(*healed)++;
		}
	}
}

/* The running VPs (and the prepared ones, whose init waits) hold the dead instance's files:
 * each gets the new one's. A VP started while lxcfs was down gets them here too. */
static void views_restarted(void *ctx, pid_t pid, const char *dir)
{
	struct daemon *d = ctx;
	unsigned healed = 0, failed = 0, ns_healed = 0, ns_failed = 0;

	for (struct vp *vp = d->vps; vp; vp = vp->next) {
		struct error err = {{0}};
		bool held = vp->state == VP_STOPPED && vp->prepared && vp->rt.held;
		if ((vp->state != VP_RUNNING && !held) || vp->rt.pidfd < 0)
			continue;
		if (vp_proc_views_rebind(vp->rt.pidfd, dir, VP_VIEWS_EVERY, REBIND_TIMEOUT_MS, NULL,
					 &err) < 0) {
			log_warn("VP %s: lxcfs's new /proc views: %s", vp->config.name, err.msg);
			failed++;
			continue;
		}
		healed++;
		if (!held)
			rebind_other_namespaces(vp, dir, &ns_healed, &ns_failed);
	}
	log_info("lxcfs: pid %d restarted; /proc views bound again in %u VPs (%u failed) and %u "
		 "mount namespaces of their programs (%u failed)",
		 (int)pid, healed, failed, ns_healed, ns_failed);
	event_emit(d, json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "event", "lxcfs-restarted",
				"pid", (int)pid, "starts", (int)d->views.starts, "vps", (int)healed,
				"failed", (int)failed, "namespaces", (int)ns_healed,
				"namespaces_failed", (int)ns_failed));
}

int scale_init(struct daemon *d, struct error *err)
{
	struct lmk_host host = {.list = lmk_list, .killed = lmk_killed, .ctx = d};
	struct views_host views_host = {
		.exited = views_exited, .restarted = views_restarted, .ctx = d};
	char record[PATH_MAX];
	int ret;

	if (d->memory_total &&
	    (ret = cgroup_create_parent(&d->cgroups, d->cgroup_parent, d->memory_total, err)) < 0)
		return ret;
	snprintf(record, sizeof(record), "%s/ksm-host", d->run_dir);
	if ((ret = ksm_init(&d->ksm, &d->loop, &d->ksm_policy, record, err)) < 0)
		return ret;
	d->ksm_ready = true;
	if (!d->lmk_off) {
		if ((ret = lmk_init(&d->lmk, &d->loop, &host, &d->cgroups,
				    d->memory_total ? d->cgroup_parent : NULL, err)) < 0)
			return ret;
		d->lmk_ready = true;
	}
	views_start(&d->views, &d->loop, &views_host, d->run_dir, NULL, !d->views_off);
	d->views_ready = true;
	return 0;
}

void scale_fini(struct daemon *d)
{
	if (d->views_ready)
		views_stop(&d->views);
	if (d->lmk_ready)
		lmk_fini(&d->lmk);
	if (d->ksm_ready)
		ksm_fini(&d->ksm);
	d->views_ready = d->lmk_ready = d->ksm_ready = false;
}

void scale_vps_changed(struct daemon *d, bool started)
{
	if (d->ksm_ready)
		ksm_vps_changed(&d->ksm, running_count(d), started);
}

void scale_prepare_vp(struct vp *vp)
{
	struct daemon *d = vp->daemon;

	if (!d->views_ready ||
	    !views_proc_dir(&d->views, vp->rt.proc_views, sizeof(vp->rt.proc_views)))
		vp->rt.proc_views[0] = '\0';
}

void scale_vp_stats(struct vp *vp, json_t *j)
{
	char procs[PATH_MAX];

	procs_path(vp, procs, sizeof(procs));
	json_object_set_new(j, "ksm_merging_pages",
			    json_integer((json_int_t)(procs[0] ? ksm_merging_pages(procs) : 0)));
}

void scale_stats(struct daemon *d, json_t *extra)
{
	json_object_set_new(extra, "memory_total_bytes", json_integer((json_int_t)d->memory_total));
	json_object_set_new(extra, "ksm_phase",
			    json_string(d->ksm_ready ? ksm_phase_name(d->ksm.phase) : "off"));
	json_object_set_new(extra, "lmk_kills",
			    json_integer(d->lmk_ready ? (json_int_t)d->lmk.kills : 0));
	json_object_set_new(extra, "lxcfs_pid",
			    json_integer(d->views_ready ? (json_int_t)d->views.pid : 0));
	json_object_set_new(extra, "lxcfs_starts",
			    json_integer(d->views_ready ? (json_int_t)d->views.starts : 0));
}
