/* The link to the real modem (telephony_link.h). */
#include "devices/telephony_link.h"
#include "common/clock.h"
#include "common/log.h"
#include "devices/telephony_at.h"
#include "devns/devns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_NS (10 * 1000000000LL) /* a command unanswered: the link is broken */
#define TICK_MS	   250
#define REOPEN_NS  (1000000000LL)
#define BUF_MAX	   4096
#define SETTLE_NS  (300 * 1000000LL) /* after the ESC that opens the line */
#define CTRL_Z	   "\x1a"

struct tel_cmd {
	char cmd[TEL_LINK_CMD_MAX];
	char pdu[TEL_LINK_PDU_MAX];
	tel_link_done done;
	void *data;
};

/* What cellsd sets on the modem each time it opens it: echo off (real modems start with
 * it on), numeric errors, caller ID and the kind of ring, waiting calls, SMS in PDU mode
 * stored on the SIM with a +CMTI (nothing lost while cellsd is busy). */
static const char *const setup[] = {
	"AT",	    "ATE0",	 "AT+CMEE=1", "AT+CLIP=1",
	"AT+CRC=1", "AT+CCWA=1", "AT+CMGF=0", "AT+CNMI=2,1,0,0,0",
};
#define NSETUP (sizeof(setup) / sizeof(setup[0]))

struct tel_link {
	struct devns *core;
	char path[256];
	const struct tel_link_ops *ops;
	void *ctx;
	struct loop_watch io, tick;
	bool up; /* set up: the URC handler and commands are live */
	struct tel_cmd queue[TEL_LINK_QUEUE];
	unsigned head, count;
	bool in_flight, prompted;
	long long deadline, reopen_at;
	long long settle_at; /* the set-up starts then (0: started) */
	char buf[BUF_MAX];
	size_t len;
	char info[TEL_LINK_INFO_MAX];
	size_t info_len;
	char cmt[128]; /* a +CMT whose PDU line comes next */
	unsigned long sent, urcs;
};

bool tel_link_up(const struct tel_link *link)
{
	return link && link->up;
}

void tel_link_counts(const struct tel_link *link, unsigned long *sent, unsigned long *urcs)
{
	*sent = link ? link->sent : 0;
	*urcs = link ? link->urcs : 0;
}

static void pump(struct tel_link *link);

static void finish(struct tel_link *link, int result, int code)
{
	struct tel_cmd *c = &link->queue[link->head];
	tel_link_done done = c->done;
	void *data = c->data;

	link->info[link->info_len] = '\0';
	link->head = (link->head + 1) % TEL_LINK_QUEUE;
	link->count--;
	link->in_flight = false;
	link->prompted = false;
	if (done)
		done(data, result, code, link->info);
	link->info_len = 0;
	pump(link);
}

static void disconnect(struct tel_link *link, const char *why)
{
	bool was_up = link->up;

	if (link->io.fd >= 0) {
		log_warn("telephony: modem %s: %s; opening it again", link->path, why);
		devns_unwatch(link->core, &link->io);
		close(link->io.fd);
		link->io.fd = -1;
	}
	link->up = false;
	link->len = 0;
	link->cmt[0] = '\0';
	while (link->count > 0) {
		struct tel_cmd *c = &link->queue[link->head];
		link->head = (link->head + 1) % TEL_LINK_QUEUE;
		link->count--;
		if (c->done)
			c->done(c->data, TEL_ERROR, 0, "");
	}
	link->in_flight = false;
	link->reopen_at = (long long)monotonic_ns() + REOPEN_NS;
	if (was_up && link->ops->down)
		link->ops->down(link->ctx);
}

