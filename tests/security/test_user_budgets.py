"""A VP's kernel budgets are its own (issue 11, item 4).

The kernel counts inotify instances, namespaces, POSIX message queue bytes, pending
signals and processes per user, and charges each level of a chain of user namespaces to
the owner of the namespace below it. A VP's user namespace owned by host root put what
every VP created on root's account: a VP that held 128 inotify instances or 9 message
queues made host root's inotify_init and mq_open fail, and every VP's too.

Here VP A spends all it can (budgets.c, built static); then host root, VP B and a VP
started afterwards must still get one of each, and A must have been stopped by its own
limits. The user namespaces between a VP's init and the host's are owned by the VP's root.
"""

import fcntl
import os
import re
import resource
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from cells_integration_conftest import UID_RANGE, procs_with_uid

HERE = Path(__file__).resolve().parent
NS_GET_PARENT = 0xB702  # _IO(0xb7, 0x2)
NS_GET_OWNER_UID = 0xB704  # _IO(0xb7, 0x4)
# What the VP's own user namespace allows (src/vp/mod_user.c, budgets[]).
VP_MAX_USER_NAMESPACES = 256
VP_MAX_INOTIFY_INSTANCES = 128
VP_RLIMIT_MSGQUEUE = 819200  # rlimits[]
VP_RLIMIT_SIGPENDING = 16384
# How many of each A tries at most: well above the VP's limits, far below the host's.
ATTEMPTS = 2000


@pytest.fixture(scope="module")
def budgets_exe():
    tmp = Path(tempfile.mkdtemp(prefix="cells-budgets-"))
    try:
        out = tmp / "budgets"
        r = subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-static", "-o", str(out),
                            str(HERE / "budgets.c")], capture_output=True, text=True)
        assert r.returncode == 0, f"cannot build budgets.c:\n{r.stderr}"
        yield out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def install(d, name, exe):
    d.sh(name, "cat > /tmp/budgets && chmod 755 /tmp/budgets", input=exe.read_bytes())


def probe_vp(d, name):
    r = d.exec(name, "/tmp/budgets", "probe", check=False)
    return r.returncode, r.stdout


def probe_host(exe):
    r = subprocess.run([str(exe), "probe"], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout


def init_pid(d, name):
    found = re.findall(rf"VP {re.escape(name)} started \(init pid (\d+)\)", d.log())
    assert found, f"no start of {name} in the log:\n{d.log()[-2000:]}"
    return int(found[-1])


def userns_owners(pid):
    """Owners of the user namespaces from PID's up to the host's (excluded), innermost
    first."""
    host = os.stat("/proc/self/ns/user").st_ino
    owners = []
    fd = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    try:
        while os.fstat(fd).st_ino != host:
            buf = bytearray(4)
            fcntl.ioctl(fd, NS_GET_OWNER_UID, buf)
            owners.append(struct.unpack("I", buf)[0])
            parent = fcntl.ioctl(fd, NS_GET_PARENT)
            os.close(fd)
            fd = parent
    finally:
        os.close(fd)
    return owners


def wait_held(d, name, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        out = d.exec(name, "cat", "/tmp/budgets.out", check=False).stdout
        if "held" in out:
            return dict((kind, (int(n), err)) for kind, n, err in
                        (line.split() for line in out.splitlines() if line != "held"))
        assert time.monotonic() < deadline, f"A did not finish spending: {out!r}"
        time.sleep(0.2)


def test_user_namespace_owned_by_vp_root(daemon):
    d = daemon
    d.create_start("a")
    uid = d.vp_uid(d.vp("a")["id"])
    owners = userns_owners(init_pid(d, "a"))
    # The namespace made at clone and the nested one the VP runs in (seal.c).
    assert owners == [uid, uid], f"owners {owners}, want the VP's root {uid}"


def test_vp_processes_have_the_vp_limits(daemon):
    d = daemon
    d.create_start("a")
    # cell-init's (inherited by what it starts) and those of a `cell exec`.
    for who in ("1", "self"):
        text = d.exec("a", "cat", f"/proc/{who}/limits").stdout
        limits = {m.group(1): (m.group(2), m.group(3)) for m in
                  re.finditer(r"^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)", text, re.M)}
        for key, res, ours in (("Max msgqueue size", resource.RLIMIT_MSGQUEUE,
                                VP_RLIMIT_MSGQUEUE),
                               ("Max pending signals", resource.RLIMIT_SIGPENDING,
                                VP_RLIMIT_SIGPENDING)):
            # cellsd runs with this test's limits; a lower one of its own is kept.
            hard = resource.getrlimit(res)[1]
            want = str(ours if hard == resource.RLIM_INFINITY else min(ours, hard))
            assert limits[key] == (want, want), (who, key, text)


def test_vp_spends_only_its_own_budgets(daemon, budgets_exe):
    d = daemon
    d.create_start("a", "b")
    for name in ("a", "b"):
        install(d, name, budgets_exe)
    assert probe_host(budgets_exe) == (0, "inotify ok\nmqueue ok\nuserns ok\n")

    d.sh("a", f"/tmp/budgets exhaust {ATTEMPTS} > /tmp/budgets.out 2>&1 < /dev/null &")
    spent = wait_held(d, "a")
    n, err = spent["userns"]
    userns_allowed = not (n == 0 and err == "EPERM")  # a seccomp policy may deny it
    want = "inotify ok\nmqueue ok\n" + ("userns ok\n" if userns_allowed else "")

    rc, out = probe_host(budgets_exe)
    assert (rc, out) == (0, "inotify ok\nmqueue ok\nuserns ok\n"), \
        f"host root lost its budget to VP A ({spent}):\n{out}"
    r = subprocess.run(["unshare", "-U", "true"], capture_output=True, text=True)
    assert r.returncode == 0, f"host `unshare -U true` fails: {r.stderr}"
    rc, out = probe_vp(d, "b")
    assert out.startswith(want), f"VP B lost its budget to VP A ({spent}):\n{out}"
    d.create_start("c")
    install(d, "c", budgets_exe)
    rc, out = probe_vp(d, "c")
    assert out.startswith(want), f"a VP started after A's spending lacks budget:\n{out}"
    # A still holds it all: the checks above ran against a spent account.
    uid = d.vp_uid(d.vp("a")["id"])
    assert any(comm == "budgets" for _, comm, _ in procs_with_uid(uid, uid + UID_RANGE)), \
        "VP A's spender is gone"

    # A was stopped by limits of its own, well before the host's would have.
    n, err = spent["inotify"]
    assert 0 < n <= VP_MAX_INOTIFY_INSTANCES and err == "EMFILE", spent
    n, err = spent["mqueue"]
    assert n > 0 and err == "EMFILE", spent
    if userns_allowed:
        n, err = spent["userns"]
        assert 0 < n <= VP_MAX_USER_NAMESPACES and err == "ENOSPC", spent
