"""What a hostile VP could do with its power files (src/devices/power*.c, SECURITY.md
"Power"): from the background it cannot make the device suspend nor touch the real
backlight or LEDs; garbage, huge writes and thousands of wake locks are refused or
capped and cost the daemon nothing it keeps; the files are its root's alone, it cannot
add or remove any, nor lift the mount that serves them."""

import json
import os

import pytest

from attackers import add_attacker, attack, carries_on


def power(d):
    return d.stats()["daemon"]["power"]


def fake_light(base, name, maximum):
    path = base / name
    path.mkdir()
    (path / "max_brightness").write_text(f"{maximum}\n")
    (path / "brightness").write_text("7\n")
    return path


@pytest.fixture
def two(make_daemon, attack_exe, tmp_path):
    """good (in the foreground) and bad (behind it), a fake backlight and red LED."""
    panel = fake_light(tmp_path, "panel", 100)
    red = fake_light(tmp_path, "red", 1)
    d = make_daemon(extra_args=["--backlight", str(panel), "--led", f"red={red}"])
    add_attacker(d, "good", attack_exe)
    add_attacker(d, "bad", attack_exe)
    assert d.cell("active").stdout.strip() == "good"
    d.panel, d.red = panel, red
    return d


def test_a_background_vp_cannot_suspend_the_device(two):
    d = two
    # Nothing anywhere holds a lock: a foreground request would suspend.
    for req in ("mem", "freeze", "standby", "mem\n", "on"):
        d.sh("bad", f"printf '{req}' > /sys/power/state")
    d.sh("bad", "for i in $(seq 50); do echo mem > /sys/power/state; done")
    st = power(d)
    assert st["state"] == "awake" and not st["pending"] and st["suspends"] == 0, st
    assert st["suspend_ignored"] == 54, st
    # Nor can it wake the device or cancel the foreground's request.
    d.sh("good", "echo mem > /sys/power/state")
    assert power(d)["state"] == "suspended"
    d.sh("bad", "echo on > /sys/power/state; echo x > /sys/power/wake_lock")
    assert power(d)["state"] == "suspended"
    carries_on(d, "good", "bad")


def test_a_background_vp_cannot_touch_the_real_lights(two):
    d = two
    d.sh("good", "echo 255 > /sys/class/backlight/panel/brightness")
    d.sh("good", "echo 255 > /sys/class/leds/red/brightness")
    assert (d.panel / "brightness").read_text() == "100\n"
    d.sh("bad", "for i in $(seq 100); do echo 0 > /sys/class/backlight/panel/brightness;"
                "echo 4 > /sys/class/backlight/panel/bl_power;"
                "echo 0 > /sys/class/leds/red/brightness; done")
    assert (d.panel / "brightness").read_text() == "100\n"
    assert (d.red / "brightness").read_text() == "1\n"
    # Its level is its own: the foreground's reads are unchanged.
    assert d.sh("good", "cat /sys/class/backlight/panel/actual_brightness").stdout == "255\n"
    # The root's screen-off is the foreground's: the background cannot undo it.
    d.cell("input", "key", "power")
    d.sh("bad", "echo 0 > /sys/class/backlight/panel/bl_power")
    assert (d.panel / "brightness").read_text() == "0\n"


def test_garbage_and_huge_writes_are_refused(two):
    d = two
    bad = [
        "head -c 4096 /dev/zero",                      # NULs
        "head -c 4096 /dev/urandom",                   # binary
        "head -c 5000 /dev/zero | tr '\\0' a",         # more than a page in one write
        "head -c 200 /dev/zero | tr '\\0' a",          # a name too long
        "printf 'a 99999999999999999999999'",          # a timeout past 64 bits
        "printf 'a -5'", "printf 'a\\tb\\tc'", "printf '\\n'",
    ]
    for cmd in bad:
        for f in ("wake_lock", "wake_unlock", "state"):
            r = d.sh("bad", f"{cmd} | dd of=/sys/power/{f} bs=8192 2>&1", check=False)
            assert r.returncode != 0 or "Invalid argument" in r.stdout, (cmd, f, r)
    for f in ("class/backlight/panel/brightness", "class/backlight/panel/bl_power",
              "class/leds/red/brightness"):
        for value in ("-1", "256", "4294967296", "1e3", "0x10", " 1", "\\n"):
            r = d.sh("bad", f"printf '{value}' > /sys/{f}", check=False)
            assert r.returncode != 0, (f, value)
    assert power(d)["vps"]["bad"]["wake_locks"] == []
    carries_on(d, "good", "bad")


@pytest.fixture
def small_quarantine(monkeypatch):
    """ASan keeps freed memory in a quarantine of 256 MB, which RSS counts as the daemon's:
    1 MB for the daemon made after it, so that the RSS bound measures what cellsd keeps.
    A plain build ignores the variable."""
    opts = os.environ.get("ASAN_OPTIONS")
    monkeypatch.setenv("ASAN_OPTIONS", f"{opts}:quarantine_size_mb=1" if opts
                       else "quarantine_size_mb=1")


def test_thousands_of_wake_locks_are_capped(small_quarantine, two):
    d = two
    rss = d.stats()["daemon"]["rss_kb"]
    r = d.sh("bad", "n=0; i=0; while [ $i -lt 3000 ]; do "
                    "echo lock$i > /sys/power/wake_lock 2>/dev/null && n=$((n+1)); "
                    "i=$((i+1)); done; echo $n", timeout=120)
    assert r.stdout.strip() == "100", r
    r = d.sh("bad", "echo one-more > /sys/power/wake_lock", check=False)
    assert r.returncode != 0 and "No space left" in r.stderr, r
    locks = power(d)["vps"]["bad"]["wake_locks"]
    assert len(locks) == 100
    # The listing stays within its page, whole names only.
    listed = d.sh("bad", "cat /sys/power/wake_lock").stdout
    assert listed.endswith("\n") and set(listed.split()) <= set(locks)
    assert d.stats()["daemon"]["rss_kb"] - rss < 4096
    carries_on(d, "good", "bad")


def test_the_files_are_the_vps_roots_and_fixed(two, attack_exe):
    d = two
    for cmd in ("touch /sys/power/new", "rm /sys/power/wake_lock",
                "mkdir /sys/class/backlight/panel/x", "chmod 666 /sys/power/state",
                "mv /sys/power/state /sys/power/s",
                "ln -s /etc/passwd /sys/class/leds/red/evil"):
        assert d.sh("bad", cmd, check=False).returncode != 0, cmd
    # Another user of the VP may read, not write.
    r = d.sh("bad", "su -s /bin/sh nobody -c 'cat /sys/power/wake_lock'")
    assert r.stdout == "\n", r
    r = d.sh("bad", "su -s /bin/sh nobody -c 'echo x > /sys/power/wake_lock'", check=False)
    assert r.returncode != 0 and "Permission denied" in r.stderr, r
    for how in ("umount", "umount-detach"):
        status, got = attack(d, "bad", how, "/sys/devices/platform/cells-power")
        assert status == 1, f"{how}: {got}"
    carries_on(d, "good", "bad")