static int write_all(struct tel_link *link, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(link->io.fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

static void pump(struct tel_link *link)
{
	char line[TEL_LINK_CMD_MAX + 2];
	int ret;

	if (link->in_flight || link->count == 0 || link->io.fd < 0)
		return;
	snprintf(line, sizeof(line), "%s\r", link->queue[link->head].cmd);
	link->in_flight = true;
	link->info_len = 0;
	link->deadline = (long long)monotonic_ns() + TIMEOUT_NS;
	link->sent++;
	if ((ret = write_all(link, line, strlen(line))) < 0) {
		log_warn_errno(-ret, "telephony: write to the modem");
		disconnect(link, "write failed");
	}
}

static void setup_done(void *data, int result, int code, const char *info)
{
	struct tel_link *link = data;

	(void)code, (void)info;
	if (result != TEL_OK)
		log_warn("telephony: the modem refused a set-up command");
	/* The last one: the link is up (nothing else is queued before). */
	if (link->count == 0 && !link->up) {
		link->up = true;
		log_info("telephony: modem %s is set up", link->path);
		if (link->ops->up)
			link->ops->up(link->ctx);
	}
}

static void queue_setup(struct tel_link *link)
{
	for (unsigned i = 0; i < NSETUP; i++) {
		struct tel_cmd *c = &link->queue[(link->head + link->count) % TEL_LINK_QUEUE];
		snprintf(c->cmd, sizeof(c->cmd), "%s", setup[i]);
		c->pdu[0] = '\0';
		c->done = setup_done;
		c->data = link;
		link->count++;
	}
}

static int reopen(struct tel_link *link, struct error *err)
{
	struct termios t;
	int fd, ret;

	fd = open(link->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "telephony: open the modem %s", link->path);
	if (isatty(fd)) {
		if (tcgetattr(fd, &t) < 0) {
			ret = error_set(err, errno, "telephony: the modem's line settings");
			close(fd);
			return ret;
		}
		cfmakeraw(&t);
		t.c_cflag |= CLOCAL | CREAD;
		if (tcsetattr(fd, TCSANOW, &t) < 0) {
			ret = error_set(err, errno, "telephony: set the modem's line raw");
			close(fd);
			return ret;
		}
	}
	link->io.fd = fd;
	if ((ret = devns_watch(link->core, &link->io, EPOLLIN)) < 0) {
		close(fd);
		link->io.fd = -1;
		return error_set(err, ret, "telephony: watch the modem");
	}
	/* A +CMGS a dead cellsd left without its Ctrl-Z keeps the modem reading a PDU: ESC
	 * ends it. Its answer (if any) is let go by before the set-up starts. */
	if (write(fd, "\x1b\r", 2) < 0)
		log_warn_errno(errno, "telephony: write to the modem");
	link->len = 0;
	link->settle_at = (long long)monotonic_ns() + SETTLE_NS;
	return 0;
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int final_result(const char *line, int *code)
{
	static const struct {
		const char *text;
		int result;
	} finals[] = {
		{"OK", TEL_OK},
		{"ERROR", TEL_ERROR},
		{"NO CARRIER", TEL_NO_CARRIER},
		{"BUSY", TEL_BUSY},
		{"NO ANSWER", TEL_NO_ANSWER},
		{"NO DIALTONE", TEL_NO_DIALTONE},
		{"CONNECT", TEL_CONNECT},
	};

	if (starts(line, "+CME ERROR:") || starts(line, "+CMS ERROR:")) {
		*code = atoi(line + 11);
		return line[3] == 'E' ? TEL_CME : TEL_CMS;
	}
	for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++)
		if (strcmp(line, finals[i].text) == 0)
			return finals[i].result;
	return -1;
}

/* Lines the modem sends unasked. A "+NAME:" line is the running command's own when that
 * command is +NAME (an +CLIP? answer is not a caller ID). */
static bool is_urc(struct tel_link *link, const char *line)
{
	static const char *const urcs[] = {
		"RING",	  "+CRING:", "+CLIP:",	"+CCWA:", "+CMTI:", "+CMT:",
		"+CREG:", "+CGREG:", "+CEREG:", "+COLP:", "+CDSI:", "+CUSD:"};
	const char *cmd = link->in_flight ? link->queue[link->head].cmd + 2 : "";

	for (size_t i = 0; i < sizeof(urcs) / sizeof(urcs[0]); i++) {
		size_t n = strlen(urcs[i]);
		if (strncmp(line, urcs[i], n) != 0)
			continue;
		if (urcs[i][0] == '+' && strncmp(cmd, urcs[i], n - 1) == 0 &&
		    (cmd[n - 1] == '?' || cmd[n - 1] == '=' || cmd[n - 1] == '\0'))
			return false;
		return true;
	}
	return false;
}

static void take_line(struct tel_link *link, const char *line)
{
	int result, code = 0;

	if (link->cmt[0]) { /* the PDU after a +CMT */
		char head[sizeof(link->cmt)];
		memcpy(head, link->cmt, sizeof(head));
		link->cmt[0] = '\0';
		link->urcs++;
		if (link->up)
			link->ops->urc(link->ctx, head, line);
		return;
	}
	if (link->in_flight && strcmp(line, link->queue[link->head].cmd) == 0)
		return; /* the modem's echo, before ATE0 */
	result = final_result(line, &code);
	if (link->in_flight && result >= 0) {
		bool dial = starts(link->queue[link->head].cmd, "ATD");
		if (dial ||
		    (result != TEL_NO_CARRIER && result != TEL_BUSY && result != TEL_NO_ANSWER)) {
			finish(link, result, code);
			return;
		}
	}
	if (result >= 0 || is_urc(link, line)) {
		if (starts(line, "+CMT:")) {
			snprintf(link->cmt, sizeof(link->cmt), "%s", line);
			return;
		}
		link->urcs++;
		if (link->up)
			link->ops->urc(link->ctx, line, NULL);
		return;
	}
	if (!link->in_flight)
		return; /* a stray line: nobody's */
	size_t n = strlen(line);
	if (link->info_len + n + 2 < sizeof(link->info)) {
		memcpy(link->info + link->info_len, line, n);
		link->info_len += n;
		link->info[link->info_len++] = '\n';
	}
}

/* "> " after AT+CMGS: the PDU, then Ctrl-Z. */
static void send_pdu(struct tel_link *link)
{
	struct tel_cmd *c = &link->queue[link->head];
	int ret;

	link->prompted = true;
	if ((ret = write_all(link, c->pdu, strlen(c->pdu))) < 0 ||
	    (ret = write_all(link, CTRL_Z, 1)) < 0) {
		log_warn_errno(-ret, "telephony: write an SMS to the modem");
		disconnect(link, "write failed");
	}
}

static void on_io(struct loop_watch *w, uint32_t events)
{
	struct tel_link *link = container_of(w, struct tel_link, io);
	ssize_t n;

	n = read(w->fd, link->buf + link->len, sizeof(link->buf) - 1 - link->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		disconnect(link, n == 0 ? "closed" : "read failed");
		return;
	}
	(void)events;
	if (link->settle_at)
		return; /* what answers the ESC: nobody's */
	link->len += (size_t)n;
	for (;;) {
		char *start = link->buf;
		size_t len = link->len;
		while (len && (*start == '\r' || *start == '\n'))
			start++, len--;
		memmove(link->buf, start, len);
		link->len = len;
		if (link->in_flight && !link->prompted && link->queue[link->head].pdu[0] &&
		    len >= 2 && link->buf[0] == '>' && link->buf[1] == ' ') {
			memmove(link->buf, link->buf + 2, len - 2);
			link->len -= 2;
			send_pdu(link);
			if (link->io.fd < 0)
				return;
			continue;
		}
		char *end = NULL;
		for (size_t i = 0; i < link->len; i++)
			if (link->buf[i] == '\r' || link->buf[i] == '\n') {
				end = link->buf + i;
				break;
			}
		if (!end) {
			if (link->len >= sizeof(link->buf) - 1)
				link->len = 0; /* a line longer than any answer: dropped */
			return;
		}
		*end = '\0';
		char line[BUF_MAX];
		size_t l = (size_t)(end - link->buf);
		memcpy(line, link->buf, l + 1);
		memmove(link->buf, end + 1, link->len - l - 1);
		link->len -= l + 1;
		take_line(link, line);
		if (link->io.fd < 0)
			return;
	}
}

static void on_tick(struct loop_watch *w, uint32_t events)
{
	struct tel_link *link = container_of(w, struct tel_link, tick);
	struct error err;
	uint64_t ticks;
	long long now = (long long)monotonic_ns();

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	if (link->io.fd < 0) {
		if (now >= link->reopen_at && reopen(link, &err) < 0)
			link->reopen_at = now + REOPEN_NS;
		return;
	}
	if (link->settle_at && now >= link->settle_at) {
		link->settle_at = 0;
		tcflush(link->io.fd, TCIFLUSH);
		link->len = 0;
		queue_setup(link);
		pump(link);
		return;
	}
	if (link->in_flight && now > link->deadline)
		disconnect(link, "a command went unanswered");
}

int tel_link_open(struct devns *core, const char *path, const struct tel_link_ops *ops, void *ctx,
		  struct tel_link **out, struct error *err)
{
	struct tel_link *link = calloc(1, sizeof(*link));
	struct itimerspec its = {{0, TICK_MS * 1000000L}, {0, TICK_MS * 1000000L}};
	int ret;

	if (!link)
		return error_set(err, ENOMEM, "telephony");
	link->core = core;
	link->ops = ops;
	link->ctx = ctx;
	link->io = (struct loop_watch){-1, on_io};
	snprintf(link->path, sizeof(link->path), "%s", path);
	link->tick = (struct loop_watch){
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), on_tick};
	if (link->tick.fd < 0) {
		ret = error_set(err, errno, "telephony: timerfd");
		free(link);
		return ret;
	}
	ret = timerfd_settime(link->tick.fd, 0, &its, NULL) < 0
		      ? -errno
		      : devns_watch(core, &link->tick, EPOLLIN);
	if (ret < 0) {
		ret = error_set(err, ret, "telephony: the modem's timer");
		close(link->tick.fd);
		free(link);
		return ret;
	}
	/* A modem not there yet is opened when it comes: cellsd starts anyway. */
	if (reopen(link, err) < 0) {
		log_warn("%s; trying again every second", err->msg);
		link->reopen_at = (long long)monotonic_ns() + REOPEN_NS;
	}
	*out = link;
	return 0;
}

void tel_link_close(struct tel_link *link)
{
	if (!link)
		return;
	if (link->io.fd >= 0) {
		devns_unwatch(link->core, &link->io);
		close(link->io.fd);
	}
	devns_unwatch(link->core, &link->tick);
	close(link->tick.fd);
	free(link);
}

int tel_link_send(struct tel_link *link, const char *cmd, const char *pdu, tel_link_done done,
		  void *data)
{
	struct tel_cmd *c;

	if (!link || !link->up)
		return -ENOTCONN;
	if (link->count >= TEL_LINK_QUEUE)
		return -EAGAIN;
	if (strlen(cmd) >= TEL_LINK_CMD_MAX || (pdu && strlen(pdu) >= TEL_LINK_PDU_MAX))
		return -E2BIG;
	c = &link->queue[(link->head + link->count) % TEL_LINK_QUEUE];
	snprintf(c->cmd, sizeof(c->cmd), "%s", cmd);
	snprintf(c->pdu, sizeof(c->pdu), "%s", pdu ? pdu : "");
	c->done = done;
	c->data = data;
	link->count++;
	pump(link);
	return 0;
}

void tel_link_forget(struct tel_link *link, void *data)
{
	for (unsigned i = 0; link && i < link->count; i++) {
		struct tel_cmd *c = &link->queue[(link->head + i) % TEL_LINK_QUEUE];
		if (c->data == data)
			c->done = NULL;
	}
}
