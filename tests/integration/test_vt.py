"""The virtual terminal device: each VP's /dev/tty0 and /dev/tty1, their VT and KD ioctls
answered by cellsd, the release and acquire signals of a VT_PROCESS owner on foreground
switches, an owner that never acknowledges (the switch does not wait for it), a dead
owner, VT_WAITACTIVE in the background, and hostile arguments.

vtprobe (vtprobe.c, built static here) goes into each VP's upper layer; its background
runs write to /root/*.log there, read from the host.

Skipped, saying so, while the device is not registered (the config refuses `--device
vt=shared`): src/devices/vt.c waits for the device framework v2 to register it.
"""

import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from conftest import build_static, cannot_exec, create_vp_with, wait_for

HERE = Path(__file__).resolve().parent
DEADLINE = 0.5  # VT_RELEASE_DEADLINE_NS
KD_TEXT, KD_GRAPHICS, K_UNICODE, KB_101 = 0, 1, 3, 2
VT_AUTO, VT_PROCESS = 0, 1


@pytest.fixture(scope="session")
def vtprobe():
    tmp = Path(tempfile.mkdtemp(prefix="cells-vtprobe-"))
    try:
        probe = build_static(HERE / "vtprobe.c", tmp)
        why = cannot_exec(tmp / "vtprobe")
        assert not why, why
        yield probe
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def add_vp(d, probe, name):
    create_vp_with(d, name, {"usr/bin/vtprobe": probe})


def parse(text):
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def run(d, name, *args):
    r = d.exec(name, "vtprobe", *args, check=False, timeout=20)
    assert r.returncode == 0, f"vtprobe {args} in {name}: {r.returncode}\n{r.stdout}{r.stderr}"
    return parse(r.stdout)


def log_of(d, name, log):
    p = d.upper(name) / "root" / log
    return p.read_text() if p.exists() else ""


def wait_log(d, name, log, pattern, timeout=5.0):
    def found():
        text = log_of(d, name, log)
        return text if re.search(pattern, text, re.M) else None
    return wait_for(found, timeout, lambda: f"{log} in {name}: no {pattern!r}:\n"
                    f"{log_of(d, name, log)}\n" + d.log()[-2000:])


def background(d, name, args, log):
    d.sh(name, f"vtprobe {args} > /root/{log} 2>&1 < /dev/null &")


def timed_switch(d, name):
    t0 = time.monotonic()
    d.cell("switch", name)
    return time.monotonic() - t0


@pytest.fixture
def two(daemon, vtprobe):
    r = daemon.cell("create", "vtcheck", "--device", "vt=shared", check=False)
    if r.returncode != 0:
        pytest.skip("the vt device is not registered: " + r.stderr.strip())
    daemon.cell("destroy", "vtcheck")
    add_vp(daemon, vtprobe, "a")
    add_vp(daemon, vtprobe, "b")
    assert daemon.cell("active").stdout.strip() == "a"
    return daemon


def test_ttys_and_state(two):
    d = two
    r = d.sh("a", "ls -ln /dev/tty0 /dev/tty1")
    for line in r.stdout.splitlines():
        # root:tty 0620, character devices (ptys of the VP's own).
        assert re.match(r"crw--w---- +1 +0 +5 ", line), r.stdout
    fg = run(d, "a", "state")
    assert fg["getstate"] == "0" and fg["active"] == "1" and fg["active1"] == "1", fg
    assert fg["vstate"] == "0x3", fg
    # v_signal is not written, as the kernel leaves it.
    assert fg["vsignal"] == "0x5a5a", fg
    assert fg["openqry_vt"] == "1", fg
    assert int(fg["vtmode"]) == VT_AUTO and int(fg["kdmode"]) == KD_TEXT, fg
    assert int(fg["kbmode"]) == K_UNICODE and int(fg["kbtype"]) == KB_101, fg
    bg = run(d, "b", "state")
    assert bg["active"] == "2" and bg["active1"] == "2", bg
    d.cell("switch", "b")
    assert run(d, "b", "state")["active"] == "1"
    assert run(d, "a", "state")["active"] == "2"
    # A VP's writes to its VT never block: the daemon drains it.
    d.sh("a", "head -c 1000000 /dev/zero > /dev/tty1", timeout=20)


def test_release_and_acquire(two):
    d = two
    background(d, "a", "process ack", "vt.log")
    wait_log(d, "a", "vt.log", r"^ready")
    log = log_of(d, "a", "vt.log")
    assert "setmode=0" in log and "kdsetmode=0" in log, log
    st = run(d, "a", "state")
    assert int(st["vtmode"]) == VT_PROCESS and st["relsig"] == "10" and st["acqsig"] == "12"
    assert int(st["kdmode"]) == KD_GRAPHICS, st

    d.cell("switch", "b")
    log = wait_log(d, "a", "vt.log", r"^reldisp=")
    # Told while its VT still counted as shown; released by its ack.
    assert re.search(r"^release active=1$", log, re.M), log
    assert re.search(r"^reldisp=0 active=2$", log, re.M), log
    assert run(d, "a", "state")["active"] == "2"
    assert "acquire" not in log

    d.cell("switch", "a")
    log = wait_log(d, "a", "vt.log", r"^ackacq=")
    assert re.search(r"^acquire active=1$", log, re.M), log
    assert re.search(r"^ackacq=0$", log, re.M), log
    assert run(d, "a", "state")["active"] == "1"

    # Once more, both ways: one signal each.
    d.cell("switch", "b")
    d.cell("switch", "a")
    log = wait_log(d, "a", "vt.log", r"(?s)ackacq=0.*ackacq=0")
    assert log.count("release") == 2 and log.count("acquire") == 2, log


