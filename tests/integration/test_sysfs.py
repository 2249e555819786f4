"""A VP's /sys and /run/udev: its devices laid out as the kernel and udevd lay them out
(DESIGN.md §4, "The VP's /sys"), the kernel's sysfs only where it shows the VP's own
objects, nothing of the host's hardware, and nothing a VP may change."""

import os

import pytest


@pytest.fixture
def vp(daemon):
    daemon.create_start("sys1")
    return daemon


def sh(d, script):
    r = d.sh("sys1", script)
    return r.stdout


def test_the_framebuffer_is_where_xorgs_probe_looks(vp):
    d = vp
    link = sh(d, "readlink /sys/class/graphics/fb0").strip()
    assert link.endswith("devices/platform/cells-fb.0/graphics/fb0"), link
    # Xorg's fbdev probe refuses a framebuffer whose device is on the PCI bus.
    sub = sh(d, "readlink /sys/class/graphics/fb0/device/subsystem").strip()
    assert sub.endswith("bus/platform"), sub
    assert sh(d, "cat /sys/class/graphics/fb0/dev").strip() == "29:0"
    size = sh(d, "cat /sys/class/graphics/fb0/virtual_size").strip()
    bpp = sh(d, "cat /sys/class/graphics/fb0/bits_per_pixel").strip()
    assert bpp == "32" and size.split(",")[0] == "720", (size, bpp)
    name = sh(d, "cat /sys/class/graphics/fb0/name").strip()
    assert name == "cells mux_fb", name


def test_input_devices_are_described_for_udev(vp):
    d = vp
    for n, kind in ((0, "ID_INPUT_TOUCHSCREEN=1"), (1, "ID_INPUT_KEYBOARD=1")):
        assert sh(d, f"cat /sys/class/input/event{n}/dev").strip() == f"13:{64 + n}"
        name = sh(d, f"cat /sys/class/input/event{n}/device/name").strip()
        assert name.startswith("Cells"), name
        db = sh(d, f"cat /run/udev/data/c13:{64 + n}")
        assert "E:ID_INPUT=1" in db and f"E:{kind}" in db, db
    # The touchscreen's key bits are the ones EVIOCGBIT answers: BTN_TOUCH (330) is set.
    words = sh(d, "cat /sys/class/input/input0/capabilities/key").split()
    bits = 0
    for w in words:
        bits = (bits << 64) | int(w, 16)
    assert bits >> 330 & 1, words
    props = sh(d, "cat /sys/class/input/input0/properties").strip()
    assert int(props, 16) & 0x2, props  # INPUT_PROP_DIRECT


def test_the_virtual_terminal_is_there(vp):
    d = vp
    assert sh(d, "cat /sys/class/tty/tty0/active").strip() == "tty1"
    assert sh(d, "cat /sys/class/tty/tty1/dev").strip() == "4:1"


def test_the_kernels_sysfs_shows_only_the_vps_own(vp):
    d = vp
    assert sh(d, "ls /sys/bus/pci 2>/dev/null; ls /sys/bus/pci/devices 2>/dev/null; true") == ""
    assert "lo" in sh(d, "ls /sys/class/net").split()
    assert sh(d, "cat /sys/devices/system/cpu/online").strip()
    # Read-only for the VP's root, and it cannot unmount what covers it.
    r = d.sh("sys1", "echo x > /sys/class/graphics/fb0/name", check=False)
    assert r.returncode != 0
    r = d.sh("sys1", "umount /sys/class", check=False)
    assert r.returncode != 0
    assert sh(d, "cat /sys/class/graphics/fb0/name").strip() == "cells mux_fb"


