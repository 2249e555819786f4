"""The VP's /sys and udev database (src/devices/sysfs_layout.h), proved with software
nobody here wrote, and checked against what cellsd composes: in a VP,
tests/integration/sysfs_materialize.c asks the VP's real /dev/fb0 and /dev/input/eventN
their ioctls and writes the layout as plain files; the test binds them over the VP's /sys
and /run/udev (nsenter into its mount namespace, from the host) and asks Debian's udevadm
and libudev (tests/integration/udevprobe.c: Qt's and Xorg's discovery, Xorg's fbdev
probe, libinput's lookup by device number) what they see.

libudev (systemd 252) takes a device only if its sysfs directory is on a sysfs
(fstatfs: SYSFS_MAGIC), unless SYSTEMD_DEVICE_VERIFY_SYSFS=0 is in the environment; plain
files on a tmpfs, like a FUSE file system, are not. The probes run with that variable,
and test_libudev_wants_sysfs_itself shows the refusal without it, and that an fstatfs
answering SYSFS_MAGIC for /sys is all it takes (docs/DEVICES.md, "The VP's /sys")."""
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from test_display import create_vp_with, ensure_packages, put_dynamic, put_file

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LAYOUT_SRC = ["src/devns/sysfs_tree.c", "src/devices/sysfs_format.c",
              "src/devices/sysfs_layout.c", "src/devices/udev_db.c", "src/common/error.c"]


