/* The VT's answers, after the kernel's drivers/tty/vt/vt_ioctl.c where a program could
 * tell the difference, and where it cannot be followed (one VT per VP, switches made by
 * the root alone, never waiting on a VP) the nearest answer a program already handles. */
#include "devices/vt_state.h"

#include <errno.h>
#include <linux/kd.h>
#include <linux/tiocl.h>
#include <linux/vt.h>
#include <string.h>
#include <sys/ioctl.h>

_Static_assert(sizeof(struct vt_mode_arg) == sizeof(struct vt_mode), "struct vt_mode");

const uint32_t vt_requests[] = {
	VT_OPENQRY,	VT_GETMODE, VT_SETMODE, VT_GETSTATE, VT_RELDISP, VT_ACTIVATE, VT_WAITACTIVE,
	VT_DISALLOCATE, KDGETMODE,  KDSETMODE,	KDGKBMODE,   KDSKBMODE,	 KDGKBTYPE,   TIOCLINUX,
};
const unsigned vt_nrequests = sizeof(vt_requests) / sizeof(vt_requests[0]);

bool vt_traps(uint32_t request)
{
	for (unsigned i = 0; i < vt_nrequests; i++)
		if (vt_requests[i] == request)
			return true;
	return false;
}

void vt_state_init(struct vt_state *st)
{
	memset(st, 0, sizeof(*st));
	st->kd_mode = KD_TEXT;
	st->kb_mode = K_UNICODE; /* a UTF-8 console's, as Debian's kernels boot */
	st->mode.mode = VT_AUTO;
}

bool vt_shown(const struct vt_state *st)
{
	return st->active || st->release == VT_REL_QUEUED || st->release == VT_REL_SENT;
}

static bool process_mode(const struct vt_state *st)
{
	return st->mode.mode == VT_PROCESS;
}

bool vt_activate(struct vt_state *st, long long now)
{
	(void)now;
	st->active = true;
	if (process_mode(st)) {
		if (st->release == VT_REL_QUEUED)
			/* Back before the release signal went out: the owner never knew. */
			st->release = VT_REL_NONE;
		else if (st->release == VT_REL_NONE && !st->owner_holds)
			st->acquire_queued = true;
		/* Back after it was told to release: its ack is still awaited, and answered
		 * with the acquire signal (reldisp). Programs take that ack as done whatever
		 * VT_RELDISP answers (fbi does), so it must not fail. */
	}
	return st->acquire_queued || st->nwaiters > 0 || st->ninterrupted > 0;
}

bool vt_deactivate(struct vt_state *st, long long now)
{
	st->active = false;
	if (!process_mode(st))
		return false;
	if (st->acquire_queued) {
		/* Away again before the owner heard it was shown: it never knew. */
		st->acquire_queued = false;
		return false;
	}
	/* Also when an earlier release went unanswered past its deadline (or was refused)
	 * and the VP came back: the kernel signals the owner again at every switch
	 * request. One still within its deadline is not repeated: with that, 40 fast switches
	 * left fbi's screen black (test_debian_image.py). */
	if (st->owner_holds && (st->release == VT_REL_NONE || st->release == VT_REL_LATE)) {
		st->release = VT_REL_QUEUED;
		st->deadline = now + VT_RELEASE_DEADLINE_NS;
		return true;
	}
	return false;
}

size_t vt_input_size(uint32_t request)
{
	return request == VT_SETMODE ? sizeof(struct vt_mode_arg) : request == TIOCLINUX ? 1 : 0;
}

static void put(struct vt_call *c, uint64_t addr, const void *value, size_t len)
{
	c->out[c->nout].addr = addr;
	c->out[c->nout].len = len;
	memcpy(c->out[c->nout].bytes, value, len);
	c->nout++;
}

static void put_int(struct vt_call *c, int value)
{
	put(c, c->arg, &value, sizeof(value));
}

/* The kernel takes no signal number here, and sends whatever it was given; a number no
 * signal has would only fail later, so it is refused now. 0 is "no signal", as there. */
static bool valid_signal_number(short sig)
{
	return sig >= 0 && sig <= VT_SIG_MAX;
}

