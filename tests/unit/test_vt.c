/* The VT's state machine (src/devices/vt_state.c): each ioctl's answer, hostile
 * arguments, and the release and acquire signals around foreground switches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <linux/kd.h>
#include <linux/tiocl.h>
#include <linux/vt.h>
#include <sys/ioctl.h>
#include <signal.h>

#include "devices/vt_state.h"

#define MS  1000000LL
#define ARG 0x7000

static struct vt_call call(uint32_t request, uint64_t arg)
{
	return (struct vt_call){.request = request, .arg = arg};
}

static int ioctl_int(struct vt_state *st, uint32_t request, uint64_t arg)
{
	struct vt_call c = call(request, arg);

	vt_ioctl(st, &c);
	assert_false(c.deferred);
	return c.error;
}

/* A getter's int answer. */
static int get_int(struct vt_state *st, uint32_t request)
{
	struct vt_call c = call(request, ARG);
	int v;

	vt_ioctl(st, &c);
	assert_int_equal(c.error, 0);
	assert_int_equal(c.nout, 1);
	assert_int_equal(c.out[0].addr, ARG);
	assert_int_equal(c.out[0].len, sizeof(int));
	memcpy(&v, c.out[0].bytes, sizeof(v));
	return v;
}

static int set_mode(struct vt_state *st, char mode, short relsig, short acqsig)
{
	struct vt_call c = call(VT_SETMODE, ARG);

	c.in = (struct vt_mode_arg){.mode = mode, .relsig = relsig, .acqsig = acqsig, .frsig = 9};
	vt_ioctl(st, &c);
	assert_int_equal(c.owner_set, c.error == 0);
	return c.error;
}

static unsigned short v_active(struct vt_state *st)
{
	struct vt_call c = call(VT_GETSTATE, ARG);
	unsigned short active, state;

	vt_ioctl(st, &c);
	assert_int_equal(c.error, 0);
	assert_int_equal(c.nout, 2);
	assert_int_equal(c.out[0].addr, ARG);
	assert_int_equal(c.out[0].len, 2);
	/* v_signal is left alone, as the kernel leaves it. */
	assert_int_equal(c.out[1].addr, ARG + 4);
	assert_int_equal(c.out[1].len, 2);
	memcpy(&active, c.out[0].bytes, 2);
	memcpy(&state, c.out[1].bytes, 2);
	assert_int_equal(state, 0x3);
	return active;
}

static struct vt_work work(struct vt_state *st, long long now)
{
	struct vt_work w;

	vt_take_work(st, now, &w);
	return w;
}

static void a_new_vt_is_text_auto_and_unicode(void **state)
{
	struct vt_state st;
	struct vt_call c = call(VT_GETMODE, ARG);
	struct vt_mode m;

	(void)state;
	vt_state_init(&st);
	assert_int_equal(get_int(&st, KDGETMODE), KD_TEXT);
	assert_int_equal(get_int(&st, KDGKBMODE), K_UNICODE);
	assert_int_equal(get_int(&st, VT_OPENQRY), 1);
	vt_ioctl(&st, &c);
	assert_int_equal(c.nout, 1);
	assert_int_equal(c.out[0].len, sizeof(struct vt_mode));
	memcpy(&m, c.out[0].bytes, sizeof(m));
	assert_int_equal(m.mode, VT_AUTO);
	assert_int_equal(m.relsig, 0);
	c = call(KDGKBTYPE, ARG);
	vt_ioctl(&st, &c);
	assert_int_equal(c.nout, 1);
	assert_int_equal(c.out[0].len, 1);
	assert_int_equal(c.out[0].bytes[0], KB_101);
}

static void getstate_follows_the_foreground(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	assert_int_equal(v_active(&st), VT_OTHERS);
	vt_activate(&st, 0);
	assert_int_equal(v_active(&st), VT_OWN);
	vt_deactivate(&st, 0);
	assert_int_equal(v_active(&st), VT_OTHERS);
}