def test_the_composed_sys_covers_the_kernels_in_one_mount(vp):
    """Every top-level directory of the kernel's sysfs is there, empty unless a device
    fills it, with the kernel's own parts bound in: one mount for the tree (seal.c), not
    one for each directory."""
    d = vp
    host = sorted(n for n in os.listdir("/sys") if os.path.isdir(os.path.join("/sys", n)))
    assert sorted(sh(d, "ls /sys").split()) == host
    for name in ("block", "module", "firmware"):
        if name in host:
            assert sh(d, f"ls -A /sys/{name}") == "", name
    # /sys/power is the power device's (test_power.py), nothing of the kernel's.
    assert sh(d, "ls -A /sys/power/").split() == ["state", "wake_lock", "wake_unlock"]
    mounts = [line.split()[4] for line in sh(d, "cat /proc/self/mountinfo").splitlines()
              if line.split()[4] == "/sys" or line.split()[4].startswith("/sys/")]
    kept = {"/sys/class/net", "/sys/devices/virtual/net", "/sys/devices/system/cpu",
            "/sys/fs/cgroup", "/sys/kernel/mm/transparent_hugepage",
            "/sys/devices/platform/cells-power"}
    # The kernel's sysfs and the composed tree at /sys (the one over the other), the kept
    # parts, the power device's files, and what the VP itself mounts on the cgroup mount
    # point.
    assert mounts.count("/sys") == 2, mounts
    assert kept <= set(mounts), mounts
    assert not [m for m in mounts if m != "/sys" and m not in kept
                and not m.startswith("/sys/fs/cgroup/")], mounts


def test_a_vp_without_devices_has_no_device_files(daemon):
    d = daemon
    d.cell("create", "bare", "--device", "display=none", "--device", "input=none",
           "--device", "vt=none")
    d.cell("start", "bare")
    r = d.sh("bare", "ls /sys/class/graphics /sys/class/input /run/udev/data 2>&1; true")
    assert "fb0" not in r.stdout and "event0" not in r.stdout, r.stdout
    assert "lo" in d.sh("bare", "ls /sys/class/net").stdout.split()


def test_the_composed_sys_says_it_is_sysfs(vp):
    """libudev (systemd 251 and later) takes a device only where fstatfs says sysfs."""
    d = vp
    for path in ("/sys/class/input/event0", "/sys/devices/platform/cells-fb.0", "/sys"):
        got = sh(d, f"stat -f -c %t {path}; stat -f -c %t {path}/. < /dev/null").split()
        assert got == ["62656572", "62656572"], (path, got)
    # The kernel's parts are sysfs anyway; anything else keeps its own type.
    assert sh(d, "stat -f -c %t /sys/class/net").strip() == "62656572"
    assert sh(d, "stat -f -c %t /run/udev").strip() == "1021994"  # tmpfs
    assert sh(d, "stat -f -c %t /proc").strip() == "9fa0"


def mounted(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == str(path) for line in f)


def test_a_kept_sys_serves_the_next_start_only_while_its_tree_is_the_same(vp):
    """The composed /sys stays mounted when its VP stops (stage.c, sys_kept): the next
    start with the same devices takes it as it is; one with other devices gets a new
    one; and it goes with its VP."""
    d = vp
    kept = d.run / "dev" / "sys1" / "sys"
    d.cell("stop", "sys1")
    assert mounted(kept), "the VP's /sys did not stay for its next start"
    d.cell("start", "sys1")
    assert sh(d, "cat /sys/class/graphics/fb0/name").strip() == "cells mux_fb"
    assert "tty0" in sh(d, "ls /sys/class/tty").split()
    # Another tree: without the VT its /sys has no tty0.
    d.cell("stop", "sys1")
    d.cell("config", "sys1", "--device", "vt=none")
    d.cell("start", "sys1")
    assert "tty0" not in sh(d, "ls /sys/class/tty 2>&1; true").split()
    assert sh(d, "cat /sys/class/graphics/fb0/name").strip() == "cells mux_fb"
    d.cell("stop", "sys1")
    d.cell("config", "sys1", "--device", "vt=shared")
    d.cell("start", "sys1")
    assert "tty0" in sh(d, "ls /sys/class/tty").split()
    d.cell("destroy", "sys1", "--force")
    assert not mounted(kept) and not kept.parent.exists()


def test_a_kept_sys_goes_when_its_vp_lays_out_none(vp):
    """A start without devices that lay out files gets the kernel's /sys covered
    directory by directory (seal.c), not what is left of a kept tree."""
    d = vp
    kept = d.run / "dev" / "sys1" / "sys"
    d.cell("stop", "sys1")
    for dev in ("display", "input", "vt", "power"):  # every device with a /sys of its own
        d.cell("config", "sys1", "--device", f"{dev}=none")
    d.cell("start", "sys1")
    assert not kept.exists()
    mounts = [line.split()[4] for line in sh(d, "cat /proc/self/mountinfo").splitlines()]
    assert "/sys/devices" in mounts and "/sys/class" in mounts, mounts
    assert "fb0" not in sh(d, "ls /sys/class/graphics 2>&1; true")
