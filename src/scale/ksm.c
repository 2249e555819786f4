#include "scale/ksm.h"
#include "common/clock.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000ull

enum ksm_phase ksm_phase_at(const struct ksm_policy *p, unsigned running, uint64_t last_start_ns,
			    unsigned scans, uint64_t now_ns, uint64_t *change_ns)
{
	uint64_t hard_end = last_start_ns + (uint64_t)p->hard_s * NS_PER_S;
	uint64_t hard_limit = last_start_ns + (uint64_t)p->hard_s * KSM_HARD_LIMIT * NS_PER_S;

	*change_ns = 0;
	if (!p->enabled || running == 0)
		return KSM_OFF;
	if (now_ns < hard_end) {
		*change_ns = hard_end;
		return KSM_HARD;
	}
	/* Many VPs are more than the hard phase's time can scan: a page merges only once the
	 * scanner has seen it unchanged in two passes, so it goes on until it has. */
	if (scans < KSM_HARD_SCANS && now_ns < hard_limit) {
		*change_ns = now_ns + KSM_SCANS_POLL_S * NS_PER_S < hard_limit
				     ? now_ns + KSM_SCANS_POLL_S * NS_PER_S
				     : hard_limit;
		return KSM_HARD;
	}
	return KSM_GENTLE;
}

struct ksm_tuning ksm_tuning_for(const struct ksm_policy *p, enum ksm_phase phase, unsigned running)
{
	struct ksm_tuning t = phase == KSM_HARD ? p->hard : p->gentle;
	unsigned scale = (running + KSM_HARD_VPS - 1) / KSM_HARD_VPS;
	uint64_t pages;

	if (phase != KSM_HARD || scale <= 1)
		return t;
	if (scale > KSM_HARD_SCALE_MAX)
		scale = KSM_HARD_SCALE_MAX;
	pages = (uint64_t)t.pages * scale;
	t.pages = pages > UINT_MAX ? UINT_MAX : (unsigned)pages;
	return t;
}

const char *ksm_phase_name(enum ksm_phase phase)
{
	switch (phase) {
	case KSM_HARD:
		return "hard";
	case KSM_GENTLE:
		return "gentle";
	default:
		return "off";
	}
}

/* "A,B" or "A,B,C": COUNT unsigned numbers, each at least 1. */
static int parse_numbers(const char *text, unsigned *out, int count)
{
	const char *p = text;

	for (int i = 0; i < count; i++) {
		char *end;
		unsigned long v;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || end == p || *p == '-' || v == 0 || v > 1000000)
			return -EINVAL;
		out[i] = (unsigned)v;
		if (i + 1 < count && *end != ',')
			return -EINVAL;
		if (i + 1 == count && *end)
			return -EINVAL;
		p = end + 1;
	}
	return 0;
}

int ksm_parse_option(struct ksm_policy *p, const char *name, const char *value, struct error *err)
{
	unsigned n[3];

	if (strcmp(name, "ksm") == 0) {
		if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
			return error_set(err, EINVAL, "--ksm wants on or off, not '%s'", value);
		p->enabled = strcmp(value, "on") == 0;
		return 0;
	}
	if (strcmp(name, "ksm-hard") == 0) {
		if (parse_numbers(value, n, 3) < 0)
			return error_set(err, EINVAL,
					 "--ksm-hard wants SLEEP_MS,PAGES,SECONDS (like "
					 "100,500,70), not '%s'",
					 value);
		p->hard = (struct ksm_tuning){n[0], n[1]};
		p->hard_s = n[2];
		return 0;
	}
	if (strcmp(name, "ksm-gentle") == 0) {
		if (parse_numbers(value, n, 2) < 0)
			return error_set(err, EINVAL,
					 "--ksm-gentle wants SLEEP_MS,PAGES (like 1500,100), "
					 "not '%s'",
					 value);
		p->gentle = (struct ksm_tuning){n[0], n[1]};
		return 0;
	}
	return error_set(err, EINVAL, "unknown KSM option --%s", name);
}