static void kd_modes_are_checked_and_kept(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	assert_int_equal(ioctl_int(&st, KDSETMODE, KD_GRAPHICS), 0);
	assert_int_equal(get_int(&st, KDGETMODE), KD_GRAPHICS);
	/* KD_TEXT0 and KD_TEXT1 are KD_TEXT, as in the kernel. */
	assert_int_equal(ioctl_int(&st, KDSETMODE, KD_TEXT1), 0);
	assert_int_equal(get_int(&st, KDGETMODE), KD_TEXT);
	assert_int_equal(ioctl_int(&st, KDSETMODE, KD_GRAPHICS), 0);
	assert_int_equal(ioctl_int(&st, KDSETMODE, 4), EINVAL);
	assert_int_equal(ioctl_int(&st, KDSETMODE, (uint64_t)-1), EINVAL);
	assert_int_equal(ioctl_int(&st, KDSETMODE, 1ull << 32 | KD_TEXT), EINVAL);
	assert_int_equal(get_int(&st, KDGETMODE), KD_GRAPHICS);

	for (int m = K_RAW; m <= K_OFF; m++) {
		assert_int_equal(ioctl_int(&st, KDSKBMODE, (uint64_t)m), 0);
		assert_int_equal(get_int(&st, KDGKBMODE), m);
	}
	assert_int_equal(ioctl_int(&st, KDSKBMODE, K_OFF + 1), EINVAL);
	assert_int_equal(ioctl_int(&st, KDSKBMODE, (uint64_t)-1), EINVAL);
	assert_int_equal(get_int(&st, KDGKBMODE), K_OFF);
}

static void setmode_refuses_bad_modes_and_signals(void **state)
{
	struct vt_state st;
	uint32_t gen;

	(void)state;
	vt_state_init(&st);
	gen = st.owner_gen;
	assert_int_equal(set_mode(&st, VT_ACKACQ, SIGUSR1, SIGUSR2), EINVAL);
	assert_int_equal(set_mode(&st, 77, SIGUSR1, SIGUSR2), EINVAL);
	assert_int_equal(set_mode(&st, -1, SIGUSR1, SIGUSR2), EINVAL);
	assert_int_equal(set_mode(&st, VT_PROCESS, -1, SIGUSR2), EINVAL);
	assert_int_equal(set_mode(&st, VT_PROCESS, SIGUSR1, 65), EINVAL);
	assert_int_equal(set_mode(&st, VT_PROCESS, 32767, SIGUSR2), EINVAL);
	assert_int_equal(set_mode(&st, VT_AUTO, -32768, 0), EINVAL);
	/* Nothing of a refused call is kept. */
	assert_int_equal(st.mode.mode, VT_AUTO);
	assert_int_equal(st.owner_gen, gen);
	assert_int_equal(set_mode(&st, VT_PROCESS, 64, 0), 0);
	assert_int_equal(st.owner_gen, gen + 1);
	assert_int_equal(st.mode.frsig, 0);
}

static void activate_and_waitactive_take_only_our_vt(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	vt_activate(&st, 0);
	assert_int_equal(ioctl_int(&st, VT_ACTIVATE, 1), 0);
	assert_int_equal(ioctl_int(&st, VT_WAITACTIVE, 1), 0);
	uint64_t others[] = {0, 2, 7, VT_MAX_NR, VT_MAX_NR + 1, 1ull << 32 | 1, (uint64_t)-1};
	for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_int_equal(ioctl_int(&st, VT_ACTIVATE, others[i]), ENXIO);
		assert_int_equal(ioctl_int(&st, VT_WAITACTIVE, others[i]), ENXIO);
	}
	/* Asking to be shown from the background changes nothing: the root switches. */
	vt_deactivate(&st, 0);
	assert_int_equal(ioctl_int(&st, VT_ACTIVATE, 1), 0);
	assert_false(st.active);
	assert_int_equal(ioctl_int(&st, VT_DISALLOCATE, 1), EBUSY);
	assert_int_equal(ioctl_int(&st, VT_DISALLOCATE, 0), 0);
	assert_int_equal(ioctl_int(&st, VT_DISALLOCATE, 5), 0);
	assert_int_equal(ioctl_int(&st, VT_DISALLOCATE, 64), ENXIO);
}

