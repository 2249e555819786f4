"""Input (issue 4): /dev/input/event0 (touchscreen) and event1 (keys) in every VP, served
over FUSE by cellsd; events reach the foreground VP only; a switch releases what the old
VP holds and the new one starts clean; the system switch chord is the root's.

Sources used here are real: `cell input` (the control socket), a FIFO given to
`cellsd --input` (the host-device path, records of struct input_event), and an RFB client
speaking to the VNC sink. Readers are tests/integration/evprobe.c (static, x86-64 and
i386) and Debian's evtest, run inside VPs."""
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import (CELL, UID_RANGE, cannot_exec, make_base, procs_with_uid, run_cellsd,
                      wait_pid_gone)
import rfb
from test_display import create_vp_with, ensure_packages, put_dynamic

HERE = Path(__file__).resolve().parent
EV_SYN, EV_KEY, EV_ABS, EV_SW, EV_LED = 0, 1, 3, 5, 0x11
SYN_REPORT, SYN_DROPPED = 0, 3
ABS_X, ABS_Y = 0, 1
ABS_MT_SLOT, ABS_MT_POSITION_X, ABS_MT_POSITION_Y, ABS_MT_TRACKING_ID = 0x2f, 0x35, 0x36, 0x39
BTN_TOUCH, BTN_TOOL_FINGER = 0x14a, 0x145
INPUT_PROP_DIRECT = 1
KEY_A, KEY_LEFTCTRL, KEY_LEFTALT, KEY_RIGHT, KEY_LEFT = 30, 29, 56, 106, 105
SW_LID = 0
EAGAIN, EINVAL, EBUSY, EFAULT, EMFILE, ESPIPE, ENODEV = 11, 22, 16, 14, 24, 29, 19


