/* `cell input text` and `cell input swipe`: input that takes time, played one step per tick
 * of a timer on the loop. A long swipe never holds the loop, and text comes at a typist's
 * pace: a VP's reader has a queue of 64 events, which a 4096-character text sent at once
 * would overflow many times. One plays at a time (two texts at once would mix their shift
 * keys), the others wait in order; each answers its client when it is done. A switch of
 * the foreground ends it (the rest must not go to another VP), and so does its client
 * going. */
#include "cellsd/daemon.h"
#include "common/log.h"
#include "common/keymap.h"

#include <errno.h>
#include <linux/input.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define TEXT_TICK_NS  8000000LL	 /* a character every 8 ms: 125 a second */
#define SWIPE_TICK_NS 10000000LL /* a move every 10 ms */

struct typed_key {
	unsigned short code;
	bool shift;
};

struct input_play {
	struct input_play *next;
	struct daemon *daemon;
	struct client *client; /* NULL once it went */
	struct loop_watch timer;
	uint64_t switches; /* the daemon's switch count when it began */
	long long tick_ns;
	unsigned step, nsteps;
	bool swipe;
	int x[2], y[2];
	struct typed_key keys[];
};

static const struct devns_provided_input *input_of(struct daemon *d)
{
	return devns_input(&d->devns);
}

static void play_next(struct daemon *d);

/* Ends the head of the queue: answers its client (MSG: why it failed, or NULL) and lets
 * the next one play. */
static void play_finish(struct input_play *p, const char *msg)
{
	struct daemon *d = p->daemon;
	struct client *c = p->client;
	const struct devns_provided_input *in = input_of(d);

	if (p->timer.fd >= 0) {
		loop_del(&d->loop, &p->timer);
		close(p->timer.fd);
	}
	if (p->swipe && in && p->step > 0)
		in->ops->pointer(in->dev, p->x[1], p->y[1], false); /* never leave a finger down */
	d->input_plays = p->next;
	free(p);
	if (c) {
		if (msg)
			client_reply_error(c, msg);
		else
			client_reply(c, json_pack("{s:b}", "ok", 1));
		client_release(c);
	}
	play_next(d);
}

static void play_step(struct input_play *p, const struct devns_provided_input *in)
{
	unsigned k = p->step;

	if (!p->swipe) {
		in->ops->key_shift(in->dev, p->keys[k].code, 1, p->keys[k].shift, true);
		return;
	}
	/* Step 0 puts the finger down at the start, step N at the end, and lifts it. */
	int x = p->x[0] + (int)((long long)(p->x[1] - p->x[0]) * k / p->nsteps);
	int y = p->y[0] + (int)((long long)(p->y[1] - p->y[0]) * k / p->nsteps);
	in->ops->pointer(in->dev, x, y, true);
	if (k == p->nsteps)
		in->ops->pointer(in->dev, x, y, false);
}

static void on_tick(struct loop_watch *w, uint32_t events)
{
	struct input_play *p = container_of(w, struct input_play, timer);
	const struct devns_provided_input *in = input_of(p->daemon);
	uint64_t expired;
	char msg[128];

	(void)events;
	if (read(w->fd, &expired, sizeof(expired)) < 0)
		return;
	if (p->daemon->switches != p->switches) {
		snprintf(msg, sizeof(msg), "the foreground VP changed: stopped after %u of %u %s",
			 p->step, p->swipe ? p->nsteps + 1 : p->nsteps,
			 p->swipe ? "steps" : "characters");
		play_finish(p, msg);
		return;
	}
	if (in)
		play_step(p, in);
	p->step++;
	if (p->step >= p->nsteps + (p->swipe ? 1 : 0))
		play_finish(p, NULL);
}

