/* cells-modemsim: a modem, its carrier and a forwarding service, for tests and the demo
 * (docs/TELEPHONY.md, cells-modemsim(1)). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/log.h"
#include "modemsim/pty.h"
#include "modemsim/sim.h"

static struct sim sim;

static void usage(FILE *f)
{
	fprintf(f, "usage: cells-modemsim --number NUM [--forward NUM=TAG]... [--access NUM]\n"
		   "       [--sms-gateway NUM] [--smsc NUM] [--link PATH] [--control PATH]\n"
		   "       [--ring-interval MS] [--echo-off] [--verbose]\n");
}

static int set_number(char *dst, const char *src, const char *what)
{
	if (strlen(src) >= NUMBER_MAX || strspn(src, "+0123456789*#") != strlen(src)) {
		log_error("%s: bad number \"%s\"", what, src);
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

static int options(int argc, char **argv, const char **link, const char **control)
{
	static const struct option opts[] = {
		{"number", required_argument, NULL, 'n'},
		{"forward", required_argument, NULL, 'f'},
		{"access", required_argument, NULL, 'a'},
		{"sms-gateway", required_argument, NULL, 'g'},
		{"smsc", required_argument, NULL, 's'},
		{"link", required_argument, NULL, 'l'},
		{"control", required_argument, NULL, 'c'},
		{"ring-interval", required_argument, NULL, 'r'},
		{"echo-off", no_argument, NULL, 'e'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	/* --forward may come before --number: checked once all are read. */
	const char *forwards[FORWARDS_MAX];
	size_t nforwards = 0;
	struct error err;
	char *end;
	long ms;
	int o;

	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
			if (set_number(sim.number, optarg, "--number") < 0)
				return -1;
			break;
		case 'f':
			if (nforwards >= FORWARDS_MAX) {
				log_error("too many --forward");
				return -1;
			}
			forwards[nforwards++] = optarg;
			break;
		case 'a':
			if (set_number(sim.access, optarg, "--access") < 0)
				return -1;
			break;
		case 'g':
			if (set_number(sim.gateway, optarg, "--sms-gateway") < 0)
				return -1;
			break;
		case 's':
			if (strlen(optarg) >= sizeof(sim.cfg.csca)) {
				log_error("--smsc too long");
				return -1;
			}
			strcpy(sim.cfg.csca, optarg);
			break;
		case 'l':
			*link = optarg;
			break;
		case 'c':
			*control = optarg;
			break;
		case 'r':
			errno = 0;
			ms = strtol(optarg, &end, 10);
			if (errno || *end || ms < 1 || ms > 600000) {
				log_error("--ring-interval: 1 to 600000 ms");
				return -1;
			}
			sim.ring_interval_ms = (int)ms;
			break;
		case 'e':
			sim.cfg.echo = false;
			break;
		case 'v':
			log_init("cells-modemsim", LOG_LEVEL_DEBUG);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc || !sim.number[0]) {
		usage(stderr);
		return -1;
	}
	if (!sim.gateway[0])
		strcpy(sim.gateway, sim.access);
	for (size_t i = 0; i < nforwards; i++) {
		char num[NUMBER_MAX];
		const char *eq = strchr(forwards[i], '=');

		if (!eq || (size_t)(eq - forwards[i]) >= sizeof(num)) {
			log_error("--forward NUM=TAG, not \"%s\"", forwards[i]);
			return -1;
		}
		snprintf(num, sizeof(num), "%.*s", (int)(eq - forwards[i]), forwards[i]);
		if (service_add_forward(&sim, num, eq + 1, &err) < 0) {
			log_error("--forward: %s", err.msg);
			return -1;
		}
	}
	return 0;
}

static void serve(int sigfd)
{
	for (;;) {
		struct pollfd p[3 + CLIENTS_MAX];
		struct client *who[3 + CLIENTS_MAX];
		size_t n = 0;
		int64_t next = calls_next_deadline(&sim), timeout = -1;

		p[n++] = (struct pollfd){.fd = sim.master, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
		if (sim.listener >= 0)
			p[n++] = (struct pollfd){.fd = sim.listener, .events = POLLIN};
		for (size_t i = 0; i < CLIENTS_MAX; i++)
			if (sim.clients[i].fd >= 0) {
				who[n] = &sim.clients[i];
				p[n++] = (struct pollfd){.fd = sim.clients[i].fd, .events = POLLIN};
			}
		if (next) {
			timeout = next - (int64_t)monotonic_ms();
			if (timeout < 0)
				timeout = 0;
		}
		if (poll(p, n, (int)timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_error_errno(errno, "poll");
			return;
		}
		if (p[1].revents)
			return;
		if (p[0].revents & POLLIN) {
			char buf[4096];
			ssize_t r = read(sim.master, buf, sizeof(buf));

			if (r > 0)
				reader_input(&sim, buf, (size_t)r);
		}
		for (size_t i = 2; i < n; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == sim.listener)
				control_accept(&sim);
			else if (who[i]->fd == p[i].fd)
				control_input(&sim, who[i]);
		}
		calls_tick(&sim);
	}
}

int main(int argc, char **argv)
{
	const char *link = NULL, *control = NULL;
	char path[256];
	struct error err;
	sigset_t mask;
	_cleanup_close_ int sigfd = -1;
	bool echo_off;

	log_init("cells-modemsim", LOG_LEVEL_INFO);
	sim.listener = -1;
	sim.ring_interval_ms = 3000;
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		sim.clients[i].fd = -1;
	strcpy(sim.cfg.csca, "+15550000");
	sim.cfg.echo = true;
	if (options(argc, argv, &link, &control) < 0)
		return 2;
	echo_off = !sim.cfg.echo;
	modem_reset(&sim);
	/* --echo-off: a modem whose stored profile has E0. */
	sim.cfg.echo = !echo_off;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sigfd < 0) {
		log_error_errno(errno, "signalfd");
		return 1;
	}
	if (pty_open(&sim.master, &sim.slave, path, sizeof(path), &err) < 0 ||
	    (link && pty_link(path, link, &err) < 0) ||
	    (control && control_listen(&sim, control, &err) < 0)) {
		log_error("%s", err.msg);
		return 1;
	}
	printf("pty %s\n", path);
	fflush(stdout);
	serve(sigfd);
	if (link)
		unlink(link);
	if (control)
		unlink(control);
	return 0;
}
