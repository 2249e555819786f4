/* The virtual terminal of one VP, as a pure state machine: what each VT and KD ioctl
 * answers, and what a foreground switch does to the VT. No system calls, no clock, no
 * locks: the device glue (vt.c) reads the caller's argument, calls in here under the
 * device lock, and then writes the answer, sends the signal and answers the waiters that
 * come out.
 *
 * A VP has one VT, number 1 (/dev/tty1; /dev/tty0 is the current VT, the same one). It is
 * active while the VP is the foreground. Unlike the kernel's, a switch never waits for a
 * VT_PROCESS owner: the screen moves at once, the owner is sent its release signal, and
 * the VT counts as still shown until the owner acknowledges (VT_RELDISP) or a deadline
 * passes. */
#ifndef CELLS_VT_STATE_H
#define CELLS_VT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The VP's own VT, the one VT_OPENQRY offers. What VT_GETSTATE calls the active VT while
 * another VP is in front: a VT of the root's, which no VP can open. */
#define VT_OWN	  1
#define VT_OTHERS 2
/* The kernel's MAX_NR_CONSOLES: VT numbers past it are ENXIO there. */
#define VT_MAX_NR 63
/* The highest signal number, the kernel's _NSIG on every architecture Cells runs on. */
#define VT_SIG_MAX 64
/* Callers blocked in VT_WAITACTIVE. A signal replays such a call (a new notification;
 * the old one's answer goes nowhere), so when the list is full its oldest is answered
 * EINTR to make room (a real one retries), and the list stays bounded. */
#define VT_MAX_WAITERS 16
/* How long the VT stays shown, for the VP, after its VP left the foreground while a
 * VT_PROCESS owner has not acknowledged the release. */
#define VT_RELEASE_DEADLINE_NS (500LL * 1000 * 1000)

enum vt_release {
	VT_REL_NONE,
	VT_REL_QUEUED, /* the owner's release signal is to be sent */
	VT_REL_SENT,   /* sent; the VT is shown until the ack or the deadline */
	VT_REL_LATE,   /* the deadline passed (or the owner refused): no longer shown, an ack
			* is still taken */
};

/* struct vt_mode of <linux/vt.h>: the same 8 bytes in both ABIs. */
struct vt_mode_arg {
	char mode, waitv;
	short relsig, acqsig, frsig;
};

struct vt_waiter {
	uint64_t listener, id;
};

struct vt_state {
	bool active; /* the VP is the foreground */
	int kd_mode; /* KD_TEXT or KD_GRAPHICS */
	int kb_mode; /* K_RAW .. K_OFF */
	struct vt_mode_arg mode;
	/* Changes with every VT_SETMODE: the glue's reference to the owner (a pidfd) is of
	 * this generation, and a report that the owner is gone names the one it tried. */
	uint32_t owner_gen;
	/* What the VT_PROCESS owner was told last: that it holds the display. */
	bool owner_holds;
	enum vt_release release;
	bool acquire_queued; /* the owner's acquire signal is to be sent */
	long long deadline;  /* of a release sent, in the glue's clock (ns) */
	struct vt_waiter waiters[VT_MAX_WAITERS];
	unsigned nwaiters;
	struct vt_waiter interrupted[VT_MAX_WAITERS]; /* pushed out, to answer EINTR */
	unsigned ninterrupted;
	/* What VT_PROCESS owners acknowledged (VT_RELDISP 1, VT_RELDISP VT_ACKACQ): how
	 * one can tell, from outside, that a program heard of its switches. */
	unsigned long releases_acked, acquires_acked;
};

void vt_state_init(struct vt_state *st);
/* The VT as the VP sees it: active, or leaving but not yet released. */
bool vt_shown(const struct vt_state *st);

/* The foreground switch: O(1), no signal sent here; the glue runs vt_take_work soon
 * after, outside the switch, when these return true. */
bool vt_activate(struct vt_state *st, long long now);
bool vt_deactivate(struct vt_state *st, long long now);

/* One call, decoded: the request, its argument, and (for VT_SETMODE) the vt_mode read at
 * the argument. */
struct vt_call {
	uint32_t request;
	uint64_t arg;
	struct vt_mode_arg in;
	unsigned char subcode; /* TIOCLINUX's, the byte at the argument */
	/* The machine's screen is off (the glue's, from DEVNS_SCREEN_OFF): what TIOCLINUX
	 * TIOCL_BLANKEDSCREEN answers while the VT is shown. */
	bool screen_off;
	uint64_t listener, id; /* to answer it later (VT_WAITACTIVE) */
	/* The answer: an errno or 0, the return value, and what to write where, in order
	 * (the kernel writes VT_GETSTATE's two fields one by one, v_signal untouched). */
	int error;
	long ret;
	struct {
		uint64_t addr;
		size_t len;
		unsigned char bytes[8];
	} out[2];
	unsigned nout;
	bool deferred;	/* answered when the VT is shown (a waiter) */
	bool work;	/* vt_take_work has something to do now */
	bool owner_set; /* VT_SETMODE took: the caller is now the owner (owner_gen) */
};

/* What the caller's argument must give before vt_ioctl: bytes to read at ARG (0: none),
 * into IN, or into SUBCODE for TIOCLINUX. */
size_t vt_input_size(uint32_t request);
/* Whether REQUEST is one of the VT's: the trap list is made of these. */
bool vt_traps(uint32_t request);
extern const uint32_t vt_requests[];
extern const unsigned vt_nrequests;

void vt_ioctl(struct vt_state *st, struct vt_call *call);

/* What the glue does after a switch or at a deadline, out of the lock. */
struct vt_work {
	bool send; /* SIGNAL to the owner of generation GEN (0 only asks if it lives) */
	int signal;
	uint32_t gen;
	struct vt_waiter wake[VT_MAX_WAITERS]; /* answer 0 */
	unsigned nwake;
	struct vt_waiter interrupt[VT_MAX_WAITERS]; /* answer EINTR */
	unsigned ninterrupt;
	bool expired;	/* the owner let the deadline pass just now */
	long long next; /* when to run again (0: no deadline) */
};
void vt_take_work(struct vt_state *st, long long now, struct vt_work *work);

/* The owner of generation GEN could not be signalled: it is gone. As the kernel does
 * when its VT_PROCESS owner died, the VT goes back to VT_AUTO and KD_TEXT. */
void vt_owner_gone(struct vt_state *st, uint32_t gen);

#endif
