/* The deny rules that look at an argument whose place differs between the 64-bit and the
 * 32-bit system call tables, or that libseccomp cannot express: a classic BPF program of
 * our own, loaded under the libseccomp one (the kernel runs both; the stricter wins).
 *
 * - socket and socketpair of AF_VSOCK (its ports are one space for the whole machine, not
 *   per network namespace: a VP's bind takes the host's port) and AF_ALG (the kernel's
 *   crypto API; no phone program needs it, as in Docker's default profile). libseccomp
 *   2.5 turns an argument rule on socket into a rule on i386's socketcall(SYS_SOCKET) with
 *   the argument dropped, which would refuse every 32-bit socket: hence this program. The
 *   family of i386's socketcall lies in memory, where no filter can look (SECURITY.md).
 * - posix_fadvise(POSIX_FADV_DONTNEED) succeeds and does nothing: on the shared image's
 *   files it would evict pages another VP uses (a page-cache side channel).
 *
 * Arguments are compared on their low 32 bits: the kernel takes them as int. */
#include "vp/runtime.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/socket.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

#define X32_SYSCALL_BIT 0x40000000u
#define FADV_DONTNEED	4

/* x86-64 (and x32, once its bit is masked off) */
#define NR64_SOCKET	41
#define NR64_SOCKETPAIR 53
#define NR64_FADVISE64	221
/* i386 */
#define NR32_FADVISE64	  250
#define NR32_FADVISE64_64 272
#define NR32_SOCKET	  359
#define NR32_SOCKETPAIR	  360

#define ARG_LO(i)	    (offsetof(struct seccomp_data, args) + 8 * (i))
#define LOAD(off)	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define IF_EQ(k, skip_true) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (skip_true), 0)
#define RET(v)		    BPF_STMT(BPF_RET | BPF_K, (v))
#define ALLOW		    RET(SECCOMP_RET_ALLOW)

/* Jumps count the instructions skipped; each names its target's index in a comment. */
static const struct sock_filter program[] = {
	/* 0 */ LOAD(offsetof(struct seccomp_data, arch)),
	/* 1 */ IF_EQ(AUDIT_ARCH_X86_64, 2), /* 4 */
	/* 2 */ IF_EQ(AUDIT_ARCH_I386, 7),   /* 10 */
	/* 3 */ ALLOW,
	/* x86-64 and x32 */
	/* 4 */ LOAD(offsetof(struct seccomp_data, nr)),
	/* 5 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~X32_SYSCALL_BIT),
	/* 6 */ IF_EQ(NR64_SOCKET, 9),	   /* 16 */
	/* 7 */ IF_EQ(NR64_SOCKETPAIR, 8), /* 16 */
	/* 8 */ IF_EQ(NR64_FADVISE64, 12), /* 21 */
	/* 9 */ ALLOW,
	/* i386 */
	/* 10 */ LOAD(offsetof(struct seccomp_data, nr)),
	/* 11 */ IF_EQ(NR32_SOCKET, 4),	       /* 16 */
	/* 12 */ IF_EQ(NR32_SOCKETPAIR, 3),    /* 16 */
	/* 13 */ IF_EQ(NR32_FADVISE64, 9),     /* 23 */
	/* 14 */ IF_EQ(NR32_FADVISE64_64, 10), /* 25 */
	/* 15 */ ALLOW,
	/* the family: argument 0 in every table */
	/* 16 */ LOAD(ARG_LO(0)),
	/* 17 */ IF_EQ(AF_VSOCK, 2), /* 20 */
	/* 18 */ IF_EQ(AF_ALG, 1),   /* 20 */
	/* 19 */ ALLOW,
	/* 20 */ RET(SECCOMP_RET_ERRNO | EPERM),
	/* the advice: argument 3 on x86-64, 4 of i386's fadvise64, 5 of its fadvise64_64 */
	/* 21 */ LOAD(ARG_LO(3)),
	/* 22 */ BPF_JUMP(BPF_JMP | BPF_JA, 3, 0, 0), /* 26 */
	/* 23 */ LOAD(ARG_LO(4)),
	/* 24 */ BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0), /* 26 */
	/* 25 */ LOAD(ARG_LO(5)),
	/* 26 */ IF_EQ(FADV_DONTNEED, 1), /* 28 */
	/* 27 */ ALLOW,
	/* 28 */ RET(SECCOMP_RET_ERRNO | 0),
};

const struct sock_fprog *vp_arg_filter(void)
{
	static const struct sock_fprog prog = {
		.len = sizeof(program) / sizeof(program[0]),
		.filter = (struct sock_filter *)program,
	};
	return &prog;
}
