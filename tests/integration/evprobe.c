/* evprobe: drives a VP's /dev/input/eventN through the evdev API and prints what it
 * sees as key=value lines (or one event per line), for tests/integration/test_input.py.
 * Built static, for x86-64 and i386 (whose struct input_event is 16 bytes).
 *
 *   evprobe info PATH              identity, capabilities (every bit set: "bits_TYPE
 *                                  CODE..."), axes, state
 *   evprobe read PATH MS [N]       events ("type code value", "time S.US" first) until MS
 *                                  pass with none, or N events came; blocking reads
 *                                  after poll(), SYN_REPORT lines included
 *   evprobe epoll PATH MS          epoll_wait for the file: "ready 1" or "ready 0"
 *   evprobe nonblock PATH          a read with nothing queued, and one too small
 *   evprobe grab PATH MS           grab with one open file, check a second; count events
 *                                  on both for MS; release
 *   evprobe opens PATH N           open until N or an error
 *   evprobe write PATH             writes: an LED, a key, a short buffer
 *   evprobe badioctl PATH          hostile ioctl arguments
 *   evprobe clock PATH MS          CLOCK_MONOTONIC timestamps: age of the first event
 *   evprobe hold PATH SECONDS      open and never read; then count what is queued
 *   evprobe killme PATH            block in read() (for a test to kill)
 *   evprobe revoke PATH            EVIOCREVOKE one of two open files while a thread of
 *                                  this one reads it blocked: what each call on it gets
 *                                  then; the other file grabs and reads on
 *   evprobe mtslots PATH           EVIOCGMTSLOTS: every slot's X and tracking id, a short
 *                                  buffer, a code that is not a slot axis, bad pointers
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define BITS(n) (((n) + 7) / 8)

static int test_bit(const unsigned char *bits, unsigned n)
{
	return (bits[n / 8] >> (n % 8)) & 1;
}

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0) {
		printf("open_errno %d\n", errno);
		exit(1);
	}
	return fd;
}

static void print_abs(int fd, const char *name, unsigned code)
{
	struct input_absinfo a;

	if (ioctl(fd, EVIOCGABS(code), &a) < 0)
		printf("abs_%s error %d\n", name, errno);
	else
		printf("abs_%s %d %d %d %d %d %d\n", name, a.minimum, a.maximum, a.value, a.fuzz,
		       a.flat, a.resolution);
}

/* The codes set in the bitmap of TYPE (0: the event types), as EVIOCGBIT answers. */
static void print_bits(int fd, const char *name, unsigned type)
{
	unsigned char bits[BITS(KEY_CNT)] = {0};
	int n = ioctl(fd, EVIOCGBIT(type, sizeof(bits)), bits);

	printf("bits_%s", name);
	for (int i = 0; i < n * 8; i++)
		if (test_bit(bits, (unsigned)i))
			printf(" %d", i);
	printf("%s\n", n < 0 ? " error" : "");
}

