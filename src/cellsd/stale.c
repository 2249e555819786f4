/* A daemon killed with SIGKILL leaves what it could not undo: its VPs' cgroups (with any
 * process still in them), mounts under its run directory, half-built images. The next
 * daemon on the same directories removes them before it does anything else. */
#include "cellsd/daemon.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#define MAX_STALE_MOUNTS 256

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static void unmount_under(const char *dir)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char *points[MAX_STALE_MOUNTS];
	size_t n = 0, dlen = strlen(dir);
	char line[4096];

	if (!f) {
		log_warn_errno(errno, "open /proc/self/mountinfo");
		return;
	}
	while (n < MAX_STALE_MOUNTS && fgets(line, sizeof(line), f)) {
		char point[4096];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
			continue;
		unescape_octal(point);
		if (strncmp(point, dir, dlen) == 0 && point[dlen] == '/')
			points[n++] = strdup(point);
	}
	/* Later mounts sit on top of earlier ones: undo them in reverse. */
	while (n-- > 0) {
		if (points[n] && umount2(points[n], MNT_DETACH) == 0)
			log_info("unmounted stale %s", points[n]);
		free(points[n]);
	}
}

static void remove_stale_images(struct daemon *d)
{
	char path[PATH_MAX];
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/images", d->state_dir);
	if (!(dir = opendir(path)))
		return;
	while ((de = readdir(dir))) {
		if (de->d_name[0] != '.' || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/images/%s", d->state_dir, de->d_name);
		log_info("removing stale %s", path);
		rm_rf(path);
	}
}

void stale_cleanup(struct daemon *d)
{
	char path[PATH_MAX];

	if (cgroup_destroy_tree(&d->cgroups, d->cgroup_parent) < 0)
		log_warn("could not remove every stale cgroup under %s", d->cgroup_parent);
	unmount_under(d->run_dir);
	snprintf(path, sizeof(path), "%s/vps", d->run_dir);
	rm_rf(path);
	remove_stale_images(d);
}