static void waitactive_waits_for_the_foreground(void **state)
{
	struct vt_state st;
	struct vt_call c = call(VT_WAITACTIVE, 1);
	struct vt_work w;

	(void)state;
	vt_state_init(&st);
	c.listener = 3, c.id = 42;
	vt_ioctl(&st, &c);
	assert_true(c.deferred);
	assert_int_equal(c.error, 0);
	w = work(&st, 0);
	assert_int_equal(w.nwake, 0);
	assert_true(vt_activate(&st, 10));
	w = work(&st, 10);
	assert_int_equal(w.nwake, 1);
	assert_int_equal(w.wake[0].listener, 3);
	assert_int_equal(w.wake[0].id, 42);
	assert_false(w.send);
	assert_int_equal(st.nwaiters, 0);
}

static void waiters_are_bounded(void **state)
{
	struct vt_state st;
	struct vt_work w;

	(void)state;
	vt_state_init(&st);
	for (unsigned i = 0; i < VT_MAX_WAITERS + 5; i++) {
		struct vt_call c = call(VT_WAITACTIVE, 1);
		c.listener = 1, c.id = i;
		vt_ioctl(&st, &c);
		assert_true(c.deferred);
		assert_int_equal(c.work, i >= VT_MAX_WAITERS);
	}
	assert_int_equal(st.nwaiters, VT_MAX_WAITERS);
	/* The pushed out are answered EINTR at once, in the background too. */
	w = work(&st, 0);
	assert_int_equal(w.nwake, 0);
	assert_int_equal(w.ninterrupt, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(w.interrupt[i].id, i);
	vt_activate(&st, 0);
	w = work(&st, 0);
	assert_int_equal(w.ninterrupt, 0);
	assert_int_equal(w.nwake, VT_MAX_WAITERS);
	assert_int_equal(w.wake[0].id, 5);
	/* A flood: both lists stay bounded, the newest callers wait. */
	vt_deactivate(&st, 1);
	for (unsigned i = 0; i < 10 * VT_MAX_WAITERS; i++) {
		struct vt_call c = call(VT_WAITACTIVE, 1);
		c.id = 1000 + i;
		vt_ioctl(&st, &c);
	}
	assert_int_equal(st.nwaiters, VT_MAX_WAITERS);
	assert_int_equal(st.ninterrupted, VT_MAX_WAITERS);
	assert_int_equal(st.waiters[VT_MAX_WAITERS - 1].id, 1000 + 10 * VT_MAX_WAITERS - 1);
}

/* Xorg's and fbi's cycle: set VT_PROCESS in front, released on leaving, acquired on
 * coming back, each acknowledged. */
static void a_process_owner_is_released_and_acquired(void **state)
{
	struct vt_state st;
	struct vt_work w;
	uint32_t gen;

	(void)state;
	vt_state_init(&st);
	vt_activate(&st, 0);
	assert_int_equal(set_mode(&st, VT_PROCESS, SIGUSR1, SIGUSR2), 0);
	gen = st.owner_gen;
	assert_int_equal(ioctl_int(&st, KDSETMODE, KD_GRAPHICS), 0);

	assert_true(vt_deactivate(&st, 100 * MS));
	/* Leaving, not yet released: still shown to the VP. */
	assert_int_equal(v_active(&st), VT_OWN);
	w = work(&st, 100 * MS);
	assert_true(w.send);
	assert_int_equal(w.signal, SIGUSR1);
	assert_int_equal(w.gen, gen);
	assert_int_equal(w.next, 100 * MS + VT_RELEASE_DEADLINE_NS);
	assert_int_equal(v_active(&st), VT_OWN);
	assert_int_equal(st.releases_acked, 0);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, 1), 0);
	assert_int_equal(st.releases_acked, 1);
	assert_int_equal(v_active(&st), VT_OTHERS);
	w = work(&st, 100 * MS + VT_RELEASE_DEADLINE_NS);
	assert_false(w.send);
	assert_int_equal(w.next, 0);

	assert_true(vt_activate(&st, 200 * MS));
	w = work(&st, 200 * MS);
	assert_true(w.send);
	assert_int_equal(w.signal, SIGUSR2);
	assert_int_equal(st.acquires_acked, 0);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, VT_ACKACQ), 0);
	assert_int_equal(st.acquires_acked, 1);
	assert_int_equal(st.releases_acked, 1);
	assert_int_equal(v_active(&st), VT_OWN);
	/* Nothing more to send until the next switch. */
	w = work(&st, 300 * MS);
	assert_false(w.send);
	assert_int_equal(get_int(&st, KDGETMODE), KD_GRAPHICS);
}

