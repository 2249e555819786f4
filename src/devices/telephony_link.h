/* The link to the real modem (a serial AT modem: a tty or a pty): the one owner of its
 * device file. Commands are queued and sent one at a time; each gets its information
 * lines and its final result back; what the modem says unasked (RING, +CLIP, +CMTI...)
 * goes to the URC handler. A link that breaks (the modem's file closes, a command goes
 * unanswered) is opened again, every second, and set up again: echo off, numeric
 * errors, the URCs cellsd routes. */
#ifndef CELLS_TELEPHONY_LINK_H
#define CELLS_TELEPHONY_LINK_H

#include "common/error.h"

#include <stdbool.h>
#include <stddef.h>

struct devns;
struct tel_link;

/* A command's end: RESULT (telephony_at.h's TEL_OK, TEL_ERROR, TEL_CME...) with CODE, and
 * its information lines (each ended by '\n'; NUL-ended). */
typedef void (*tel_link_done)(void *data, int result, int code, const char *info);

struct tel_link_ops {
	/* An unsolicited line; for +CMT its PDU line in PDU (else NULL). */
	void (*urc)(void *ctx, const char *line, const char *pdu);
	/* Set up (after every (re)open), or lost: every queued command failed. */
	void (*up)(void *ctx);
	void (*down)(void *ctx);
};

#define TEL_LINK_QUEUE	  32
#define TEL_LINK_CMD_MAX  600 /* a command line with its "AT" */
#define TEL_LINK_PDU_MAX  400 /* +CMGS's PDU in hex */
#define TEL_LINK_INFO_MAX 4096

int tel_link_open(struct devns *core, const char *path, const struct tel_link_ops *ops, void *ctx,
		  struct tel_link **out, struct error *err);
void tel_link_close(struct tel_link *link);
bool tel_link_up(const struct tel_link *link);
/* Queue CMD ("AT+CLCC"), with PDU for "AT+CMGS=" (sent after the modem's prompt, then
 * Ctrl-Z); DONE(DATA, ...) once it has ended, failed, or the link went down. -EAGAIN:
 * the queue is full; -ENOTCONN: the link is down (DONE is not called then). */
int tel_link_send(struct tel_link *link, const char *cmd, const char *pdu, tel_link_done done,
		  void *data);
/* Forget the pending DONEs with DATA (its owner goes away): they end unheard. */
void tel_link_forget(struct tel_link *link, void *data);
/* Commands sent and URCs seen, for `cell stats`. */
void tel_link_counts(const struct tel_link *link, unsigned long *sent, unsigned long *urcs);

#endif
