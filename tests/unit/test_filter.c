/* Unit tests of the VPs' two seccomp programs (src/vp/restrict.c, argfilter.c), run by a
 * small classic-BPF interpreter on made-up calls: the i386 and x32 tables too, which a
 * kernel without 32-bit support cannot run (tests/security checks x86-64 for real). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vp/runtime.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/stat.h>

#define X32	    0x40000000u
#define ERRNO(e)    (SECCOMP_RET_ERRNO | (e))
#define ALLOW	    SECCOMP_RET_ALLOW
#define NOTIFY	    SECCOMP_RET_USER_NOTIF
#define FIOCLEX_REQ 0x5451u

/* The instructions the kernel's seccomp checker accepts; fails the test on any other. */
static uint32_t run(const struct sock_fprog *prog, const struct seccomp_data *data)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};

	for (unsigned pc = 0; pc < prog->len; pc++) {
		const struct sock_filter *f = &prog->filter[pc];
		uint32_t src = BPF_SRC(f->code) == BPF_X ? x : f->k;
		switch (BPF_CLASS(f->code)) {
		case BPF_LD:
			if (BPF_MODE(f->code) == BPF_ABS) {
				assert_true(f->k % 4 == 0 && f->k + 4 <= sizeof(*data));
				memcpy(&a, (const char *)data + f->k, 4);
			} else if (BPF_MODE(f->code) == BPF_IMM)
				a = f->k;
			else if (BPF_MODE(f->code) == BPF_MEM)
				a = mem[f->k % BPF_MEMWORDS];
			else
				fail_msg("LD mode 0x%x at %u", f->code, pc);
			break;
		case BPF_LDX:
			x = BPF_MODE(f->code) == BPF_IMM ? f->k : mem[f->k % BPF_MEMWORDS];
			break;
		case BPF_ST:
			mem[f->k % BPF_MEMWORDS] = a;
			break;
		case BPF_STX:
			mem[f->k % BPF_MEMWORDS] = x;
			break;
		case BPF_ALU:
			switch (BPF_OP(f->code)) {
			case BPF_ADD:
				a += src;
				break;
			case BPF_SUB:
				a -= src;
				break;
			case BPF_AND:
				a &= src;
				break;
			case BPF_OR:
				a |= src;
				break;
			case BPF_XOR:
				a ^= src;
				break;
			case BPF_LSH:
				a <<= src;
				break;
			case BPF_RSH:
				a >>= src;
				break;
			case BPF_NEG:
				a = -a;
				break;
			default:
				fail_msg("ALU op 0x%x at %u", f->code, pc);
			}
			break;
		case BPF_JMP:
			if (BPF_OP(f->code) == BPF_JA) {
				pc += f->k;
				break;
			}
			bool yes = false;
			switch (BPF_OP(f->code)) {
			case BPF_JEQ:
				yes = a == src;
				break;
			case BPF_JGT:
				yes = a > src;
				break;
			case BPF_JGE:
				yes = a >= src;
				break;
			case BPF_JSET:
				yes = (a & src) != 0;
				break;
			default:
				fail_msg("JMP op 0x%x at %u", f->code, pc);
			}
			pc += yes ? f->jt : f->jf;
			break;
		case BPF_RET:
			return BPF_RVAL(f->code) == BPF_A ? a : f->k;
		case BPF_MISC:
			if (BPF_MISCOP(f->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		}
	}
	fail_msg("ran off the end of the program");
	return 0;
}

struct call {
	uint32_t arch;
	uint32_t nr;
	uint64_t args[6];
};

/* The kernel's answer: both programs run, the lower action value wins (KILL < ERRNO <
 * USER_NOTIF < ALLOW). */
static uint32_t verdict(const struct vp_filter *filter, struct call c)
{
	struct seccomp_data data = {.nr = (int)c.nr, .arch = c.arch};
	memcpy(data.args, c.args, sizeof(data.args));
	uint32_t deny = run(&filter->prog, &data), args = run(vp_arg_filter(), &data);
	uint32_t deny_action = deny & SECCOMP_RET_ACTION_FULL;
	uint32_t args_action = args & SECCOMP_RET_ACTION_FULL;

	if ((int32_t)deny_action == (int32_t)args_action)
		return deny;
	return (int32_t)deny_action < (int32_t)args_action ? deny : args;
}

static int setup(void **state)
{
	static struct vp_filter filter;
	static const struct ioctl_trap trapped[] = {IOCTL_TRAP(FIOCLEX_REQ)};
	struct error err = {{0}};

	if (vp_filter_build(&filter, trapped, 1, &err) < 0) {
		print_error("%s\n", err.msg);
		return -1;
	}
	*state = &filter;
	return 0;
}

static int teardown(void **state)
{
	vp_filter_free(*state);
	return 0;
}

#define X86_64 AUDIT_ARCH_X86_64
#define I386   AUDIT_ARCH_I386

static void test_vsock_and_alg_sockets(void **state)
{
	const struct vp_filter *f = *state;

	assert_int_equal(verdict(f, (struct call){X86_64, 41, {40, 1}}), ERRNO(EPERM));
	assert_int_equal(verdict(f, (struct call){X86_64, 41, {40 | 1ull << 32, 1}}), ERRNO(EPERM));
	assert_int_equal(verdict(f, (struct call){X86_64, 53, {40, 1}}), ERRNO(EPERM));
	assert_int_equal(verdict(f, (struct call){X86_64, 41 | X32, {40, 1}}), ERRNO(EPERM));
	assert_int_equal(verdict(f, (struct call){X86_64, 41, {38, 5}}), ERRNO(EPERM));
	assert_int_equal(verdict(f, (struct call){I386, 359, {40, 1}}), ERRNO(EPERM));
	assert_int_equal(verdict(f, (struct call){I386, 360, {38, 5}}), ERRNO(EPERM));
	/* Every other family, on every table; i386's socketcall stays open (glibc's way). */
	assert_int_equal(verdict(f, (struct call){X86_64, 41, {2, 1}}), ALLOW);
	assert_int_equal(verdict(f, (struct call){X86_64, 41, {17, 2}}), ALLOW);
	assert_int_equal(verdict(f, (struct call){X86_64, 41 | X32, {10, 1}}), ALLOW);
	assert_int_equal(verdict(f, (struct call){I386, 359, {1, 1}}), ALLOW);
	assert_int_equal(verdict(f, (struct call){I386, 102, {1, 0x1000}}), ALLOW);
}

static void test_eviction_does_nothing(void **state)
{
	const struct vp_filter *f = *state;

	/* fadvise DONTNEED: argument 3 on x86-64, 4 and 5 on i386's two calls */
	assert_int_equal(verdict(f, (struct call){X86_64, 221, {3, 0, 0, 4}}), ERRNO(0));
	assert_int_equal(verdict(f, (struct call){X86_64, 221, {3, 0, 0, 3}}), ALLOW);
	assert_int_equal(verdict(f, (struct call){I386, 250, {3, 0, 0, 0, 4}}), ERRNO(0));
	assert_int_equal(verdict(f, (struct call){I386, 250, {3, 0, 0, 4, 3}}), ALLOW);
	assert_int_equal(verdict(f, (struct call){I386, 272, {3, 0, 0, 0, 0, 4}}), ERRNO(0));
	assert_int_equal(verdict(f, (struct call){I386, 272, {3, 0, 0, 4, 0, 0}}), ALLOW);
	/* MADV_PAGEOUT (21) of madvise and process_madvise; MADV_DONTNEED (4) goes through */
	assert_int_equal(verdict(f, (struct call){X86_64, 28, {0, 4096, 21}}), ERRNO(0));
	assert_int_equal(verdict(f, (struct call){X86_64, 28, {0, 4096, 4}}), ALLOW);
	assert_int_equal(verdict(f, (struct call){I386, 219, {0, 4096, 21}}), ERRNO(0));
	assert_int_equal(verdict(f, (struct call){X86_64, 440, {3, 0, 1, 21}}), ERRNO(0));
}

static void test_deny_list_on_each_table(void **state)
{
	const struct vp_filter *f = *state;
	const struct {
		uint32_t arch, nr, want;
	} calls[] = {
		{X86_64, 425, ERRNO(ENOSYS)}, /* io_uring_setup */
		{I386, 425, ERRNO(ENOSYS)},
		{X86_64, 425 | X32, ERRNO(ENOSYS)},
		{X86_64, 323, ERRNO(ENOSYS)}, /* userfaultfd */
		{I386, 374, ERRNO(ENOSYS)},
		{X86_64, 154, ERRNO(ENOSYS)}, /* modify_ldt */
		{I386, 123, ERRNO(ENOSYS)},
		{X86_64, 447, ERRNO(ENOSYS)}, /* memfd_secret */
		{X86_64, 451, ERRNO(ENOSYS)}, /* cachestat */
		{X86_64, 246, ERRNO(EPERM)},  /* kexec_load */
		{I386, 283, ERRNO(EPERM)},
		{I386, 25, ERRNO(EPERM)},    /* stime */
		{I386, 404, ERRNO(EPERM)},   /* clock_settime64 */
		{I386, 166, ERRNO(EPERM)},   /* vm86 */
		{X86_64, 300, ERRNO(EPERM)}, /* fanotify_init */
		{X86_64, 321, ERRNO(EPERM)}, /* bpf */
		{I386, 357, ERRNO(EPERM)},
		{X86_64, 39, ALLOW}, /* getpid */
		{I386, 20, ALLOW},
		{X86_64, 165, ALLOW}, /* mount */
		{X86_64, 272, ALLOW}, /* unshare */
		{X86_64, 101, ALLOW}, /* ptrace */
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		uint32_t got = verdict(f, (struct call){calls[i].arch, calls[i].nr, {0}});
		if (got != calls[i].want)
			fail_msg("arch 0x%x call %u: 0x%x, not 0x%x", calls[i].arch, calls[i].nr,
				 got, calls[i].want);
	}
	/* mknod of devices, not of FIFOs; the device ioctls go to the daemon */
	assert_int_equal(verdict(f, (struct call){X86_64, 133, {0, S_IFCHR | 0600}}), ERRNO(EPERM));
	assert_int_equal(verdict(f, (struct call){I386, 297, {0, 0, S_IFBLK | 0600}}),
			 ERRNO(EPERM));
	assert_int_equal(verdict(f, (struct call){X86_64, 133, {0, S_IFIFO | 0600}}), ALLOW);
	assert_int_equal(verdict(f, (struct call){X86_64, 16, {0, FIOCLEX_REQ}}) &
				 SECCOMP_RET_ACTION_FULL,
			 NOTIFY);
	/* An architecture the filter does not know is killed. */
	assert_true((verdict(f, (struct call){AUDIT_ARCH_AARCH64, 39, {0}}) &
		     SECCOMP_RET_ACTION_FULL) < SECCOMP_RET_ERRNO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vsock_and_alg_sockets),
		cmocka_unit_test(test_eviction_does_nothing),
		cmocka_unit_test(test_deny_list_on_each_table),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
