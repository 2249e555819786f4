/* cells-modemsim: a serial AT modem (3GPP TS 27.007 / 27.005 over V.250) on a pty, with
 * the carrier behind it (remote parties that call, answer, hang up and text on command)
 * and the forwarding service of docs/TELEPHONY.md. One process, one poll loop, all its
 * state in one struct sim that the files of this directory each own a part of. */
#ifndef CELLS_MODEMSIM_SIM_H
#define CELLS_MODEMSIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/at_cmd.h"
#include "common/sms_pdu.h"

#define NUMBER_MAX   40 /* a number as shown: tag and caller together */
#define FORWARDS_MAX 64
#define PARTIES_MAX  64
#define CALLS_MAX    2 /* one call on the modem and one waiting (or held) */
#define STORE_SLOTS  30
#define CLIENTS_MAX  32
#define SENT_MAX     256 /* SMS the modem sent, kept for "state" */

/* ---- the modem's settings (modem.c) ---- */
struct modem_cfg {
	bool echo, verbose, quiet;
	int cmee;
	bool clip, crc, ccwa, colp;
	int creg, cgreg, cereg; /* the unsolicited modes */
	int cops_format;
	int cfun;
	int cnmi[5]; /* mode, mt, bm, ds, bfr */
	int csms;
	char cscs[8];
	char csca[24];
	int s[13]; /* S0..S12 */
};

/* ---- the AT reader (reader.c) ---- */
enum reader_mode { READ_COMMAND, READ_PDU };
struct reader {
	enum reader_mode mode;
	char buf[AT_LINE_MAX + 64];
	size_t len;
	bool overflow;	/* the line outgrew buf: ERROR at its end */
	size_t pdu_len; /* +CMGS's TPDU length while in READ_PDU */
};

/* ---- calls (calls.c) ---- */
enum call_stat { CALL_ACTIVE, CALL_HELD, CALL_DIALING, CALL_ALERTING, CALL_INCOMING, CALL_WAITING };
struct call {
	bool used;
	int idx; /* +CLCC's, 1 or 2 */
	int id;	 /* the control socket's */
	int dir; /* 0 mobile originated, 1 mobile terminated */
	enum call_stat stat;
	char number[NUMBER_MAX]; /* what the modem shows: the caller, or what was dialled */
	int type;		 /* 129 or 145 */
	char remote[NUMBER_MAX]; /* the remote party's own number */
	char shown[NUMBER_MAX];	 /* MO: the caller ID the remote party sees */
	int64_t next_ring_ms;	 /* MT incoming: when RING is due */
};

/* ---- the SIM's message store (store.c) ---- */
enum store_stat { STO_REC_UNREAD, STO_REC_READ, STO_UNSENT, STO_SENT };
struct store_slot {
	bool used;
	enum store_stat stat;
	size_t tpdu_len;
	char pdu[SMS_HEX_MAX];
};

/* ---- the carrier and the forwarding service (service.c) ---- */
struct forward {
	char number[NUMBER_MAX];
	char tag[NUMBER_MAX];
};
enum party_mode { PARTY_RING, PARTY_ANSWER, PARTY_BUSY };
struct party {
	char number[NUMBER_MAX];
	enum party_mode mode;
};
struct sent_sms {
	char from[NUMBER_MAX], to[NUMBER_MAX];
	char text[sizeof(((struct sms *)0)->text)];
};

/* ---- control clients (control.c) ---- */
struct client {
	int fd; /* -1: free */
	bool subscribed;
	bool at_events; /* the "at" events too (the default) */
	char in[4096];
	size_t len;
};

struct sim {
	/* options */
	char number[NUMBER_MAX];
	char access[NUMBER_MAX];
	char gateway[NUMBER_MAX];
	int ring_interval_ms;

	int master;   /* the pty's master side: the modem's serial line */
	int slave;    /* held open so that the master never sees a hang-up */
	int listener; /* the control socket, -1 without one */

	struct modem_cfg cfg;
	bool cmd_last; /* the command being run ends its line (+CMGS must) */
	bool running;  /* a command line runs: URCs wait */
	char urc[4096];
	size_t urc_len;
	struct reader rd;
	struct call calls[CALLS_MAX];
	int next_call_id;
	bool cnma_pending; /* a +CMT waits for +CNMA */
	uint8_t next_mr;
	struct store_slot store[STORE_SLOTS];
	struct forward forwards[FORWARDS_MAX];
	size_t nforwards;
	struct party parties[PARTIES_MAX];
	size_t nparties;
	struct sent_sms sent[SENT_MAX];
	size_t nsent; /* all ever sent; the last SENT_MAX are kept */
	struct client clients[CLIENTS_MAX];
};