static int set_mode(struct vt_state *st, struct vt_call *c)
{
	struct vt_mode_arg m = c->in;

	if (m.mode != VT_AUTO && m.mode != VT_PROCESS)
		return -EINVAL;
	if (!valid_signal_number(m.relsig) || !valid_signal_number(m.acqsig))
		return -EINVAL;
	m.frsig = 0; /* unused: the kernel stores 0 */
	st->mode = m;
	st->owner_gen++;
	/* A switch under way is forgotten, as the kernel's vt_newvt = -1. The new owner
	 * holds the display if its VP is in front, and is told when it comes in front
	 * otherwise. */
	st->release = VT_REL_NONE;
	st->acquire_queued = false;
	st->owner_holds = st->active;
	c->owner_set = true;
	return 0;
}

/* VT_RELDISP: 0 refuses a release, anything else grants it; VT_ACKACQ alone is taken
 * when no release is pending. A refusal cannot keep the screen (the root switched): the
 * owner keeps its belief that it holds the display, the VT stops being shown now. A
 * release granted once the VP is in front again is followed by the acquire signal, as
 * the kernel would send it on the switch back that the ack let happen. */
static int reldisp(struct vt_state *st, struct vt_call *c)
{
	uint64_t arg = c->arg;

	if (!process_mode(st))
		return -EINVAL;
	if (st->release == VT_REL_NONE) {
		if (arg != VT_ACKACQ)
			return -EINVAL;
		st->acquires_acked++;
		return 0;
	}
	if (arg == 0) {
		st->release = VT_REL_LATE;
		return 0;
	}
	st->releases_acked++;
	st->release = VT_REL_NONE;
	st->owner_holds = false;
	if (st->active) {
		st->acquire_queued = true;
		c->work = true;
	}
	return 0;
}

/* VT_WAITACTIVE of our VT: at once if shown, else when the VP comes in front. */
static int wait_active(struct vt_state *st, struct vt_call *c)
{
	if (vt_shown(st))
		return 0;
	if (st->nwaiters == VT_MAX_WAITERS) {
		/* Should even that list be full, its oldest goes unanswered: most likely a
		 * replayed call's, whose thread no longer waits for it. */
		if (st->ninterrupted == VT_MAX_WAITERS)
			memmove(&st->interrupted[0], &st->interrupted[1],
				--st->ninterrupted * sizeof(st->interrupted[0]));
		st->interrupted[st->ninterrupted++] = st->waiters[0];
		memmove(&st->waiters[0], &st->waiters[1], --st->nwaiters * sizeof(st->waiters[0]));
		c->work = true;
	}
	st->waiters[st->nwaiters++] = (struct vt_waiter){c->listener, c->id};
	c->deferred = true;
	return 0;
}

static int kd_set_mode(struct vt_state *st, uint64_t arg)
{
	switch (arg) {
	case KD_GRAPHICS:
		break;
	case KD_TEXT0:
	case KD_TEXT1:
	case KD_TEXT:
		arg = KD_TEXT;
		break;
	default:
		return -EINVAL;
	}
	st->kd_mode = (int)arg;
	return 0;
}

static int kd_set_kb_mode(struct vt_state *st, uint64_t arg)
{
	switch (arg) {
	case K_RAW:
	case K_XLATE:
	case K_MEDIUMRAW:
	case K_UNICODE:
	case K_OFF:
		st->kb_mode = (int)arg;
		return 0;
	}
	return -EINVAL;
}

/* The one VT a VP has, or ENXIO, the kernel's answer for a VT that does not exist: a VP
 * cannot leave its VT for another, nor bring itself to the front (the root switches). */
static int own_vt(uint64_t arg)
{
	return arg == VT_OWN ? 0 : -ENXIO;
}

/* TIOCLINUX's read-only questions, answered in its return value as the kernel does: which
 * console is in front (0-based) and which one is blanked (1-based, 0: none). The screen
 * the VP is told is off is its own while shown; behind, it learns nothing of it, as its
 * backlight's bl_power. The rest (selection, paste, blanking it, kernel messages) is the
 * root's console's: EINVAL, the kernel's answer for a subcode it has not. */