def test_an_owner_that_never_acks_does_not_delay_the_switch(two):
    d = two
    base = min(timed_switch(d, n) for n in ("b", "a", "b", "a"))
    background(d, "a", "process noack", "vt.log")
    wait_log(d, "a", "vt.log", r"^ready")
    took = timed_switch(d, "b")
    assert d.cell("active").stdout.strip() == "b"
    wait_log(d, "a", "vt.log", r"^release active=1")
    # The switch took what a switch takes, far less than the owner's deadline.
    assert took < base + DEADLINE / 2, (took, base)
    # The VT follows at the deadline: no longer shown to the VP.
    wait_for(lambda: run(d, "a", "state")["active"] == "2", DEADLINE * 6,
             "release at the deadline")
    assert "did not release the VT" in d.log()
    # Back in front: it never let go, so it is not told to acquire.
    d.cell("switch", "a")
    assert run(d, "a", "state")["active"] == "1"
    d.cell("switch", "b")
    d.cell("switch", "a")
    # The second switch away signals again; still no acquire.
    wait_log(d, "a", "vt.log", r"(?s)release.*release")
    assert "acquire" not in log_of(d, "a", "vt.log")


def test_a_dead_owner_goes_back_to_auto(two):
    d = two
    r = run(d, "a", "setonly")
    assert r["setmode"] == "0" and r["kdsetmode"] == "0", r
    assert int(run(d, "a", "state")["vtmode"]) == VT_PROCESS
    d.cell("switch", "b")
    # The signal finds no owner: VT_AUTO and KD_TEXT, as the kernel resets its VT.
    wait_for(lambda: int(run(d, "a", "state")["vtmode"]) == VT_AUTO, 5, "return to VT_AUTO")
    st = run(d, "a", "state")
    assert int(st["kdmode"]) == KD_TEXT, st
    assert d.running


def test_waitactive_waits_for_the_foreground(two):
    d = two
    background(d, "b", "waitactive", "w.log")
    wait_log(d, "b", "w.log", r"^waiting")
    # Still waiting after a round trip through the VP's other VT calls.
    run(d, "b", "state")
    assert "active=" not in log_of(d, "b", "w.log")
    d.cell("switch", "b")
    log = wait_log(d, "b", "w.log", r"^active=")
    assert "active=0" in log, log
    # In front: at once.
    r = d.sh("b", "vtprobe waitactive", timeout=10)
    assert "active=0" in r.stdout


def test_hostile_arguments(two):
    d = two
    r = run(d, "a", "bad")
    want = {
        "getstate_null": "EFAULT", "getstate_low": "EFAULT", "getstate_none": "EFAULT",
        "getstate_ro": "EFAULT", "getstate_kernel": "EFAULT", "getmode_null": "EFAULT",
        "openqry_null": "EFAULT", "kdgetmode_ro": "EFAULT", "kdgkbtype_null": "EFAULT",
        "setmode_null": "EFAULT", "setmode_none": "EFAULT", "setmode_mode2": "EINVAL",
        "setmode_sig99": "EINVAL", "setmode_signeg": "EINVAL", "setmode_acq65": "EINVAL",
        "activate_2": "ENXIO", "activate_0": "ENXIO", "activate_big": "ENXIO",
        "activate_1": "0", "waitactive_5": "ENXIO", "kdsetmode_7": "EINVAL",
        "kdskbmode_9": "EINVAL", "reldisp_auto": "EINVAL", "disallocate_1": "EBUSY",
        "vtmode": str(VT_AUTO), "kdmode": str(KD_TEXT),
    }
    diff = {k: (r.get(k), v) for k, v in want.items() if r.get(k) != v}
    assert not diff, diff
    # The other VP and the daemon are untouched.
    assert run(d, "b", "state")["getstate"] == "0"
    assert d.running


def test_tty0_as_a_vt_node_nobody_opens(two, vtprobe):
    """--tty0 vt-node: /dev/tty0 says it is the VT driver's (4, 0), as Xorg checks before it
    takes a VT, and cannot be opened, even by the VP's root remounting it; the VT itself,
    /dev/tty1, works as before. The host's console is never reached."""
    d = two
    create_vp_with(d, "xvt", {"usr/bin/vtprobe": vtprobe}, create_args=("--tty0", "vt-node"))
    assert d.vp("xvt")["devices"]["vt"] == {"access": "shared", "tty0": "vt-node"}
    st = d.sh("xvt", "stat -c '%F %t %T %a %u' /dev/tty0").stdout.split("\n")[0]
    assert st.startswith("character special file 4 0 0 "), st
    for how in ("cat /dev/tty0", "echo x > /dev/tty0",
                "mount -o remount,bind,dev /dev/tty0 2>/dev/null; cat /dev/tty0"):
        r = d.sh("xvt", how, check=False)
        assert r.returncode != 0 and "ermission denied" in r.stderr, (how, r)
    fg = run(d, "b", "state")  # a VP of the default setting: unchanged
    assert fg["openqry_vt"] == "1", fg
    background(d, "xvt", "process ack", "vt.log")
    wait_log(d, "xvt", "vt.log", r"^ready")
    d.cell("switch", "xvt")
    d.cell("switch", "a")
    wait_log(d, "xvt", "vt.log", r"^reldisp=0")
    err = d.fail("config", "xvt", "--tty0", "console")
    assert "--tty0 wants pty or vt-node, not 'console'" in err, err
    err = d.fail("config", "xvt", "--tty0", "pty")
    assert "running" in err and "--tty0" in err, err
