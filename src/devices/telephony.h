/* The telephony device's parts (telephony.c: the device and each VP's /dev/ttyM0;
 * telephony_call.c: calls; telephony_sms.c: SMS and each VP's store), shared by them
 * alone. One modem serves every VP: its link (telephony_link.h) is the device's; a VP's
 * AT session (telephony_at.h) is the VP's. Everything runs on the event loop's thread. */
#ifndef CELLS_TELEPHONY_H
#define CELLS_TELEPHONY_H

#include "common/loop.h"
#include "common/names.h"
#include "devices/telephony_at.h"
#include "devices/telephony_link.h"
#include "devices/telephony_number.h"

#include <stdbool.h>

struct devns;

/* What a VP's call does to the foreground when it rings in the background. */
enum tel_on_call {
	TEL_ON_CALL_ASK,    /* switch when the VP answers, or the root accepts */
	TEL_ON_CALL_SWITCH, /* switch as soon as it rings */
	TEL_ON_CALL_NONE,   /* never */
};

struct tel_dev;

struct tel_vp {
	struct tel_dev *dev;
	char name[NAME_MAX_LEN + 1];
	unsigned id;
	char number[TEL_NUMBER_MAX];
	enum tel_on_call on_call;
	char dir[256];	      /* its devpts instance */
	char store[512];      /* its SMS store (a persistent directory) */
	struct loop_watch io; /* the pty's master */
	char slave[256];      /* the pty's slave (the VP's /dev/ttyM0), on the host */
	bool own_close;	      /* the next hang-up seen is cellsd's own open and close */
	struct tel_at at;
	struct tel_vp *next;
};

/* A call on the modem, as cellsd routes it. */
struct tel_call {
	bool used;
	struct tel_vp *vp; /* NULL while an incoming one is not routed yet */
	unsigned idx;	   /* the modem's +CLCC index */
	int dir;	   /* 0 made by the VP, 1 coming in */
	int stat;	   /* +CLCC: 0 active, 2 dialing, 3 alerting, 4 incoming, 5 waiting */
	char number[TEL_NUMBER_MAX]; /* what the VP sees: the dialled one, or the caller */
	bool switched;		     /* the VP was brought to the foreground for it */
	/* On the modem for sure: an ATD it answered, a call it rang. A +CLCC asked before the
	 * ATD was sent does not list it and must not end it. */
	bool confirmed;
};

#define TEL_CALLS 2 /* the modem's call and a waiting one */

struct tel_dev {
	struct devns *core;
	struct tel_link *link;
	struct tel_numbers numbers;
	bool sim_given; /* --sim-number: not learnt from +CNUM */
	struct tel_vp *vps;
	struct tel_call calls[TEL_CALLS];
	int end_reason; /* TEL_NO_CARRIER or TEL_BUSY: what the modem said of a call's end */
	char foreground[NAME_MAX_LEN + 1];
	char notice[96];	/* the bar's line, handed over by the loop */
	struct loop_watch kick; /* an eventfd: the notice changed */
	unsigned long calls_in, calls_out, calls_refused, sms_in, sms_out, sms_refused;
};

/* The device's side (telephony.c). */
struct tel_vp *tel_vp_by_id(struct tel_dev *dev, unsigned id);
struct tel_vp *tel_vp_owner(struct tel_dev *dev); /* whose number is the SIM's */
bool tel_vp_owns_sim(const struct tel_dev *dev, const struct tel_vp *vp);
bool tel_vp_foreground(const struct tel_dev *dev, const struct tel_vp *vp);
void tel_event(struct tel_dev *dev, const char *event, const struct tel_vp *vp, const char *key,
	       const char *value);
/* The root's bar shows TEXT ("" nothing): from any hook, the core's lock held or not. */
void tel_announce(struct tel_dev *dev, const char *text);
/* Let VP run for MS milliseconds whatever holds it back (a background VP frozen by its
 * power policy: devns_vp_wake), before a call rings or a message arrives there. On the
 * loop's thread, without the core's lock. */
#define TEL_WAKE_CALL_MS 60000 /* a call rings for a minute at most, as networks give up */
#define TEL_WAKE_SMS_MS	 10000
void tel_wake_vp(struct tel_dev *dev, struct tel_vp *vp, unsigned ms);

/* Calls (telephony_call.c): a VP's requests answer as telephony_at.h's request does. */
int tel_call_dial(struct tel_dev *dev, struct tel_vp *vp, const char *dest, int *code);
int tel_call_answer(struct tel_dev *dev, struct tel_vp *vp, int *code);
int tel_call_hangup(struct tel_dev *dev, struct tel_vp *vp, int *code);
int tel_call_list(struct tel_dev *dev, struct tel_vp *vp, int *code);
int tel_call_chld(struct tel_dev *dev, struct tel_vp *vp, const char *arg, int *code);
int tel_call_vts(struct tel_dev *dev, struct tel_vp *vp, const char *arg, int *code);
/* The root accepts the ringing call (`cell device telephony accept`): its VP's name. */
int tel_call_accept(struct tel_dev *dev, const char **vp);
/* A modem URC about calls; whether it was one. */
bool tel_call_urc(struct tel_dev *dev, const char *line);
/* VP goes (stops, dies; FORGET) or closes its tty: its calls are hung up (on a closed
 * tty, not one still ringing). */
void tel_call_vp_gone(struct tel_dev *dev, struct tel_vp *vp, bool forget);
/* The modem went away: every call is over. */
void tel_call_link_down(struct tel_dev *dev);

/* SMS (telephony_sms.c). */
int tel_sms_request(struct tel_dev *dev, struct tel_vp *vp, const struct tel_request *req,
		    int *code);
/* A modem URC about SMS (+CMTI, +CMT with its PDU); whether it was one. */
bool tel_sms_urc(struct tel_dev *dev, const char *line, const char *pdu);
/* The link is up: what the SIM kept while cellsd was away is moved to the VPs. */
void tel_sms_link_up(struct tel_dev *dev);

#endif
