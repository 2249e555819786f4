"""Kernel surfaces a VP is denied (issue 11, item 7): each call of the deny-list from inside
a VP, on the x86-64 table and on the i386 one (int $0x80, where the kernel runs 32-bit
calls), an AF_VSOCK port that a VP can no longer take from the host, and what stays
allowed. docs/SECURITY.md has the table with the reasons."""

import random
import socket

import pytest

from attackers import add_attacker, attack, carries_on

# The answer of the filter for each call (attack.c's names). Where the kernel itself lacks
# a call (no modules, no kexec on this kernel ...) ENOSYS is the kernel's answer, which is
# as good: KERNEL_MAY_LACK.
DENIED = {
    "init_module": "EPERM", "finit_module": "EPERM", "delete_module": "EPERM",
    "kexec_load": "EPERM", "kexec_file_load": "EPERM", "reboot": "EPERM",
    "keyctl": "EPERM", "add_key": "EPERM", "request_key": "EPERM",
    "open_by_handle_at": "EPERM", "name_to_handle_at": "EPERM",
    "swapon": "EPERM", "swapoff": "EPERM", "acct": "EPERM", "iopl": "EPERM",
    "ioperm": "EPERM", "settimeofday": "EPERM", "clock_settime": "EPERM",
    "clock_adjtime": "EPERM", "adjtimex": "EPERM", "bpf": "EPERM",
    "perf_event_open": "EPERM", "fanotify_init": "EPERM", "lookup_dcookie": "EPERM",
    "quotactl": "EPERM", "quotactl_fd": "EPERM", "uselib": "EPERM", "syslog": "EPERM",
    "io_uring_setup": "ENOSYS", "io_uring_enter": "ENOSYS", "io_uring_register": "ENOSYS",
    "userfaultfd": "ENOSYS", "modify_ldt": "ENOSYS", "memfd_secret": "ENOSYS",
    "cachestat": "ENOSYS",
    "socket_vsock": "EPERM", "socket_vsock_highbits": "EPERM", "socket_alg": "EPERM",
    "socketpair_vsock": "EPERM", "mknod_chr": "EPERM",
}
KERNEL_MAY_LACK = {"init_module", "finit_module", "delete_module", "kexec_load",
                   "kexec_file_load", "iopl", "ioperm", "lookup_dcookie", "uselib",
                   "quotactl_fd"}
ALLOWED = {"socket_packet": "ok", "socket_inet": "ok", "mknod_fifo": "ok"}

DENIED_I386 = {
    "i386_init_module": "EPERM", "i386_kexec_load": "EPERM", "i386_keyctl": "EPERM",
    "i386_bpf": "EPERM", "i386_perf_event_open": "EPERM", "i386_io_uring_setup": "ENOSYS",
    "i386_userfaultfd": "ENOSYS", "i386_modify_ldt": "ENOSYS", "i386_vm86": "EPERM",
    "i386_stime": "EPERM", "i386_clock_settime64": "EPERM", "i386_socket_vsock": "EPERM",
    "i386_mknod_chr": "EPERM",
}
ALLOWED_I386 = {"i386_socket_inet": "ok", "i386_socketcall_inet": "ok"}


@pytest.fixture
def two(daemon, attack_exe):
    add_attacker(daemon, "bad", attack_exe)
    add_attacker(daemon, "good", attack_exe)
    return daemon


def check(got, denied, allowed):
    wrong = {}
    for name, want in denied.items():
        ok = {want, "ENOSYS"} if name.replace("i386_", "") in KERNEL_MAY_LACK else {want}
        if got.get(name) not in ok:
            wrong[name] = (got.get(name), want)
    for name, want in allowed.items():
        if got.get(name) != want:
            wrong[name] = (got.get(name), want)
    assert not wrong, f"(got, wanted) per call: {wrong}"


def test_denied_calls_x86_64(two):
    d = two
    status, got = attack(d, "bad", "syscalls")
    assert status == 0, got
    check(got, DENIED, ALLOWED)
    carries_on(d, "bad", "good")


def test_denied_calls_i386(two):
    d = two
    status, got = attack(d, "bad", "int80")
    if status == 3:
        pytest.skip("this kernel runs no 32-bit system calls (int $0x80 faults)")
    assert status == 0, got
    check(got, DENIED_I386, ALLOWED_I386)
    carries_on(d, "bad", "good")


def host_vsock():
    try:
        return socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    except (OSError, AttributeError) as e:
        pytest.skip(f"no AF_VSOCK on this host: {e}")


def test_vsock_port_of_a_vp_is_not_taken_from_the_host(two):
    d = two
    host_vsock().close()
    port = random.randrange(40000, 60000)
    # The VP tries to take PORT (and would hold it while its stdin is open).
    r = d.exec("bad", "sh", "-c", f"attack vsock-bind {port} </dev/null", check=False)
    assert "socket=EPERM" in r.stdout, r.stdout + r.stderr
    d.sh("bad", f"attack vsock-bind {port} >/dev/null 2>&1 </dev/zero &")
    s = host_vsock()
    try:
        s.bind((socket.VMADDR_CID_ANY, port))  # EADDRINUSE if the VP had it
    finally:
        s.close()
    carries_on(d, "bad", "good")


def test_what_a_phone_init_does_still_works(two):
    """The deny-list leaves what a phone OS's init and sandboxes do in their own
    namespaces: mounts, new namespaces, ptrace of its own processes."""
    d = two
    d.exec("bad", "mkdir", "-p", "/tmp/t")
    assert attack(d, "bad", "mount", "tmpfs", "/tmp/t") == (0, {"mount": "ok"})
    assert attack(d, "bad", "unshare") == (0, {"unshare": "ok"})
    d.sh("bad", "sleep 300 >/dev/null 2>&1 </dev/null &")
    pid = d.sh("bad", "pidof sleep").stdout.split()[0]
    assert attack(d, "bad", "ptrace", pid) == (0, {"ptrace": "ok"})
    d.exec("bad", "kill", pid)
    carries_on(d, "bad", "good")
