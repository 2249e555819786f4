/* Which VP is in the foreground. Only the root changes it: the CLI, the web UI, or the
 * reserved system key; the screen and input follow it in their own devices. */
#include "cellsd/daemon.h"
#include "cellsd/viewer.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void saved_path(struct daemon *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/foreground", d->state_dir);
}

/* The user's choice survives a restart of cellsd. The daemon's own shutdown hands the
 * screen from VP to VP as they stop: that is not a choice. A switch must stay cheap: the
 * name is written in place, padded to a fixed length, with one pwrite (2 us), where a
 * replace by rename costs 200 us on ext4; a crash of the machine in the middle of it can
 * only spoil the hint, which is checked when read. */
static void save(struct daemon *d, struct vp *to)
{
	char record[NAME_MAX_LEN + 1], path[PATH_MAX];
	size_t len = to ? strlen(to->config.name) : 0;

	if (d->shutting_down)
		return;
	if (d->foreground_fd < 0) {
		saved_path(d, path, sizeof(path));
		d->foreground_fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (d->foreground_fd < 0) {
			log_warn_errno(errno, "open %s", path);
			return;
		}
	}
	memset(record, '\n', sizeof(record));
	memcpy(record, to ? to->config.name : "", len);
	if (pwrite(d->foreground_fd, record, sizeof(record), 0) != (ssize_t)sizeof(record))
		log_warn_errno(errno, "write the foreground VP's name");
}

struct vp *foreground_saved(struct daemon *d)
{
	char path[PATH_MAX];
	char *name = NULL;
	struct vp *vp;
	int ret;

	saved_path(d, path, sizeof(path));
	if ((ret = read_file(path, NAME_MAX_LEN + 1, &name, NULL)) < 0) {
		if (ret != -ENOENT)
			log_warn_errno(-ret, "read %s", path);
		return NULL;
	}
	name[strcspn(name, "\n")] = '\0';
	vp = name_is_valid(name) ? vp_find(d, name) : NULL;
	free(name);
	return vp;
}

static bool switchable(const struct vp *vp)
{
	return vp->state == VP_RUNNING;
}

int foreground_switch(struct daemon *d, struct vp *to, struct error *err)
{
	struct vp *from = d->foreground;
	uint64_t start = monotonic_ns(), took;

	if (to && !switchable(to))
		return error_set(err, 0, "VP %s is not running", to->config.name);
	if (to == from)
		return 0;
	viewer_switch_begin(d->viewer);
	devns_switch(from ? &from->devns : NULL, to ? &to->devns : NULL);
	d->foreground = to;
	if (from)
		from->left_foreground_ns = start; /* the low-memory killer's order */
	took = monotonic_ns() - start;
	d->switches++;
	d->last_switch_ns = took;
	event_emit(d, json_pack("{s:s, s:s?, s:s?, s:f}", "event", "switch", "from",
				from ? from->config.name : NULL, "to", to ? to->config.name : NULL,
				"usec", (double)took / 1000.0));
	/* The screen follows at once, outside the measured switch. */
	viewer_switch_end(d->viewer);
	save(d, to);
	log_info("foreground: %s -> %s", from ? from->config.name : "(none)",
		 to ? to->config.name : "(none)");
	return 0;
}

/* The running VP after (direction 1) or before (-1) the foreground, in id order, wrapping. */
struct vp *foreground_neighbour(struct daemon *d, int direction)
{
	struct vp *first = NULL, *last = NULL, *prev = NULL, *after = NULL;
	bool seen = false;

	/* The foreground is the anchor even when it has just stopped: its successor is the
	 * next running VP after it, not the first one. */
	for (struct vp *vp = d->vps; vp; vp = vp->next) {
		if (vp == d->foreground) {
			seen = true;
			continue;
		}
		if (!switchable(vp))
			continue;
		if (!first)
			first = vp;
		last = vp;
		if (!seen)
			prev = vp;
		else if (!after)
			after = vp;
	}
	if (!d->foreground || !seen)
		return first;
	if (!first)
		return switchable(d->foreground) ? d->foreground : NULL;
	if (direction > 0)
		return after ? after : first;
	return prev ? prev : last;
}

void foreground_lost(struct daemon *d, struct vp *gone)
{
	if (d->foreground != gone)
		return;
	foreground_switch(d, foreground_neighbour(d, 1), NULL);
}