static int info(const char *path)
{
	int fd = open_or_die(path, O_RDONLY);
	unsigned char ev[16] = {0}, keys[BITS(KEY_CNT)] = {0}, props[BITS(INPUT_PROP_CNT)] = {0};
	unsigned char absb[BITS(ABS_CNT)] = {0}, sw[BITS(SW_CNT)] = {0}, led[BITS(LED_CNT)] = {0};
	char name[256] = "", phys[256] = "", small[4] = "";
	struct input_id id;
	int version, n, nkeys = 0;

	printf("version %s\n",
	       ioctl(fd, EVIOCGVERSION, &version) == 0 && version == EV_VERSION ? "ok" : "bad");
	if (ioctl(fd, EVIOCGID, &id) == 0)
		printf("id %04x %04x %04x %04x\n", id.bustype, id.vendor, id.product, id.version);
	n = ioctl(fd, EVIOCGNAME(sizeof(name)), name);
	printf("name %s\nname_len %d\n", name, n);
	n = ioctl(fd, EVIOCGNAME(sizeof(small)), small);
	printf("name_short_len %d\n", n);
	if (ioctl(fd, EVIOCGPHYS(sizeof(phys)), phys) >= 0)
		printf("phys %s\n", phys);
	n = ioctl(fd, EVIOCGUNIQ(sizeof(phys)), phys);
	printf("uniq_errno %d\n", n < 0 ? errno : 0);
	n = ioctl(fd, EVIOCGPROP(sizeof(props)), props);
	printf("prop_direct %d\n", n > 0 && test_bit(props, INPUT_PROP_DIRECT));
	printf("bits_prop");
	for (int i = 0; i < n * 8; i++)
		if (test_bit(props, (unsigned)i))
			printf(" %d", i);
	printf("\n");
	static const struct {
		const char *name;
		unsigned type;
	} types[] = {{"ev", 0},	      {"key", EV_KEY}, {"rel", EV_REL},
		     {"abs", EV_ABS}, {"msc", EV_MSC}, {"sw", EV_SW},
		     {"led", EV_LED}, {"snd", EV_SND}, {"ff", EV_FF}};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		print_bits(fd, types[i].name, types[i].type);
	n = ioctl(fd, EVIOCGBIT(0, sizeof(ev)), ev);
	printf("evbit_len %d\n", n);
	printf("ev_key %d\nev_abs %d\nev_sw %d\nev_led %d\nev_rep %d\n", test_bit(ev, EV_KEY),
	       test_bit(ev, EV_ABS), test_bit(ev, EV_SW), test_bit(ev, EV_LED),
	       test_bit(ev, EV_REP));
	n = ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(keys)), keys);
	printf("keybit_len %d\n", n);
	for (unsigned k = 0; k < KEY_CNT; k++)
		nkeys += test_bit(keys, k);
	printf("keys %d\n", nkeys);
	static const struct {
		const char *name;
		unsigned code;
	} named[] = {{"power", KEY_POWER},
		     {"volumeup", KEY_VOLUMEUP},
		     {"volumedown", KEY_VOLUMEDOWN},
		     {"homepage", KEY_HOMEPAGE},
		     {"back", KEY_BACK},
		     {"a", KEY_A},
		     {"z", KEY_Z},
		     {"1", KEY_1},
		     {"backspace", KEY_BACKSPACE},
		     {"enter", KEY_ENTER},
		     {"btn_touch", BTN_TOUCH}};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		printf("key_%s %d\n", named[i].name, test_bit(keys, named[i].code));
	if (ioctl(fd, EVIOCGBIT(EV_ABS, sizeof(absb)), absb) >= 0)
		printf("abs_mt_slot_bit %d\n", test_bit(absb, ABS_MT_SLOT));
	if (test_bit(ev, EV_ABS)) {
		print_abs(fd, "x", ABS_X);
		print_abs(fd, "y", ABS_Y);
		print_abs(fd, "mt_slot", ABS_MT_SLOT);
		print_abs(fd, "mt_x", ABS_MT_POSITION_X);
		print_abs(fd, "mt_y", ABS_MT_POSITION_Y);
		print_abs(fd, "mt_id", ABS_MT_TRACKING_ID);
	}
	n = ioctl(fd, EVIOCGKEY(sizeof(keys)), keys);
	printf("keystate_len %d\n", n);
	nkeys = 0;
	for (unsigned k = 0; k < KEY_CNT; k++)
		nkeys += test_bit(keys, k);
	printf("keys_down %d\n", nkeys);
	n = ioctl(fd, EVIOCGSW(sizeof(sw)), sw);
	printf("sw_len %d\nsw_lid %d\n", n, n > 0 && test_bit(sw, SW_LID));
	n = ioctl(fd, EVIOCGLED(sizeof(led)), led);
	printf("led_len %d\nled_capsl %d\n", n, n > 0 && test_bit(led, LED_CAPSL));
	return 0;
}

