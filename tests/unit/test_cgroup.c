/* Unit tests of src/vp/cgroup.c against a fake hierarchy of plain directories and files in a
 * temporary directory: host.root points there, never at /sys/fs/cgroup. No cgroup.procs file
 * is ever created, so the kill paths find no task to signal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vp/cgroup.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GROUP  "cells-1a2b3c4d/work"
#define PARENT "cells-1a2b3c4d"

static const char *const v1_hierarchies[] = {"memory", "cpu", "cpuacct", "pids", "freezer"};

#define N_V1 (sizeof(v1_hierarchies) / sizeof(v1_hierarchies[0]))

static const struct cgroup_limits some_limits = {
	.memory = 512ull << 20, .pids = 300, .cpu_percent = 50};

static int setup_host(void **state, bool v2)
{
	struct cgroup_host *host = calloc(1, sizeof(*host));

	if (!host)
		return -1;
	host->v2 = v2;
	snprintf(host->root, sizeof(host->root), "/tmp/cells-test-cgroup-XXXXXX");
	if (!mkdtemp(host->root)) {
		free(host);
		return -1;
	}
	*state = host;
	return 0;
}

static int setup_v2(void **state)
{
	return setup_host(state, true);
}

static int setup_v1(void **state)
{
	return setup_host(state, false);
}

static int teardown(void **state)
{
	struct cgroup_host *host = *state;

	rm_rf(host->root);
	free(host);
	return 0;
}

/* ROOT/REL, for REL given printf-style. */
static const char *at(const struct cgroup_host *host, char *buf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static const char *at(const struct cgroup_host *host, char *buf, const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(buf, PATH_MAX, "%s/%s", host->root, rel);
	return buf;
}

/* Create a file (and its directory) holding TEXT. */
static void put_file(const char *path, const char *text)
{
	char dir[PATH_MAX];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	assert_int_equal(mkdir_p(dirname(dir), 0755), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void assert_file_is(const char *path, const char *expected)
{
	char *text = NULL;
	int ret = read_file(path, 4096, &text, NULL);

	if (ret < 0)
		fail_msg("read %s: %s", path, strerror(-ret));
	bool same = strcmp(text, expected) == 0;

	if (!same)
		print_error("%s holds '%s', not '%s'\n", path, text, expected);
	free(text);
	/* After the free: cmocka's fail() does not return, but is not marked so. */
	if (!same)
		fail();
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void assert_error_names(const struct error *err, const char *path)
{
	if (!strstr(err->msg, path))
		fail_msg("error '%s' does not name %s", err->msg, path);
}

/* What a v2 root offers its children, as cgroup.controllers lists it. */
#define ALL_CONTROLLERS "cpuset cpu io memory hugetlb pids rdma misc\n"

/* A v2 tree as the kernel would show it: controllers and subtree_control at the root and in
 * the parent, and the group's knobs, all empty. */
static void make_v2_group(const struct cgroup_host *host)
{
	static const char *const knobs[] = {"memory.max", "memory.swap.max", "pids.max", "cpu.max",
					    "cgroup.subtree_control"};
	char path[PATH_MAX];

	put_file(at(host, path, "cgroup.controllers"), ALL_CONTROLLERS);
	put_file(at(host, path, "cgroup.subtree_control"), "");
	put_file(at(host, path, "%s/cgroup.controllers", PARENT), ALL_CONTROLLERS);
	put_file(at(host, path, "%s/cgroup.subtree_control", PARENT), "");
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		put_file(at(host, path, "%s/%s", GROUP, knobs[i]), "");
}

/* A v1 tree: the group in every hierarchy, with the knobs of its controller. */
static void make_v1_group(const struct cgroup_host *host)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < N_V1; i++)
		assert_int_equal(mkdir_p(at(host, path, "%s/%s", v1_hierarchies[i], GROUP), 0755),
				 0);
	put_file(at(host, path, "memory/%s/memory.limit_in_bytes", GROUP), "");
	put_file(at(host, path, "pids/%s/pids.max", GROUP), "");
	put_file(at(host, path, "cpu/%s/cpu.cfs_quota_us", GROUP), "");
	put_file(at(host, path, "cpu/%s/cpu.cfs_period_us", GROUP), "");
}

/* ---- cgroup_create on v2 ---- */

static void v2_create_writes_memory_pids_and_cpu_max(void **state)
{
	struct cgroup_host *host = *state;
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v2_group(host);
	if (cgroup_create(host, GROUP, &some_limits, &err) < 0)
		fail_msg("%s", err.msg);
	assert_file_is(at(host, path, "%s/memory.max", GROUP), "536870912");
	assert_file_is(at(host, path, "%s/memory.swap.max", GROUP), "0");
	assert_file_is(at(host, path, "%s/pids.max", GROUP), "300");
	assert_file_is(at(host, path, "%s/cpu.max", GROUP), "50000 100000");
}

static void v2_create_cpu_max_above_one_cpu(void **state)
{
	struct cgroup_host *host = *state;
	struct cgroup_limits limits = {.cpu_percent = 250};
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v2_group(host);
	assert_int_equal(cgroup_create(host, GROUP, &limits, &err), 0);
	assert_file_is(at(host, path, "%s/cpu.max", GROUP), "250000 100000");
}

static void v2_create_enables_controllers_in_each_ancestor(void **state)
{
	struct cgroup_host *host = *state;
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v2_group(host);
	assert_int_equal(cgroup_create(host, GROUP, &some_limits, &err), 0);
	assert_file_is(at(host, path, "cgroup.subtree_control"), "+memory +pids +cpu");
	assert_file_is(at(host, path, "%s/cgroup.subtree_control", PARENT), "+memory +pids +cpu");
	/* The leaf keeps its tasks: it delegates nothing. */
	assert_file_is(at(host, path, "%s/cgroup.subtree_control", GROUP), "");
}

static void v2_create_top_level_group_enables_controllers_at_root(void **state)
{
	struct cgroup_host *host = *state;
	struct cgroup_limits limits = {.pids = 64};
	struct error err = {{0}};
	char path[PATH_MAX];

	put_file(at(host, path, "cgroup.controllers"), ALL_CONTROLLERS);
	put_file(at(host, path, "cgroup.subtree_control"), "");
	put_file(at(host, path, "solo/pids.max"), "");
	assert_int_equal(cgroup_create(host, "solo", &limits, &err), 0);
	assert_file_is(at(host, path, "cgroup.subtree_control"), "+memory +pids +cpu");
	assert_file_is(at(host, path, "solo/pids.max"), "64");
}

static void v2_create_without_limits_writes_no_knob(void **state)
{
	struct cgroup_host *host = *state;
	struct cgroup_limits none = {0};
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v2_group(host);
	assert_int_equal(cgroup_create(host, GROUP, &none, &err), 0);
	assert_file_is(at(host, path, "%s/memory.max", GROUP), "");
	assert_file_is(at(host, path, "%s/pids.max", GROUP), "");
	assert_file_is(at(host, path, "%s/cpu.max", GROUP), "");
}

static void v2_create_makes_the_group_directory(void **state)
{
	struct cgroup_host *host = *state;
	struct cgroup_limits none = {0};
	struct error err = {{0}};
	char path[PATH_MAX];

	put_file(at(host, path, "cgroup.controllers"), ALL_CONTROLLERS);
	put_file(at(host, path, "cgroup.subtree_control"), "");
	put_file(at(host, path, "%s/cgroup.controllers", PARENT), ALL_CONTROLLERS);
	put_file(at(host, path, "%s/cgroup.subtree_control", PARENT), "");
	assert_int_equal(cgroup_create(host, GROUP, &none, &err), 0);
	assert_true(is_dir(at(host, path, "%s", GROUP)));
}

/* Without the cpu controller, VPs still run: only memory and pids are delegated. */
static void v2_create_without_cpu_controller_enables_the_rest(void **state)
{
	struct cgroup_host *host = *state;
	struct cgroup_limits limits = {.pids = 64};
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v2_group(host);
	put_file(at(host, path, "cgroup.controllers"), "memory pids\n");
	put_file(at(host, path, "%s/cgroup.controllers", PARENT), "memory pids\n");
	if (cgroup_create(host, GROUP, &limits, &err) < 0)
		fail_msg("%s", err.msg);
	assert_file_is(at(host, path, "cgroup.subtree_control"), "+memory +pids");
	assert_file_is(at(host, path, "%s/pids.max", GROUP), "64");
}

/* Without memory (or pids) a VP cannot be confined: the error names what is missing. */
static void v2_create_without_memory_controller_fails(void **state)
{
	struct cgroup_host *host = *state;
	struct cgroup_limits none = {0};
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v2_group(host);
	put_file(at(host, path, "cgroup.controllers"), "cpu pids\n");
	assert_true(cgroup_create(host, GROUP, &none, &err) < 0);
	if (!strstr(err.msg, "memory"))
		fail_msg("error '%s' does not name the memory controller", err.msg);
}

/* A kernel without swap accounting has no memory.swap.max: not an error. */
static void v2_create_tolerates_missing_swap_max(void **state)
{
	struct cgroup_host *host = *state;
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v2_group(host);
	assert_int_equal(unlink(at(host, path, "%s/memory.swap.max", GROUP)), 0);
	if (cgroup_create(host, GROUP, &some_limits, &err) < 0)
		fail_msg("%s", err.msg);
	assert_file_is(at(host, path, "%s/memory.max", GROUP), "536870912");
	assert_file_is(at(host, path, "%s/pids.max", GROUP), "300");
}

static void v2_create_missing_pids_max_names_the_path(void **state)
{
	struct cgroup_host *host = *state;
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v2_group(host);
	assert_int_equal(unlink(at(host, path, "%s/pids.max", GROUP)), 0);
	assert_int_equal(cgroup_create(host, GROUP, &some_limits, &err), -ENOENT);
	assert_error_names(&err, path);
}

static void v2_create_missing_cpu_max_names_the_path(void **state)
{
	struct cgroup_host *host = *state;
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v2_group(host);
	assert_int_equal(unlink(at(host, path, "%s/cpu.max", GROUP)), 0);
	assert_int_equal(cgroup_create(host, GROUP, &some_limits, &err), -ENOENT);
	assert_error_names(&err, path);
}

/* A memory limit that cannot be set must not be dropped silently. */
static void v2_create_missing_memory_max_names_the_path(void **state)
{
	struct cgroup_host *host = *state;
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v2_group(host);
	assert_int_equal(unlink(at(host, path, "%s/memory.max", GROUP)), 0);
	assert_int_equal(cgroup_create(host, GROUP, &some_limits, &err), -ENOENT);
	assert_error_names(&err, path);
}

static void v2_create_missing_subtree_control_names_the_path(void **state)
{
	struct cgroup_host *host = *state;
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v2_group(host);
	assert_int_equal(unlink(at(host, path, "%s/cgroup.subtree_control", PARENT)), 0);
	assert_int_equal(cgroup_create(host, GROUP, &some_limits, &err), -ENOENT);
	assert_error_names(&err, path);
}

/* ---- cgroup_create on v1 ---- */

static void v1_create_writes_limit_in_bytes_pids_and_cfs(void **state)
{
	struct cgroup_host *host = *state;
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v1_group(host);
	if (cgroup_create(host, GROUP, &some_limits, &err) < 0)
		fail_msg("%s", err.msg);
	assert_file_is(at(host, path, "memory/%s/memory.limit_in_bytes", GROUP), "536870912");
	assert_file_is(at(host, path, "pids/%s/pids.max", GROUP), "300");
	assert_file_is(at(host, path, "cpu/%s/cpu.cfs_period_us", GROUP), "100000");
	assert_file_is(at(host, path, "cpu/%s/cpu.cfs_quota_us", GROUP), "50000");
}

static void v1_create_makes_the_group_in_every_hierarchy(void **state)
{
	struct cgroup_host *host = *state;
	struct cgroup_limits none = {0};
	struct error err = {{0}};
	char path[PATH_MAX];

	assert_int_equal(cgroup_create(host, GROUP, &none, &err), 0);
	for (size_t i = 0; i < N_V1; i++)
		assert_true(is_dir(at(host, path, "%s/%s", v1_hierarchies[i], GROUP)));
	/* v1 has no subtree_control to write. */
	assert_false(is_dir(at(host, path, "%s", GROUP)));
}

static void v1_create_missing_quota_names_the_path(void **state)
{
	struct cgroup_host *host = *state;
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v1_group(host);
	assert_int_equal(unlink(at(host, path, "cpu/%s/cpu.cfs_quota_us", GROUP)), 0);
	assert_int_equal(cgroup_create(host, GROUP, &some_limits, &err), -ENOENT);
	assert_error_names(&err, path);
}

static void v1_create_missing_pids_max_names_the_path(void **state)
{
	struct cgroup_host *host = *state;
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v1_group(host);
	assert_int_equal(unlink(at(host, path, "pids/%s/pids.max", GROUP)), 0);
	assert_int_equal(cgroup_create(host, GROUP, &some_limits, &err), -ENOENT);
	assert_error_names(&err, path);
}

static void v1_create_missing_limit_in_bytes_names_the_path(void **state)
{
	struct cgroup_host *host = *state;
	struct error err = {{0}};
	char path[PATH_MAX];

	make_v1_group(host);
	assert_int_equal(unlink(at(host, path, "memory/%s/memory.limit_in_bytes", GROUP)), 0);
	assert_int_equal(cgroup_create(host, GROUP, &some_limits, &err), -ENOENT);
	assert_error_names(&err, path);
}

/* ---- cgroup_read_stats ---- */

static void v2_stats_are_parsed(void **state)
{
	struct cgroup_host *host = *state;
	struct cgroup_stats s;
	char path[PATH_MAX];

	put_file(at(host, path, "%s/memory.current", GROUP), "1048576\n");
	put_file(at(host, path, "%s/memory.peak", GROUP), "2097152\n");
	put_file(at(host, path, "%s/memory.events", GROUP),
		 "low 0\nhigh 0\nmax 5\noom 2\noom_kill 3\noom_group_kill 0\n");
	put_file(at(host, path, "%s/cpu.stat", GROUP),
		 "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n");
	put_file(at(host, path, "%s/pids.current", GROUP), "7\n");

	assert_int_equal(cgroup_read_stats(host, GROUP, &s), 0);
	assert_true(s.memory_bytes == 1048576);
	assert_true(s.memory_max_bytes == 2097152);
	assert_true(s.oom_kills == 3);
	assert_true(s.cpu_usec == 1234);
	assert_true(s.pids == 7);
}

/* "oom_kill" is a whole key: neither "oom" nor "oom_group_kill". */
static void v2_stats_match_whole_keys(void **state)
{
	struct cgroup_host *host = *state;
	struct cgroup_stats s;
	char path[PATH_MAX];

	put_file(at(host, path, "%s/memory.events", GROUP),
		 "oom 9\noom_group_kill 8\noom_kill 3\n");
	put_file(at(host, path, "%s/cpu.stat", GROUP), "usage_usec_total 99\nusage_usec 42");

	assert_int_equal(cgroup_read_stats(host, GROUP, &s), 0);
	assert_true(s.oom_kills == 3);
	assert_true(s.cpu_usec == 42);
}

static void v2_stats_missing_files_read_as_zero(void **state)
{
	struct cgroup_host *host = *state;
	struct cgroup_stats s;
	char path[PATH_MAX];

	memset(&s, 0xff, sizeof(s));
	put_file(at(host, path, "%s/pids.current", GROUP), "2\n");
	put_file(at(host, path, "%s/memory.events", GROUP), "low 0\nhigh 0\n");
	assert_int_equal(cgroup_read_stats(host, GROUP, &s), 0);
	assert_true(s.memory_bytes == 0);
	assert_true(s.memory_max_bytes == 0);
	assert_true(s.oom_kills == 0);
	assert_true(s.cpu_usec == 0);
	assert_true(s.pids == 2);
}

static void v1_stats_are_parsed(void **state)
{
	struct cgroup_host *host = *state;
	struct cgroup_stats s;
	char path[PATH_MAX];

	put_file(at(host, path, "memory/%s/memory.usage_in_bytes", GROUP), "4096\n");
	put_file(at(host, path, "memory/%s/memory.max_usage_in_bytes", GROUP), "8192\n");
	put_file(at(host, path, "memory/%s/memory.oom_control", GROUP),
		 "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
	put_file(at(host, path, "cpuacct/%s/cpuacct.usage", GROUP), "5000000\n");
	put_file(at(host, path, "pids/%s/pids.current", GROUP), "11\n");

	assert_int_equal(cgroup_read_stats(host, GROUP, &s), 0);
	assert_true(s.memory_bytes == 4096);
	assert_true(s.memory_max_bytes == 8192);
	assert_true(s.oom_kills == 3);
	assert_true(s.cpu_usec == 5000);
	assert_true(s.pids == 11);
}

/* ---- cgroup_destroy_tree ---- */

static void v2_destroy_tree_removes_children_and_parent(void **state)
{
	struct cgroup_host *host = *state;
	char path[PATH_MAX];

	assert_int_equal(mkdir_p(at(host, path, "%s/work", PARENT), 0755), 0);
	assert_int_equal(mkdir_p(at(host, path, "%s/play", PARENT), 0755), 0);
	assert_int_equal(cgroup_destroy_tree(host, PARENT), 0);
	assert_false(is_dir(at(host, path, "%s", PARENT)));
	assert_true(is_dir(host->root));
}

static void v1_destroy_tree_removes_children_and_parent(void **state)
{
	struct cgroup_host *host = *state;
	char path[PATH_MAX];

	for (size_t i = 0; i < N_V1; i++) {
		assert_int_equal(
			mkdir_p(at(host, path, "%s/%s/work", v1_hierarchies[i], PARENT), 0755), 0);
		assert_int_equal(
			mkdir_p(at(host, path, "%s/%s/play", v1_hierarchies[i], PARENT), 0755), 0);
	}
	assert_int_equal(cgroup_destroy_tree(host, PARENT), 0);
	for (size_t i = 0; i < N_V1; i++) {
		assert_false(is_dir(at(host, path, "%s/%s", v1_hierarchies[i], PARENT)));
		assert_true(is_dir(at(host, path, "%s", v1_hierarchies[i])));
	}
}

int main(void)
{
#define T2(f) cmocka_unit_test_setup_teardown(f, setup_v2, teardown)
#define T1(f) cmocka_unit_test_setup_teardown(f, setup_v1, teardown)
	const struct CMUnitTest tests[] = {
		T2(v2_create_writes_memory_pids_and_cpu_max),
		T2(v2_create_cpu_max_above_one_cpu),
		T2(v2_create_enables_controllers_in_each_ancestor),
		T2(v2_create_top_level_group_enables_controllers_at_root),
		T2(v2_create_without_limits_writes_no_knob),
		T2(v2_create_makes_the_group_directory),
		T2(v2_create_without_cpu_controller_enables_the_rest),
		T2(v2_create_without_memory_controller_fails),
		T2(v2_create_tolerates_missing_swap_max),
		T2(v2_create_missing_pids_max_names_the_path),
		T2(v2_create_missing_cpu_max_names_the_path),
		T2(v2_create_missing_memory_max_names_the_path),
		T2(v2_create_missing_subtree_control_names_the_path),
		T1(v1_create_writes_limit_in_bytes_pids_and_cfs),
		T1(v1_create_makes_the_group_in_every_hierarchy),
		T1(v1_create_missing_quota_names_the_path),
		T1(v1_create_missing_pids_max_names_the_path),
		T1(v1_create_missing_limit_in_bytes_names_the_path),
		T2(v2_stats_are_parsed),
		T2(v2_stats_match_whole_keys),
		T2(v2_stats_missing_files_read_as_zero),
		T1(v1_stats_are_parsed),
		T2(v2_destroy_tree_removes_children_and_parent),
		T1(v1_destroy_tree_removes_children_and_parent),
	};
#undef T1
#undef T2

	/* Failed creations clean up and warn that the fake groups (full of files) stay. */
	log_init("test_cgroup", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
