#include "vp/cgroup.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The v1 hierarchies a VP is placed in. cpuacct is separate from cpu on some hosts. */
static const char *const v1_controllers[CGROUP_V1_CONTROLLERS] = {"memory", "cpu", "cpuacct",
								  "pids", "freezer"};

#define KILL_WAIT_MS 2000

static int path_of(const struct cgroup_host *host, const char *controller, const char *group,
		   const char *file, char *buf, size_t len)
{
	int n;

	if (host->v2)
		n = snprintf(buf, len, "%s/%s%s%s", host->root, group, file ? "/" : "",
			     file ? file : "");
	else
		n = snprintf(buf, len, "%s/%s/%s%s%s", host->root, controller, group,
			     file ? "/" : "", file ? file : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int cgroup_path(const struct cgroup_host *host, const char *controller, const char *group,
		const char *file, char *buf, size_t len)
{
	return path_of(host, controller, group, file, buf, len);
}

static int write_knob(const struct cgroup_host *host, const char *controller, const char *group,
		      const char *file, const char *value, struct error *err)
{
	char path[PATH_MAX];
	int ret = path_of(host, controller, group, file, path, sizeof(path));

	if (ret == 0)
		ret = write_string(path, value);
	if (ret < 0)
		return error_set(err, ret, "cgroup: write '%s' to %s", value, path);
	return 0;
}

static int read_u64(const char *path, const char *key, uint64_t *out)
{
	_cleanup_free_ char *text = NULL;
	int ret = read_file(path, 65536, &text, NULL);
	char *p = text;

	if (ret < 0)
		return ret;
	if (key) {
		size_t klen = strlen(key);
		for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
			if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
				break;
		if (!p)
			return -ENOENT;
		p += strlen(key) + 1;
	}
	if (strncmp(p, "max", 3) == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	return sscanf(p, "%" SCNu64, out) == 1 ? 0 : -EINVAL;
}

/* Whether the space-separated list TEXT holds WORD. */
static bool has_word(const char *text, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = text; (p = strstr(p, word)); p += len)
		if ((p == text || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\n' || !p[len]))
			return true;
	return false;
}

/* From /proc/self/cgroup: "4:memory:/a/b" (v1) or "0::/a/b" (v2). */
static int find_self(struct cgroup_host *host, struct error *err)
{
	_cleanup_free_ char *text = NULL;
	int ret = read_file("/proc/self/cgroup", 65536, &text, NULL);

	if (ret < 0)
		return error_set(err, ret, "read /proc/self/cgroup");
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *ctrls = strchr(line, ':'), *path = ctrls ? strchr(ctrls + 1, ':') : NULL;
		if (!path)
			continue;
		*path++ = '\0';
		ctrls++;
		for (size_t i = 0; i < CGROUP_V1_CONTROLLERS; i++) {
			bool match = host->v2 ? ctrls[0] == '\0' : false;
			for (char *c = ctrls; !host->v2 && c && *c;) {
				size_t len = strcspn(c, ",");
				match |= len == strlen(v1_controllers[i]) &&
					 strncmp(c, v1_controllers[i], len) == 0;
				c = c[len] ? c + len + 1 : NULL;
			}
			if (match)
				snprintf(host->self[i], sizeof(host->self[i]), "%s", path);
		}
	}
	return 0;
}

int cgroup_host_detect(struct cgroup_host *host, struct error *err)
{
	struct stat st;

	snprintf(host->root, sizeof(host->root), "/sys/fs/cgroup");
	/* A pure v2 host has cgroup.controllers at the root. A hybrid one (v1 controllers with
	 * an empty v2 "unified" tree) counts as v1: the controllers we need live there. */
	host->v2 = stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0;
	if (host->v2) {
		_cleanup_free_ char *ctrls = NULL;
		int ret = read_file("/sys/fs/cgroup/cgroup.controllers", 4096, &ctrls, NULL);
		if (ret < 0)
			return error_set(err, ret, "cgroup: read cgroup.controllers");
		if (!has_word(ctrls, "memory") || !has_word(ctrls, "pids"))
			return error_set(err, 0, "cgroup v2 lacks the memory or pids controller");
		return find_self(host, err);
	}
	for (size_t i = 0; i < ARRAY_SIZE(v1_controllers); i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", host->root, v1_controllers[i]);
		if (stat(path, &st) < 0)
			return error_set(err, errno, "cgroup v1: no %s hierarchy at %s",
					 v1_controllers[i], path);
	}
	return find_self(host, err);
}

/* v2 needs each ancestor to delegate the controllers to its children, from the root down
 * (a group may only enable what its parent has). cpu is optional: without it, a VP with a
 * CPU limit fails on its missing cpu.max, the others run. */
static int v2_enable_controllers(const struct cgroup_host *host, const char *group,
				 struct error *err)
{
	static const char *const wanted[] = {"memory", "pids", "cpu"};
	char level[PATH_MAX] = "", path[PATH_MAX];
	const char *rest = group;

	for (;;) {
		_cleanup_free_ char *available = NULL;
		const char *slash;
		int ret;

		/* Enable in LEVEL for the children below it, down to the group's parent. */
		snprintf(path, sizeof(path), "%s%s%s/cgroup.controllers", host->root,
			 level[0] ? "/" : "", level);
		if ((ret = read_file(path, 4096, &available, NULL)) < 0)
			return error_set(err, ret, "cgroup: read %s", path);
		char enable[64] = "";
		for (size_t i = 0; i < ARRAY_SIZE(wanted); i++) {
			size_t used = strlen(enable);
			if (has_word(available, wanted[i]))
				snprintf(enable + used, sizeof(enable) - used, "%s+%s",
					 used ? " " : "", wanted[i]);
			else if (i < 2)
				return error_set(err, 0, "cgroup: %s lacks the %s controller", path,
						 wanted[i]);
		}
		snprintf(path, sizeof(path), "%s%s%s/cgroup.subtree_control", host->root,
			 level[0] ? "/" : "", level);
		if ((ret = write_string(path, enable)) < 0)
			return error_set(err, ret, "cgroup: write '%s' to %s", enable, path);
		/* Descend one level, unless LEVEL was the group's parent. */
		if (!(slash = strchr(rest, '/')))
			break;
		size_t len = strlen(level);
		snprintf(level + len, sizeof(level) - len, "%s%.*s", len ? "/" : "",
			 (int)(slash - rest), rest);
		rest = slash + 1;
	}
	return 0;
}

static int make_group_dirs(const struct cgroup_host *host, const char *group, struct error *err)
{
	char path[PATH_MAX];
	int ret;

	for (size_t i = 0; i < (host->v2 ? 1 : ARRAY_SIZE(v1_controllers)); i++) {
		ret = path_of(host, v1_controllers[i], group, NULL, path, sizeof(path));
		if (ret == 0)
			ret = mkdir_p(path, 0755);
		if (ret < 0)
			return error_set(err, ret, "cgroup: create %s", path);
	}
	return host->v2 ? v2_enable_controllers(host, group, err) : 0;
}

/* Write the limits of LIMITS; with LIFT, also "no limit" where LIMITS has 0 (a running
 * VP's limit taken away). A new group has none: only the limits asked for are written. */
static int write_limits(const struct cgroup_host *host, const char *group,
			const struct cgroup_limits *limits, bool lift, struct error *err)
{
	char value[64];
	int ret;

	if (limits->memory || lift) {
		if (limits->memory)
			snprintf(value, sizeof(value), "%" PRIu64, limits->memory);
		else
			snprintf(value, sizeof(value), "%s", host->v2 ? "max" : "-1");
		ret = write_knob(host, "memory", group,
				 host->v2 ? "memory.max" : "memory.limit_in_bytes", value, err);
		if (ret < 0)
			return ret;
		/* No swap beyond the limit; a host without swap accounting has no such knob. */
		if (host->v2) {
			ret = write_knob(host, "memory", group, "memory.swap.max",
					 limits->memory ? "0" : "max", err);
			if (ret < 0 && ret != -ENOENT)
				return ret;
		}
	}
	if (limits->pids || lift) {
		if (limits->pids)
			snprintf(value, sizeof(value), "%u", limits->pids);
		else
			snprintf(value, sizeof(value), "max");
		if ((ret = write_knob(host, "pids", group, "pids.max", value, err)) < 0)
			return ret;
	}
	if (!limits->cpu_percent && !lift)
		return 0;
	/* A period of 100 ms; the quota is the share of one CPU asked for. Without the cpu
	 * controller (it is optional on v2) there is no limit to lift. */
	if (host->v2) {
		if (limits->cpu_percent)
			snprintf(value, sizeof(value), "%u 100000", limits->cpu_percent * 1000);
		else
			snprintf(value, sizeof(value), "max 100000");
		ret = write_knob(host, "cpu", group, "cpu.max", value, err);
	} else {
		ret = write_knob(host, "cpu", group, "cpu.cfs_period_us", "100000", err);
		if (limits->cpu_percent)
			snprintf(value, sizeof(value), "%u", limits->cpu_percent * 1000);
		else
			snprintf(value, sizeof(value), "-1");
		if (ret == 0)
			ret = write_knob(host, "cpu", group, "cpu.cfs_quota_us", value, err);
	}
	return ret == -ENOENT && !limits->cpu_percent ? 0 : ret;
}

int cgroup_set_limits(const struct cgroup_host *host, const char *group,
		      const struct cgroup_limits *limits, struct error *err)
{
	return write_limits(host, group, limits, true, err);
}

int cgroup_create(const struct cgroup_host *host, const char *group,
		  const struct cgroup_limits *limits, struct error *err)
{
	int ret = make_group_dirs(host, group, err);

	if (ret < 0)
		return ret;
	if ((ret = write_limits(host, group, limits, false, err)) < 0)
		cgroup_destroy(host, group);
	return ret;
}

int cgroup_create_parent(const struct cgroup_host *host, const char *group, uint64_t memory,
			 struct error *err)
{
	struct cgroup_limits limits = {.memory = memory};
	char path[PATH_MAX];
	int ret = make_group_dirs(host, group, err);

	if (ret < 0)
		return ret;
	/* Always on in kernels since 5.x, where the knob stays for compatibility; an older
	 * one needs it before the group has children. */
	if (!host->v2 &&
	    path_of(host, "memory", group, "memory.use_hierarchy", path, sizeof(path)) == 0 &&
	    (ret = write_string(path, "1")) < 0) {
		_cleanup_free_ char *now = NULL;
		if (read_file(path, 16, &now, NULL) < 0 || now[0] != '1')
			return error_set(err, ret, "cgroup: write 1 to %s", path);
	}
	return write_limits(host, group, &limits, true, err);
}

int cgroup_open(const struct cgroup_host *host, const char *group, struct error *err)
{
	char path[PATH_MAX];
	int fd, ret = path_of(host, NULL, group, NULL, path, sizeof(path));

	if (ret < 0)
		return error_set(err, ret, "cgroup path of %s", group);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "open %s", path);
	return fd;
}

static int move_self(const struct cgroup_host *host, const char *const groups[], struct error *err)
{
	for (size_t i = 0; i < (host->v2 ? 1 : CGROUP_V1_CONTROLLERS); i++) {
		int ret = write_knob(host, v1_controllers[i], groups[i],
				     host->v2 ? "cgroup.procs" : "tasks", "0", err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int cgroup_enter(const struct cgroup_host *host, const char *group, struct error *err)
{
	const char *groups[CGROUP_V1_CONTROLLERS];

	for (size_t i = 0; i < CGROUP_V1_CONTROLLERS; i++)
		groups[i] = group;
	return move_self(host, groups, err);
}

int cgroup_leave(const struct cgroup_host *host, struct error *err)
{
	const char *groups[CGROUP_V1_CONTROLLERS];

	for (size_t i = 0; i < CGROUP_V1_CONTROLLERS; i++)
		groups[i] = host->self[i][0] == '/' ? host->self[i] + 1 : host->self[i];
	return move_self(host, groups, err);
}

/* Signal every pid listed in the group's cgroup.procs; returns how many were listed. */
static int signal_listed(const char *procs_path, int sig)
{
	_cleanup_free_ char *text = NULL;
	int count = 0;

	if (read_file(procs_path, 1 << 22, &text, NULL) < 0)
		return 0;
	for (char *p = text; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0 && kill((pid_t)pid, sig) == 0)
			count++;
		p = *end ? end + 1 : end;
	}
	return count;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* SIGKILL whatever any of the group's hierarchies lists; returns how many were listed. */
static int kill_listed(const struct cgroup_host *host, const char *group)
{
	char procs[PATH_MAX];
	int count = 0;

	for (size_t i = 0; i < (host->v2 ? 1 : CGROUP_V1_CONTROLLERS); i++)
		if (path_of(host, v1_controllers[i], group, "cgroup.procs", procs, sizeof(procs)) ==
		    0)
			count += signal_listed(procs, SIGKILL);
	return count;
}

int cgroup_kill(const struct cgroup_host *host, const char *group)
{
	char knob[PATH_MAX];

	if (host->v2 && path_of(host, NULL, group, "cgroup.kill", knob, sizeof(knob)) == 0 &&
	    write_string(knob, "1") == 0) {
		/* cgroup.kill is atomic against forks. */
	} else if (!host->v2) {
		/* Freeze first so a fork bomb cannot outrun the kills. */
		path_of(host, "freezer", group, "freezer.state", knob, sizeof(knob));
		write_string(knob, "FROZEN");
		kill_listed(host, group);
		write_string(knob, "THAWED");
	}
	for (int waited = 0; waited < KILL_WAIT_MS; waited++) {
		if (kill_listed(host, group) == 0)
			return 0;
		sleep_ms(1);
	}
	log_warn("cgroup %s: tasks still present after %d ms", group, KILL_WAIT_MS);
	return -EBUSY;
}

int cgroup_destroy(const struct cgroup_host *host, const char *group)
{
	char path[PATH_MAX];
	int ret = cgroup_kill(host, group);

	for (size_t i = 0; i < (host->v2 ? 1 : ARRAY_SIZE(v1_controllers)); i++) {
		if (path_of(host, v1_controllers[i], group, NULL, path, sizeof(path)) < 0)
			continue;
		/* A task that just died may hold the group for a moment longer. */
		for (int tries = 0; rmdir(path) < 0 && errno == EBUSY && tries < 200; tries++)
			sleep_ms(1);
		if (access(path, F_OK) == 0) {
			log_warn_errno(errno, "cgroup: remove %s", path);
			ret = -EBUSY;
		}
	}
	return ret;
}

int cgroup_freeze(const struct cgroup_host *host, const char *group, bool frozen, struct error *err)
{
	if (host->v2)
		return write_knob(host, NULL, group, "cgroup.freeze", frozen ? "1" : "0", err);
	return write_knob(host, "freezer", group, "freezer.state", frozen ? "FROZEN" : "THAWED",
			  err);
}

int cgroup_frozen(const struct cgroup_host *host, const char *group)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	uint64_t v;
	int ret;

	if (host->v2) {
		if ((ret = path_of(host, NULL, group, "cgroup.events", path, sizeof(path))) < 0 ||
		    (ret = read_u64(path, "frozen", &v)) < 0)
			return ret;
		return v == 1;
	}
	if ((ret = path_of(host, "freezer", group, "freezer.state", path, sizeof(path))) < 0 ||
	    (ret = read_file(path, 64, &text, NULL)) < 0)
		return ret;
	return strncmp(text, "FROZEN", 6) == 0;
}

int cgroup_read_stats(const struct cgroup_host *host, const char *group, struct cgroup_stats *s)
{
	char path[PATH_MAX];
	uint64_t ns = 0;

	memset(s, 0, sizeof(*s));
	if (host->v2) {
		path_of(host, NULL, group, "memory.current", path, sizeof(path));
		read_u64(path, NULL, &s->memory_bytes);
		path_of(host, NULL, group, "memory.peak", path, sizeof(path));
		read_u64(path, NULL, &s->memory_max_bytes);
		path_of(host, NULL, group, "memory.events", path, sizeof(path));
		read_u64(path, "oom_kill", &s->oom_kills);
		path_of(host, NULL, group, "cpu.stat", path, sizeof(path));
		read_u64(path, "usage_usec", &s->cpu_usec);
	} else {
		path_of(host, "memory", group, "memory.usage_in_bytes", path, sizeof(path));
		read_u64(path, NULL, &s->memory_bytes);
		path_of(host, "memory", group, "memory.max_usage_in_bytes", path, sizeof(path));
		read_u64(path, NULL, &s->memory_max_bytes);
		path_of(host, "memory", group, "memory.oom_control", path, sizeof(path));
		read_u64(path, "oom_kill", &s->oom_kills);
		path_of(host, "cpuacct", group, "cpuacct.usage", path, sizeof(path));
		if (read_u64(path, NULL, &ns) == 0)
			s->cpu_usec = ns / 1000;
	}
	path_of(host, "pids", group, "pids.current", path, sizeof(path));
	read_u64(path, NULL, &s->pids);
	return 0;
}

int cgroup_destroy_tree(const struct cgroup_host *host, const char *parent)
{
	char path[PATH_MAX], child[PATH_MAX];
	int ret = 0;

	for (size_t i = 0; i < (host->v2 ? 1 : ARRAY_SIZE(v1_controllers)); i++) {
		_cleanup_closedir_ DIR *dir = NULL;
		struct dirent *de;

		if (path_of(host, v1_controllers[i], parent, NULL, path, sizeof(path)) < 0)
			continue;
		dir = opendir(path);
		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			snprintf(child, sizeof(child), "%s/%s", parent, de->d_name);
			if (cgroup_destroy(host, child) < 0)
				ret = -EBUSY;
		}
	}
	if (cgroup_destroy(host, parent) < 0)
		ret = -EBUSY;
	return ret;
}