/* Xorg uses one signal for both; the protocol does not care. */
static void one_signal_for_both(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	vt_activate(&st, 0);
	assert_int_equal(set_mode(&st, VT_PROCESS, SIGUSR1, SIGUSR1), 0);
	vt_deactivate(&st, 0);
	assert_int_equal(work(&st, 0).signal, SIGUSR1);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, 1), 0);
	vt_activate(&st, 0);
	assert_int_equal(work(&st, 0).signal, SIGUSR1);
}

/* An owner that never answers: the VT stops being shown at the deadline, no second
 * signal, and when its VP comes back it still holds the display: no acquire signal. */
static void an_owner_that_never_acks_does_not_hold_the_vt(void **state)
{
	struct vt_state st;
	struct vt_work w;

	(void)state;
	vt_state_init(&st);
	vt_activate(&st, 0);
	assert_int_equal(set_mode(&st, VT_PROCESS, SIGUSR1, SIGUSR2), 0);
	vt_deactivate(&st, 1000 * MS);
	w = work(&st, 1000 * MS);
	assert_int_equal(w.signal, SIGUSR1);
	w = work(&st, 1000 * MS + VT_RELEASE_DEADLINE_NS - 1);
	assert_false(w.send);
	assert_int_equal(v_active(&st), VT_OWN);
	assert_false(w.expired);
	w = work(&st, 1000 * MS + VT_RELEASE_DEADLINE_NS);
	assert_false(w.send);
	assert_true(w.expired);
	assert_int_equal(w.next, 0);
	assert_int_equal(v_active(&st), VT_OTHERS);
	assert_false(vt_activate(&st, 3000 * MS));
	assert_false(work(&st, 3000 * MS).send);
	/* A late ack, the VP in front: the owner let go, and is told to acquire. */
	assert_int_equal(ioctl_int(&st, VT_RELDISP, 1), 0);
	w = work(&st, 3001 * MS);
	assert_true(w.send);
	assert_int_equal(w.signal, SIGUSR2);
}

/* Back in front after the release signal, before the ack (fast switches): the ack is
 * still taken, as fbi counts it done whatever the answer, and the acquire signal
 * follows it, else fbi would wait for one forever and never draw again. */
static void back_before_the_ack_then_the_ack_acquires(void **state)
{
	struct vt_state st;
	struct vt_work w;

	(void)state;
	vt_state_init(&st);
	vt_activate(&st, 0);
	set_mode(&st, VT_PROCESS, SIGUSR1, SIGUSR2);
	vt_deactivate(&st, 0);
	assert_int_equal(work(&st, 0).signal, SIGUSR1);
	assert_false(vt_activate(&st, 1));
	assert_false(work(&st, 1).send);
	assert_int_equal(v_active(&st), VT_OWN);
	struct vt_call c = {.request = VT_RELDISP, .arg = 1};
	vt_ioctl(&st, &c);
	assert_int_equal(c.error, 0);
	assert_true(c.work);
	w = work(&st, 2);
	assert_true(w.send);
	assert_int_equal(w.signal, SIGUSR2);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, VT_ACKACQ), 0);
	assert_false(work(&st, 3).send);
	/* Away and back again before that ack: the same. */
	vt_deactivate(&st, 10);
	assert_int_equal(work(&st, 10).signal, SIGUSR1);
	vt_activate(&st, 11);
	/* Away again before the ack, within its deadline: not told twice. */
	assert_false(vt_deactivate(&st, 12));
	assert_false(work(&st, 12).send);
	vt_activate(&st, 13);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, 1), 0);
	assert_int_equal(work(&st, 14).signal, SIGUSR2);
}

/* A late ack in the background: the owner let go, and is acquired when shown. */
static void a_late_ack_is_taken(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	vt_activate(&st, 0);
	set_mode(&st, VT_PROCESS, SIGUSR1, SIGUSR2);
	vt_deactivate(&st, 0);
	work(&st, 0);
	work(&st, VT_RELEASE_DEADLINE_NS);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, 1), 0);
	assert_true(vt_activate(&st, 2 * VT_RELEASE_DEADLINE_NS));
	assert_int_equal(work(&st, 2 * VT_RELEASE_DEADLINE_NS).signal, SIGUSR2);
}

