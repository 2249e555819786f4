/*
 * vtprobe: exercises a VP's virtual terminal (/dev/tty0, /dev/tty1) for test_vt.py.
 *
 * Built static by the test and copied into a VP. Every command prints key=value lines;
 * errors by name (0, EFAULT, EINVAL, ENXIO...).
 *
 *   state            VT_GETSTATE, VT_OPENQRY, VT_GETMODE, KDGETMODE, KDGKBMODE, KDGKBTYPE
 *                    on /dev/tty0, and VT_GETSTATE on /dev/tty1
 *   process ACK      VT_SETMODE VT_PROCESS (relsig SIGUSR1, acqsig SIGUSR2) and
 *                    KDSETMODE KD_GRAPHICS on /dev/tty1, "ready", then each signal as it
 *                    comes ("release"/"acquire" with the VT's v_active then), answered
 *                    with VT_RELDISP 1 / VT_ACKACQ when ACK is "ack"; forever
 *   setonly          VT_SETMODE VT_PROCESS and KD_GRAPHICS, then exit (a dead owner)
 *   waitactive       "waiting", VT_WAITACTIVE 1, then "active" and the result
 *   bad              hostile arguments: bad pointers, modes, signals, VT numbers
 *   blank            on /dev/tty0: TIOCLINUX TIOCL_BLANKEDSCREEN and TIOCL_GETFGCONSOLE
 *                    (their return values), VT_GETSTATE's v_active, KDGETMODE
 *   bench N          N VT_GETSTATE (trapped) and N TCGETS (native) on /dev/tty1: mean
 *                    microseconds of each
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kd.h>
#include <linux/tiocl.h>
#include <linux/vt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "errname.h"

static const char *try(int fd, unsigned long req, unsigned long arg)
{
	return errname(ioctl(fd, req, arg) < 0 ? errno : 0);
}

static int open_tty(const char *path)
{
	int fd = open(path, O_RDWR | O_NOCTTY);

	if (fd < 0) {
		printf("open_%s=%s\n", path, errname(errno));
		exit(1);
	}
	return fd;
}

static int active(int fd)
{
	struct vt_stat st = {0};

	if (ioctl(fd, VT_GETSTATE, &st) < 0)
		return -errno;
	return st.v_active;
}

static int state(void)
{
	int fd = open_tty("/dev/tty0"), fd1 = open_tty("/dev/tty1");
	struct vt_stat st = {.v_signal = 0x5a5a};
	struct vt_mode m;
	int v = -1;
	unsigned char type = 0;

	printf("getstate=%s\n", try(fd, VT_GETSTATE, (unsigned long)&st));
	printf("active=%d\nvstate=%#x\nvsignal=%#x\n", st.v_active, st.v_state, st.v_signal);
	printf("active1=%d\n", active(fd1));
	printf("openqry=%s\n", try(fd, VT_OPENQRY, (unsigned long)&v));
	printf("openqry_vt=%d\n", v);
	printf("getmode=%s\n", try(fd, VT_GETMODE, (unsigned long)&m));
	printf("vtmode=%d\nrelsig=%d\nacqsig=%d\n", m.mode, m.relsig, m.acqsig);
	printf("kdgetmode=%s\n", try(fd, KDGETMODE, (unsigned long)&v));
	printf("kdmode=%d\n", v);
	printf("kdgkbmode=%s\n", try(fd, KDGKBMODE, (unsigned long)&v));
	printf("kbmode=%d\n", v);
	printf("kdgkbtype=%s\n", try(fd, KDGKBTYPE, (unsigned long)&type));
	printf("kbtype=%d\n", type);
	return 0;
}

static int set_process(int fd)
{
	struct vt_mode m = {.mode = VT_PROCESS, .relsig = SIGUSR1, .acqsig = SIGUSR2};

	printf("setmode=%s\n", try(fd, VT_SETMODE, (unsigned long)&m));
	printf("kdsetmode=%s\n", try(fd, KDSETMODE, KD_GRAPHICS));
	return 0;
}

static int process(int ack)
{
	int fd = open_tty("/dev/tty1");
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	set_process(fd);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			return 1;
		if (sig == SIGUSR1) {
			printf("release active=%d\n", active(fd));
			if (ack) {
				const char *r = try(fd, VT_RELDISP, 1);
				printf("reldisp=%s active=%d\n", r, active(fd));
			}
		} else {
			printf("acquire active=%d\n", active(fd));
			if (ack)
				printf("ackacq=%s\n", try(fd, VT_RELDISP, VT_ACKACQ));
		}
		fflush(stdout);
	}
}

static int waitactive(void)
{
	int fd = open_tty("/dev/tty1");

	printf("waiting\n");
	fflush(stdout);
	printf("active=%s\n", try(fd, VT_WAITACTIVE, 1));
	return 0;
}

static int bad(void)
{
	int fd = open_tty("/dev/tty0");
	struct vt_mode m = {.mode = VT_PROCESS, .relsig = SIGUSR1, .acqsig = SIGUSR2};
	void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	printf("getstate_null=%s\n", try(fd, VT_GETSTATE, 0));
	printf("getstate_low=%s\n", try(fd, VT_GETSTATE, 0x10));
	printf("getstate_none=%s\n", try(fd, VT_GETSTATE, (unsigned long)none));
	printf("getstate_ro=%s\n", try(fd, VT_GETSTATE, (unsigned long)ro));
	printf("getstate_kernel=%s\n", try(fd, VT_GETSTATE, 0xffffffff81000000ul));
	printf("getmode_null=%s\n", try(fd, VT_GETMODE, 0));
	printf("openqry_null=%s\n", try(fd, VT_OPENQRY, 0));
	printf("kdgetmode_ro=%s\n", try(fd, KDGETMODE, (unsigned long)ro));
	printf("kdgkbtype_null=%s\n", try(fd, KDGKBTYPE, 0));
	printf("setmode_null=%s\n", try(fd, VT_SETMODE, 0));
	printf("setmode_none=%s\n", try(fd, VT_SETMODE, (unsigned long)none));
	m.mode = 2;
	printf("setmode_mode2=%s\n", try(fd, VT_SETMODE, (unsigned long)&m));
	m.mode = VT_PROCESS, m.relsig = 99;
	printf("setmode_sig99=%s\n", try(fd, VT_SETMODE, (unsigned long)&m));
	m.relsig = -5;
	printf("setmode_signeg=%s\n", try(fd, VT_SETMODE, (unsigned long)&m));
	m.relsig = SIGUSR1, m.acqsig = 65;
	printf("setmode_acq65=%s\n", try(fd, VT_SETMODE, (unsigned long)&m));
	printf("activate_2=%s\n", try(fd, VT_ACTIVATE, 2));
	printf("activate_0=%s\n", try(fd, VT_ACTIVATE, 0));
	printf("activate_big=%s\n", try(fd, VT_ACTIVATE, 1ul << 40 | 1));
	printf("activate_1=%s\n", try(fd, VT_ACTIVATE, 1));
	printf("waitactive_5=%s\n", try(fd, VT_WAITACTIVE, 5));
	printf("kdsetmode_7=%s\n", try(fd, KDSETMODE, 7));
	printf("kdskbmode_9=%s\n", try(fd, KDSKBMODE, 9));
	printf("reldisp_auto=%s\n", try(fd, VT_RELDISP, 1));
	printf("disallocate_1=%s\n", try(fd, VT_DISALLOCATE, 1));
	/* Nothing of the refused calls was kept. */
	struct vt_mode now;
	int kd = -1;
	ioctl(fd, VT_GETMODE, &now);
	ioctl(fd, KDGETMODE, &kd);
	printf("vtmode=%d\nkdmode=%d\n", now.mode, kd);
	return 0;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int bench(long n)
{
	int fd = open_tty("/dev/tty1");
	struct vt_stat st;
	struct termios t;
	double t0 = now_us();

	for (long i = 0; i < n; i++)
		if (ioctl(fd, VT_GETSTATE, &st) < 0)
			return 1;
	double t1 = now_us();
	for (long i = 0; i < n; i++)
		if (ioctl(fd, TCGETS, &t) < 0)
			return 1;
	double t2 = now_us();
	printf("getstate_us=%.2f\ntcgets_us=%.2f\n", (t1 - t0) / n, (t2 - t1) / n);
	return 0;
}

