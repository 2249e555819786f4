/* The VT's ioctl decoder and switch state machine (src/devices/vt_state.c): what a VP's
 * programs pass to the trapped VT and KD ioctls on /dev/tty0 and /dev/tty1 (the request
 * and its argument, the vt_mode VT_SETMODE reads), interleaved with what the root does
 * (foreground switches, the timer's work, an owner found dead) and the clock.
 *
 * Input: records of 11 bytes: byte 0 the event (ioctl, activate, deactivate, timer, owner
 * gone), byte 1 the request (an index into the decoder's list, or past it an unknown
 * number), byte 2 the time that passes (ms), bytes 3-10 the argument (a VT_SETMODE's
 * vt_mode too).
 *
 * Checked after each event: every field stays in its range (modes, signals, lists
 * bounded); a release is pending only in the background and never past its deadline
 * once the timer ran; an answer is an errno or data of its size, never both; a call is
 * deferred only when it is VT_WAITACTIVE of the VP's own VT and the VT is not shown; a
 * signal sent is the current owner's, of the number it gave. */
#include "devices/vt_state.h"

#include <errno.h>
#include <linux/kd.h>
#include <linux/vt.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECORD 11
#define MS     1000000LL

enum { EV_IOCTL, EV_ACTIVATE, EV_DEACTIVATE, EV_TIMER, EV_OWNER_GONE, EV_COUNT };

static void check_state(const struct vt_state *st)
{
	if (st->kd_mode != KD_TEXT && st->kd_mode != KD_GRAPHICS)
		abort();
	if (st->kb_mode < K_RAW || st->kb_mode > K_OFF)
		abort();
	if (st->mode.mode != VT_AUTO && st->mode.mode != VT_PROCESS)
		abort();
	if (st->mode.relsig < 0 || st->mode.relsig > VT_SIG_MAX || st->mode.acqsig < 0 ||
	    st->mode.acqsig > VT_SIG_MAX || st->mode.frsig != 0)
		abort();
	if (st->nwaiters > VT_MAX_WAITERS || st->ninterrupted > VT_MAX_WAITERS)
		abort();
	/* A release sent may await its ack with the VP back in front; one never goes out
	 * once the VP is back, so none is queued there. */
	if (st->release != VT_REL_NONE && st->mode.mode != VT_PROCESS)
		abort();
	if (st->release == VT_REL_QUEUED && st->active)
		abort();
	if (st->acquire_queued && (!st->active || st->mode.mode != VT_PROCESS))
		abort();
}

static void check_answer(const struct vt_state *st, const struct vt_call *c)
{
	if (c->error < 0 || c->error > 4095 || c->nout > 2)
		abort();
	if (c->error && (c->nout || c->deferred || c->owner_set))
		abort();
	for (unsigned i = 0; i < c->nout; i++)
		if (c->out[i].len == 0 || c->out[i].len > sizeof(c->out[i].bytes))
			abort();
	if (c->deferred && (c->request != VT_WAITACTIVE || c->arg != VT_OWN || vt_shown(st)))
		abort();
	if (c->owner_set && c->request != VT_SETMODE)
		abort();
	if (!vt_traps(c->request) && c->error != ENOTTY)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_state st;
	long long now = 1000 * MS;
	uint64_t id = 0;

	vt_state_init(&st);
	for (size_t off = 0; off + RECORD <= size; off += RECORD) {
		const uint8_t *r = data + off;
		uint64_t arg;

		memcpy(&arg, r + 3, sizeof(arg));
		now += r[2] * MS;
		switch (r[0] % EV_COUNT) {
		case EV_IOCTL: {
			struct vt_call c = {
				.request = r[1] < vt_nrequests ? vt_requests[r[1]] : 0x5600u + r[1],
				.arg = arg,
				.listener = 1,
				.id = ++id,
			};
			if (vt_input_size(c.request))
				memcpy(&c.in, r + 3, sizeof(c.in));
			c.subcode = r[3];
			c.screen_off = r[4] & 1;
			uint32_t gen = st.owner_gen;
			vt_ioctl(&st, &c);
			check_answer(&st, &c);
			if (c.owner_set != (st.owner_gen != gen))
				abort();
			break;
		}
		case EV_ACTIVATE:
			vt_activate(&st, now);
			if (!vt_shown(&st))
				abort();
			break;
		case EV_DEACTIVATE:
			vt_deactivate(&st, now);
			if (st.active)
				abort();
			break;
		case EV_TIMER: {
			struct vt_work w;
			vt_take_work(&st, now, &w);
			if (w.send && (st.mode.mode != VT_PROCESS || w.gen != st.owner_gen ||
				       (w.signal != st.mode.relsig && w.signal != st.mode.acqsig)))
				abort();
			/* Once the timer ran, no release outlives its deadline. */
			if (st.release == VT_REL_SENT && now >= st.deadline)
				abort();
			if (w.next && (st.release != VT_REL_SENT || w.next != st.deadline))
				abort();
			if (w.nwake > VT_MAX_WAITERS || w.ninterrupt > VT_MAX_WAITERS ||
			    (w.nwake && !vt_shown(&st)) || st.ninterrupted)
				abort();
			break;
		}
		case EV_OWNER_GONE:
			vt_owner_gone(&st, r[1] & 1 ? st.owner_gen : st.owner_gen - 1);
			break;
		}
		check_state(&st);
		/* A pending release's deadline is never further than the bound. */
		if ((st.release == VT_REL_QUEUED || st.release == VT_REL_SENT) &&
		    st.deadline - now > VT_RELEASE_DEADLINE_NS)
			abort();
	}
	return 0;
}