/* One event: a 32-bit build has the 16-byte layout by itself. */
static void print_event(const struct input_event *e)
{
	printf("%u %u %d\n", e->type, e->code, e->value);
}

static int read_events(const char *path, int ms, int max)
{
	int fd = open_or_die(path, O_RDONLY);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct input_event evs[64];
	int total = 0, first = 1;

	printf("ready\n");
	fflush(stdout);
	while ((max <= 0 || total < max) && poll(&p, 1, ms) == 1) {
		ssize_t n = read(fd, evs, sizeof(evs));
		if (n < 0) {
			printf("read_errno %d\n", errno);
			return 1;
		}
		if (n % (ssize_t)sizeof(evs[0])) {
			printf("partial %zd\n", n);
			return 1;
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(evs[0]); i++, total++) {
			if (first) {
				printf("time %ld.%06ld\n", (long)evs[i].input_event_sec,
				       (long)evs[i].input_event_usec);
				first = 0;
			}
			print_event(&evs[i]);
		}
		fflush(stdout);
	}
	printf("end %d\n", total);
	return 0;
}

static int epoll_ready(const char *path, int ms)
{
	int fd = open_or_die(path, O_RDONLY), ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN}, out;

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		printf("epoll_ctl_errno %d\n", errno);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	printf("ready %d\n", epoll_wait(ep, &out, 1, ms));
	return 0;
}

/* A call's result and its errno (0 if it did not fail): "KEY R ERRNO". */
static void say(const char *key, long r)
{
	printf("%s %ld %d\n", key, r, r < 0 ? errno : 0);
}

static int nonblock(const char *path)
{
	int fd = open_or_die(path, O_RDONLY | O_NONBLOCK);
	char buf[sizeof(struct input_event) * 4];

	say("empty", read(fd, buf, sizeof(buf)));
	say("short", read(fd, buf, 10));
	say("seek", lseek(fd, 0, SEEK_SET));
	return 0;
}

static int count_for(int fd, int ms)
{
	struct input_event evs[64];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int total = 0;

	while (poll(&p, 1, ms) == 1) {
		ssize_t n = read(fd, evs, sizeof(evs));
		if (n <= 0)
			break;
		total += (int)(n / (ssize_t)sizeof(evs[0]));
	}
	return total;
}

static int grab(const char *path, int ms)
{
	int a = open_or_die(path, O_RDONLY), b = open_or_die(path, O_RDONLY | O_NONBLOCK);

	say("grab_a", ioctl(a, EVIOCGRAB, (void *)1));
	say("grab_b", ioctl(b, EVIOCGRAB, (void *)1));
	say("ungrab_b", ioctl(b, EVIOCGRAB, (void *)0));
	printf("ready\n");
	fflush(stdout);
	printf("events_a %d\n", count_for(a, ms));
	printf("events_b %d\n", count_for(b, 0));
	say("ungrab_a", ioctl(a, EVIOCGRAB, (void *)0));
	return 0;
}

static void *blocked_read(void *arg)
{
	struct input_event ev;
	ssize_t n = read(*(int *)arg, &ev, sizeof(ev));

	*(int *)arg = n < 0 ? errno : 0;
	return NULL;
}