/* What a console program reads of the screen's blank. */
static int blank(void)
{
	int fd = open_tty("/dev/tty0"), mode = -1;
	char sub = TIOCL_BLANKEDSCREEN;
	int blanked = ioctl(fd, TIOCLINUX, &sub);

	printf("blanked=%d\n", blanked < 0 ? -errno : blanked);
	sub = TIOCL_GETFGCONSOLE;
	blanked = ioctl(fd, TIOCLINUX, &sub);
	printf("fgconsole=%d\n", blanked < 0 ? -errno : blanked);
	printf("active=%d\n", active(fd));
	printf("kdmode=%s\n", try(fd, KDGETMODE, (unsigned long)&mode));
	printf("kdmode_value=%d\n", mode);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "state"))
		return state();
	if (argc >= 3 && !strcmp(argv[1], "process"))
		return process(!strcmp(argv[2], "ack"));
	if (argc >= 2 && !strcmp(argv[1], "setonly"))
		return set_process(open_tty("/dev/tty1"));
	if (argc >= 2 && !strcmp(argv[1], "waitactive"))
		return waitactive();
	if (argc >= 2 && !strcmp(argv[1], "bad"))
		return bad();
	if (argc >= 2 && !strcmp(argv[1], "blank"))
		return blank();
	if (argc >= 3 && !strcmp(argv[1], "bench"))
		return bench(atol(argv[2]));
	fprintf(stderr, "usage: vtprobe state|process ack|noack|setonly|waitactive|bad\n");
	return 2;
}
