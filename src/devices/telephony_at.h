/* One VP's AT session on its /dev/ttyM0 (3GPP TS 27.007 / 27.005, V.250): the bytes the
 * VP's programs write are cut into command lines and answered; what is the VP's own
 * (echo, verbosity, error reports, which URCs it wants, SMS format) is answered here,
 * the rest is asked of the device (calls, SMS, what the modem knows) through OPS.
 * No system calls, no allocation: fed bytes, it writes answers through OPS->write. */
#ifndef CELLS_TELEPHONY_AT_H
#define CELLS_TELEPHONY_AT_H

#include "common/at_cmd.h"
#include "devices/telephony_sim.h"

#include <stdbool.h>
#include <stddef.h>

/* Final results (V.250 §6.1 numbering for V0 where one exists). */
enum tel_result {
	TEL_OK = 0,
	TEL_CONNECT = 1,
	TEL_RING = 2,
	TEL_NO_CARRIER = 3,
	TEL_ERROR = 4,
	TEL_NO_DIALTONE = 6,
	TEL_BUSY = 7,
	TEL_NO_ANSWER = 8,
	TEL_CME = 100, /* +CME ERROR: code */
	TEL_CMS = 101, /* +CMS ERROR: code */
	TEL_PENDING = 200,
};

/* 27.007 §9.2 and 27.005 §3.2.5 codes used here. */
#define CME_NOT_ALLOWED	  3
#define CME_NOT_SUPPORTED 4
#define CME_INVALID_INDEX 21
#define CME_NOT_FOUND	  22
#define CME_TEXT_TOO_LONG 24
#define CME_NO_NETWORK	  30
#define CME_BAD_PARAM	  50
#define CME_UNKNOWN	  100
#define CMS_NOT_ALLOWED	  302
#define CMS_NOT_SUPPORTED 303
#define CMS_BAD_PDU	  304
#define CMS_BAD_TEXT	  305
#define CMS_BAD_INDEX	  321
#define CMS_MEM_FULL	  322
#define CMS_UNKNOWN	  500

/* The longest SMS input taken after the "> " prompt: a PDU is at most 176 octets (with
 * its SMSC part), 352 hex digits; a text at most 160 GSM characters, which may take up
 * to 3 bytes each in UTF-8, or 4 hex digits each in the UCS2 character set. More is
 * refused once Ctrl-Z comes. */
#define TEL_SMS_INPUT_MAX 640
/* Messages one VP's store holds. */
#define TEL_SMS_STORE_MAX 100
/* Bytes kept while a command waits for the modem (what a program types ahead). */
#define TEL_HOLD_MAX 1024

enum tel_req_kind {
	TEL_REQ_DIAL,	/* number */
	TEL_REQ_ANSWER, /* ATA */
	TEL_REQ_HANGUP, /* ATH, +CHUP */
	TEL_REQ_CHLD,	/* arg */
	TEL_REQ_VTS,	/* arg */
	TEL_REQ_CLCC,
	TEL_REQ_MIRROR, /* cmd: what the modem answers for every VP (+CGMI, +CSQ, +CREG?) */
	TEL_REQ_CNUM,
	TEL_REQ_SMS_SEND,   /* text mode: dest and data (the text); PDU: data (hex), tpdu_len */
	TEL_REQ_SMS_LIST,   /* index: the stat wanted (0-4, 4 all) */
	TEL_REQ_SMS_READ,   /* index */
	TEL_REQ_SMS_DELETE, /* index, flag (+CMGD's delflag) */
	TEL_REQ_SMS_COUNT,  /* +CPMS: at once, TEL_OK and the messages stored in *code */
	TEL_REQ_SIM_MSISDN, /* crsm: +CRSM on EF_MSISDN, the VP's own number */
};

struct tel_request {
	enum tel_req_kind kind;
	const struct at_cmd *cmd;
	const char *number, *arg;
	long index, flag;
	bool text_mode;
	const char *dest, *data;
	size_t tpdu_len;
	const struct tel_crsm *crsm;
};

