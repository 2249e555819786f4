"""The power device (DESIGN.md §5, "Power") from outside, with busybox VPs: Android's wake
locks written by `echo` block the root's suspend only in the foreground VP (the root's
decisions are events and stats), their timeouts expire, the foreground VP's backlight and
LEDs reach a real one (a directory of plain files standing for /sys/class/backlight/X)
and a background VP's are kept until it comes to the front, without one the output is
dimmed (a screenshot shows it), the host's unmodified brightnessctl lists and sets the
backlight in a VP, and the background policy: `freeze` freezes a background VP's cgroup
(its CPU use stops) and a switch thaws it, `throttle` caps its CPU, a wake lets a frozen
VP run for a while, and the policy changes live."""

import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CELL, CGROUP_ROOT, LineReader, create_vp_with, wait_for

BRIGHTNESSCTL = Path("/usr/bin/brightnessctl")


def power(d):
    return d.stats()["daemon"]["power"]


def start_events(d):
    p = subprocess.Popen([str(CELL), "--run", str(d.run), "events"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    reader = LineReader(p)
    # Subscribed once an event of ours arrives: a root lock's release is one of the device's.
    for i in range(20):
        d.cell("device", "power", "lock", f"probe{i}")
        d.cell("device", "power", "unlock", f"probe{i}")
        d.cell("create", f"probe{i}")
        d.cell("destroy", f"probe{i}")
        if reader.wait_for(lambda e: e.get("vp") == f"probe{i}", timeout=0.5 + i * 0.2):
            return p, reader
    p.kill()
    raise AssertionError("`cell events` showed no event")


def request(reader, pred, timeout=5):
    e = reader.wait_for(lambda e: e.get("device") == "power" and pred(e), timeout=timeout)
    assert e, reader.seen[-10:]
    return e


@pytest.fixture
def two(daemon):
    """VPs a (in the foreground) and b (behind it)."""
    daemon.create_start("a", "b")
    assert daemon.cell("active").stdout.strip() == "a"
    return daemon


def test_a_wake_lock_blocks_suspend_in_the_foreground_only(two):
    d = two
    p, ev = start_events(d)
    try:
        d.sh("a", "echo music > /sys/power/wake_lock")
        assert d.sh("a", "cat /sys/power/wake_lock").stdout == "music\n"
        d.sh("a", "echo mem > /sys/power/state")
        e = request(ev, lambda e: e["event"] == "suspend-request" and e["vp"] == "a")
        assert e["verdict"] == "blocked" and e["holders"] == ["a:music"], e
        st = power(d)
        assert st["state"] == "awake" and st["pending"], st
        assert st["vps"]["a"]["wake_locks"] == ["music"] and st["vps"]["a"]["counted"], st
        # Released: the request waiting goes through.
        d.sh("a", "echo music > /sys/power/wake_unlock")
        e = request(ev, lambda e: e["event"] == "suspend")
        assert e["vp"] == "a", e
        assert power(d)["state"] == "suspended"
        assert d.sh("a", "cat /sys/power/wake_unlock").stdout == "music\n"
        # A lock taken in the foreground wakes the device.
        d.sh("a", "echo call > /sys/power/wake_lock")
        e = request(ev, lambda e: e["event"] == "resume")
        assert e["reason"] == "wake-lock", e

        # In the background: recorded, not counted, and its request never suspends.
        d.sh("a", "echo call > /sys/power/wake_unlock")
        d.sh("b", "echo sync > /sys/power/wake_lock")
        d.sh("b", "echo mem > /sys/power/state")
        e = request(ev, lambda e: e["event"] == "suspend-request" and e["vp"] == "b")
        assert e["verdict"] == "ignored", e
        st = power(d)
        assert st["state"] == "awake" and not st["pending"], st
        assert st["vps"]["b"]["wake_locks"] == ["sync"] and not st["vps"]["b"]["counted"], st
        # Nothing counted held: the foreground's request suspends, whatever b holds.
        d.sh("a", "echo mem > /sys/power/state")
        e = request(ev, lambda e: e["event"] == "suspend-request" and e["vp"] == "a")
        assert e["verdict"] == "suspend", e
        request(ev, lambda e: e["event"] == "suspend")
        # A switch resumes; b's lock counts now that it is in front.
        d.cell("switch", "b")
        request(ev, lambda e: e["event"] == "resume" and e["reason"] == "switch")
        d.sh("b", "echo mem > /sys/power/state")
        e = request(ev, lambda e: e["event"] == "suspend-request" and e["vp"] == "b")
        assert e["verdict"] == "blocked" and e["holders"] == ["b:sync"], e
        # The root's own lock counts too.
        d.cell("device", "power", "lock", "update")
        d.sh("b", "echo sync > /sys/power/wake_unlock")
        assert power(d)["state"] == "awake"
        d.cell("device", "power", "unlock", "update")
        request(ev, lambda e: e["event"] == "suspend" and e["vp"] == "b")
        st = power(d)
        assert (st["suspends"], st["suspend_ignored"]) == (3, 1), st
    finally:
        p.kill()
        p.wait()


def test_wake_lock_timeouts_expire(two):
    d = two
    d.sh("a", "echo brief 300000000 > /sys/power/wake_lock; echo kept > /sys/power/wake_lock")
    assert d.sh("a", "cat /sys/power/wake_lock").stdout == "brief kept\n"
    wait_for(lambda: power(d)["vps"]["a"]["wake_locks"] == ["kept"], 5, "the timeout")
    assert d.sh("a", "cat /sys/power/wake_lock").stdout == "kept\n"
    assert d.sh("a", "cat /sys/power/wake_unlock").stdout == "brief\n"
    # A blocked request goes through once the last lock times out.
    d.sh("a", "echo kept > /sys/power/wake_unlock; echo t 200000000 > /sys/power/wake_lock;"
         "echo mem > /sys/power/state")
    assert power(d)["pending"]
    wait_for(lambda: power(d)["state"] == "suspended", 5, "the suspend after the timeout")


def test_bad_writes_are_refused(two):
    d = two
    for path, text in (("power/wake_lock", "''"), ("power/wake_lock", "'a 12x'"),
                       ("power/wake_unlock", "nosuch"), ("power/state", "disk"),
                       ("class/backlight/panel/brightness", "256"),
                       ("class/backlight/panel/brightness", "-1"),
                       ("class/backlight/panel/bl_power", "5"),
                       ("class/leds/red/brightness", "lots")):
        r = d.sh("a", f"echo {text} > /sys/{path}", check=False)
        assert r.returncode != 0 and "Invalid argument" in r.stderr, (path, text, r)
    r = d.sh("a", "echo 1 > /sys/class/backlight/panel/max_brightness", check=False)
    assert r.returncode != 0
    assert power(d)["vps"]["a"]["brightness"] == 255


def fake_light(base, name, maximum):
    """A directory of plain files standing for /sys/class/backlight/NAME or leds/NAME."""
    path = base / name
    path.mkdir()
    (path / "max_brightness").write_text(f"{maximum}\n")
    (path / "brightness").write_text("0\n")
    return path


def level(path):
    return int((path / "brightness").read_text())


def test_backlight_and_leds_reach_the_real_ones_from_the_foreground(make_daemon, tmp_path):
    panel = fake_light(tmp_path, "intel_backlight", 1000)
    red = fake_light(tmp_path, "red", 1)
    d = make_daemon(extra_args=["--backlight", str(panel), "--led", f"red={red}"])
    d.create_start("a", "b")
    bl = "/sys/class/backlight/panel"
    assert d.sh("a", f"cat {bl}/max_brightness {bl}/type").stdout == "255\nraw\n"
    # The foreground VP's level reaches the panel, scaled to its maximum.
    d.sh("a", f"echo 128 > {bl}/brightness")
    assert level(panel) == 502
    d.sh("a", "echo 255 > /sys/class/leds/red/brightness")
    assert level(red) == 1
    # bl_power off: the panel is dark, the VP's level kept.
    d.sh("a", f"echo 4 > {bl}/bl_power")
    assert level(panel) == 0
    assert d.sh("a", f"cat {bl}/brightness {bl}/actual_brightness").stdout == "128\n0\n"
    d.sh("a", f"echo 0 > {bl}/bl_power")
    assert level(panel) == 502
    # The background VP's writes succeed and are kept, and nothing real changes...
    d.sh("b", f"echo 10 > {bl}/brightness; echo 0 > /sys/class/leds/red/brightness")
    assert d.sh("b", f"cat {bl}/actual_brightness").stdout == "10\n"
    assert (level(panel), level(red)) == (502, 1)
    # ... until it comes to the front.
    d.cell("switch", "b")
    assert (level(panel), level(red)) == (39, 0)
    d.cell("switch", "a")
    assert (level(panel), level(red)) == (502, 1)


def brightest(img):
    return max(max(row) for row in img.rows)


def test_without_a_backlight_the_output_is_dimmed(two):
    from test_display import shot

    d = two
    full = brightest(shot(d))
    assert full > 100, full
    d.sh("a", "echo 0 > /sys/class/backlight/panel/brightness")
    assert brightest(shot(d)) == 0
    d.sh("a", "echo 128 > /sys/class/backlight/panel/brightness")
    half = brightest(shot(d))
    assert abs(half - full * 128 // 255) <= 1, (half, full)
    # Another VP in front has its own level; back, a's again.
    d.cell("switch", "b")
    assert brightest(shot(d)) == full
    d.cell("switch", "a")
    assert brightest(shot(d)) == half


def brightnessctl_files():
    files = {"usr/bin/brightnessctl": BRIGHTNESSCTL}
    out = subprocess.run(["ldd", str(BRIGHTNESSCTL)], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        m = re.search(r"(/\S+)\s+\(0x", line)
        if m:
            files[m.group(1).lstrip("/")] = Path(m.group(1))
    return files


@pytest.mark.skipif(not BRIGHTNESSCTL.exists(), reason="brightnessctl is not installed")
def test_brightnessctl_lists_and_sets_the_backlight(make_daemon, tmp_path):
    panel = fake_light(tmp_path, "intel_backlight", 1000)
    d = make_daemon(extra_args=["--backlight", str(panel)])
    create_vp_with(d, "a", brightnessctl_files())
    listed = d.exec("a", "brightnessctl", "--list").stdout
    assert "Device 'panel' of class 'backlight'" in listed, listed
    assert "Device 'red' of class 'leds'" in listed, listed
    d.exec("a", "brightnessctl", "--device=panel", "set", "50%")
    assert d.sh("a", "cat /sys/class/backlight/panel/brightness").stdout == "128\n"
    assert level(panel) == 502
    got = d.exec("a", "brightnessctl", "--device=panel", "get").stdout
    assert got.strip() == "128", got
    d.exec("a", "brightnessctl", "--device=green", "set", "255")
    assert power(d)["vps"]["a"]["brightness"] == 128


# -- the background policy ----------------------------------------------------------------

def v2():
    return (CGROUP_ROOT / "cgroup.controllers").exists()


def group(d, controller, name):
    if v2():
        return CGROUP_ROOT / d.cgroup_parent / name
    return d.cgroup(controller, name)


def frozen(d, name):
    if v2():
        return "frozen 1" in (group(d, None, name) / "cgroup.events").read_text()
    return (group(d, "freezer", name) / "freezer.state").read_text().strip() == "FROZEN"


def thawed(d, name):
    if v2():
        return "frozen 0" in (group(d, None, name) / "cgroup.events").read_text()
    return (group(d, "freezer", name) / "freezer.state").read_text().strip() == "THAWED"


def cpu_ns(d, name):
    if v2():
        text = (group(d, None, name) / "cpu.stat").read_text()
        return int(re.search(r"usage_usec (\d+)", text).group(1)) * 1000
    return int((group(d, "cpuacct", name) / "cpuacct.usage").read_text())


def cpu_share(d, name, seconds=1.0):
    """The share of one CPU the VP used over SECONDS."""
    t0, c0 = time.monotonic(), cpu_ns(d, name)
    time.sleep(seconds)
    return (cpu_ns(d, name) - c0) / ((time.monotonic() - t0) * 1e9)


def quota(d, name):
    if v2():
        return (group(d, "cpu", name) / "cpu.max").read_text().split()[0]
    return (group(d, "cpu", name) / "cpu.cfs_quota_us").read_text().strip()


def spin(d, name):
    d.sh(name, "(while :; do :; done) >/dev/null 2>&1 &")


def runs(d, name, ms=50, timeout=10):
    """The VP's CPU time grows by MS within TIMEOUT: it runs (whatever the machine's
    load, which other work may make heavy)."""
    c0 = cpu_ns(d, name)
    wait_for(lambda: cpu_ns(d, name) - c0 >= ms * 1e6, timeout, f"{name} running")


def test_freeze_stops_a_background_vp_and_a_switch_thaws_it(daemon):
    d = daemon
    d.create_start("a")
    d.cell("create", "b", "--background", "freeze")
    d.cell("start", "b")
    # Started behind a: held back once it is up. A busy loop started in it first.
    d.cell("device", "power", "wake", "b", "5000")
    wait_for(lambda: thawed(d, "b"), 5, "b thawed by the wake")
    spin(d, "b")
    runs(d, "b")
    d.cell("config", "b", "--background", "run")
    d.cell("config", "b", "--background", "freeze")
    wait_for(lambda: frozen(d, "b"), 5, "b frozen")
    assert cpu_share(d, "b", 1.0) < 0.001
    st = power(d)["vps"]["b"]
    assert st["held"] and st["background"] == "freeze", st
    # The switch returns with b thawed, and it runs.
    d.cell("switch", "b")
    assert thawed(d, "b")
    runs(d, "b")
    assert d.exec("b", "true").returncode == 0
    # Back in the background: frozen again after the grace period.
    d.cell("switch", "a")
    wait_for(lambda: frozen(d, "b"), 5, "b frozen again")
    # A wake (an incoming call) lets it run for a while, then it is frozen again.
    d.cell("device", "power", "wake", "b", "700")
    assert thawed(d, "b")
    wait_for(lambda: frozen(d, "b"), 5, "b frozen after the wake")
    # A frozen VP stops as any other.
    d.cell("stop", "b")
    d.wait_state("b", "stopped")


def test_throttle_caps_a_background_vp_and_the_policy_changes_live(daemon):
    d = daemon
    d.create_start("a")
    d.cell("create", "b", "--background", "throttle", "--throttle", "20")
    d.cell("start", "b")
    spin(d, "b")
    wait_for(lambda: quota(d, "b") == "20000", 5, "b's CPU capped")
    # At most its cap (with the period's slack); less when the machine is loaded.
    share = cpu_share(d, "b", 2.0)
    assert 0 < share < 0.25, share
    assert power(d)["vps"]["b"]["held"]
    # Live: run lifts the cap, a new cap applies at once, freeze freezes.
    d.cell("config", "b", "--background", "run")
    assert quota(d, "b") in ("-1", "max")
    runs(d, "b")
    d.cell("config", "b", "--background", "throttle", "--throttle", "50")
    assert quota(d, "b") == "50000"
    d.cell("config", "b", "--background", "freeze")
    wait_for(lambda: frozen(d, "b"), 5, "b frozen")
    assert quota(d, "b") in ("-1", "max")
    # The VP's own --cpu limit stays under the throttle cap's lifting.
    d.cell("config", "b", "--background", "throttle", "--cpu", "30", "--throttle", "80")
    assert thawed(d, "b")
    assert quota(d, "b") == "30000"
    d.cell("switch", "b")
    assert quota(d, "b") == "30000"
    assert d.fail("config", "b", "--background", "sometimes")
    assert d.fail("config", "b", "--throttle", "0")


def test_the_power_key_turns_the_screen_off_and_on(two):
    from test_display import shot

    d = two
    full = brightest(shot(d))
    bl = "/sys/class/backlight/panel"
    d.cell("input", "key", "power")
    wait_for(lambda: not power(d)["screen_on"], 5, "the screen off")
    assert brightest(shot(d)) == 0
    # The foreground VP reads it in its backlight (FB_BLANK_POWERDOWN); b, behind, not.
    assert d.sh("a", f"cat {bl}/bl_power {bl}/actual_brightness").stdout == "4\n0\n"
    assert d.sh("b", f"cat {bl}/bl_power").stdout == "0\n"
    # Off for a VP without the device too, and for the one switched to.
    d.create_start("c", device="power=none")
    d.cell("switch", "c")
    assert brightest(shot(d)) == 0
    d.cell("switch", "b")
    assert d.sh("b", f"cat {bl}/bl_power").stdout == "4\n"
    d.cell("switch", "a")
    d.cell("input", "key", "power")
    wait_for(lambda: power(d)["screen_on"], 5, "the screen on")
    assert brightest(shot(d)) == full
    assert d.sh("a", f"cat {bl}/bl_power {bl}/actual_brightness").stdout == "0\n255\n"


def test_the_vt_in_front_reads_the_screen_blank(daemon, tmp_path):
    """As on a Linux console: TIOCLINUX TIOCL_BLANKEDSCREEN on the VT answers the blanked
    VT's number while the screen is off and 0 while on; VT_GETSTATE and KDGETMODE do not
    change. A VP behind reads 0: it learns nothing of the screen, until it is in front."""
    from conftest import build_static

    probe = build_static(Path(__file__).resolve().parent / "vtprobe.c", tmp_path)
    d = daemon
    for name in ("a", "b"):
        create_vp_with(d, name, {"usr/bin/vtprobe": probe})
    assert d.cell("active").stdout.strip() == "a"

    def blank(name):
        out = d.exec(name, "vtprobe", "blank").stdout
        return dict(line.split("=", 1) for line in out.split())

    on = {"blanked": "0", "fgconsole": "0", "active": "1", "kdmode": "0", "kdmode_value": "0"}
    assert blank("a") == on
    d.cell("input", "key", "power")
    wait_for(lambda: not power(d)["screen_on"], 5, "the screen off")
    assert blank("a") == dict(on, blanked="1")
    assert blank("b") == dict(on, fgconsole="1", active="2")
    d.cell("switch", "b")
    assert blank("b") == dict(on, blanked="1")
    assert blank("a")["blanked"] == "0"
    d.cell("input", "key", "power")
    wait_for(lambda: power(d)["screen_on"], 5, "the screen on")
    assert blank("b") == on


def test_a_vnc_client_sees_the_dimmed_output(make_daemon):
    import rfb

    port = rfb.free_port()
    d = make_daemon(extra_args=["--vnc", f"127.0.0.1:{port}"])
    d.create_start("a")
    s = rfb.connect_to(d, port)
    right = rfb.XRES - 1  # the root's bar, past the name: its colour alone
    try:
        s.settimeout(5)
        rfb.request(s, incremental=False)
        full = rfb.pixel(rfb.read_update(s), right, 0)
        assert full, full
        d.sh("a", "echo 128 > /sys/class/backlight/panel/brightness")
        want = sum(((full >> k) & 255) * 128 // 255 << k for k in (0, 8, 16))

        def dimmed():
            rfb.request(s, incremental=False)
            got = rfb.pixel(rfb.read_update(s), right, 0)
            return all(abs(((got >> k) & 255) - ((want >> k) & 255)) <= 1 for k in (0, 8, 16))

        wait_for(dimmed, 5, f"the bar at #{want:06x}")
    finally:
        s.close()
