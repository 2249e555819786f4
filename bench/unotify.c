/*
 * unotify: a seccomp user-notification supervisor reduced to its wake-ups, to tell how
 * much of a trapped ioctl's round trip is the kernel's hand-off and which way of waiting
 * keeps SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP's effect. Used by bench/display.py.
 *
 *   unotify --wait recv|epoll [--sync 0|1] [--handler none|cellsd] [--samples 200]
 *           [--batch 100] [--sup-cpu N] [--caller-cpu N] [--work-us N]
 *   (handler: none, cellsd, or a list of alive,kcmp,idvalid,maps,mem,pvw)
 *
 * A child process (the caller, as a VP's process) loads a filter that sends
 * ioctl(_, FBIOGET_VSCREENINFO, _) to a listener (with WAIT_KILLABLE_RECV, as cellsd's
 * VPs do) and passes the listener to the parent (the supervisor) over a socketpair. The
 * caller then times --samples batches of --batch trapped calls on /dev/null, and as many
 * batches of an untrapped TCGETS, interleaved, with clock_gettime.
 *
 * The supervisor waits for each notification either blocked in SECCOMP_IOCTL_NOTIF_RECV
 * (--wait recv) or in epoll_wait on the listener, then RECV (--wait epoll: what cellsd's
 * event loop does); --sync 1 sets SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP on the listener.
 * --handler says what the supervisor does between RECV and SEND: "none" (answer 0 straight
 * away), or a comma-separated list of the steps cellsd takes for a caller it has seen:
 * "alive" (is the cached caller's task still alive: poll on its pidfd), "kcmp" (is the
 * fd still the device file: kcmp KCMP_FILE against a pidfd_getfd copy), "idvalid"
 * (SECCOMP_IOCTL_NOTIF_ID_VALID), "maps" (is the answer's range writable to the caller:
 * PROCMAP_QUERY on /proc/PID/maps), "mem" (a 160-byte pwrite of the answer, a struct
 * fb_var_screeninfo, into /proc/PID/mem); "cellsd" is all five. "pvw" writes the answer
 * with process_vm_writev instead of /proc/PID/mem, for comparison. --sup-cpu and
 * --caller-cpu pin either side (sched_setaffinity).
 *
 * --work-us N makes the caller busy, as a program that draws between two pans: it spins
 * N µs before each call, and each call is then timed on its own (the sum over a batch).
 *
 * Prints one JSON object: per-call means of every batch (ns), for "trapped" and "native".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/fb.h>
#include <linux/filter.h>
#include <linux/kcmp.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Linux 6.11's <linux/fs.h>, which older headers lack. */
struct procmap_query {
	uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size,
		vma_offset, inode;
	uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
	uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define DONE_ARG 0xd0e /* the caller's last trapped call carries this fd: the end */

static unsigned samples = 200, batch = 100;
static uint64_t work_ns; /* --work-us: the caller spins this long before each call */
static double *results;	 /* shared with the child: trapped[samples], native[samples] */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "unotify: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity");
}

static void send_fd(int sock, int fd)
{
	char data = 'L', ctl[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {&data, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl,
			     .msg_controllen = sizeof(ctl)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &msg, 0) != 1)
		die("sendmsg");
}