struct tel_at;

struct tel_at_ops {
	void (*write)(void *ctx, const char *buf, size_t len);
	/* Answer REQ for session S: info lines through tel_at_info, then a result (TEL_OK,
	 * TEL_BUSY, TEL_CME with *CODE...), or TEL_PENDING and tel_at_done later. */
	int (*request)(void *ctx, struct tel_at *s, const struct tel_request *req, int *code);
};

/* What the VP set. */
struct tel_at_settings {
	bool echo, verbose, quiet;
	int cmee;		   /* 0 ERROR, 1 numeric, 2 verbose */
	int clip, crc, ccwa, colp; /* URCs on or off */
	int creg, cgreg, cereg;	   /* registration URC modes */
	int cnmi[5];		   /* mode, mt, bm, ds, bfr */
	int cmgf;		   /* 0 PDU, 1 text */
	int csms;
	int cops_format; /* +COPS=3,<format>: 0 long, 1 short, 2 numeric */
	char cscs[8];
};

enum tel_at_mode { TEL_AT_IDLE, TEL_AT_PENDING, TEL_AT_PROMPT };

struct tel_at {
	const struct tel_at_ops *ops;
	void *ctx;
	struct tel_at_settings set;
	enum tel_at_mode mode;
	/* The command line being typed. */
	char line[AT_LINE_MAX + 3];
	size_t len;
	bool overflow;
	/* The line being run: where it goes on after a command that waited. */
	struct at_line parsed;
	size_t next;
	/* Typed while a command waited: run when it is done. */
	char hold[TEL_HOLD_MAX];
	size_t nhold;
	/* +CMGS: its argument and what came after the prompt. */
	char sms_dest[32]; /* as UTF-8, whatever the VP's character set */
	long sms_tpdu_len;
	char sms[TEL_SMS_INPUT_MAX + 1];
	size_t sms_len;
	bool sms_overflow;
	bool sms_ack; /* the prompt is +CNMA's: its PDU is taken and dropped */
	/* Unsolicited results held while a line is being typed or run (a RING never lands
	 * inside the echo of a command or before its answer): sent once the session is idle. */
	char urcs[2048];
	size_t nurcs;
	/* Our echo of what is being fed: written in one piece, before anything else is. */
	char echo[256];
	size_t necho;
	/* The VP's tty echoes what it is sent (its program left ECHO on): our own echo
	 * would come back as its input, forever. */
	bool tty_echoes;
	/* Counters for `cell stats`. */
	unsigned long lines, errors;
};

void tel_at_init(struct tel_at *s, const struct tel_at_ops *ops, void *ctx);
/* V.250 Z: the settings back to their initial values. */
void tel_at_reset(struct tel_at *s);
/* Bytes the VP wrote. */
void tel_at_feed(struct tel_at *s, const char *buf, size_t len);
/* The VP closed its tty: a half-typed line or SMS is dropped (a waiting command still
 * ends through tel_at_done). */
void tel_at_hangup(struct tel_at *s);
/* An information line of the command being answered ("+CLCC: ..."; may hold "\r\n"). */
void tel_at_info(struct tel_at *s, const char *text);
/* The waiting command is done with RESULT (CODE for TEL_CME/TEL_CMS): the rest of its
 * line, then what was typed meanwhile, run. */
void tel_at_done(struct tel_at *s, int result, int code);
/* An unsolicited result: a result code as the VP's verbosity says (RING, NO CARRIER,
 * BUSY), or a line of text ("+CLIP: ..."). */
void tel_at_unsolicited(struct tel_at *s, int result);
void tel_at_urc(struct tel_at *s, const char *text);
/* Whether the VP chose the UCS2 character set (+CSCS="UCS2"): its text-mode SMS texts and
 * addresses are then hex of UCS-2, both ways (TS 27.005 §3.1, TS 27.007 §5.5). */
bool tel_at_ucs2(const struct tel_at *s);

#endif
