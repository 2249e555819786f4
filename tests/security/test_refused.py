"""Refused attempts that must stay refused (issue 11, "Tests"): each attack from a VP's
root fails, and the daemon and the other VP carry on. The deny-list, on both tables, is
tests/security/test_syscalls.py."""

import os
import re

import pytest

from attackers import add_attacker, attack, carries_on

HOST_DISKS = [f"/dev/{n}" for n in sorted(os.listdir("/dev"))
              if re.fullmatch(r"(vd|sd|xvd)[a-z]|nvme\dn\d|mem|kmsg|port", n)]


@pytest.fixture
def two(daemon, attack_exe):
    add_attacker(daemon, "bad", attack_exe)
    add_attacker(daemon, "good", attack_exe)
    return daemon


def refused(d, *args):
    status, got = attack(d, "bad", *args)
    assert status == 1 and "ok" not in got.values(), f"attack {' '.join(args)}: {got}"
    return got


def test_mknod_of_a_device_is_refused(two):
    d = two
    for path in ("/tmp/null2", "/root/null2", "/dev/shm/null2"):
        assert refused(d, "mknod", path) == {"mknod": "EPERM"}
    carries_on(d, "bad", "good")


def test_locked_mounts_stay(two):
    d = two
    for path in ("/proc", "/sys", "/dev", "/dev/pts", "/dev/null", "/dev/console",
                 "/dev/fb0", "/dev/input", "/sys/class/net"):
        refused(d, "umount", path)
        refused(d, "umount-detach", path)
    # A remount without nodev, nosuid, noexec or ro: each of them is locked.
    for path in ("/", "/proc", "/sys", "/sys/class/net", "/sys/bus", "/dev"):
        refused(d, "remount-rw", path)
    # A proc of its own: the VP's root does not own its pid namespace.
    d.exec("bad", "mkdir", "-p", "/tmp/p")
    refused(d, "mount", "proc", "/tmp/p")
    assert d.exec("bad", "ls", "/dev/fb0").returncode == 0
    carries_on(d, "bad", "good")


def test_proc_sys_is_not_writable(two):
    d = two
    before = {p: open(p).read() for p in ("/proc/sys/kernel/core_pattern",
                                          "/proc/sys/vm/overcommit_ratio",
                                          "/proc/sys/kernel/hostname")}
    for path, text in (("/proc/sys/kernel/core_pattern", "|/tmp/x"),
                       ("/proc/sys/vm/overcommit_ratio", "7"),
                       ("/proc/sys/vm/drop_caches", "3"),
                       ("/proc/sys/kernel/hostname", "pwned"),
                       ("/proc/sysrq-trigger", "h")):
        refused(d, "write", path, text)
    for path, text in before.items():
        assert open(path).read() == text, path
    carries_on(d, "bad", "good")


def test_host_processes_cannot_be_traced_or_signalled(two, host_sleep):
    d = two
    host = host_sleep(300)
    cellsd = d.proc.pid
    good_init = d.vp("good")["pid"]
    for pid in (host.pid, cellsd, good_init, 1):
        if pid == 1:
            continue  # the VP's own init is its pid 1
        assert refused(d, "ptrace", pid) == {"ptrace": "ESRCH"}
        assert refused(d, "kill", pid) == {"kill": "ESRCH"}
    assert host.poll() is None, "the host process died"
    carries_on(d, "bad", "good")


def test_control_socket_is_out_of_reach(two):
    d = two
    sock = str(d.sock)
    refused(d, "connect", sock)
    pids = d.sh("bad", "ls /proc | grep -E '^[0-9]+$'").stdout.split()
    assert pids
    for pid in pids + [str(d.proc.pid)]:
        status, got = attack(d, "bad", "connect", f"/proc/{pid}/root{sock}")
        assert status != 0, (pid, got)
    carries_on(d, "bad", "good")


def test_host_devices_are_out_of_reach_through_proc(two):
    d = two
    assert HOST_DISKS, "no host device to try"
    pids = d.sh("bad", "ls /proc | grep -E '^[0-9]+$'").stdout.split()
    for pid in pids[:5] + ["self", str(d.proc.pid), "1"]:
        for dev in HOST_DISKS:
            status, got = attack(d, "bad", "open", f"/proc/{pid}/root{dev}")
            assert status != 0, (pid, dev, got)
            status, got = attack(d, "bad", "open", f"/proc/{pid}/cwd{dev}")
            assert status != 0, (pid, dev, got)
    carries_on(d, "bad", "good")