static void play_begin(struct input_play *p)
{
	struct daemon *d = p->daemon;
	struct itimerspec its = {
		.it_value.tv_nsec = 1,
		.it_interval = {.tv_sec = p->tick_ns / 1000000000LL,
				.tv_nsec = p->tick_ns % 1000000000LL},
	};
	struct error err = {{0}};
	int ret = 0;

	p->switches = d->switches;
	p->timer.handle = on_tick;
	p->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (p->timer.fd < 0 || timerfd_settime(p->timer.fd, 0, &its, NULL) < 0 ||
	    (ret = loop_add(&d->loop, &p->timer, EPOLLIN)) < 0) {
		error_set(&err, ret < 0 ? -ret : errno, "input: timer");
		log_warn("%s", err.msg);
		if (p->timer.fd >= 0) { /* not watched: play_finish must not loop_del it */
			close(p->timer.fd);
			p->timer.fd = -1;
		}
		play_finish(p, err.msg);
	}
}

/* The head of the queue begins, unless it plays already. */
static void play_next(struct daemon *d)
{
	if (d->input_plays && d->input_plays->timer.fd < 0)
		play_begin(d->input_plays);
}

static void play_queue(struct daemon *d, struct input_play *p)
{
	struct input_play **tail = &d->input_plays;

	while (*tail)
		tail = &(*tail)->next;
	*tail = p;
	p->client->busy = true;
	play_next(d);
}

int input_play_text(struct daemon *d, struct client *c, const char *text, size_t len,
		    struct error *err)
{
	struct input_play *p;
	char msg[160];

	if (len > INPUT_TEXT_MAX)
		return error_set(err, 0, "text too long: %zu bytes, at most %d", len,
				 INPUT_TEXT_MAX);
	if (strlen(text) != len)
		return error_set(err, 0, "cannot type a NUL character");
	if (keymap_untypable(text, len, msg, sizeof(msg)))
		return error_set(err, 0, "%s", msg);
	if (len == 0) {
		client_reply(c, json_pack("{s:b}", "ok", 1));
		return 0;
	}
	if (!(p = calloc(1, sizeof(*p) + len * sizeof(p->keys[0]))))
		return error_set(err, ENOMEM, "input text");
	*p = (struct input_play){.daemon = d,
				 .client = c,
				 .timer.fd = -1,
				 .nsteps = (unsigned)len,
				 .tick_ns = TEXT_TICK_NS};
	for (size_t i = 0; i < len; i++) {
		unsigned code = 0;
		keymap_from_char((unsigned char)text[i], &code, &p->keys[i].shift);
		p->keys[i].code = (unsigned short)code;
	}
	play_queue(d, p);
	return 0;
}

int input_play_swipe(struct daemon *d, struct client *c, const int xy[4], unsigned ms,
		     struct error *err)
{
	struct input_play *p = calloc(1, sizeof(*p));
	unsigned steps = ms * 1000000LL / SWIPE_TICK_NS;

	if (!p)
		return error_set(err, ENOMEM, "input swipe");
	if (steps == 0)
		steps = 1;
	*p = (struct input_play){.daemon = d,
				 .client = c,
				 .timer.fd = -1,
				 .swipe = true,
				 .nsteps = steps,
				 .tick_ns = ms ? ms * 1000000LL / steps : 1000000LL,
				 .x = {xy[0], xy[2]},
				 .y = {xy[1], xy[3]}};
	play_queue(d, p);
	return 0;
}

void input_play_cancel_client(struct daemon *d, struct client *c)
{
	for (struct input_play **pp = &d->input_plays; *pp; pp = &(*pp)->next) {
		struct input_play *p = *pp;
		if (p->client != c)
			continue;
		/* Its answer is no longer due: the client may be freed at once. */
		p->client = NULL;
		c->busy = false;
		if (p == d->input_plays && p->timer.fd >= 0) {
			play_finish(p, NULL);
		} else {
			*pp = p->next;
			free(p);
		}
		return;
	}
}

void input_play_stop_all(struct daemon *d)
{
	while (d->input_plays) {
		struct input_play *p = d->input_plays;
		d->input_plays = p->next;
		if (p->timer.fd >= 0) {
			loop_del(&d->loop, &p->timer);
			close(p->timer.fd);
		}
		free(p);
	}
}
