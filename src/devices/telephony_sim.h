/* The SIM file a VP reads as its own through +CRSM (3GPP TS 27.007 §8.18): EF_MSISDN,
 * the subscriber's number (TS 51.011 §10.5.5), holds the VP's number, not the SIM's.
 * oFono learns a modem's own number from that file alone (its SimManager's
 * SubscriberNumbers), as ModemManager does from +CNUM. Pure: no state, no allocation. */
#ifndef CELLS_TELEPHONY_SIM_H
#define CELLS_TELEPHONY_SIM_H

#include <stddef.h>

#define TEL_EF_MSISDN 0x6F40 /* 28480 */

/* +CRSM's commands (TS 27.007 §8.18, TS 51.011 §9.2). */
#define CRSM_READ_BINARY  176
#define CRSM_READ_RECORD  178
#define CRSM_GET_RESPONSE 192
#define CRSM_UPDATE_BIN	  214
#define CRSM_UPDATE_REC	  220
#define CRSM_STATUS	  242

struct tel_crsm {
	long command, fileid, p1, p2, p3; /* -1: not given */
};

/* The answer to C on EF_MSISDN for a VP whose number is NUMBER ("" none: an empty
 * record), "+CRSM: <sw1>,<sw2>[,"<hex>"]", into OUT. One record of 28 bytes: 14 of alpha
 * identifier (empty), the number's length, its type (0x91 with a '+', else 0x81), 10 of
 * BCD digits, the capability and extension bytes (none). GET RESPONSE answers as a 2G
 * SIM does (TS 51.011 §9.2.1: a linear fixed EF); READ RECORD 1 (mode 4, absolute) its
 * record; another record, mode or command a status word of refusal (6A83, 6B00, 6981).
 * Returns the length, or -ENOSPC, -EINVAL (a number with other than 0-9 * #, or over
 * 20 digits). */
int tel_sim_msisdn(const char *number, const struct tel_crsm *c, char *out, size_t size);

#endif