static int revoke_file(const char *path)
{
	int a = open_or_die(path, O_RDWR), b = open_or_die(path, O_RDONLY), waiter = a;
	struct input_event led[2] = {{.type = EV_LED, .code = LED_NUML, .value = 1},
				     {.type = EV_SYN, .code = SYN_REPORT}};
	struct pollfd p = {.fd = a, .events = POLLIN};
	char name[64];
	pthread_t t;

	say("grab_a", ioctl(a, EVIOCGRAB, (void *)1));
	say("revoke_nonzero", ioctl(a, EVIOCREVOKE, (void *)1));
	pthread_create(&t, NULL, blocked_read, &waiter);
	usleep(200 * 1000); /* the thread is in read() */
	say("revoke_a", ioctl(a, EVIOCREVOKE, NULL));
	pthread_join(t, NULL);
	printf("blocked_read_errno %d\n", waiter);
	say("read_a", read(a, name, sizeof(struct input_event)));
	say("write_a", write(a, led, sizeof(led)));
	say("name_a", ioctl(a, EVIOCGNAME(sizeof(name)), name));
	say("grab_a_again", ioctl(a, EVIOCGRAB, (void *)1));
	say("revoke_a_again", ioctl(a, EVIOCREVOKE, NULL));
	say("poll_a", poll(&p, 1, 0));
	printf("poll_a_revents %#x\n", p.revents);
	/* The other open file: the grab went with the revoke. */
	say("name_b", ioctl(b, EVIOCGNAME(sizeof(name)), name) > 0 ? 0 : -1);
	say("grab_b", ioctl(b, EVIOCGRAB, (void *)1));
	say("ungrab_b", ioctl(b, EVIOCGRAB, (void *)0));
	return 0;
}

static int opens(const char *path, int max)
{
	int n = 0;

	while (n < max && open(path, O_RDONLY | O_CLOEXEC) >= 0)
		n++;
	printf("opened %d\nerrno %d\n", n, n < max ? errno : 0);
	return 0;
}

static int writes(const char *path)
{
	int fd = open_or_die(path, O_RDWR);
	struct input_event ev[2] = {{.type = EV_LED, .code = LED_CAPSL, .value = 1},
				    {.type = EV_SYN, .code = SYN_REPORT}};
	struct input_event key[6] = {{.type = EV_KEY, .code = KEY_LEFTCTRL, .value = 1},
				     {.type = EV_KEY, .code = KEY_LEFTALT, .value = 1},
				     {.type = EV_KEY, .code = KEY_RIGHT, .value = 1},
				     {.type = EV_SYN, .code = SYN_REPORT},
				     {.type = EV_KEY, .code = KEY_RIGHT, .value = 0},
				     {.type = EV_SYN, .code = SYN_REPORT}};
	unsigned char led[BITS(LED_CNT)] = {0};

	say("led_write", write(fd, ev, sizeof(ev)));
	ioctl(fd, EVIOCGLED(sizeof(led)), led);
	printf("led_capsl %d\n", test_bit(led, LED_CAPSL));
	say("key_write", write(fd, key, sizeof(key)));
	say("short_write", write(fd, ev, 10));
	return 0;
}

static void try_ioctl(const char *what, int fd, unsigned long req, void *arg)
{
	say(what, ioctl(fd, req, arg));
}

static int badioctl(const char *path)
{
	int fd = open_or_die(path, O_RDONLY);
	void *bad = (void *)16,
	     *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int clock = 12345;

	try_ioctl("name_bad", fd, EVIOCGNAME(64), bad);
	try_ioctl("name_readonly", fd, EVIOCGNAME(64), ro);
	try_ioctl("abs_bad", fd, EVIOCGABS(ABS_X), bad);
	try_ioctl("bit_bad", fd, EVIOCGBIT(EV_KEY, KEY_CNT / 8), bad);
	try_ioctl("clock_bad_pointer", fd, EVIOCSCLOCKID, bad);
	try_ioctl("clock_bad_value", fd, EVIOCSCLOCKID, &clock);
	try_ioctl("unknown_e", fd, _IOC(_IOC_READ, 'E', 0x0c, 8), &clock);
	try_ioctl("foreign", fd, 0x5401 /* TCGETS */, &clock);
	try_ioctl("grab_bad_pointer_value", fd, EVIOCGRAB, bad);
	try_ioctl("ungrab", fd, EVIOCGRAB, (void *)0);
	try_ioctl("ungrab_unheld", fd, EVIOCGRAB, (void *)0);
	printf("alive 1\n");
	return 0;
}