static int knob_read(struct ksm *k, const char *name, char *buf, size_t len)
{
	_cleanup_free_ char *text = NULL;
	char path[128];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", k->dir, name);
	if ((ret = read_file(path, 64, &text, NULL)) < 0)
		return ret;
	text[strcspn(text, "\n")] = '\0';
	snprintf(buf, len, "%s", text);
	return 0;
}

static void knob_write(struct ksm *k, const char *name, const char *value)
{
	char path[128];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", k->dir, name);
	if ((ret = write_string(path, value)) < 0)
		log_warn_errno(-ret, "ksm: write %s to %s", value, path);
}

static void write_tuning(struct ksm *k, const struct ksm_tuning *t)
{
	char value[16];

	snprintf(value, sizeof(value), "%u", t->sleep_ms);
	knob_write(k, "sleep_millisecs", value);
	snprintf(value, sizeof(value), "%u", t->pages);
	knob_write(k, "pages_to_scan", value);
	knob_write(k, "run", "1");
}

static void restore(struct ksm *k)
{
	if (!k->saved)
		return;
	/* run 2 would unmerge every page: the host's 0 or 1 is what comes back. */
	knob_write(k, "run", strcmp(k->saved_run, "1") == 0 ? "1" : "0");
	knob_write(k, "sleep_millisecs", k->saved_sleep);
	knob_write(k, "pages_to_scan", k->saved_pages);
	k->saved = false;
	if (unlink(k->record) < 0 && errno != ENOENT)
		log_warn_errno(errno, "ksm: remove %s", k->record);
}

/* "RUN SLEEP PAGES", as the record holds them. */
static int write_record(struct ksm *k)
{
	char text[64];

	snprintf(text, sizeof(text), "%s %s %s\n", k->saved_run, k->saved_sleep, k->saved_pages);
	return write_file_atomic(k->record, text, strlen(text), 0600);
}

/* A killed daemon's record: the host's settings, to give back now. */
static void take_record(struct ksm *k)
{
	_cleanup_free_ char *text = NULL;

	if (read_file(k->record, 256, &text, NULL) < 0)
		return;
	if (sscanf(text, "%15s %15s %15s", k->saved_run, k->saved_sleep, k->saved_pages) != 3) {
		log_warn("ksm: %s is not a record of the host's settings: ignored", k->record);
		unlink(k->record);
		return;
	}
	log_info("ksm: giving back the host's settings that a killed cellsd kept in %s", k->record);
	k->saved = true;
	restore(k);
}

static int save(struct ksm *k)
{
	int ret;

	if ((ret = knob_read(k, "run", k->saved_run, sizeof(k->saved_run))) < 0 ||
	    (ret = knob_read(k, "sleep_millisecs", k->saved_sleep, sizeof(k->saved_sleep))) < 0 ||
	    (ret = knob_read(k, "pages_to_scan", k->saved_pages, sizeof(k->saved_pages))) < 0) {
		log_warn_errno(-ret, "ksm: read the host's settings");
		return ret;
	}
	if ((ret = write_record(k)) < 0) {
		log_warn_errno(-ret, "ksm: write %s", k->record);
		return ret;
	}
	k->saved = true;
	return 0;
}

static void arm(struct ksm *k, uint64_t at_ns, uint64_t now_ns)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	uint64_t in = at_ns > now_ns ? at_ns - now_ns : 1;

	if (at_ns) {
		its.it_value.tv_sec = (time_t)(in / NS_PER_S);
		its.it_value.tv_nsec = (long)(in % NS_PER_S);
	}
	if (k->timer.fd >= 0 && timerfd_settime(k->timer.fd, 0, &its, NULL) < 0)
		log_warn_errno(errno, "ksm: timer");
}

/* The scanner's passes over all mergeable memory since the daemon's start; 0 when the
 * kernel does not say. */
