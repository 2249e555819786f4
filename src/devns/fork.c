/* The fork rule, in one place. Supervisor threads take libc's locks (malloc's) only with
 * the device lock held, and make bare system calls otherwise (logging is one write). A
 * child of the daemon that runs on without exec inherits every lock as some thread held it
 * at the fork: made with the device lock held, it finds libc's locks free. */
#include "devns/core.h"

#include <unistd.h>

pid_t devns_fork(struct devns *core)
{
	pid_t pid;

	devns_lock(core);
	pid = fork();
	if (pid != 0)
		devns_unlock(core);
	return pid;
}

void devns_hold_for_clone(void *core, bool before)
{
	if (before)
		devns_lock(core);
	else
		devns_unlock(core);
}
