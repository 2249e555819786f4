#include "common/sealed.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

int sealed_copy(const char *path, const char *name, struct error *err)
{
	_cleanup_close_ int src = open(path, O_RDONLY | O_CLOEXEC), mem = -1;
	struct stat st;
	off_t off = 0;

	if (src < 0 || fstat(src, &st) < 0)
		return error_set(err, errno, "open %s", path);
	/* MFD_EXEC says so where vm.memfd_noexec would make it non-executable; older kernels
	 * do not know the flag. */
	mem = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mem < 0 && errno == EINVAL)
		mem = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mem < 0)
		return error_set(err, errno, "memfd for %s", path);
	while (off < st.st_size) {
		ssize_t n = sendfile(mem, src, &off, (size_t)(st.st_size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error_set(err, n < 0 ? errno : EIO, "copy %s", path);
	}
	if (fchmod(mem, 0555) < 0)
		return error_set(err, errno, "chmod the copy of %s", path);
	if (fcntl(mem, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return error_set(err, errno, "seal the copy of %s", path);
	return take_fd(&mem);
}
