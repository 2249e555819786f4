/* Unit tests of src/common/fsutil.c, in a fresh temporary directory per test. Tests that
 * need a small file system mount a 64 KiB tmpfs (as root) and skip when they cannot. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
	char dir[PATH_MAX]; /* the test's temporary directory */
	char mnt[PATH_MAX]; /* DIR/mnt, a 64 KiB tmpfs when mounted */
	bool mounted;
	int mount_errno; /* why the mount failed */
};

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* The test's own cleanup, independent of rm_rf, which is under test. */
static void remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int setup_dir(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cells-test-fsutil-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->mnt, sizeof(fx->mnt), "%s/mnt", fx->dir);
	umask(022);
	*state = fx;
	return 0;
}

static int setup_tmpfs(void **state)
{
	struct fixture *fx;

	if (setup_dir(state) < 0)
		return -1;
	fx = *state;
	if (mkdir(fx->mnt, 0755) < 0)
		return -1;
	fx->mounted = mount("tmpfs", fx->mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") == 0;
	fx->mount_errno = fx->mounted ? 0 : errno;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->mounted)
		umount2(fx->mnt, MNT_DETACH);
	remove_tree(fx->dir);
	free(fx);
	return 0;
}

static void skip_unless_mounted(const struct fixture *fx)
{
	if (!fx->mounted) {
		print_message("cannot mount a tmpfs (%s): skipped\n", strerror(fx->mount_errno));
		skip();
	}
}