static int recv_fd(int sock)
{
	char data, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&data, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl,
			     .msg_controllen = sizeof(ctl)};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1 || !(cm = CMSG_FIRSTHDR(&msg)))
		die("recvmsg");
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static void caller(int sock, int cpu)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FBIOGET_VSCREENINFO, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};
	struct fb_var_screeninfo var;
	struct termios t;
	int null_fd, listener;

	pin(cpu);
	if ((null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		die("/dev/null");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("no_new_privs");
	listener = (int)syscall(
		SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
	if (listener < 0)
		die("seccomp");
	send_fd(sock, listener);
	close(listener);
	/* the supervisor is ready once it answers this one */
	if (ioctl(null_fd, FBIOGET_VSCREENINFO, &var) != 0)
		die("first trapped call");
	for (unsigned i = 0; i < 2 * batch; i++) {
		ioctl(null_fd, FBIOGET_VSCREENINFO, &var);
		ioctl(null_fd, TCGETS, &t);
	}
	for (unsigned s = 0; s < samples; s++) {
		for (unsigned j = 0; j < 2; j++) {
			int trapped = (s + j) & 1;
			uint64_t t0 = now_ns(), spent = 0;
			if (work_ns) {
				/* a busy caller: work, untimed, before each call, timed alone */
				for (unsigned i = 0; i < batch; i++) {
					uint64_t w = now_ns(), c;
					while ((c = now_ns()) - w < work_ns)
						;
					if (trapped)
						ioctl(null_fd, FBIOGET_VSCREENINFO, &var);
					else
						ioctl(null_fd, TCGETS, &t);
					spent += now_ns() - c;
				}
			} else if (trapped) {
				for (unsigned i = 0; i < batch; i++)
					ioctl(null_fd, FBIOGET_VSCREENINFO, &var);
			} else {
				for (unsigned i = 0; i < batch; i++)
					ioctl(null_fd, TCGETS, &t);
			}
			if (!work_ns)
				spent = now_ns() - t0;
			results[(trapped ? 0 : samples) + s] = (double)spent / batch;
		}
	}
	ioctl(DONE_ARG, FBIOGET_VSCREENINFO, &var);
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *wait_mode = "recv", *handler = "none";
	int sync = 1, sup_cpu = -1, caller_cpu = -1, sv[2], listener, ep = -1, status;
	int mem_fd = -1, maps_fd = -1, file_ref = -1, pidfd = -1;
	struct seccomp_notif_sizes sizes;
	pid_t child;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--wait") && i + 1 < argc)
			wait_mode = argv[++i];
		else if (!strcmp(argv[i], "--sync") && i + 1 < argc)
			sync = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--handler") && i + 1 < argc)
			handler = argv[++i];
		else if (!strcmp(argv[i], "--samples") && i + 1 < argc)
			samples = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
			batch = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--work-us") && i + 1 < argc)
			work_ns = (uint64_t)atoi(argv[++i]) * 1000u;
		else if (!strcmp(argv[i], "--sup-cpu") && i + 1 < argc)
			sup_cpu = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--caller-cpu") && i + 1 < argc)
			caller_cpu = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: unotify --wait recv|epoll [--sync 0|1] "
					"[--handler none|cellsd] [--samples N] [--batch N] "
					"[--sup-cpu N] [--caller-cpu N] [--work-us N]\n");
			return 2;
		}
	}
	int use_epoll = !strcmp(wait_mode, "epoll");
	int do_alive = 0, do_kcmp = 0, do_idvalid = 0, do_maps = 0, do_mem = 0, do_pvw = 0;
	int bad = 0;
	{
		char *list = strdup(handler), *save, *tok;
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (!strcmp(tok, "cellsd"))
				do_alive = do_kcmp = do_idvalid = do_maps = do_mem = 1;
			else if (!strcmp(tok, "alive"))
				do_alive = 1;
			else if (!strcmp(tok, "kcmp"))
				do_kcmp = 1;
			else if (!strcmp(tok, "idvalid"))
				do_idvalid = 1;
			else if (!strcmp(tok, "maps"))
				do_maps = 1;
			else if (!strcmp(tok, "mem"))
				do_mem = 1;
			else if (!strcmp(tok, "pvw"))
				do_pvw = 1;
			else if (strcmp(tok, "none"))
				bad = 1;
		}
		free(list);
	}
	int emulate = do_alive || do_kcmp || do_idvalid || do_maps || do_mem || do_pvw;
	if (!samples || !batch || (!use_epoll && strcmp(wait_mode, "recv")) || bad) {
		fprintf(stderr, "unotify: bad arguments\n");
		return 2;
	}
	results = mmap(NULL, 2 * samples * sizeof(double), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (results == MAP_FAILED)
		die("mmap");
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		die("SECCOMP_GET_NOTIF_SIZES");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair");
	if ((child = fork()) < 0)
		die("fork");
	if (child == 0) {
		close(sv[0]);
		caller(sv[1], caller_cpu);
	}
	close(sv[1]);
	pin(sup_cpu);
	listener = recv_fd(sv[0]);
	if (sync && ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
			  (uint64_t)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
		die("SECCOMP_IOCTL_NOTIF_SET_FLAGS");
	if (use_epoll) {
		struct epoll_event ev = {.events = EPOLLIN};
		if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) < 0)
			die("epoll");
	}
	if (do_alive && (pidfd = (int)syscall(SYS_pidfd_open, child, 0)) < 0)
		die("pidfd_open");
	if (do_mem) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)child);
		if ((mem_fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
			die(path);
	}
	if (do_maps) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)child);
		if ((maps_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			die(path);
	}
	size_t req_size = sizes.seccomp_notif > sizeof(struct seccomp_notif)
				  ? sizes.seccomp_notif
				  : sizeof(struct seccomp_notif);
	size_t resp_size = sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp)
				   ? sizes.seccomp_notif_resp
				   : sizeof(struct seccomp_notif_resp);
	struct seccomp_notif *req = calloc(1, req_size);
	struct seccomp_notif_resp *resp = calloc(1, resp_size);
	struct fb_var_screeninfo answer = {.xres = 720, .yres = 1280};
	unsigned long handled = 0;
	for (;;) {
		if (use_epoll) {
			struct epoll_event ev;
			int n = epoll_wait(ep, &ev, 1, -1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n != 1)
				die("epoll_wait");
			if (!(ev.events & EPOLLIN))
				break; /* hang-up: the caller is gone */
		}
		memset(req, 0, req_size);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			die("SECCOMP_IOCTL_NOTIF_RECV");
		}
		memset(resp, 0, resp_size);
		resp->id = req->id;
		if (emulate && req->data.args[0] != DONE_ARG) {
			int fd = (int)req->data.args[0];
			/* what cellsd does for a caller it has seen: is it the task it was, and
			 * is the fd still the file? */
			struct pollfd alive = {.fd = pidfd, .events = POLLIN};
			if (do_alive && poll(&alive, 1, 0) != 0)
				die("the caller's pidfd polls readable");
			if (do_kcmp && file_ref < 0)
				file_ref = (int)syscall(SYS_pidfd_getfd,
							(int)syscall(SYS_pidfd_open, req->pid, 0),
							fd, 0);
			if (do_kcmp &&
			    syscall(SYS_kcmp, getpid(), req->pid, KCMP_FILE, file_ref, fd) != 0)
				die("kcmp");
			if (do_idvalid &&
			    ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
				die("SECCOMP_IOCTL_NOTIF_ID_VALID");
			if (do_maps) {
				struct procmap_query q = {.size = sizeof(q),
							  .query_addr = req->data.args[2]};
				if (ioctl(maps_fd, PROCMAP_QUERY, &q) < 0 || !(q.vma_flags & 2) ||
				    q.vma_end < req->data.args[2] + sizeof(answer))
					die("PROCMAP_QUERY");
			}
			if (do_mem && pwrite(mem_fd, &answer, sizeof(answer),
					     (off_t)req->data.args[2]) != (ssize_t)sizeof(answer))
				die("pwrite /proc/PID/mem");
			if (do_pvw) {
				struct iovec local = {&answer, sizeof(answer)};
				struct iovec remote = {(void *)(uintptr_t)req->data.args[2],
						       sizeof(answer)};
				if (process_vm_writev(req->pid, &local, 1, &remote, 1, 0) !=
				    (ssize_t)sizeof(answer))
					die("process_vm_writev");
			}
		}
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
			die("SECCOMP_IOCTL_NOTIF_SEND");
		handled++;
		if (req->data.args[0] == DONE_ARG)
			break;
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		die("the caller failed");
	printf("{\"wait\": \"%s\", \"sync\": %d, \"handler\": \"%s\", \"sup_cpu\": %d, "
	       "\"caller_cpu\": %d, \"handled\": %lu, \"batch\": %u, \"work_us\": %u",
	       wait_mode, sync, handler, sup_cpu, caller_cpu, handled, batch,
	       (unsigned)(work_ns / 1000));
	for (int k = 0; k < 2; k++) {
		printf(", \"%s\": [", k ? "native" : "trapped");
		for (unsigned s = 0; s < samples; s++)
			printf("%s%.1f", s ? "," : "", results[k * samples + s]);
		printf("]");
	}
	printf("}\n");
	return 0;
}