@pytest.fixture(scope="session")
def evprobe():
    """evprobe built static: .x64, and .x32 (i386) or None."""
    tmp = Path(tempfile.mkdtemp(prefix="cells-evprobe-"))
    try:
        base = ["gcc", "-O2", "-Wall", "-static", "-pthread"]
        out = tmp / "evprobe"
        r = subprocess.run(base + ["-o", str(out), str(HERE / "evprobe.c")],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"cannot build evprobe:\n{r.stderr}"

        class Probe:
            x64 = out.read_bytes()
            x32 = None
            why32 = None

        r = subprocess.run(base + ["-m32", "-o", str(tmp / "evprobe32"), str(HERE / "evprobe.c")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            Probe.why32 = "gcc -m32 -static fails: " + r.stderr.strip()[-300:]
        else:
            Probe.why32 = cannot_exec(tmp / "evprobe32")
        if not Probe.why32:
            Probe.x32 = (tmp / "evprobe32").read_bytes()
        yield Probe
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def add(d, probe, name, start=True, launcher=False, **opts):
    files = {"usr/bin/evprobe": probe.x64}
    if probe.x32:
        files["usr/bin/evprobe32"] = probe.x32
    args = [a for k, v in opts.items() for a in (f"--{k}", str(v))]
    create_vp_with(d, name, files, args, launcher, start)


def kv(text):
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        out[k] = v
    return out


class Reader:
    """evprobe (or any command) running in a VP in the background: started, waited for
    its "ready" line, and collected later."""

    def __init__(self, d, name, *args, prog="evprobe"):
        self.proc = subprocess.Popen([str(CELL), "--run", str(d.run), "exec", name, "--", prog,
                                      *map(str, args)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.head = ""
        while True:
            line = self.proc.stdout.readline()
            assert line, f"{name}: {prog} {args} ended before it was ready: {self.head!r} " \
                         f"{self.proc.stderr.read()}"
            if line.strip() == "ready":
                break
            self.head += line

    def result(self, timeout=15):
        out, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, f"exit {self.proc.returncode}: {out}\n{err}"
        return self.head + out

    def events(self, timeout=15):
        """[(type, code, value)] read, in order."""
        evs = []
        for line in self.result(timeout).splitlines():
            parts = line.split()
            if len(parts) == 3 and all(p.lstrip("-").isdigit() for p in parts):
                evs.append(tuple(int(p) for p in parts))
        return evs


def a_key_reaches(d, name):
    """A key typed from outside reaches a new reader of NAME's event1: press, SYN, release,
    SYN (the device still works)."""
    r = Reader(d, name, "read", "/dev/input/event1", 1000)
    d.cell("input", "key", "a")
    assert len(r.events()) == 4


def packet(*events):
    return list(events) + [(EV_SYN, SYN_REPORT, 0)]


def record(t, c, v):
    return struct.pack("qqHHi", 0, 0, t, c, v)


class Fifo:
    """The FIFO a daemon reads as a host input device."""

    def __init__(self, base):
        self.path = Path(base) / "input.fifo"
        os.mkfifo(self.path, 0o600)
        self.fd = None

    def send(self, events):
        if self.fd is None:
            self.fd = os.open(self.path, os.O_WRONLY)
        os.write(self.fd, b"".join(record(*e) for e in events))

    def close(self):
        if self.fd is not None:
            os.close(self.fd)


@pytest.fixture
def fifo_daemon(make_daemon):
    base = Path(tempfile.mkdtemp(prefix="cells-test-", dir="/tmp"))
    os.chmod(base, 0o755)
    fifo = Fifo(base)
    d = make_daemon(base=base, extra_args=["--input", str(fifo.path)])
    yield d, fifo
    fifo.close()


# ---------------------------------------------------------------------------------------
# The devices.


def test_nodes_and_capabilities(daemon, evprobe):
    d = daemon
    add(d, evprobe, "v")
    r = d.exec("v", "ls", "-l", "/dev/input")
    assert re.search(r"crw|-rw-rw----.* event0", r.stdout), r.stdout
    touch = kv(d.exec("v", "evprobe", "info", "/dev/input/event0").stdout)
    assert touch["version"] == "ok"
    assert touch["name"] == "Cells touchscreen"
    assert touch["name_len"] == str(len("Cells touchscreen") + 1)
    assert touch["name_short_len"] == "4"  # what fits
    assert touch["phys"] == "cells/v/input0"
    assert touch["uniq_errno"] == "2"  # ENOENT, as evdev for a device without one
    # Exactly the bits of a kernel driver of a direct multitouch screen (its MT position
    # axes, then input_mt_init_slots(INPUT_MT_DIRECT)): no BTN_TOOL_*, which would make
    # Xorg's evdev and libinput take it for a touchpad.
    assert {k[5:]: v for k, v in touch.items() if k.startswith("bits_")} == {
        "prop": str(INPUT_PROP_DIRECT), "ev": f"{EV_SYN} {EV_KEY} {EV_ABS}",
        "key": str(BTN_TOUCH), "abs": f"{ABS_X} {ABS_Y} {ABS_MT_SLOT} {ABS_MT_POSITION_X} "
        f"{ABS_MT_POSITION_Y} {ABS_MT_TRACKING_ID}",
        "rel": "", "msc": "", "sw": "", "led": "", "snd": "", "ff": ""}, touch
    # min max value fuzz flat resolution: ABS_X/Y copies of the MT axes, values 0.
    assert touch["abs_x"] == "0 719 0 0 0 0"
    assert touch["abs_y"] == f"0 {rfb.VP_YRES - 1} 0 0 0 0"  # the VP's screen
    assert touch["abs_mt_x"] == "0 719 0 0 0 0"
    assert touch["abs_mt_y"] == f"0 {rfb.VP_YRES - 1} 0 0 0 0"
    assert touch["abs_mt_slot"] == "0 9 0 0 0 0"
    assert touch["abs_mt_id"] == "0 65535 0 0 0 0"
    assert touch["evbit_len"] == "8"  # whole longs, as bits_to_user
    keys = kv(d.exec("v", "evprobe", "info", "/dev/input/event1").stdout)
    assert keys["name"] == "Cells keys"
    assert keys["ev_abs"] == "0" and keys["ev_sw"] == "1" and keys["ev_led"] == "1"
    for k in ("power", "volumeup", "volumedown", "homepage", "back", "a", "z", "1",
              "backspace", "enter"):
        assert keys["key_" + k] == "1", k
    assert int(keys["keys"]) > 90
    assert keys["keys_down"] == "0"


def test_touch_range_follows_the_display_mode(make_daemon, evprobe):
    d = make_daemon(extra_args=["--display", "480x800"])
    add(d, evprobe, "v")
    touch = kv(d.exec("v", "evprobe", "info", "/dev/input/event0").stdout)
    assert touch["abs_mt_x"].split()[:2] == ["0", "479"]
    assert touch["abs_mt_y"].split()[:2] == ["0", str(800 - rfb.BAR - 1)]  # below the bar


def test_vp_without_input(daemon, evprobe):
    d = daemon
    add(d, evprobe, "v", device="input=none")
    assert d.exec("v", "test", "-e", "/dev/input", check=False).returncode != 0


def test_tap_reaches_the_foreground_only(daemon, evprobe):
    d = daemon
    add(d, evprobe, "fg")
    add(d, evprobe, "bg")
    d.cell("switch", "fg")
    a = Reader(d, "fg", "read", "/dev/input/event0", 1500)
    b = Reader(d, "bg", "read", "/dev/input/event0", 1500)
    d.cell("input", "tap", 100, 200)
    got = a.events()
    assert (EV_ABS, ABS_MT_TRACKING_ID, 1) in got or any(
        e[:2] == (EV_ABS, ABS_MT_TRACKING_ID) and e[2] >= 0 for e in got), got
    assert (EV_ABS, ABS_MT_POSITION_X, 100) in got and (EV_ABS, ABS_MT_POSITION_Y, 200) in got
    # As a kernel driver's frames: the contact, then BTN_TOUCH and the pointer at it
    # (input_mt_report_pointer_emulation); no tool.
    down = got[:got.index((EV_SYN, SYN_REPORT, 0)) + 1]
    assert down[-4:] == [(EV_KEY, BTN_TOUCH, 1), (EV_ABS, ABS_X, 100), (EV_ABS, ABS_Y, 200),
                         (EV_SYN, SYN_REPORT, 0)], got
    assert got[len(down):] == [(EV_ABS, ABS_MT_TRACKING_ID, -1), (EV_KEY, BTN_TOUCH, 0),
                               (EV_SYN, SYN_REPORT, 0)], got
    assert all(e[:2] != (EV_KEY, BTN_TOOL_FINGER) for e in got), got
    assert b.events() == [], "the background VP heard a tap"
    st = d.stats()["daemon"]
    # The sources' events: the contact's id and position down, its id up.
    assert st["input_packets"] >= 2 and st["input_events_delivered"] >= 4


def test_each_open_has_its_own_queue(daemon, evprobe):
    d = daemon
    add(d, evprobe, "v")
    readers = [Reader(d, "v", "read", "/dev/input/event1", 1000) for _ in range(3)]
    d.cell("input", "key", "a")
    for r in readers:
        assert r.events() == packet((EV_KEY, KEY_A, 1)) + packet((EV_KEY, KEY_A, 0))


def test_nonblocking_read_short_buffer_and_no_seek(daemon, evprobe):
    d = daemon
    add(d, evprobe, "v")
    out = kv(d.exec("v", "evprobe", "nonblock", "/dev/input/event0").stdout)
    assert out["empty"] == f"-1 {EAGAIN}"
    assert out["short"] == f"-1 {EINVAL}"
    assert out["seek"] == f"-1 {ESPIPE}"


def test_epoll_and_poll_wake_on_a_packet(daemon, evprobe):
    d = daemon
    add(d, evprobe, "v")
    r = Reader(d, "v", "epoll", "/dev/input/event1", 3000)
    d.cell("input", "key", "a")
    assert kv(r.result())["ready"] == "1"
    r = Reader(d, "v", "epoll", "/dev/input/event1", 300)
    assert kv(r.result())["ready"] == "0"


def test_monotonic_clock_and_fresh_timestamps(daemon, evprobe):
    d = daemon
    add(d, evprobe, "v")
    r = Reader(d, "v", "clock", "/dev/input/event1", 3000)
    d.cell("input", "key", "a")
    age = float(kv(r.result())["age_ms"])
    assert 0 <= age < 1000, age


def test_mt_slots_are_served(fifo_daemon, evprobe):
    """EVIOCGMTSLOTS (libevdev reads it when it opens a touchscreen): a code in, values out
    in one buffer, which FUSE cannot pass: the seccomp supervisor answers it."""
    d, fifo = fifo_daemon
    add(d, evprobe, "v")
    r = Reader(d, "v", "read", "/dev/input/event0", 1000)
    fifo.send(packet((EV_ABS, ABS_MT_SLOT, 0), (EV_ABS, ABS_MT_TRACKING_ID, 7),
                     (EV_ABS, ABS_MT_POSITION_X, 11), (EV_ABS, ABS_MT_SLOT, 3),
                     (EV_ABS, ABS_MT_TRACKING_ID, 8), (EV_ABS, ABS_MT_POSITION_X, 33),
                     (EV_KEY, BTN_TOUCH, 1)))
    r.events()
    for prog in ["evprobe"] + (["evprobe32"] if evprobe.x32 else []):
        out = kv(d.exec("v", prog, "mtslots", "/dev/input/event0").stdout)
        sentinel = str(0x55555555)  # untouched: nothing past the 10 slots is written
        # The return value, then slots 0..9, then the sentinel.
        assert out["xs"].split() == ["0", "11", "0", "0", "33"] + ["0"] * 6 + [sentinel], out
        assert out["ids"].split() == ["0", "7", "-1", "-1", "8"] + ["-1"] * 6 + [sentinel], out
        assert out["short"].split() == ["0", "11", "0", sentinel], out["short"]
        assert out["not_mt"] == f"-{EINVAL}"
        assert out["bad_pointer"] == f"-{EFAULT}"
        assert out["tiny"] == f"-{EINVAL}"
    assert kv(d.exec("v", "evprobe", "mtslots", "/dev/input/event1").stdout)["xs"].startswith(
        f"-{EINVAL}")


def test_32bit_reader_gets_16_byte_events(daemon, evprobe):
    if not evprobe.x32:
        pytest.skip(evprobe.why32)
    d = daemon
    add(d, evprobe, "v")
    r = Reader(d, "v", "read", "/dev/input/event0", 1500, prog="evprobe32")
    d.cell("input", "tap", 33, 44)
    got = r.events()
    assert (EV_ABS, ABS_MT_POSITION_X, 33) in got and (EV_ABS, ABS_MT_POSITION_Y, 44) in got
    info = kv(d.exec("v", "evprobe32", "info", "/dev/input/event0").stdout)
    assert info["name"] == "Cells touchscreen" and info["evbit_len"] == "4"


# ---------------------------------------------------------------------------------------
# Grabs, writes, bad input.


def test_grab_is_per_open_and_virtual(daemon, evprobe):
    d = daemon
    add(d, evprobe, "v")
    g = Reader(d, "v", "grab", "/dev/input/event1", 1000)
    other = Reader(d, "v", "read", "/dev/input/event1", 1000)
    d.cell("input", "key", "a")
    out = kv(g.result())
    assert out["grab_a"] == "0 0"
    assert out["grab_b"] == f"-1 {EBUSY}"
    assert out["ungrab_b"] == f"-1 {EINVAL}"
    assert out["events_a"] == "4"  # press, SYN, release, SYN
    assert out["events_b"] == "0"
    assert out["ungrab_a"] == "0 0"
    assert other.events() == [], "another reader heard a grabbed device"


def test_revoke_ends_one_open_file(daemon, evprobe):
    """EVIOCREVOKE (as logind uses it): the file's blocked read ends, every later call is
    ENODEV, a poll says POLLHUP|POLLERR, its grab goes; the device's other files go on."""
    d = daemon
    add(d, evprobe, "v")
    want = {
        "grab_a": "0 0", "revoke_nonzero": f"-1 {EINVAL}", "revoke_a": "0 0",
        "blocked_read_errno": str(ENODEV), "read_a": f"-1 {ENODEV}",
        "write_a": f"-1 {ENODEV}", "name_a": f"-1 {ENODEV}", "grab_a_again": f"-1 {ENODEV}",
        "revoke_a_again": f"-1 {ENODEV}", "poll_a": "1 0", "poll_a_revents": "0x18",
        "name_b": "0 0", "grab_b": "0 0", "ungrab_b": "0 0"}
    for prog in ["evprobe"] + (["evprobe32"] if evprobe.x32 else []):
        out = kv(d.exec("v", prog, "revoke", "/dev/input/event1").stdout)
        assert {k: out.get(k) for k in want} == want, (prog, out)
    a_key_reaches(d, "v")


def test_grab_ends_with_the_file(daemon, evprobe):
    d = daemon
    add(d, evprobe, "v")
    d.exec("v", "sh", "-c", "evprobe grab /dev/input/event1 10 >/dev/null")
    a_key_reaches(d, "v")


def test_writes_set_leds_only(daemon, evprobe):
    d = daemon
    add(d, evprobe, "v")
    add(d, evprobe, "w")
    d.cell("switch", "v")
    other = Reader(d, "w", "read", "/dev/input/event1", 1000)
    out = kv(d.exec("v", "evprobe", "write", "/dev/input/event1").stdout)
    assert out["led_write"] == "48 0"
    assert out["led_capsl"] == "1"
    assert out["key_write"] == str(6 * 24) + " 0"  # taken, as evdev does, but no key
    assert out["short_write"] == f"-1 {EINVAL}"
    assert d.cell("active").stdout.strip() == "v", "a VP's own write switched the VP"
    assert other.events() == []
    assert kv(d.exec("v", "evprobe", "info", "/dev/input/event1").stdout)["keys_down"] == "0"


def test_garbage_ioctls(daemon, evprobe):
    d = daemon
    add(d, evprobe, "v")
    out = kv(d.exec("v", "evprobe", "badioctl", "/dev/input/event1").stdout)
    assert out["name_bad"] == f"-1 {EFAULT}"
    assert out["name_readonly"] == f"-1 {EFAULT}"
    assert out["abs_bad"] == f"-1 {EINVAL}"  # event1 has no axes
    assert out["bit_bad"] == f"-1 {EFAULT}"
    assert out["clock_bad_pointer"] == f"-1 {EFAULT}"
    assert out["clock_bad_value"] == f"-1 {EINVAL}"
    assert out["unknown_e"] == f"-1 {EINVAL}"
    assert out["foreign"].startswith("-1")
    assert out["grab_bad_pointer_value"] == "0 0"  # a value, not a pointer: a grab
    assert out["ungrab"] == "0 0"
    assert out["ungrab_unheld"] == f"-1 {EINVAL}"
    assert out["alive"] == "1"
    touch = kv(d.exec("v", "evprobe", "badioctl", "/dev/input/event0").stdout)
    assert touch["abs_bad"] == f"-1 {EFAULT}"
    assert d.cell("list").returncode == 0


def test_the_file_system_refuses_changes(daemon, evprobe):
    """The VP's root owns its /dev/input but can change nothing in it: no truncate, chmod,
    chown, rename, unlink, mkdir, create or link; cellsd serves on, the nodes intact."""
    d = daemon
    add(d, evprobe, "v")
    for cmd in ("truncate -s 0 event0", "chmod 777 event0", "chown 1:1 event0",
                "mv event0 x", "rm event1", "mkdir d", "touch new", "ln -s event0 s",
                "ln event0 h", "mknod n c 13 64"):
        r = d.sh("v", f"cd /dev/input && {cmd}", check=False)
        assert r.returncode != 0, f"`{cmd}` worked in /dev/input"
    r = d.exec("v", "ls", "-ln", "/dev/input")
    assert re.findall(r"-rw-rw---- +1 0 +0 .* (event\d)", r.stdout) == ["event0", "event1"], \
        r.stdout
    a_key_reaches(d, "v")


def test_opens_are_bounded_per_vp(daemon, evprobe):
    d = daemon
    add(d, evprobe, "v")
    add(d, evprobe, "w")
    out = kv(d.exec("v", "sh", "-c", "ulimit -n 4096; evprobe opens /dev/input/event0 1000").stdout)
    assert out["opened"] == "64" and out["errno"] == str(EMFILE), out
    assert kv(d.exec("w", "evprobe", "opens", "/dev/input/event0", 10).stdout)["opened"] == "10"


def test_reader_that_never_reads_gets_syn_dropped(fifo_daemon, evprobe):
    d, fifo = fifo_daemon
    add(d, evprobe, "v")
    h = Reader(d, "v", "hold", "/dev/input/event1", 2)
    for i in range(100):  # 400 events into a queue of 64
        fifo.send(packet((EV_KEY, KEY_A, 1)) + packet((EV_KEY, KEY_A, 0)))
    out = h.result()
    lines = out.splitlines()
    queued = int(kv(out)["queued"])
    assert 0 < queued < 64, out
    assert lines[1] == f"{EV_SYN} {SYN_DROPPED} 0", out
    a_key_reaches(d, "v")


def test_killed_and_stopped_readers_do_not_hang(daemon, evprobe):
    d = daemon
    add(d, evprobe, "v")
    for _ in range(3):
        Reader(d, "v", "killme", "/dev/input/event0")
    lo = d.vp_uid(d.vp("v")["id"])
    pids = [p for p, comm, _ in procs_with_uid(lo, lo + UID_RANGE) if comm == "evprobe"]
    assert len(pids) == 3
    os.kill(pids[0], 9)
    assert wait_pid_gone(pids[0])
    t0 = time.monotonic()
    d.cell("stop", "v")
    assert time.monotonic() - t0 < 8
    d.cell("start", "v")
    assert kv(d.exec("v", "evprobe", "info", "/dev/input/event0").stdout)["version"] == "ok"


# ---------------------------------------------------------------------------------------
# The router: foreground only, switches, the system chord.


def test_switch_releases_the_old_vp_and_the_new_starts_clean(fifo_daemon, evprobe):
    d, fifo = fifo_daemon
    add(d, evprobe, "a")
    add(d, evprobe, "b")
    d.cell("switch", "a")
    ra = Reader(d, "a", "read", "/dev/input/event0", 1500)
    rb = Reader(d, "b", "read", "/dev/input/event0", 1500)
    ka = Reader(d, "a", "read", "/dev/input/event1", 1500)
    kb = Reader(d, "b", "read", "/dev/input/event1", 1500)
    down = packet((EV_ABS, ABS_MT_SLOT, 0), (EV_ABS, ABS_MT_TRACKING_ID, 7),
                  (EV_ABS, ABS_MT_POSITION_X, 10), (EV_ABS, ABS_MT_POSITION_Y, 20),
                  (EV_KEY, BTN_TOUCH, 1))
    fifo.send(down + packet((EV_KEY, KEY_A, 1)))
    time.sleep(0.3)
    d.cell("switch", "b")
    # The finger moves and lifts, the key goes up: all of it began in a.
    fifo.send(packet((EV_ABS, ABS_MT_POSITION_X, 30)))
    fifo.send(packet((EV_ABS, ABS_MT_TRACKING_ID, -1), (EV_KEY, BTN_TOUCH, 0)))
    fifo.send(packet((EV_KEY, KEY_A, 0)))
    got_a, got_b = ra.events(), rb.events()
    assert got_a[:6] == [(EV_ABS, ABS_MT_TRACKING_ID, 7), (EV_ABS, ABS_MT_POSITION_X, 10),
                         (EV_ABS, ABS_MT_POSITION_Y, 20), (EV_KEY, BTN_TOUCH, 1),
                         (EV_SYN, SYN_REPORT, 0), (EV_ABS, ABS_MT_SLOT, 0)] or \
        (EV_ABS, ABS_MT_POSITION_X, 10) in got_a, got_a
    # Released at the switch, once, and nothing after.
    release = got_a[got_a.index((EV_KEY, BTN_TOUCH, 1)) + 2:]
    assert (EV_ABS, ABS_MT_TRACKING_ID, -1) in release and (EV_KEY, BTN_TOUCH, 0) in release
    assert (EV_ABS, ABS_MT_POSITION_X, 30) not in got_a
    assert got_b == [], f"b heard a contact that began in a: {got_b}"
    assert ka.events() == packet((EV_KEY, KEY_A, 1)) + packet((EV_KEY, KEY_A, 0))
    assert kb.events() == []
    # b's own new contact reaches it.
    rb = Reader(d, "b", "read", "/dev/input/event0", 1000)
    fifo.send(packet((EV_ABS, ABS_MT_SLOT, 1), (EV_ABS, ABS_MT_TRACKING_ID, 8),
                     (EV_ABS, ABS_MT_POSITION_X, 50), (EV_KEY, BTN_TOUCH, 1)))
    got_b = rb.events()
    assert (EV_ABS, ABS_MT_SLOT, 1) in got_b and (EV_ABS, ABS_MT_TRACKING_ID, 8) in got_b


def test_switch_events_reach_every_vp(fifo_daemon, evprobe):
    d, fifo = fifo_daemon
    add(d, evprobe, "a")
    add(d, evprobe, "b")
    readers = [Reader(d, n, "read", "/dev/input/event1", 1000) for n in ("a", "b")]
    fifo.send(packet((EV_SW, SW_LID, 1)))
    for r in readers:
        assert r.events() == packet((EV_SW, SW_LID, 1))
    assert kv(d.exec("b", "evprobe", "info", "/dev/input/event1").stdout)["sw_lid"] == "1"


def test_source_syn_dropped_reaches_the_foreground(fifo_daemon, evprobe):
    d, fifo = fifo_daemon
    add(d, evprobe, "a")
    r = Reader(d, "a", "read", "/dev/input/event1", 1000)
    fifo.send([(EV_SYN, SYN_DROPPED, 0)] + packet((EV_KEY, KEY_A, 1)))
    assert r.events()[:2] == [(EV_SYN, SYN_DROPPED, 0), (EV_KEY, KEY_A, 1)]


def test_system_chord_switches_and_never_reaches_a_vp(daemon, evprobe):
    d = daemon
    add(d, evprobe, "a")
    add(d, evprobe, "b")
    d.cell("switch", "a")
    ka = Reader(d, "a", "read", "/dev/input/event1", 1000)
    kb = Reader(d, "b", "read", "/dev/input/event1", 1000)
    d.cell("input", "key", "ctrl+alt+right")
    assert d.cell("active").stdout.strip() == "b"
    got_a, got_b = ka.events(), kb.events()
    assert all(e[1] != KEY_RIGHT for e in got_a + got_b), (got_a, got_b)
    # a saw ctrl and alt go down, and has them lifted by the switch; b heard nothing
    # (the modifiers' releases began in a).
    assert (EV_KEY, KEY_LEFTCTRL, 1) in got_a and (EV_KEY, KEY_LEFTCTRL, 0) in got_a
    assert got_b == []
    d.cell("input", "key", "ctrl+alt+left")
    assert d.cell("active").stdout.strip() == "a"
    assert d.stats()["daemon"]["system_switches"] == 2


def test_switch_keys_are_configurable(make_daemon, evprobe):
    d = make_daemon(extra_args=["--switch-keys", "meta+n,meta+p"])
    add(d, evprobe, "a")
    add(d, evprobe, "b")
    d.cell("switch", "a")
    d.cell("input", "key", "ctrl+alt+right")  # an ordinary chord now
    assert d.cell("active").stdout.strip() == "a"
    d.cell("input", "key", "meta+n")
    assert d.cell("active").stdout.strip() == "b"


@pytest.mark.parametrize("keys", ["right", "ctrl+alt", "ctrl++right", "ctrl+alt+right",
                                  "ctrl+nokey,ctrl+p", "+a,ctrl+b", ""])
def test_bad_switch_keys_are_refused(keys, tmp_path):
    r = run_cellsd(tmp_path, "--switch-keys", keys)
    assert r.returncode != 0 and "--switch-keys wants" in r.stderr, r.stderr


def test_bad_input_sources_are_refused():
    tmp_path = make_base()  # the run directory's parents must be searchable by others
    (tmp_path / "plain").write_text("x")
    for path, why in ((tmp_path / "missing", "No such file"),
                      (tmp_path / "plain", "not an evdev device or a FIFO"),
                      ("/dev/null", "grab it")):
        r = run_cellsd(tmp_path, "--input", path)
        assert r.returncode != 0 and why in r.stderr, r.stderr
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_bad_cell_input(daemon):
    d = daemon
    d.fail("input", "tap", "-1", "5")
    d.fail("input", "tap", "720", "5")
    d.fail("input", "key", "nosuchkey")
    d.fail("input", "tap", "x", "5", status=2)
    d.fail("input", "wiggle", status=2)


# ---------------------------------------------------------------------------------------
# Software no one here wrote, and a VNC client.


def record_a_tap(d, name, cmd, path, x, y):
    """Runs CMD PATH in VP NAME for 3 s, taps (X, Y) from outside halfway; its output."""
    r = subprocess.Popen([str(CELL), "--run", str(d.run), "exec", name, "--", "sh", "-c",
                          " ".join(cmd) + f" {path} & pid=$!; sleep 1.5; echo TAPNOW; "
                          "sleep 1.5; kill $pid"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = ""
    while "TAPNOW" not in out:
        line = r.stdout.readline()
        assert line, out
        out += line
    d.cell("input", "tap", x, y)
    return out + r.communicate(timeout=15)[0]


def test_evtest_lists_the_device_and_prints_a_tap(daemon, evprobe):
    ensure_packages("evtest")
    exe = shutil.which("evtest") or "/usr/bin/evtest"
    d = daemon
    add(d, evprobe, "v", start=False)
    cmd = put_dynamic(d, "v", exe)
    d.cell("start", "v")
    out = record_a_tap(d, "v", cmd, "/dev/input/event0", 123, 456)
    print(out)
    assert 'Input device name: "Cells touchscreen"' in out
    assert re.search(r"Event type 3 \(EV_ABS\)", out)
    assert re.search(r"Event code 53 \(ABS_MT_POSITION_X\)\s*\n\s*Value\s+\d+\s*\n\s*Min\s+0\s*"
                     r"\n\s*Max\s+719", out), out
    assert re.search(r"Property type 1 \(INPUT_PROP_DIRECT\)", out)
    assert re.search(r"type 3 \(EV_ABS\), code 53 \(ABS_MT_POSITION_X\), value 123", out), out
    assert re.search(r"type 3 \(EV_ABS\), code 54 \(ABS_MT_POSITION_Y\), value 456", out), out
    assert re.search(r"type 1 \(EV_KEY\), code 330 \(BTN_TOUCH\), value 1", out), out
    assert re.search(r"type 3 \(EV_ABS\), code 0 \(ABS_X\), value 123", out), out
    assert "-------------- SYN_REPORT ------------" in out
    # What it lists is a kernel direct touchscreen's, bit for bit.
    caps = out[out.index("Supported events:"):out.index("Testing ...")]
    types, props = {}, []
    for line in caps.splitlines():
        if m := re.match(r"\s*Event type (\d+)", line):
            types[int(m[1])] = codes = []
        elif m := re.match(r"\s*Event code (\d+)", line):
            codes.append(int(m[1]))
        elif m := re.match(r"\s*Property type (\d+)", line):
            props.append(int(m[1]))
    assert types == {EV_SYN: [], EV_KEY: [BTN_TOUCH],
                     EV_ABS: [ABS_X, ABS_Y, ABS_MT_SLOT, ABS_MT_POSITION_X, ABS_MT_POSITION_Y,
                              ABS_MT_TRACKING_ID]}, caps
    assert props == [INPUT_PROP_DIRECT], caps


def test_libevdev_evemu_record_opens_and_records(daemon, evprobe):
    """evemu-record (Debian's evemu-tools) opens the device with libevdev, which reads
    every capability, the slots (EVIOCGMTSLOTS) and tries a grab, then records."""
    ensure_packages("evemu-tools")
    exe = shutil.which("evemu-record") or "/usr/bin/evemu-record"
    d = daemon
    add(d, evprobe, "v", start=False)
    cmd = put_dynamic(d, "v", exe)
    d.cell("start", "v")
    out = record_a_tap(d, "v", cmd, "/dev/input/event0", 123, 456)
    assert "could not" not in out, out
    assert "N: Cells touchscreen" in out, out
    assert re.search(r"^A: 35 0 719 ", out, re.M), out
    assert re.search(r"^E: \S+ 0003 0035 0123", out, re.M), out
    assert re.search(r"^E: \S+ 0003 0036 0456", out, re.M), out
    assert re.search(r"^E: \S+ 0003 0039 -001", out, re.M), out


def test_vnc_pointer_and_keys_reach_the_foreground(make_daemon, evprobe):
    port = rfb.free_port()
    d = make_daemon(extra_args=["--vnc", f"127.0.0.1:{port}"])
    add(d, evprobe, "v")
    add(d, evprobe, "w")
    d.cell("switch", "v")
    touch = Reader(d, "v", "read", "/dev/input/event0", 1500)
    keys = Reader(d, "v", "read", "/dev/input/event1", 1500)
    other = Reader(d, "w", "read", "/dev/input/event0", 1500)
    s = rfb.connect_to(d, port)
    try:
        # The client points on the panel: the VP's screen begins below the root's bar.
        s.sendall(struct.pack(">BBHH", 5, 1, 200, 300))  # left button down at (200, 300)
        s.sendall(struct.pack(">BBHH", 5, 1, 210, 310))  # drag
        s.sendall(struct.pack(">BBHH", 5, 0, 210, 310))  # up
        s.sendall(struct.pack(">BBHH", 5, 1, 100, 10))  # a press on the bar: nobody's
        s.sendall(struct.pack(">BBHH", 5, 0, 100, 10))
        s.sendall(struct.pack(">BBxxI", 4, 1, ord("q")) + struct.pack(">BBxxI", 4, 0, ord("q")))
        s.sendall(b"\x04\x01\0\0" + b"\0\0\0\0")  # keysym 0: not a key, ignored
        s.sendall(b"\xff" * 64)  # garbage: the client is dropped, the daemon lives
        got = touch.events()
        assert (EV_ABS, ABS_MT_POSITION_X, 200) in got and \
            (EV_ABS, ABS_MT_POSITION_Y, 300 - rfb.BAR) in got, got
        assert (EV_ABS, ABS_MT_POSITION_Y, 310 - rfb.BAR) in got, got
        assert (EV_ABS, ABS_MT_POSITION_X, 210) in got and (EV_ABS, ABS_MT_TRACKING_ID, -1) in got
        contacts = [e for e in got if e[:2] == (EV_ABS, ABS_MT_TRACKING_ID) and e[2] >= 0]
        assert len(contacts) == 1, f"the press on the bar reached the VP: {got}"
        assert keys.events() == packet((EV_KEY, 16, 1)) + packet((EV_KEY, 16, 0))  # KEY_Q
        assert other.events() == []
    finally:
        s.close()
    assert d.cell("list").returncode == 0
