/* noVNC's files, read into memory before the viewer locks itself in: it then serves them
 * without a descriptor of a directory outside its empty root (through which "..", from
 * outside the chroot, would reach the whole file system) and its seccomp filter needs no
 * open at all. Regular files only (no symlink followed), 1024 of them and 16 MiB at
 * most: noVNC is 1.2 MB. */
#include "viewer/files.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILES_MAX	1024
#define FILES_BYTES_MAX (16u << 20)
#define DEPTH_MAX	8

static int add(struct files *f, int dir, const char *name, const char *rel, struct error *err)
{
	struct file_entry *e;
	struct stat st;
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	ssize_t got = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return 0; /* a link, gone meanwhile: not served */
	}
	if (!S_ISREG(st.st_mode) || f->count == FILES_MAX ||
	    f->bytes + (size_t)st.st_size > FILES_BYTES_MAX) {
		close(fd);
		return S_ISREG(st.st_mode) ? error_set(err, 0, "viewer: noVNC's files are too many")
					   : 0;
	}
	e = &f->entries[f->count];
	e->data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!e->data) {
		close(fd);
		return error_set(err, ENOMEM, "viewer: %s", rel);
	}
	while (got < st.st_size) {
		ssize_t n = pread(fd, e->data + got, (size_t)(st.st_size - got), got);
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	snprintf(e->path, sizeof(e->path), "%s", rel);
	e->size = (size_t)got;
	f->bytes += e->size;
	f->count++;
	return 0;
}

static int walk(struct files *f, int dir, const char *prefix, int depth, struct error *err)
{
	DIR *d;
	struct dirent *ent;
	int ret = 0;

	if (depth > DEPTH_MAX || !(d = fdopendir(dir)))
		return 0;
	while (ret == 0 && (ent = readdir(d))) {
		char rel[sizeof(f->entries[0].path)];
		if (ent->d_name[0] == '.')
			continue;
		if (snprintf(rel, sizeof(rel), "%s%s", prefix, ent->d_name) >= (int)sizeof(rel))
			continue;
		if (ent->d_type == DT_DIR) {
			int sub = openat(dirfd(d), ent->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			strcat(rel, "/");
			if (sub >= 0)
				ret = walk(f, sub, rel, depth + 1, err);
		} else if (ent->d_type == DT_REG) {
			ret = add(f, dirfd(d), ent->d_name, rel, err);
		}
	}
	closedir(d);
	return ret;
}

int files_load(struct files *f, const char *dir, struct error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	memset(f, 0, sizeof(*f));
	if (fd < 0)
		return error_set(err, errno, "open %s", dir);
	f->entries = calloc(FILES_MAX, sizeof(*f->entries));
	if (!f->entries) {
		close(fd);
		return error_set(err, ENOMEM, "viewer: files");
	}
	return walk(f, fd, "", 0, err);
}

const struct file_entry *files_find(const struct files *f, const char *rel)
{
	for (unsigned i = 0; i < f->count; i++)
		if (strcmp(f->entries[i].path, rel) == 0)
			return &f->entries[i];
	return NULL;
}