static unsigned full_scans(struct ksm *k)
{
	char text[32];

	if (!k->available || knob_read(k, "full_scans", text, sizeof(text)) < 0)
		return 0;
	return (unsigned)strtoul(text, NULL, 10);
}

static void apply(struct ksm *k, uint64_t now_ns)
{
	uint64_t change;
	enum ksm_phase phase = ksm_phase_at(&k->policy, k->running, k->last_start_ns,
					    full_scans(k) - k->scans_at_start, now_ns, &change);

	arm(k, change, now_ns);
	if (!k->available)
		return;
	if (phase == KSM_OFF) {
		if (k->phase != KSM_OFF)
			restore(k);
	} else {
		/* Within a phase the tuning changes too, with the number of VPs. */
		struct ksm_tuning t = ksm_tuning_for(&k->policy, phase, k->running);
		if (phase == k->phase && t.sleep_ms == k->written.sleep_ms &&
		    t.pages == k->written.pages)
			return;
		/* Without the host's settings saved, none of ours is written (nor tried again
		 * until the tuning changes). */
		if (k->saved || save(k) == 0)
			write_tuning(k, &t);
		k->written = t;
	}
	if (phase != k->phase)
		log_debug("ksm: %s -> %s", ksm_phase_name(k->phase), ksm_phase_name(phase));
	k->phase = phase;
}

static void on_timer(struct loop_watch *w, uint32_t events)
{
	struct ksm *k = container_of(w, struct ksm, timer);
	uint64_t expirations;

	(void)events;
	if (read(w->fd, &expirations, sizeof(expirations)) < 0 && errno == EAGAIN)
		return;
	apply(k, monotonic_ns());
}

int ksm_init(struct ksm *k, struct loop *loop, const struct ksm_policy *policy, const char *record,
	     struct error *err)
{
	struct stat st;
	int ret;

	memset(k, 0, sizeof(*k));
	k->policy = *policy;
	k->loop = loop;
	k->timer.fd = -1;
	snprintf(k->dir, sizeof(k->dir), "/sys/kernel/mm/ksm");
	snprintf(k->record, sizeof(k->record), "%s", record);
	k->available = stat(k->dir, &st) == 0;
	if (!k->available)
		return 0;
	take_record(k);
	if (!k->policy.enabled)
		return 0;
	k->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	k->timer.handle = on_timer;
	if (k->timer.fd < 0)
		return error_set(err, errno, "ksm: timerfd");
	if ((ret = loop_add(loop, &k->timer, EPOLLIN)) < 0) {
		close(k->timer.fd);
		k->timer.fd = -1;
		return error_set(err, ret, "ksm: watch the timer");
	}
	return 0;
}

void ksm_vps_changed(struct ksm *k, unsigned running, bool started)
{
	uint64_t now_ns = monotonic_ns();

	k->running = running;
	if (started) {
		k->last_start_ns = now_ns;
		k->scans_at_start = full_scans(k);
	}
	apply(k, now_ns);
}

void ksm_fini(struct ksm *k)
{
	restore(k);
	if (k->timer.fd >= 0) {
		loop_del(k->loop, &k->timer);
		close(k->timer.fd);
		k->timer.fd = -1;
	}
}

uint64_t ksm_merging_pages(const char *procs)
{
	_cleanup_free_ char *text = NULL;
	uint64_t total = 0;

	if (read_file(procs, 1 << 22, &text, NULL) < 0)
		return 0;
	for (char *p = text; *p;) {
		_cleanup_free_ char *value = NULL;
		char path[64], *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		snprintf(path, sizeof(path), "/proc/%ld/ksm_merging_pages", pid);
		/* A process that has just exited counts nothing. */
		if (pid > 0 && read_file(path, 64, &value, NULL) >= 0)
			total += strtoull(value, NULL, 10);
		p = *end ? end + 1 : end;
	}
	return total;
}
