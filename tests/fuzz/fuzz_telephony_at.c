/* A VP's AT session (src/devices/telephony_at.c): whatever bytes a VP's programs write to
 * its /dev/ttyM0, with a device that answers each request at once or later, with
 * information lines, results and errors chosen by the input too.
 *
 * Input: byte 0 picks how the device answers (low bits: the result; bit 4: it waits and
 * the next chunk's first byte ends it), then chunks of up to 64 bytes fed as writes.
 *
 * Checked: no empty or oversized write; the session's settings stay in range;
 * a waiting command is answered exactly once (tel_at_done on an idle session is a
 * no-op); the held input never exceeds its buffer. */
#include "devices/telephony_at.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake {
	uint8_t mode;
	bool pending;
	size_t written;
};

static void fake_write(void *ctx, const char *buf, size_t len)
{
	struct fake *f = ctx;

	if (len == 0 || len > 4096)
		abort();
	f->written += len;
}

static int fake_request(void *ctx, struct tel_at *s, const struct tel_request *req, int *code)
{
	static const int results[] = {TEL_OK,  TEL_ERROR, TEL_BUSY, TEL_NO_CARRIER,
				      TEL_CME, TEL_CMS,	  TEL_OK,   TEL_OK};
	struct fake *f = ctx;

	if (req->kind == TEL_REQ_DIAL && (!req->number || strlen(req->number) > AT_LINE_MAX))
		abort();
	if (req->kind == TEL_REQ_SMS_SEND && (!req->data || strlen(req->data) > TEL_SMS_INPUT_MAX))
		abort();
	if (req->kind == TEL_REQ_SIM_MSISDN &&
	    (!req->crsm || req->crsm->fileid != TEL_EF_MSISDN || req->crsm->command < 0))
		abort();
	if (f->pending)
		abort(); /* asked again while one waits */
	tel_at_info(s, "+TEST: 1");
	*code = 4;
	if ((f->mode & 0x10) && req->kind != TEL_REQ_SMS_COUNT) { /* that one answers at once */
		f->pending = true;
		return TEL_PENDING;
	}
	return results[f->mode & 7];
}

static const struct tel_at_ops ops = {fake_write, fake_request};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tel_at s;
	struct fake f = {0};

	if (size < 1)
		return 0;
	f.mode = data[0];
	tel_at_init(&s, &ops, &f);
	data++, size--;
	while (size > 0) {
		size_t n = size < 64 ? size : 64;
		if (f.pending && (data[0] & 1)) {
			f.pending = false;
			tel_at_done(&s, data[0] & 2 ? TEL_OK : TEL_CME, 3);
		}
		if (f.pending && s.mode != TEL_AT_PENDING)
			abort();
		tel_at_feed(&s, (const char *)data, n);
		if (s.nhold > sizeof(s.hold) || s.len > sizeof(s.line) ||
		    s.sms_len > TEL_SMS_INPUT_MAX || s.set.cmee < 0 || s.set.cmee > 2 ||
		    s.set.cmgf < 0 || s.set.cmgf > 1)
			abort();
		if (data[0] == 0xff)
			tel_at_hangup(&s);
		data += n, size -= n;
	}
	/* What was typed ahead runs as each waiting command ends. */
	for (unsigned i = 0; f.pending && i < 10000; i++) {
		f.pending = false;
		tel_at_done(&s, TEL_OK, 0);
	}
	if (!f.pending && s.mode == TEL_AT_PENDING)
		abort();
	if (!f.pending)
		tel_at_done(&s, TEL_OK, 0); /* nothing waits: ignored */
	return 0;
}