/* A refusal cannot keep the screen: the VT is no longer shown, the owner still holds. */
static void a_refusal_is_not_honoured(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	vt_activate(&st, 0);
	set_mode(&st, VT_PROCESS, SIGUSR1, SIGUSR2);
	vt_deactivate(&st, 0);
	work(&st, 0);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, 0), 0);
	assert_int_equal(st.releases_acked, 0); /* a refusal is no release */
	assert_int_equal(v_active(&st), VT_OTHERS);
	assert_false(vt_activate(&st, 1));
	assert_false(work(&st, 1).send);
}

/* Switched back before the release signal went out: the owner never knew. */
static void a_quick_switch_back_sends_nothing(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	vt_activate(&st, 0);
	set_mode(&st, VT_PROCESS, SIGUSR1, SIGUSR2);
	vt_deactivate(&st, 0);
	vt_activate(&st, 1);
	assert_false(work(&st, 1).send);
	/* And the same the other way round. */
	vt_deactivate(&st, 2);
	work(&st, 2);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, 1), 0);
	vt_activate(&st, 3);
	assert_false(vt_deactivate(&st, 4));
	assert_false(work(&st, 4).send);
	vt_activate(&st, 5);
	assert_int_equal(work(&st, 5).signal, SIGUSR2);
}

/* Set in the background: told when first shown, as the kernel sends acqsig on a switch
 * to a VT_PROCESS VT. */
static void an_owner_set_in_the_background_is_acquired(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	assert_int_equal(set_mode(&st, VT_PROCESS, SIGUSR1, SIGUSR2), 0);
	assert_false(st.owner_holds);
	vt_activate(&st, 0);
	assert_int_equal(work(&st, 0).signal, SIGUSR2);
}

static void reldisp_without_a_switch(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	/* Not VT_PROCESS: EINVAL whatever the argument. */
	assert_int_equal(ioctl_int(&st, VT_RELDISP, 1), EINVAL);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, VT_ACKACQ), EINVAL);
	vt_activate(&st, 0);
	set_mode(&st, VT_PROCESS, SIGUSR1, SIGUSR2);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, 1), EINVAL);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, 0), EINVAL);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, (uint64_t)-1), EINVAL);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, VT_ACKACQ), 0);
	assert_int_equal(v_active(&st), VT_OWN);
}

/* VT_SETMODE forgets a switch under way, as the kernel's does. */
static void setmode_cancels_a_pending_release(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	vt_activate(&st, 0);
	set_mode(&st, VT_PROCESS, SIGUSR1, SIGUSR2);
	vt_deactivate(&st, 0);
	work(&st, 0);
	assert_int_equal(set_mode(&st, VT_AUTO, 0, 0), 0);
	assert_int_equal(v_active(&st), VT_OTHERS);
	assert_int_equal(ioctl_int(&st, VT_RELDISP, 1), EINVAL);
	assert_false(vt_activate(&st, 1));
	assert_false(work(&st, 1).send);
}

/* The owner could not be signalled (dead): back to VT_AUTO and KD_TEXT. A report about
 * an earlier owner changes nothing. */
static void a_dead_owner_resets_the_vt(void **state)
{
	struct vt_state st;
	struct vt_work w;
	uint32_t old;

	(void)state;
	vt_state_init(&st);
	vt_activate(&st, 0);
	set_mode(&st, VT_PROCESS, SIGUSR1, SIGUSR2);
	old = st.owner_gen;
	set_mode(&st, VT_PROCESS, SIGUSR1, SIGUSR2);
	ioctl_int(&st, KDSETMODE, KD_GRAPHICS);
	vt_deactivate(&st, 0);
	w = work(&st, 0);
	vt_owner_gone(&st, old);
	assert_int_equal(st.mode.mode, VT_PROCESS);
	vt_owner_gone(&st, w.gen);
	assert_int_equal(st.mode.mode, VT_AUTO);
	assert_int_equal(get_int(&st, KDGETMODE), KD_TEXT);
	assert_int_equal(v_active(&st), VT_OTHERS);
	assert_false(vt_activate(&st, 1));
	assert_false(work(&st, 1).send);
}

