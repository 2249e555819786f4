/* Child processes whose end answers a request: `cell exec` helpers, image builds. */
#include "cellsd/daemon.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void job_unlink(struct daemon *d, struct job *job)
{
	for (struct job **p = &d->jobs; *p; p = &(*p)->next)
		if (*p == job) {
			*p = job->next;
			return;
		}
}

static void on_job_exit(struct loop_watch *w, uint32_t events)
{
	struct job *job = container_of(w, struct job, watch);
	struct daemon *d = job->daemon;
	int status = 0;

	(void)events;
	loop_del(&d->loop, w);
	close(w->fd);
	while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR)
		;
	job_unlink(d, job);
	if (job->tmp_dir[0])
		rm_rf(job->tmp_dir);
	job->done(job, status);
	if (job->client)
		client_release(job->client);
	free(job);
}

struct job *job_start(struct daemon *d, pid_t pid, struct client *c, job_done_fn done,
		      struct error *err)
{
	struct job *job = calloc(1, sizeof(*job));
	int pidfd, ret;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (!job || pidfd < 0) {
		error_set(err, job ? errno : ENOMEM, "watch job %d", (int)pid);
		goto fail;
	}
	job->daemon = d;
	job->pid = pid;
	job->client = c;
	job->done = done;
	job->watch = (struct loop_watch){.fd = pidfd, .handle = on_job_exit};
	if ((ret = loop_add(&d->loop, &job->watch, EPOLLIN)) < 0) {
		error_set(err, ret, "watch job %d", (int)pid);
		goto fail;
	}
	if (c)
		c->busy = true;
	job->next = d->jobs;
	d->jobs = job;
	return job;
fail:
	if (pidfd >= 0)
		close(pidfd);
	free(job);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return NULL;
}

/* The client went away: its jobs end too. SIGTERM, so that an exec's helper can have every
 * process of the command ended and reaped before it exits (it kills them in 5 s at most). */
void job_cancel_client(struct daemon *d, struct client *c)
{
	for (struct job *job = d->jobs; job; job = job->next)
		if (job->client == c && job->ends_with_client)
			kill(job->pid, SIGTERM);
}

bool jobs_busy_with(struct daemon *d, const char *name)
{
	for (struct job *job = d->jobs; job; job = job->next)
		if (job->name[0] && strcmp(job->name, name) == 0)
			return true;
	return false;
}
