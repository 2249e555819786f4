/* The numbers rules of the telephony device (docs/DEVICES.md, "telephony"): a VP's tag
 * at the forwarding service, what an incoming caller ID says (which VP, which caller),
 * what a VP's dialled number becomes on the modem, and the header of a forwarded SMS.
 * Pure functions: no state, no allocation. */
#ifndef CELLS_TELEPHONY_NUMBER_H
#define CELLS_TELEPHONY_NUMBER_H

#include "common/error.h"

#include <stdbool.h>
#include <stddef.h>

#define TEL_NUMBER_MAX	       24 /* with the NUL: "+" and up to 20 digits, or a tagged caller */
#define TEL_TAG_PREFIX_DEFAULT "*77"

struct tel_numbers {
	char prefix[16];	      /* --forward-tag: the tags' start, "*77" */
	char access[TEL_NUMBER_MAX];  /* --forward-access: the service's access number, or "" */
	char gateway[TEL_NUMBER_MAX]; /* --forward-sms: its SMS gateway ("" = access) */
	char sim[TEL_NUMBER_MAX];     /* the SIM's own number, or "" while unknown */
};

/* Whether S is a phone number a VP may have or dial: an optional leading '+', then 1 to
 * 20 of 0-9 * #. */
bool tel_number_valid(const char *s);
/* The tag of VP ID into OUT: PREFIX ID '*' ("*772*"). */
int tel_number_tag(const struct tel_numbers *n, unsigned id, char *out, size_t size);
/* An incoming caller ID (a call's +CLIP or +CCWA, an SMS's originator): with a tag, the
 * VP id it names into *VP_ID and the caller after it into CALLER, returning 1; without,
 * CALLER is the ID itself and 0 is returned; -EINVAL for a tag that names no id. */
int tel_number_incoming(const struct tel_numbers *n, const char *caller_id, unsigned *vp_id,
			char *caller, size_t size);
/* The type of address of a number (27.007 +CLIP's <type>): 145 with a '+', else 129. */
int tel_number_type(const char *number);
/* What the modem dials for DEST from the VP with id ID (OWNER: its number is the SIM's):
 * DEST itself for the owner, ACCESS TAG DEST for the others. Refused (-EPERM, message in
 * ERR): a DEST that is not a number, that starts with a tag (PREFIX) or with the access
 * number (a forged tag), or a non-owner VP with no access number set. */
int tel_number_dial(const struct tel_numbers *n, bool owner, unsigned id, const char *dest,
		    char *out, size_t size, struct error *err);
/* An SMS from VP ID to DEST with TEXT: the number the modem sends it to into TO and its
 * text into BODY: DEST and TEXT for the owner; the gateway and "TAG DEST ' ' TEXT" for
 * the others. Refused as tel_number_dial, and -EMSGSIZE if BODY does not fit SIZE. */
int tel_number_sms(const struct tel_numbers *n, bool owner, unsigned id, const char *dest,
		   const char *text, char *to, size_t to_size, char *body, size_t body_size,
		   struct error *err);

#endif
