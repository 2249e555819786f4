/* Base images: STATE/images/NAME/rootfs, shared read-only by every VP made from it.
 * `image build` runs a recipe (LIB/images/NAME/build); `image import` copies any root
 * file system, a directory or a tarball. Both work in a child process, into a temporary
 * directory renamed into place at the end, so a failed build leaves the old image. */
#include "cellsd/daemon.h"
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int image_path(struct daemon *d, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/images/%s/rootfs", d->state_dir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool image_exists(struct daemon *d, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	return name_is_valid(name) && image_path(d, name, path, sizeof(path)) == 0 &&
	       stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

json_t *images_list(struct daemon *d)
{
	char path[PATH_MAX];
	_cleanup_closedir_ DIR *dir = NULL;
	json_t *list = json_array();
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/images", d->state_dir);
	if (!list || !(dir = opendir(path)))
		return list;
	while ((de = readdir(dir))) {
		_cleanup_free_ char *text = NULL;
		json_t *info = NULL;
		unsigned users = 0;

		if (de->d_name[0] == '.' || !image_exists(d, de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/images/%s/image.json", d->state_dir, de->d_name);
		if (read_file(path, 65536, &text, NULL) == 0)
			info = json_loads(text, 0, NULL);
		if (!json_is_object(info)) {
			json_decref(info);
			info = json_object();
		}
		for (struct vp *vp = d->vps; vp; vp = vp->next)
			users += strcmp(vp->config.image, de->d_name) == 0;
		json_object_set_new(info, "name", json_string(de->d_name));
		json_object_set_new(info, "vps", json_integer(users));
		json_array_append_new(list, info);
	}
	return list;
}

static int image_check_free(struct daemon *d, const char *name, struct error *err)
{
	if (!name_is_valid(name))
		return error_set(err, 0, "invalid image name '%s'", name);
	if (jobs_busy_with(d, name))
		return error_set(err, 0, "image %s is being built already", name);
	for (struct vp *vp = d->vps; vp; vp = vp->next)
		if (strcmp(vp->config.image, name) == 0 &&
		    (vp->state == VP_RUNNING || vp->state == VP_STOPPING))
			return error_set(err, 0, "image %s is in use by running VP %s", name,
					 vp->config.name);
	return 0;
}

/* In the job's child: run a program to its end; its output goes to OUT. */
static int run_program(char *const argv[], char *const envp[], int out)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, 0);
		dup2(out, 1);
		dup2(out, 2);
		execve(argv[0], argv, envp);
		dprintf(out, "cellsd: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		dprintf(out, "cellsd: %s failed (status %d)\n", argv[0],
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -EIO;
	}
	return 0;
}

/* In the job's child: write image.json and rename the new tree into place. */
static int image_commit(struct daemon *d, const char *name, const char *tmp, const char *source,
			int out)
{
	char path[PATH_MAX], final[PATH_MAX], old[PATH_MAX];
	_cleanup_json_ json_t *info = NULL;
	_cleanup_free_ char *text = NULL;
	int ret;

	info = json_pack("{s:s, s:s, s:I}", "name", name, "source", source, "created",
			 (json_int_t)time(NULL));
	if (!info || !(text = json_dumps(info, JSON_INDENT(2))))
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/image.json", tmp);
	if ((ret = write_file_atomic(path, text, strlen(text), 0644)) < 0) {
		dprintf(out, "cellsd: write %s: %s\n", path, strerror(-ret));
		return ret;
	}
	snprintf(final, sizeof(final), "%s/images/%s", d->state_dir, name);
	snprintf(old, sizeof(old), "%s/images/.%s.old-%d", d->state_dir, name, (int)getpid());
	if (rename(final, old) < 0 && errno != ENOENT)
		return -errno;
	if (rename(tmp, final) < 0) {
		ret = -errno;
		rename(old, final);
		return ret;
	}
	rm_rf(old);
	return 0;
}

static void on_image_done(struct job *job, int status)
{
	struct client *c = job->client;
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	log_info("image %s: %s", job->name, ok ? "ready" : "failed");
	vps_prepare_soon(job->daemon);
	event_emit(job->daemon,
		   json_pack("{s:s, s:s, s:b}", "event", "image", "name", job->name, "ok", ok));
	if (!c || c->closed)
		return;
	if (ok)
		client_reply(c, json_pack("{s:b, s:s}", "ok", 1, "image", job->name));
	else
		client_reply_error(c, "image build failed (its output is above, or in cellsd's "
				      "log)");
}

typedef int (*image_fill_fn)(struct daemon *d, const char *rootfs, const char *arg, int out);

static int image_job(struct daemon *d, const char *name, const char *arg, const char *source,
		     image_fill_fn fill, struct client *c, int output_fd, struct error *err)
{
	char tmp[PATH_MAX], rootfs[PATH_MAX];
	struct job *job;
	pid_t pid;
	int ret;

	if ((ret = image_check_free(d, name, err)) < 0)
		return ret;
	vps_unprepare_image(d, name); /* made on the tree this job replaces */
	snprintf(tmp, sizeof(tmp), "%s/images", d->state_dir);
	if ((ret = mkdir_p(tmp, 0700)) < 0)
		return error_set(err, ret, "create %s", tmp);
	snprintf(tmp, sizeof(tmp), "%s/images/.%s.new-%llu", d->state_dir, name,
		 (unsigned long long)monotonic_ns());
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmp);
	if ((ret = mkdir_p(rootfs, 0755)) < 0)
		return error_set(err, ret, "create %s", rootfs);
	pid = devns_fork(&d->devns);
	if (pid < 0) {
		rm_rf(tmp);
		return error_set(err, errno, "fork");
	}
	if (pid == 0) {
		int out = output_fd >= 0 ? output_fd : 2;
		vp_reset_signals();
		if (fill(d, rootfs, arg, out) < 0 || image_commit(d, name, tmp, source, out) < 0)
			_exit(1);
		_exit(0);
	}
	job = job_start(d, pid, c, on_image_done, err);
	if (!job) {
		rm_rf(tmp);
		return -EIO;
	}
	snprintf(job->name, sizeof(job->name), "%s", name);
	snprintf(job->tmp_dir, sizeof(job->tmp_dir), "%s", tmp);
	log_info("image %s: %s", name, source);
	return 0;
}