static void auto_mode_sends_nothing(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	assert_int_equal(set_mode(&st, VT_AUTO, SIGUSR1, SIGUSR2), 0);
	assert_false(vt_activate(&st, 0));
	assert_false(vt_deactivate(&st, 1));
	assert_false(work(&st, 1).send);
}

/* TIOCLINUX's answer, in its return value (nothing written): -errno on an error. */
static long tioclinux(struct vt_state *st, unsigned char subcode, bool screen_off)
{
	struct vt_call c = call(TIOCLINUX, ARG);

	c.subcode = subcode;
	c.screen_off = screen_off;
	vt_ioctl(st, &c);
	assert_int_equal(c.nout, 0);
	return c.error ? -c.error : c.ret;
}

/* As the kernel's console: TIOCL_BLANKEDSCREEN is the blanked VT's number (1-based) while
 * the screen is off, 0 while on; TIOCL_GETFGCONSOLE the front VT (0-based). A VP behind
 * learns nothing of the screen; the modes are the blank's business no more than there. */
static void tioclinux_tells_the_blank_of_the_vt_in_front(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	assert_int_equal(vt_input_size(TIOCLINUX), 1);
	vt_activate(&st, 0);
	assert_int_equal(tioclinux(&st, TIOCL_BLANKEDSCREEN, false), 0);
	assert_int_equal(tioclinux(&st, TIOCL_BLANKEDSCREEN, true), VT_OWN);
	assert_int_equal(tioclinux(&st, TIOCL_GETFGCONSOLE, true), VT_OWN - 1);
	assert_int_equal(v_active(&st), VT_OWN);
	assert_int_equal(get_int(&st, KDGETMODE), KD_TEXT);
	vt_deactivate(&st, 0);
	assert_int_equal(tioclinux(&st, TIOCL_BLANKEDSCREEN, true), 0);
	assert_int_equal(tioclinux(&st, TIOCL_GETFGCONSOLE, true), VT_OTHERS - 1);
	/* The console's own business: the selection, blanking it, kernel messages. */
	assert_int_equal(tioclinux(&st, TIOCL_SETSEL, false), -EINVAL);
	assert_int_equal(tioclinux(&st, TIOCL_BLANKSCREEN, false), -EINVAL);
	assert_int_equal(tioclinux(&st, 0, false), -EINVAL);
}

static void unknown_requests_are_enotty(void **state)
{
	struct vt_state st;

	(void)state;
	vt_state_init(&st);
	assert_int_equal(ioctl_int(&st, 0x5609 /* VT_RESIZE */, ARG), ENOTTY);
	assert_false(vt_traps(0x5609));
	for (unsigned i = 0; i < vt_nrequests; i++)
		assert_true(vt_traps(vt_requests[i]));
	assert_int_equal(vt_input_size(VT_SETMODE), 8);
	assert_int_equal(vt_input_size(VT_GETMODE), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_new_vt_is_text_auto_and_unicode),
		cmocka_unit_test(getstate_follows_the_foreground),
		cmocka_unit_test(kd_modes_are_checked_and_kept),
		cmocka_unit_test(setmode_refuses_bad_modes_and_signals),
		cmocka_unit_test(activate_and_waitactive_take_only_our_vt),
		cmocka_unit_test(waitactive_waits_for_the_foreground),
		cmocka_unit_test(waiters_are_bounded),
		cmocka_unit_test(a_process_owner_is_released_and_acquired),
		cmocka_unit_test(one_signal_for_both),
		cmocka_unit_test(an_owner_that_never_acks_does_not_hold_the_vt),
		cmocka_unit_test(a_late_ack_is_taken),
		cmocka_unit_test(back_before_the_ack_then_the_ack_acquires),
		cmocka_unit_test(a_refusal_is_not_honoured),
		cmocka_unit_test(a_quick_switch_back_sends_nothing),
		cmocka_unit_test(an_owner_set_in_the_background_is_acquired),
		cmocka_unit_test(reldisp_without_a_switch),
		cmocka_unit_test(setmode_cancels_a_pending_release),
		cmocka_unit_test(a_dead_owner_resets_the_vt),
		cmocka_unit_test(auto_mode_sends_nothing),
		cmocka_unit_test(unknown_requests_are_enotty),
		cmocka_unit_test(tioclinux_tells_the_blank_of_the_vt_in_front),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