static const char *path_in(char *buf, const char *dir, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
	return buf;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The whole content of PATH, which the caller frees. */
static char *slurp(const char *path)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(read_file(path, 1 << 20, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static void assert_file_is(const char *path, const char *expected)
{
	char *text = slurp(path);

	assert_string_equal(text, expected);
	free(text);
}

/* Number of entries in DIR other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* ---- mkdir_p ---- */

static void mkdir_p_creates_nested_dirs(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/a/b/c/d", fx->dir);
	assert_int_equal(mkdir_p(path, 0755), 0);
	assert_true(is_dir(path));
	snprintf(path, sizeof(path), "%s/a/b", fx->dir);
	assert_true(is_dir(path));
}

static void mkdir_p_applies_mode_to_new_dirs(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/m/n", fx->dir);
	assert_int_equal(mkdir_p(path, 0700), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
}

static void mkdir_p_succeeds_on_existing_dirs(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/x/y", fx->dir);
	assert_int_equal(mkdir_p(path, 0755), 0);
	assert_int_equal(mkdir_p(path, 0755), 0);
	assert_int_equal(mkdir_p(fx->dir, 0755), 0);
	assert_int_equal(mkdir_p("/", 0755), 0);
	assert_true(is_dir(path));
}

static void mkdir_p_accepts_trailing_and_double_slashes(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/t//u/", fx->dir);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/t/u", fx->dir);
	assert_true(is_dir(path));
}

static void mkdir_p_rejects_path_longer_than_path_max(void **state)
{
	char *path = malloc(PATH_MAX + 16);

	(void)state;
	assert_non_null(path);
	memset(path, 'a', PATH_MAX + 15);
	path[0] = '/';
	path[PATH_MAX + 15] = '\0';
	assert_int_equal(mkdir_p(path, 0755), -ENAMETOOLONG);
	free(path);
}

static void mkdir_p_rejects_empty_path(void **state)
{
	(void)state;
	assert_true(mkdir_p("", 0755) < 0);
}

static void mkdir_p_rejects_component_longer_than_name_max(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	char name[NAME_MAX + 2];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(path, sizeof(path), "%s/%s/z", fx->dir, name);
	assert_int_equal(mkdir_p(path, 0755), -ENAMETOOLONG);
}

static void mkdir_p_fails_under_a_regular_file(void **state)
{
	struct fixture *fx = *state;
	char file[PATH_MAX], path[PATH_MAX];

	put_file(path_in(file, fx->dir, "f"), "x");
	snprintf(path, sizeof(path), "%s/sub", file);
	assert_int_equal(mkdir_p(path, 0755), -ENOTDIR);
}

/* Like mkdir -p: a regular file where the directory should be is an error, not success. */
static void mkdir_p_fails_when_path_is_a_regular_file(void **state)
{
	struct fixture *fx = *state;
	char file[PATH_MAX];

	put_file(path_in(file, fx->dir, "f"), "x");
	assert_true(mkdir_p(file, 0755) < 0);
}

/* ---- write_file_atomic ---- */

static void write_atomic_creates_file_with_mode(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	struct stat st;

	path_in(path, fx->dir, "config.json");
	assert_int_equal(write_file_atomic(path, "hello\n", 6, 0600), 0);
	assert_file_is(path, "hello\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void write_atomic_replaces_content(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	path_in(path, fx->dir, "config.json");
	put_file(path, "an old and rather longer content\n");
	assert_int_equal(write_file_atomic(path, "new", 3, 0644), 0);
	assert_file_is(path, "new");
}

static void write_atomic_writes_empty_content(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	path_in(path, fx->dir, "empty");
	put_file(path, "something");
	assert_int_equal(write_file_atomic(path, "", 0, 0644), 0);
	assert_file_is(path, "");
}

static void write_atomic_leaves_no_tmp_file(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX], tmp[PATH_MAX];

	path_in(path, fx->dir, "config.json");
	assert_int_equal(write_file_atomic(path, "one", 3, 0644), 0);
	assert_int_equal(write_file_atomic(path, "two", 3, 0644), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_false(exists(tmp));
	assert_int_equal(count_entries(fx->dir), 1);
}

static void write_atomic_fails_in_missing_dir(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/nodir/config.json", fx->dir);
	assert_int_equal(write_file_atomic(path, "x", 1, 0644), -ENOENT);
	assert_int_equal(count_entries(fx->dir), 0);
}

/* ---- create_flag_file ---- */

static void flag_file_is_created_empty_with_mode(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	struct stat st;

	path_in(path, fx->dir, "running");
	assert_int_equal(create_flag_file(path, 0600), 0);
	assert_file_is(path, "");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(fx->dir), 1);
}

static void flag_file_already_there_is_success(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	path_in(path, fx->dir, "running");
	put_file(path, "");
	assert_int_equal(create_flag_file(path, 0600), 0);
	assert_int_equal(count_entries(fx->dir), 1);
}

static void flag_file_does_not_follow_a_link(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX], target[PATH_MAX];

	path_in(path, fx->dir, "running");
	path_in(target, fx->dir, "elsewhere");
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(create_flag_file(path, 0600), -ELOOP);
	assert_false(exists(target));
}

static void flag_file_fails_in_missing_dir(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/nodir/running", fx->dir);
	assert_int_equal(create_flag_file(path, 0600), -ENOENT);
}

/* The promise of write_file_atomic: on a full disk the old content stays, whole. */
static void write_atomic_keeps_old_content_on_full_disk(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX], filler[PATH_MAX], tmp[PATH_MAX];
	const char *old = "{\"name\": \"work\", \"memory\": 536870912}\n";
	static char chunk[4096], big[16384];
	int fd, err = 0;

	skip_unless_mounted(fx);
	path_in(path, fx->mnt, "config.json");
	assert_int_equal(write_file_atomic(path, old, strlen(old), 0600), 0);

	/* Fill the file system. */
	fd = open(path_in(filler, fx->mnt, "filler"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	memset(chunk, 'f', sizeof(chunk));
	for (int i = 0; i < 1000; i++) {
		ssize_t n = write(fd, chunk, sizeof(chunk));
		if (n < 0) {
			err = errno;
			break;
		}
	}
	close(fd);
	assert_int_equal(err, ENOSPC);

	memset(big, 'n', sizeof(big));
	assert_int_equal(write_file_atomic(path, big, sizeof(big), 0600), -ENOSPC);
	assert_file_is(path, old);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_false(exists(tmp));
	assert_int_equal(count_entries(fx->mnt), 2); /* config.json and filler */

	/* Once there is room again, the write goes through. */
	assert_int_equal(unlink(filler), 0);
	assert_int_equal(write_file_atomic(path, big, sizeof(big), 0600), 0);
	assert_false(exists(tmp));
}

/* ---- read_file ---- */

static void read_file_reads_content_and_length(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	char *text = NULL;
	size_t len = 0;

	put_file(path_in(path, fx->dir, "f"), "abc\ndef\n");
	assert_int_equal(read_file(path, 100, &text, &len), 0);
	assert_int_equal(len, 8);
	assert_string_equal(text, "abc\ndef\n");
	free(text);
}

static void read_file_accepts_null_length(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	char *text = NULL;

	put_file(path_in(path, fx->dir, "f"), "xyz");
	assert_int_equal(read_file(path, 100, &text, NULL), 0);
	assert_string_equal(text, "xyz");
	free(text);
}

static void read_file_reads_empty_file(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	char *text = NULL;
	size_t len = 99;

	put_file(path_in(path, fx->dir, "f"), "");
	assert_int_equal(read_file(path, 100, &text, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");
	free(text);
}

static void read_file_accepts_exactly_max_bytes(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	char *text = NULL;
	size_t len = 0;

	put_file(path_in(path, fx->dir, "f"), "0123456789");
	assert_int_equal(read_file(path, 10, &text, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(text, "0123456789");
	free(text);
}

static void read_file_rejects_more_than_max_with_efbig(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	char *text = NULL;

	put_file(path_in(path, fx->dir, "f"), "0123456789A");
	assert_int_equal(read_file(path, 10, &text, NULL), -EFBIG);
	assert_null(text);
}

static void read_file_missing_gives_enoent(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	char *text = NULL;

	assert_int_equal(read_file(path_in(path, fx->dir, "nope"), 10, &text, NULL), -ENOENT);
	assert_null(text);
}

static void read_file_on_directory_fails(void **state)
{
	struct fixture *fx = *state;
	char *text = NULL;

	assert_int_equal(read_file(fx->dir, 10, &text, NULL), -EISDIR);
	assert_null(text);
}

/* ---- write_string ---- */

static void write_string_writes_existing_file(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	put_file(path_in(path, fx->dir, "knob"), "");
	assert_int_equal(write_string(path, "100000"), 0);
	assert_file_is(path, "100000");
}

static void write_string_does_not_create_missing_file(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	assert_int_equal(write_string(path_in(path, fx->dir, "knob"), "1"), -ENOENT);
	assert_false(exists(path));
}

/* ---- rm_rf ---- */

static void rm_rf_removes_tree(void **state)
{
	struct fixture *fx = *state;
	char root[PATH_MAX], path[PATH_MAX];

	path_in(root, fx->dir, "tree");
	snprintf(path, sizeof(path), "%s/a/b/c", root);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a/b/c/file", root);
	put_file(path, "x");
	snprintf(path, sizeof(path), "%s/a/top", root);
	put_file(path, "y");
	snprintf(path, sizeof(path), "%s/empty", root);
	assert_int_equal(mkdir(path, 0755), 0);

	assert_int_equal(rm_rf(root), 0);
	assert_false(exists(root));
}

static void rm_rf_does_not_follow_symlinks_out_of_tree(void **state)
{
	struct fixture *fx = *state;
	char root[PATH_MAX], outside[PATH_MAX], path[PATH_MAX], target[PATH_MAX];

	/* Outside the tree: a directory with a file, and a lone file. */
	path_in(outside, fx->dir, "outside");
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(target, sizeof(target), "%s/precious", outside);
	put_file(target, "keep me");
	snprintf(path, sizeof(path), "%s/lone", fx->dir);
	put_file(path, "keep me too");

	path_in(root, fx->dir, "tree");
	snprintf(path, sizeof(path), "%s/sub", root);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/to-dir", root);
	assert_int_equal(symlink(outside, path), 0);
	snprintf(path, sizeof(path), "%s/sub/to-file", root);
	assert_int_equal(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/sub/to-lone", root);
	assert_int_equal(symlink("../../lone", path), 0);
	snprintf(path, sizeof(path), "%s/dangling", root);
	assert_int_equal(symlink("/nonexistent/cells-test", path), 0);

	assert_int_equal(rm_rf(root), 0);
	assert_false(exists(root));
	assert_file_is(target, "keep me");
	snprintf(path, sizeof(path), "%s/lone", fx->dir);
	assert_file_is(path, "keep me too");
	assert_true(is_dir(outside));
}

static void rm_rf_on_symlink_removes_only_the_link(void **state)
{
	struct fixture *fx = *state;
	char outside[PATH_MAX], link[PATH_MAX], target[PATH_MAX];

	path_in(outside, fx->dir, "outside");
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(target, sizeof(target), "%s/precious", outside);
	put_file(target, "keep me");
	assert_int_equal(symlink(outside, path_in(link, fx->dir, "link")), 0);

	assert_int_equal(rm_rf(link), 0);
	assert_false(exists(link));
	assert_file_is(target, "keep me");
}

static void rm_rf_removes_single_file(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	put_file(path_in(path, fx->dir, "f"), "x");
	assert_int_equal(rm_rf(path), 0);
	assert_false(exists(path));
}

static void rm_rf_missing_path_is_success(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];

	assert_int_equal(rm_rf(path_in(path, fx->dir, "nothing-here")), 0);
}

static void rm_rf_does_not_cross_mount_points(void **state)
{
	struct fixture *fx = *state;
	char inside[PATH_MAX], path[PATH_MAX];

	skip_unless_mounted(fx);
	put_file(path_in(inside, fx->mnt, "on-other-fs"), "keep me");
	snprintf(path, sizeof(path), "%s/sub", fx->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sub/f", fx->dir);
	put_file(path, "x");

	/* The mount point cannot go, so neither can the top: an error, not a silent 0. */
	assert_true(rm_rf(fx->dir) < 0);
	assert_file_is(inside, "keep me");
	assert_false(exists(path));
}

/* Deeper than PATH_MAX: built and checked by descriptors, as no path can name the bottom. */
static void rm_rf_removes_tree_deeper_than_path_max(void **state)
{
	struct fixture *fx = *state;
	char root[PATH_MAX];
	int fd, next, levels = PATH_MAX / 4 * 3;

	path_in(root, fx->dir, "deep");
	assert_int_equal(mkdir(root, 0755), 0);
	fd = open(root, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	for (int i = 0; i < levels; i++) {
		assert_int_equal(mkdirat(fd, "dd", 0755), 0);
		if (i % 100 == 0)
			close(openat(fd, "file", O_WRONLY | O_CREAT, 0600));
		next = openat(fd, "dd", O_RDONLY | O_DIRECTORY);
		assert_true(next >= 0);
		close(fd);
		fd = next;
	}
	assert_int_equal(symlinkat("/", fd, "to-root"), 0);
	close(fd);

	assert_int_equal(rm_rf(root), 0);
	assert_false(exists(root));
}

/* A mount deep in the tree stays, with its files; the rest goes, and the error is told. */
static void rm_rf_keeps_a_mount_deep_inside(void **state)
{
	struct fixture *fx = *state;
	char root[PATH_MAX], point[PATH_MAX], inside[PATH_MAX], path[PATH_MAX];

	path_in(root, fx->dir, "tree");
	snprintf(point, sizeof(point), "%s/a/b/point", root);
	assert_int_equal(mkdir_p(point, 0755), 0);
	snprintf(path, sizeof(path), "%s/a/b/f", root);
	put_file(path, "x");
	if (mount(fx->mnt, point, NULL, MS_BIND, NULL) < 0)
		skip();
	put_file(path_in(inside, point, "on-other-mount"), "keep me");

	assert_int_equal(rm_rf(root), -EBUSY);
	assert_file_is(inside, "keep me");
	assert_false(exists(path));
	umount2(point, MNT_DETACH);
	assert_int_equal(rm_rf(root), 0);
	assert_false(exists(root));
}

#define T(f)  cmocka_unit_test_setup_teardown(f, setup_dir, teardown)
#define TM(f) cmocka_unit_test_setup_teardown(f, setup_tmpfs, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(mkdir_p_creates_nested_dirs),
		T(mkdir_p_applies_mode_to_new_dirs),
		T(mkdir_p_succeeds_on_existing_dirs),
		T(mkdir_p_accepts_trailing_and_double_slashes),
		T(mkdir_p_rejects_path_longer_than_path_max),
		T(mkdir_p_rejects_empty_path),
		T(mkdir_p_rejects_component_longer_than_name_max),
		T(mkdir_p_fails_under_a_regular_file),
		T(mkdir_p_fails_when_path_is_a_regular_file),
		T(write_atomic_creates_file_with_mode),
		T(write_atomic_replaces_content),
		T(write_atomic_writes_empty_content),
		T(write_atomic_leaves_no_tmp_file),
		T(write_atomic_fails_in_missing_dir),
		TM(write_atomic_keeps_old_content_on_full_disk),
		T(flag_file_is_created_empty_with_mode),
		T(flag_file_already_there_is_success),
		T(flag_file_does_not_follow_a_link),
		T(flag_file_fails_in_missing_dir),
		T(read_file_reads_content_and_length),
		T(read_file_accepts_null_length),
		T(read_file_reads_empty_file),
		T(read_file_accepts_exactly_max_bytes),
		T(read_file_rejects_more_than_max_with_efbig),
		T(read_file_missing_gives_enoent),
		T(read_file_on_directory_fails),
		T(write_string_writes_existing_file),
		T(write_string_does_not_create_missing_file),
		T(rm_rf_removes_tree),
		T(rm_rf_does_not_follow_symlinks_out_of_tree),
		T(rm_rf_on_symlink_removes_only_the_link),
		T(rm_rf_removes_single_file),
		T(rm_rf_missing_path_is_success),
		TM(rm_rf_does_not_cross_mount_points),
		T(rm_rf_removes_tree_deeper_than_path_max),
		TM(rm_rf_keeps_a_mount_deep_inside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