/* modem.c: the serial line's output and the command dispatcher. */
void modem_reset(struct sim *sim);
/* Information text or a URC: "\r\n<text>\r\n" (V1), "<text>\r\n" (V0). */
void modem_line(struct sim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A result code (OK, RING, NO CARRIER, ...), verbose or numeric as ATV says. */
void modem_result(struct sim *sim, const char *code);
void modem_raw(struct sim *sim, const char *data, size_t len);
/* The same for unsolicited result codes, held while a command line is typed or runs. */
void modem_urc(struct sim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void modem_urc_result(struct sim *sim, const char *code);
void modem_flush_urcs(struct sim *sim);
void modem_command_line(struct sim *sim, const char *line, size_t len);
void modem_pdu_done(struct sim *sim, const char *hex, bool cancelled);

/* What one command of a line gives: the line goes on, or stops with its final result
 * written (an error, or the command's own such as ATD's data-call NO CARRIER), or waits
 * (+CMGS's prompt). */
enum cmd_result { CMD_OK, CMD_DONE, CMD_PROMPT };
enum cmd_result cme_error(struct sim *sim, int code);
enum cmd_result cms_error(struct sim *sim, int code);

/* modem_sms.c: an SMS the network delivers to the modem (from FROM as it shows), stored
 * or routed as +CNMI says. */
int modem_sms_deliver(struct sim *sim, const char *from, const char *text, struct error *err);

/* modem_call.c / modem_sms.c / modem_info.c: the command groups; each returns -1 if it
 * does not know the command. */
int modem_call_cmd(struct sim *sim, const struct at_cmd *c, enum cmd_result *res);
int modem_sms_cmd(struct sim *sim, const struct at_cmd *c, enum cmd_result *res);
int modem_info_cmd(struct sim *sim, const struct at_cmd *c, enum cmd_result *res);

/* reader.c */
void reader_input(struct sim *sim, const char *data, size_t len);
void reader_expect_pdu(struct sim *sim, size_t tpdu_len);

/* calls.c: the call table; events and URCs as calls change. */
struct call *call_by_id(struct sim *sim, int id);
struct call *call_by_idx(struct sim *sim, int idx);
struct call *call_find(struct sim *sim, enum call_stat stat);
int calls_count(struct sim *sim);
int call_dial(struct sim *sim, const char *dialled, struct error *err);
int call_incoming(struct sim *sim, const char *from, const char *to, struct error *err);
void call_end(struct sim *sim, struct call *c, const char *by);
void call_answer(struct sim *sim, struct call *c, const char *by);
void calls_release_on_modem(struct sim *sim);
int calls_chld(struct sim *sim, const char *arg);
void calls_tick(struct sim *sim);
int64_t calls_next_deadline(struct sim *sim);
void call_ring_now(struct sim *sim, struct call *c);

/* store.c */
int store_put(struct sim *sim, enum store_stat stat, const char *pdu, size_t tpdu_len);
int store_used(const struct sim *sim);

/* service.c */
int service_add_forward(struct sim *sim, const char *number, const char *tag, struct error *err);
int service_set_party(struct sim *sim, const char *number, const char *mode, struct error *err);
enum party_mode service_party(const struct sim *sim, const char *number);
/* An outgoing call's dial string: the callee and the caller ID it sees. */
int service_route_call(const struct sim *sim, const char *dialled, char *dest, char *shown,
		       struct error *err);
/* A call or SMS from FROM to TO as the SIM sees it: the caller ID (the tag put before
 * FROM for a forwarded TO). */
int service_route_incoming(const struct sim *sim, const char *from, const char *to, char *shown,
			   struct error *err);
/* An SMS the modem sent to DEST: who gets it, from whom, with which text. */
void service_route_sms(const struct sim *sim, const char *dest, const char *text, char *to,
		       char *from, char *out_text, size_t out_size);
int service_sms_incoming(struct sim *sim, const char *from, const char *to, const char *text,
			 struct error *err);
void service_record_sent(struct sim *sim, const char *from, const char *to, const char *text);

/* control.c */
int control_listen(struct sim *sim, const char *path, struct error *err);
void control_accept(struct sim *sim);
void control_input(struct sim *sim, struct client *cl);
/* An event to every subscribed client; takes the reference to EV (a json_t *). */
void control_event(struct sim *sim, void *ev);
bool control_subscribed(const struct sim *sim);
/* Whether a client wants the "at" events (every command line). */
bool control_at_subscribed(const struct sim *sim);
void control_at_event(struct sim *sim, void *ev);

#endif