/* A recipe gets CELLS_LIB (cell-init, apps/) and CELLS_CACHE, STATE/cache, where it may keep
 * what it downloaded for its next build (the debian recipe's packages). */
static int fill_from_recipe(struct daemon *d, const char *rootfs, const char *recipe, int out)
{
	char env_lib[PATH_MAX + 16], env_cache[PATH_MAX + 16];
	char *const argv[] = {(char *)recipe, (char *)rootfs, NULL};
	char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			      env_lib, env_cache, NULL};
	int ret;

	snprintf(env_lib, sizeof(env_lib), "CELLS_LIB=%s", d->lib_dir);
	snprintf(env_cache, sizeof(env_cache), "CELLS_CACHE=%s/cache", d->state_dir);
	if ((ret = mkdir_p(env_cache + strlen("CELLS_CACHE="), 0700)) < 0) {
		dprintf(out, "cellsd: create %s: %s\n", env_cache + strlen("CELLS_CACHE="),
			strerror(-ret));
		return ret;
	}
	return run_program(argv, envp, out);
}

static int fill_from_source(struct daemon *d, const char *rootfs, const char *source, int out)
{
	char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	char from[PATH_MAX + 4];
	struct stat st;

	(void)d;
	if (stat(source, &st) < 0) {
		dprintf(out, "cellsd: %s: %s\n", source, strerror(errno));
		return -errno;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(from, sizeof(from), "%s/.", source);
		char *const argv[] = {"/bin/cp", "-a",		 "--one-file-system",
				      from,	 (char *)rootfs, NULL};
		return run_program(argv, envp, out);
	}
	char *const argv[] = {"/bin/tar", "-x",		  "-p", "--numeric-owner",
			      "-f",	  (char *)source, "-C", (char *)rootfs,
			      NULL};
	return run_program(argv, envp, out);
}

static bool recipe_exists(struct daemon *d, const char *name)
{
	char recipe[PATH_MAX];
	int n = snprintf(recipe, sizeof(recipe), "%s/images/%s/build", d->lib_dir, name);

	return name_is_valid(name) && n > 0 && (size_t)n < sizeof(recipe) &&
	       access(recipe, X_OK) == 0;
}