static int clock_age(const char *path, int ms)
{
	int fd = open_or_die(path, O_RDONLY), id = CLOCK_MONOTONIC;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct input_event ev;
	struct timespec now;

	if (ioctl(fd, EVIOCSCLOCKID, &id) < 0) {
		printf("clock_errno %d\n", errno);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	if (poll(&p, 1, ms) != 1 || read(fd, &ev, sizeof(ev)) != sizeof(ev)) {
		printf("no_event\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	printf("age_ms %.3f\n", (double)(now.tv_sec - ev.input_event_sec) * 1e3 +
					(double)(now.tv_nsec / 1000 - ev.input_event_usec) / 1e3);
	return 0;
}

static int hold(const char *path, int seconds)
{
	int fd = open_or_die(path, O_RDONLY | O_NONBLOCK);
	struct input_event evs[1024];
	ssize_t n;

	printf("ready\n");
	fflush(stdout);
	sleep((unsigned)seconds);
	n = read(fd, evs, sizeof(evs));
	if (n < 0) {
		printf("read_errno %d\n", errno);
		return 1;
	}
	printf("queued %zd\n", n / (ssize_t)sizeof(evs[0]));
	for (ssize_t i = 0; i < n / (ssize_t)sizeof(evs[0]) && i < 4; i++)
		print_event(&evs[i]);
	return 0;
}

static int killme(const char *path)
{
	int fd = open_or_die(path, O_RDONLY);
	struct input_event ev;

	printf("ready\n");
	fflush(stdout);
	for (;;)
		if (read(fd, &ev, sizeof(ev)) < 0 && errno != EINTR)
			return 1;
}

static int mtslots(const char *path)
{
	int fd = open_or_die(path, O_RDONLY);
	struct {
		uint32_t code;
		int32_t values[12];
	} req;
	int r;

	for (int pass = 0; pass < 2; pass++) {
		memset(&req, 0x55, sizeof(req));
		req.code = pass ? ABS_MT_TRACKING_ID : ABS_MT_POSITION_X;
		r = ioctl(fd, EVIOCGMTSLOTS(sizeof(req)), &req);
		printf("%s %d", pass ? "ids" : "xs", r < 0 ? -errno : r);
		for (int i = 0; i < 11; i++)
			printf(" %d", req.values[i]);
		printf("\n");
	}
	memset(&req, 0x55, sizeof(req));
	req.code = ABS_MT_POSITION_X;
	r = ioctl(fd, EVIOCGMTSLOTS(4 + 2 * 4), &req); /* room for 2 slots */
	printf("short %d %d %d %d\n", r < 0 ? -errno : r, req.values[0], req.values[1],
	       req.values[2]);
	req.code = ABS_MT_SLOT;
	r = ioctl(fd, EVIOCGMTSLOTS(sizeof(req)), &req);
	printf("not_mt %d\n", r < 0 ? -errno : r);
	r = ioctl(fd, EVIOCGMTSLOTS(sizeof(req)), (void *)16);
	printf("bad_pointer %d\n", r < 0 ? -errno : r);
	r = ioctl(fd, EVIOCGMTSLOTS(2), &req);
	printf("tiny %d\n", r < 0 ? -errno : r);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "info"))
		return info(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "read"))
		return read_events(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 0);
	if (argc >= 4 && !strcmp(argv[1], "epoll"))
		return epoll_ready(argv[2], atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "nonblock"))
		return nonblock(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "grab"))
		return grab(argv[2], atoi(argv[3]));
	if (argc >= 4 && !strcmp(argv[1], "opens"))
		return opens(argv[2], atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "write"))
		return writes(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "badioctl"))
		return badioctl(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "clock"))
		return clock_age(argv[2], atoi(argv[3]));
	if (argc >= 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "mtslots"))
		return mtslots(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "killme"))
		return killme(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "revoke"))
		return revoke_file(argv[2]);
	fprintf(stderr, "usage: see the header of evprobe.c\n");
	return 2;
}
