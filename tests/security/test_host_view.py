"""What a VP learns of the host (issue 11, item 8): no host hardware in its /sys, covers
that its root cannot lift, and the page cache of the shared image (see SECURITY.md for
the measured reach of what stays open)."""

import os
import subprocess

import pytest

from attackers import add_attacker, attack, carries_on, results


@pytest.fixture
def two(daemon, attack_exe):
    add_attacker(daemon, "bad", attack_exe)
    add_attacker(daemon, "good", attack_exe)
    return daemon


def ls(d, vp, path):
    r = d.exec(vp, "ls", "-A", path, check=False)
    return r.stdout.split() if r.returncode == 0 else None


def test_sys_shows_no_host_hardware(two):
    d = two
    for path in ("/sys/block", "/sys/firmware", "/sys/module"):
        assert ls(d, "bad", path) in ([], None), f"{path}: {ls(d, 'bad', path)}"
    # /sys/power is the power device's (test_power_attacks.py), not the kernel's.
    assert ls(d, "bad", "/sys/power/") == ["state", "wake_lock", "wake_unlock"]
    # The VP's own devices, laid out as the kernel's (test_sysfs.py), and nothing else.
    assert ls(d, "bad", "/sys/bus") == ["platform"]
    assert ls(d, "bad", "/sys/bus/platform/devices") == ["cells-fb.0"]
    assert ls(d, "bad", "/sys/bus/pci") is None
    assert ls(d, "bad", "/sys/dev") == ["char"]
    assert sorted(ls(d, "bad", "/sys/dev/char")) == ["13:64", "13:65", "29:0", "4:0", "4:1"]
    assert sorted(ls(d, "bad", "/sys/class")) == ["backlight", "graphics", "input", "leds", "net",
                                                 "tty"]
    assert sorted(ls(d, "bad", "/sys/devices")) == ["platform", "system", "virtual"]
    assert ls(d, "bad", "/sys/kernel") == ["mm"]
    assert ls(d, "bad", "/sys/fs") == ["cgroup"]
    # What programs read is there: the VP's own network devices, the CPUs.
    assert "lo" in ls(d, "bad", "/sys/class/net")
    assert d.exec("bad", "cat", "/sys/class/net/lo/mtu").stdout.strip() == "65536"
    online = d.exec("bad", "cat", "/sys/devices/system/cpu/online").stdout.strip()
    assert online == open("/sys/devices/system/cpu/online").read().strip()
    found = d.sh("bad", "find /sys -name 'pci*' -o -name 'dmi' -o -name 'vd[a-z]' "
                        "-o -name 'slabinfo' 2>/dev/null").stdout.split()
    assert not found, found
    carries_on(d, "bad", "good")


def test_sys_covers_cannot_be_lifted(two):
    d = two
    for path in ("/sys/bus", "/sys/class", "/sys/devices", "/sys/kernel", "/sys"):
        for how in ("umount", "umount-detach", "remount-rw"):
            status, got = attack(d, "bad", how, path)
            assert status == 1, f"{how} {path}: {got}"
    # A sysfs of its own would show everything again: the kernel refuses it while the
    # VP's /sys is covered (mount_too_revealing).
    d.exec("bad", "mkdir", "-p", "/tmp/sysfs")
    status, got = attack(d, "bad", "mount", "sysfs", "/tmp/sysfs")
    assert status == 1, got
    assert ls(d, "bad", "/sys/bus") == ["platform"]
    assert ls(d, "bad", "/tmp/sysfs") == []
    carries_on(d, "bad", "good")


def host_probe(exe, path):
    """attack cache-probe PATH run on the host (as root: mincore sees every page)."""
    r = subprocess.run([str(exe), "cache-probe", str(path), "m"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    return results(r.stdout)


def test_page_cache_of_the_shared_image(daemon, attack_exe, tmp_path):
    """A VP cannot evict the shared image's pages (fadvise DONTNEED and MADV_PAGEOUT do
    nothing) nor use cachestat, and learns nothing from mincore (cellsd answers it: every
    page resident) or RWF_NOWAIT (overlayfs refuses it)."""
    d = daemon
    exe = tmp_path / "attack"
    exe.write_bytes(attack_exe)
    exe.chmod(0o755)
    image_file = d.rootfs / "usr" / "share" / "cells-cache-probe"
    image_file.parent.mkdir(parents=True, exist_ok=True)
    image_file.write_bytes(os.urandom(4 << 20))
    try:
        add_attacker(d, "reader", attack_exe)
        add_attacker(d, "spy", attack_exe)
        path = "/usr/share/cells-cache-probe"
        fd = os.open(image_file, os.O_RDONLY)
        os.fsync(fd)  # only clean pages are dropped
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        pages = int(host_probe(exe, image_file)["pages"])
        assert int(host_probe(exe, image_file)["mincore"]) == 0
        _, cold = attack(d, "spy", "cache-probe", path, "mc")
        assert cold["cachestat"] == "ENOSYS", cold
        assert int(host_probe(exe, image_file)["mincore"]) == 0
        d.exec("reader", "attack", "cache-read", path)
        assert int(host_probe(exe, image_file)["mincore"]) == pages
        _, warm = attack(d, "spy", "cache-probe", path, "mn")
        assert int(cold["mincore"]) == int(warm["mincore"]) == pages, (cold, warm)
        assert int(warm["nowait"]) < 0, warm
        # The spy may not evict what the reader read.
        _, evict = attack(d, "spy", "cache-evict", path)
        assert evict == {"fadvise": "ok", "pageout": "ok"}, evict
        assert int(host_probe(exe, image_file)["mincore"]) == pages, "pages were evicted"
        print(f"page cache probe of {pages} pages from another VP: before the read "
              f"{cold}, after {warm}")
        carries_on(d, "reader", "spy")
    finally:
        image_file.unlink()