@pytest.fixture(scope="module")
def probes():
    """sysfs-materialize (static) and udevprobe (dynamic, against the host's libudev)."""
    ensure_packages("libudev-dev")
    tmp = Path(tempfile.mkdtemp(prefix="cells-sysfs-"))
    try:
        cflags = ["-O2", "-std=gnu11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                  "-Wno-format-truncation", "-I", str(ROOT / "src")]
        r = subprocess.run(["gcc", "-static", *cflags, "-o", str(tmp / "sysfs-materialize"),
                            str(HERE / "sysfs_materialize.c"),
                            *[str(ROOT / s) for s in LAYOUT_SRC]],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"cannot build sysfs-materialize:\n{r.stderr}"
        r = subprocess.run(["gcc", *cflags, "-o", str(tmp / "udevprobe"),
                            str(HERE / "udevprobe.c"), "-ludev"],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"cannot build udevprobe:\n{r.stderr}"
        r = subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-shared", "-fPIC", "-o",
                            str(tmp / "sysfs_magic_preload.so"),
                            str(HERE / "sysfs_magic_preload.c"), "-ldl"],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"cannot build sysfs_magic_preload.so:\n{r.stderr}"
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def lines(text, prefix):
    return [line for line in text.splitlines() if line.startswith(prefix + " ")]


@pytest.fixture
def vp(daemon, probes):
    """A VP with the probes, udevadm in /opt/host; returns (run udevprobe, run udevadm)."""
    udevadm = shutil.which("udevadm")
    if not udevadm:
        pytest.skip("no udevadm on the host")
    create_vp_with(daemon, "ui", {"usr/bin/sysfs-materialize":
                                  (probes / "sysfs-materialize").read_bytes()}, start=False)
    put_file(daemon, "ui", "opt/host/lib/sysfs_magic_preload.so",
             probes / "sysfs_magic_preload.so")
    probe = put_dynamic(daemon, "ui", probes / "udevprobe")
    adm = put_dynamic(daemon, "ui", Path(udevadm))
    daemon.cell("start", "ui")
    env = ["env", "SYSTEMD_DEVICE_VERIFY_SYSFS=0"]
    return (lambda *a, **kw: daemon.exec("ui", *env, *probe, *a, **kw),
            lambda *a, **kw: daemon.exec("ui", *env, *adm, *a, **kw))


def bind_layout(daemon, name):
    """Writes the layout in the VP (from its devices) and binds it over /sys and
    /run/udev in the VP's mount namespace."""
    out = daemon.exec(name, "/usr/bin/sysfs-materialize", "/tmp/vsys").stdout
    assert re.match(r"nodes \d+ inputs 2\n", out), out
    # Made by the VP's root: the host's root is no user of the VP's file system.
    daemon.exec(name, "mkdir", "-p", "/run/udev")
    pid = daemon.vp(name)["pid"]
    r = subprocess.run(["nsenter", "-t", str(pid), "-m", "--", "/bin/busybox", "sh", "-c",
                        "mount --bind /tmp/vsys/sys /sys && "
                        "mount --bind /tmp/vsys/run/udev /run/udev"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def test_libudev_finds_the_devices(daemon, vp):
    probe, _ = vp
    # cellsd composes the VP's /sys from its devices (test_sysfs.py); the layout the VP's
    # own ioctls describe, bound over it, must be found the same way.
    composed = (lines(probe("qt").stdout, "qt"), sorted(lines(probe("xorg").stdout, "xorg")))

    bind_layout(daemon, "ui")
    qt = probe("qt").stdout
    assert (lines(qt, "qt"), sorted(lines(probe("xorg").stdout, "xorg"))) == composed
    assert lines(qt, "qt") == ["qt touchscreen /dev/input/event0",
                               "qt keyboard /dev/input/event1"], qt

    xorg = sorted(lines(probe("xorg").stdout, "xorg"))
    assert len(xorg) == 2, xorg
    assert xorg[0] == "xorg /dev/input/event0 name=Cells touchscreen usb_id=1d6b:0001 " \
                      "flags=TOUCHSCREEN,", xorg
    assert xorg[1].startswith("xorg /dev/input/event1 name=Cells keys usb_id=1d6b:0002 "
                              "flags=KEY,KEYBOARD,"), xorg

    # Xorg and Qt make a monitor of udev's events first: there is none in a VP (no udevd,
    # no /run/udev/control), but the monitor must still be made.
    assert probe("monitor").stdout == "monitor ok 1\n"

    dev = probe("devnum", "13", "64").stdout
    assert dev.startswith("devnum /sys/devices/virtual/input/input0/event0 initialized=1 "), dev
    for prop in ("DEVNAME=/dev/input/event0", "SUBSYSTEM=input", "ID_INPUT=1",
                 "ID_INPUT_TOUCHSCREEN=1", "MAJOR=13", "MINOR=64"):
        assert f" {prop}" in dev, (prop, dev)
    assert "ID_INPUT_TOUCHPAD" not in dev, dev


def test_xorg_fbdev_probe_takes_fb0(daemon, vp):
    probe, _ = vp
    # cellsd's composed /sys has fb0 where the probe looks, and so has the layout the VP's
    # own ioctls describe.
    assert "fbdev-probe ok ../../../bus/platform\n" in probe("fb").stdout
    bind_layout(daemon, "ui")
    out = probe("fb").stdout
    assert "fb /dev/fb0 parent=platform driver=cells-fb initialized=1\n" in out, out
    assert "fbdev-probe ok ../../../bus/platform\n" in out, out


def test_udevadm_reads_the_database(daemon, vp):
    _, udevadm = vp
    bind_layout(daemon, "ui")
    out = udevadm("info", "/sys/class/input/event0").stdout
    for line in ("P: /devices/virtual/input/input0/event0", "N: input/event0",
                 "E: SUBSYSTEM=input", "E: ID_INPUT=1", "E: ID_INPUT_TOUCHSCREEN=1",
                 "E: DEVNAME=/dev/input/event0"):
        assert line in out.splitlines(), (line, out)
    out = udevadm("info", "--attribute-walk", "/sys/class/input/event1").stdout
    assert "looking at parent device '/devices/virtual/input/input1':" in out, out
    assert 'ATTRS{name}=="Cells keys"' in out, out
    assert 'ATTRS{id/vendor}=="1d6b"' in out, out
    out = udevadm("info", "/sys/class/graphics/fb0").stdout.splitlines()
    for line in ("P: /devices/platform/cells-fb.0/graphics/fb0", "N: fb0", "D: c 29:0",
                 "E: TAGS=:seat:"):
        assert line in out, (line, out)
    out = udevadm("info", "/sys/class/tty/tty0").stdout.splitlines()
    assert "N: tty0" in out and "D: c 4:0" in out, out


def test_libudev_wants_sysfs_itself(daemon, vp, probes):
    """Without SYSTEMD_DEVICE_VERIFY_SYSFS=0, libudev refuses every device of a /sys that
    is not sysfs: this is what serving the layout must get around (a trapped fstatfs, or
    the variable in the VP's environment). An fstatfs and statfs that say SYSFS_MAGIC for
    /sys (a preload standing in for the trap) are enough."""
    bind_layout(daemon, "ui")
    env = ["env", "LD_LIBRARY_PATH=/opt/host/lib"]
    r = daemon.exec("ui", *env, "/opt/host/bin/udevprobe", "qt")
    assert lines(r.stdout, "qt") == [], r.stdout
    r = daemon.exec("ui", *env, "/opt/host/bin/udevadm", "--debug", "info",
                    "/sys/class/input/event0", check=False)
    assert r.returncode != 0 and "is outside of sysfs, refusing" in r.stderr, r.stderr

    env.append("LD_PRELOAD=/opt/host/lib/sysfs_magic_preload.so")
    r = daemon.exec("ui", *env, "/opt/host/bin/udevprobe", "qt")
    assert lines(r.stdout, "qt") == ["qt touchscreen /dev/input/event0",
                                     "qt keyboard /dev/input/event1"], r.stdout
    r = daemon.exec("ui", *env, "/opt/host/bin/udevprobe", "fb")
    assert "fb /dev/fb0 parent=platform driver=cells-fb initialized=1\n" in r.stdout, r.stdout
    r = daemon.exec("ui", *env, "/opt/host/bin/udevadm", "info", "/sys/class/input/event0")
    assert "E: ID_INPUT_TOUCHSCREEN=1" in r.stdout.splitlines(), r.stdout