static int tioclinux(const struct vt_state *st, struct vt_call *c)
{
	switch (c->subcode) {
	case TIOCL_GETFGCONSOLE:
		c->ret = (vt_shown(st) ? VT_OWN : VT_OTHERS) - 1;
		return 0;
	case TIOCL_BLANKEDSCREEN:
		c->ret = vt_shown(st) && c->screen_off ? VT_OWN : 0;
		return 0;
	}
	return -EINVAL;
}

static int dispatch(struct vt_state *st, struct vt_call *c)
{
	switch (c->request) {
	case VT_OPENQRY:
		put_int(c, VT_OWN);
		return 0;
	case VT_GETMODE:
		put(c, c->arg, &st->mode, sizeof(st->mode));
		return 0;
	case VT_SETMODE:
		return set_mode(st, c);
	case VT_GETSTATE: {
		unsigned short active = vt_shown(st) ? VT_OWN : VT_OTHERS;
		unsigned short state = 1u | 1u << VT_OWN; /* tty0, and ours in use */
		put(c, c->arg, &active, sizeof(active));
		put(c, c->arg + offsetof(struct vt_stat, v_state), &state, sizeof(state));
		return 0;
	}
	case VT_RELDISP:
		return reldisp(st, c);
	case VT_ACTIVATE:
		/* Ours: the VP asks to be shown, which only the root decides: 0, as the
		 * kernel answers before a switch that a VT_PROCESS owner may still refuse. */
		return own_vt(c->arg);
	case VT_WAITACTIVE:
		if (own_vt(c->arg) < 0)
			return -ENXIO;
		return wait_active(st, c);
	case VT_DISALLOCATE:
		/* Ours is in use; any other is not allocated: nothing to free. */
		if (c->arg > VT_MAX_NR)
			return -ENXIO;
		return c->arg == VT_OWN ? -EBUSY : 0;
	case KDGETMODE:
		put_int(c, st->kd_mode);
		return 0;
	case KDSETMODE:
		return kd_set_mode(st, c->arg);
	case KDGKBMODE:
		put_int(c, st->kb_mode);
		return 0;
	case KDSKBMODE:
		return kd_set_kb_mode(st, c->arg);
	case KDGKBTYPE: {
		unsigned char type = KB_101;
		put(c, c->arg, &type, sizeof(type));
		return 0;
	}
	case TIOCLINUX:
		return tioclinux(st, c);
	}
	return -ENOTTY;
}

void vt_ioctl(struct vt_state *st, struct vt_call *c)
{
	int ret;

	c->nout = 0;
	c->deferred = c->work = c->owner_set = false;
	c->ret = 0;
	ret = dispatch(st, c);
	c->error = ret < 0 ? -ret : 0;
	if (ret < 0)
		c->nout = 0;
}

void vt_take_work(struct vt_state *st, long long now, struct vt_work *w)
{
	memset(w, 0, sizeof(*w));
	w->gen = st->owner_gen;
	if (st->release == VT_REL_QUEUED) {
		w->send = true;
		w->signal = st->mode.relsig;
		st->release = VT_REL_SENT;
	} else if (st->acquire_queued) {
		w->send = true;
		w->signal = st->mode.acqsig;
		st->acquire_queued = false;
		st->owner_holds = true;
	}
	if (st->release == VT_REL_SENT && now >= st->deadline) {
		st->release = VT_REL_LATE;
		w->expired = true;
	}
	if (st->release == VT_REL_SENT)
		w->next = st->deadline;
	if (vt_shown(st)) {
		memcpy(w->wake, st->waiters, st->nwaiters * sizeof(st->waiters[0]));
		w->nwake = st->nwaiters;
		st->nwaiters = 0;
	}
	memcpy(w->interrupt, st->interrupted, st->ninterrupted * sizeof(st->interrupted[0]));
	w->ninterrupt = st->ninterrupted;
	st->ninterrupted = 0;
}

void vt_owner_gone(struct vt_state *st, uint32_t gen)
{
	if (gen != st->owner_gen || !process_mode(st))
		return;
	st->mode = (struct vt_mode_arg){.mode = VT_AUTO};
	st->kd_mode = KD_TEXT;
	st->release = VT_REL_NONE;
	st->acquire_queued = false;
	st->owner_holds = false;
	st->owner_gen++;
}
