/* The scanout for the viewer. While clients watch, a thread composes the output 60 times
 * a second into the frame of the shared memory not published last, and publishes it if it
 * differs from the last (an idle screen costs the viewer nothing); a switch or a new client
 * asks for one at once; a flip of the page shown too, though no sooner than a tick after
 * the last flip's compose, as a compositor composes on a commit paced by vsync. A screen
 * unchanged for a quarter of a second is composed 10 times a second, not 60.
 *
 * The thread only reads the screen (its compose takes the device lock for a moment)
 * and writes the memory: nothing the viewer does reaches it but the count of watchers. */
#include "cellsd/scanout.h"
#include "common/log.h"
#include "viewer/scanout.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS	      (1000000000L / 60)
#define QUIET_NS      250000000LL
#define QUIET_TICK_NS (1000000000L / 10)

struct scanout {
	const struct devns_provided_screen *screen;
	const struct devns *devns; /* the output's brightness (devns_dim) */
	int memfd, frame_fd, wake_fd;
	void *base;
	size_t size;
	pthread_t thread;
	bool running;
	/* The thread's alone. */
	long long next_tick, last_flip_compose, last_change;
	/* Shared with the loop and the display. */
	atomic_bool stop, repaint, flipped, watching;
	/* Odd while a switch is half made (the new VP's page shown, the old one's name still
	 * on the bar): a frame composed meanwhile is not published. */
	atomic_uint switching;
};