static int recipe_filter(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* The recipes of LIB/images, in name order, as "a, b"; "none" when there is none. */
static void recipes_known(struct daemon *d, char *buf, size_t len)
{
	char path[PATH_MAX];
	struct dirent **names = NULL;
	size_t used = 0;
	int n;

	snprintf(buf, len, "none");
	snprintf(path, sizeof(path), "%s/images", d->lib_dir);
	n = scandir(path, &names, recipe_filter, alphasort);
	for (int i = 0; i < n; i++) {
		if (recipe_exists(d, names[i]->d_name) && used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
						 names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

int image_build(struct daemon *d, const char *name, struct client *c, int output_fd,
		struct error *err)
{
	char recipe[PATH_MAX], source[PATH_MAX + 16], known[256];

	if (!name_is_valid(name))
		return error_set(err, 0, "invalid image name '%s'", name);
	snprintf(recipe, sizeof(recipe), "%s/images/%s/build", d->lib_dir, name);
	if (!recipe_exists(d, name)) {
		recipes_known(d, known, sizeof(known));
		return error_set(err, 0, "no recipe for image '%s' (known: %s)", name, known);
	}
	snprintf(source, sizeof(source), "recipe %s", name);
	return image_job(d, name, recipe, source, fill_from_recipe, c, output_fd, err);
}

int image_import(struct daemon *d, const char *name, const char *source, struct client *c,
		 int output_fd, struct error *err)
{
	struct stat st;

	if (source[0] != '/')
		return error_set(err, 0, "import source must be an absolute path: %s", source);
	if (stat(source, &st) < 0)
		return error_set(err, errno, "%s", source);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return error_set(err, 0, "%s is neither a directory nor a tarball", source);
	return image_job(d, name, source, source, fill_from_source, c, output_fd, err);
}

static void on_remove_done(struct job *job, int status)
{
	(void)job;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_warn("an image's files could not all be removed (the next start tries again)");
}

/* The image goes at once (a rename); its files, maybe many, are removed by a child so that
 * the loop does not wait. What a daemon killed meanwhile leaves, the next one removes
 * (a hidden entry of STATE/images). */
int image_remove(struct daemon *d, const char *name, struct error *err)
{
	char path[PATH_MAX], gone[PATH_MAX], users[256] = "";
	struct error inner = {{0}};
	size_t used = 0;
	unsigned nusers = 0;
	pid_t pid;

	if (!name_is_valid(name))
		return error_set(err, 0, "invalid image name '%s'", name);
	if (jobs_busy_with(d, name))
		return error_set(err, 0, "image %s is being built: try again when it is done",
				 name);
	if (!image_exists(d, name))
		return error_set(err, 0, "no image named %s", name);
	/* A stopped VP needs its image as much as a running one: its upper layer is a diff
	 * against it. */
	for (struct vp *vp = d->vps; vp; vp = vp->next) {
		if (strcmp(vp->config.image, name) != 0)
			continue;
		if (used < sizeof(users))
			used += (size_t)snprintf(users + used, sizeof(users) - used, "%s%s",
						 nusers ? ", " : "", vp->config.name);
		nusers++;
	}
	if (nusers)
		return error_set(err, 0, "image %s is used by VP%s %s%s", name,
				 nusers > 1 ? "s" : "", users, used >= sizeof(users) ? "..." : "");
	snprintf(path, sizeof(path), "%s/images/%s", d->state_dir, name);
	snprintf(gone, sizeof(gone), "%s/images/.%s.rm-%llu", d->state_dir, name,
		 (unsigned long long)monotonic_ns());
	if (rename(path, gone) < 0)
		return error_set(err, errno, "remove %s", path);
	log_info("image %s removed", name);
	event_emit(d, json_pack("{s:s, s:s, s:b}", "event", "image", "name", name, "removed", 1));
	pid = devns_fork(&d->devns);
	if (pid == 0) {
		vp_reset_signals();
		_exit(rm_rf(gone) < 0 ? 1 : 0);
	}
	if (pid < 0 || !job_start(d, pid, NULL, on_remove_done, &inner))
		rm_rf(gone);
	return 0;
}