static long long mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void wake(struct scanout *s)
{
	uint64_t one = 1;

	if (write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn_errno(errno, "scanout: wake the thread");
}

/* From the display, with its lock held: a flip wakes the thread once per compose. */
static void picture_changed(void *arg)
{
	struct scanout *s = arg;

	if (!atomic_load(&s->watching) || atomic_load(&s->flipped) ||
	    atomic_exchange(&s->flipped, true))
		return;
	wake(s);
}

static void wake_up_ticks(struct scanout *s, long long now)
{
	s->last_change = now;
	if (s->next_tick > now + TICK_NS)
		s->next_tick = now + TICK_NS;
}

/* Compose into the frame not published last; publish it when it differs or FORCE. */
static void compose(struct scanout *s, bool force)
{
	struct scanout_header *h = s->base;
	uint64_t published = atomic_load(&h->published);
	unsigned next = (unsigned)((published + 1) % SCANOUT_FRAMES);
	uint32_t *frame = scanout_frame(s->base, next);
	size_t bytes = scanout_frame_size(h->width, h->height);
	uint64_t one = 1;
	unsigned switching = atomic_load(&s->switching);

	if (switching & 1)
		return;			    /* the end of the switch asks for a frame */
	atomic_fetch_add(&h->seq[next], 1); /* odd: being written */
	atomic_thread_fence(memory_order_release);
	s->screen->ops->compose(s->screen->dev, frame);
	devns_dim(s->devns, frame, (size_t)h->width * h->height);
	atomic_thread_fence(memory_order_release);
	atomic_fetch_add(&h->seq[next], 1);
	if (atomic_load(&s->switching) != switching)
		return;
	if (!force && published > 0 &&
	    memcmp(frame, scanout_frame(s->base, (unsigned)(published % SCANOUT_FRAMES)), bytes) ==
		    0)
		return;
	s->last_change = mono_ns();
	atomic_store(&h->published, published + 1);
	if (write(s->frame_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn_errno(errno, "scanout: tell the viewer");
}

static long long compose_due(struct scanout *s)
{
	long long due = s->next_tick;

	if (atomic_load(&s->repaint))
		return 0;
	if (atomic_load(&s->flipped) && s->last_flip_compose + TICK_NS < due)
		due = s->last_flip_compose + TICK_NS;
	return due;
}

static void compose_on_time(struct scanout *s, long long now)
{
	bool on_schedule = now >= s->next_tick;
	bool asked = atomic_exchange(&s->repaint, false);
	bool flipped = atomic_exchange(&s->flipped, false);

	if (asked || flipped)
		wake_up_ticks(s, now);
	if (flipped)
		s->last_flip_compose = now;
	compose(s, asked);
	bool flipping = now - s->last_flip_compose < QUIET_NS;
	long long tick = flipping || now - s->last_change > QUIET_NS ? QUIET_TICK_NS : TICK_NS;
	s->next_tick =
		!on_schedule || now >= s->next_tick + tick ? now + tick : s->next_tick + tick;
}

static void *serve(void *arg)
{
	struct scanout *s = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	s->next_tick = s->last_change = mono_ns();
	s->last_flip_compose = s->next_tick - QUIET_NS;
	while (!atomic_load(&s->stop)) {
		long long now = mono_ns(), timeout_ns = -1;
		struct pollfd pfd = {.fd = s->wake_fd, .events = POLLIN};
		uint64_t count;

		if (atomic_load(&s->watching) || atomic_load(&s->repaint)) {
			if (now >= compose_due(s)) {
				compose_on_time(s, now);
				now = mono_ns();
			}
			long long due = compose_due(s);
			timeout_ns = due > now ? due - now : 0;
		}
		struct timespec ts = {timeout_ns / 1000000000LL, timeout_ns % 1000000000LL};
		if (ppoll(&pfd, 1, timeout_ns < 0 ? NULL : &ts, NULL) < 0 && errno != EINTR)
			log_warn_errno(errno, "scanout: poll");
		if (pfd.revents & POLLIN && read(s->wake_fd, &count, sizeof(count)) < 0 &&
		    errno != EAGAIN)
			log_warn_errno(errno, "scanout: read the wake-up");
	}
	return NULL;
}

int scanout_start(struct scanout **out, const struct devns_provided_screen *screen,
		  const struct devns *devns, struct error *err)
{
	struct scanout *s = calloc(1, sizeof(*s));
	struct scanout_header *h;
	int width, height, ret;

	if (!s)
		return error_set(err, ENOMEM, "scanout");
	s->memfd = s->frame_fd = s->wake_fd = -1;
	s->screen = screen;
	s->devns = devns;
	screen->ops->size(screen->dev, &width, &height);
	s->size = scanout_size((uint32_t)width, (uint32_t)height);
	s->memfd = memfd_create("cells-scanout", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->memfd < 0) {
		ret = error_set(err, errno, "scanout: memfd_create");
		goto fail;
	}
	/* Its size is fixed for good: whoever holds it can map all of it, never fault. */
	if (ftruncate(s->memfd, (off_t)s->size) < 0 ||
	    fcntl(s->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		ret = error_set(err, errno, "scanout: size the memfd");
		goto fail;
	}
	s->base = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->memfd, 0);
	if (s->base == MAP_FAILED) {
		s->base = NULL;
		ret = error_set(err, errno, "scanout: mmap");
		goto fail;
	}
	h = s->base;
	h->magic = SCANOUT_MAGIC;
	h->width = (uint32_t)width;
	h->height = (uint32_t)height;
	s->frame_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->frame_fd < 0 || s->wake_fd < 0) {
		ret = error_set(err, errno, "scanout: eventfd");
		goto fail;
	}
	if ((ret = pthread_create(&s->thread, NULL, serve, s)) != 0) {
		ret = error_set(err, ret, "scanout: thread");
		goto fail;
	}
	s->running = true;
	screen->ops->watch(screen->dev, picture_changed, s);
	*out = s;
	return 0;
fail:
	scanout_stop(s);
	return ret;
}

void scanout_stop(struct scanout *s)
{
	if (!s)
		return;
	if (s->running) {
		s->screen->ops->watch(s->screen->dev, NULL, NULL);
		atomic_store(&s->stop, true);
		wake(s);
		pthread_join(s->thread, NULL);
	}
	if (s->base)
		munmap(s->base, s->size);
	if (s->memfd >= 0)
		close(s->memfd);
	if (s->frame_fd >= 0)
		close(s->frame_fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s);
}

int scanout_open_readonly(struct scanout *s, struct error *err)
{
	char path[64];
	int fd;

	/* A new open file description, read-only: the viewer can map it PROT_READ only. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->memfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "scanout: reopen %s read-only", path);
	return fd;
}

int scanout_frame_fd(struct scanout *s)
{
	return s->frame_fd;
}

void scanout_set_watching(struct scanout *s, bool watching)
{
	if (atomic_exchange(&s->watching, watching) != watching && watching)
		wake(s);
}

void scanout_switch_begin(struct scanout *s)
{
	if (s)
		atomic_fetch_add(&s->switching, 1);
}

void scanout_switch_end(struct scanout *s, bool watched)
{
	if (!s)
		return;
	atomic_fetch_add(&s->switching, 1);
	if (watched)
		scanout_refresh(s);
}

void scanout_refresh(struct scanout *s)
{
	if (!s)
		return;
	atomic_store(&s->repaint, true);
	wake(s);
}
