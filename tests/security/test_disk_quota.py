"""Issue 11, item 6: a VP's files have a quota the kernel enforces (--disk, an ext4 image
of the VP's own on a loop device), in bytes and in inodes; the host and the other VPs keep
their space; the files survive stops and daemon restarts; destroy leaves nothing."""

import os
import re
import time

import pytest

from conftest import Daemon, loop_devices_under

MiB = 1 << 20


@pytest.fixture(scope="module")
def fill(build_static):
    return build_static("fill.c")


def install(d, name, data, path="/fill"):
    d.sh(name, f"cat > {path} && chmod 755 {path}", input=data)


def run_fill(d, name, what, where):
    out = d.exec(name, "/fill", what, where, timeout=120).stdout.split()
    assert len(out) == 3 and out[0] == what, out
    return int(out[1]), out[2]


def image(d, name):
    return d.state / "vps" / name / "disk.img"


def allocated(path):
    return os.stat(path).st_blocks * 512


def wait_no_loops(d, name, timeout=5.0):
    deadline = time.monotonic() + timeout
    while loop_devices_under(d.state / "vps" / name):
        assert time.monotonic() < deadline, loop_devices_under(d.state / "vps" / name)
        time.sleep(0.05)


def test_writing_past_the_quota_gets_enospc(make_daemon, fill):
    d = make_daemon()
    d.create_start("a", "b", disk="128M")
    install(d, "a", fill)
    written, why = run_fill(d, "a", "bytes", "/root/big")
    assert why in ("ENOSPC", "EDQUOT"), why
    assert 64 * MiB < written <= 128 * MiB, written
    # What the host gave: the image's blocks, no more than its size.
    assert allocated(image(d, "a")) <= 128 * MiB
    # Another VP still writes; the full one again once it freed its space.
    d.sh("b", "dd if=/dev/zero of=/root/ten bs=1M count=10 2>/dev/null && sync")
    assert d.exec("b", "stat", "-c", "%s", "/root/ten").stdout.strip() == str(10 * MiB)
    d.sh("a", "rm /root/big && echo again > /root/small && cat /root/small")
    assert len(loop_devices_under(d.state)) == 2


def test_inodes_are_bounded(make_daemon, fill):
    d = make_daemon()
    d.create_start("a", disk="128M")
    install(d, "a", fill)
    d.sh("a", "mkdir /root/many")
    made, why = run_fill(d, "a", "inodes", "/root/many")
    assert why in ("ENOSPC", "EDQUOT"), why
    # mke2fs gives 128M one inode per 4 KiB at most.
    assert 1000 < made <= (128 * MiB) // 4096, made
    assert allocated(image(d, "a")) <= 128 * MiB
    # The VP itself carries on: its shell runs, and writes once it made room.
    d.sh("a", "rm -r /root/many && echo ok > /root/after")


def test_files_survive_stop_start_and_daemon_restart(make_daemon):
    d = make_daemon()
    d.create_start("p", disk="96M")
    d.sh("p", "echo kept > /root/kept")
    d.cell("stop", "p")
    wait_no_loops(d, "p")
    d.cell("start", "p")
    assert d.exec("p", "cat", "/root/kept").stdout == "kept\n"
    # A daemon killed outright: the next one finds the VP's disk as it was, and neither
    # the old VP's mount nor its loop device is left.
    d.kill9()
    d.start()
    d.wait_state("p", "running")
    assert d.exec("p", "cat", "/root/kept").stdout == "kept\n"
    # The killed VP's loop device goes with its mount, as its namespace is torn down.
    deadline = time.monotonic() + 5
    while len(loop_devices_under(d.state / "vps" / "p")) != 1:
        assert time.monotonic() < deadline, loop_devices_under(d.state / "vps" / "p")
        time.sleep(0.05)


def test_destroy_removes_everything(make_daemon):
    d = make_daemon()
    d.create_start("gone", disk="96M")
    d.sh("gone", "echo x > /root/x")
    d.cell("destroy", "--force", "gone")
    assert not (d.state / "vps" / "gone").exists()
    assert not (d.run / "vps" / "gone").exists()
    wait_no_loops(d, "gone")
    # The rest (mounts, cgroups, processes) is checked when the daemon stops.


def test_a_plain_vp_gets_a_quota_with_its_files(make_daemon, fill):
    d = make_daemon()
    d.create_start("old", disk="none")
    assert (d.upper("old")).is_dir() and not image(d, "old").exists()
    d.sh("old", "mkdir -p /root/dir && echo mine > /root/dir/file && rm /etc/os-release")
    err = d.fail("config", "old", "--disk", "128M")
    assert "stop it" in err, err
    d.cell("stop", "old")
    d.cell("config", "old", "--disk", "128M")
    d.cell("start", "old")
    assert image(d, "old").exists() and not d.upper("old").exists()
    assert d.exec("old", "cat", "/root/dir/file").stdout == "mine\n"
    # The whiteout of a file of the image came along too.
    assert d.exec("old", "test", "-e", "/etc/os-release", check=False).returncode != 0
    install(d, "old", fill)
    _, why = run_fill(d, "old", "bytes", "/root/big")
    assert why == "ENOSPC", why


def test_a_disk_grows_and_does_not_shrink(make_daemon):
    d = make_daemon()
    d.create_start("g", disk="96M")

    def size_kib():
        fields = d.exec("g", "df", "-k", "/").stdout.splitlines()[-1].split()
        return int(fields[1])

    before = size_kib()
    d.cell("stop", "g")
    err = d.fail("config", "g", "--disk", "64M")
    assert "shrink" in err, err
    err = d.fail("config", "g", "--disk", "none")
    assert "cannot be removed" in err, err
    d.cell("config", "g", "--disk", "256M")
    d.cell("start", "g")
    after = size_kib()
    assert after > before + 100 * 1024, (before, after)
    assert os.stat(image(d, "g")).st_size == 256 * MiB


class BuiltInDefaults(Daemon):
    """A daemon without the test suite's --default-disk none."""

    def argv(self):
        argv = super().argv()
        i = argv.index("--default-disk")
        return argv[:i] + argv[i + 2:]


def test_defaults_are_limits(make_daemon):
    d = make_daemon(cls=BuiltInDefaults)
    d.cell("create", "v")
    shown = d.cell("config", "v").stdout
    assert re.search(r"^memory +2G$", shown, re.M), shown
    assert re.search(r"^disk +8G$", shown, re.M), shown
    assert re.search(r"^pids +4096$", shown, re.M), shown
    d.cell("config", "v", "--memory", "max", "--pids", "max")
    shown = d.cell("config", "v").stdout
    assert re.search(r"^memory +no limit$", shown, re.M), shown
    assert re.search(r"^pids +no limit$", shown, re.M), shown
    d.cell("start", "v")
    # Sparse: the 8G image takes what mke2fs wrote, a few MiB.
    assert allocated(image(d, "v")) < 64 * MiB
    d.cell("stop", "v")


def test_a_migration_that_does_not_fit_loses_nothing(make_daemon):
    d = make_daemon()
    d.create_start("big", disk="none")
    # Random bytes: mke2fs -d would store zeros as holes.
    d.sh("big", "dd if=/dev/urandom of=/root/big bs=1M count=80 2>/dev/null && "
                "echo mine > /root/mine && sync")
    d.cell("stop", "big")
    d.cell("config", "big", "--disk", "64M")
    err = d.fail("start", "big")
    assert "mke2fs" in err, err
    d.cell("config", "big", "--disk", "none")
    d.cell("start", "big")
    assert d.exec("big", "cat", "/root/mine").stdout == "mine\n"
    assert d.exec("big", "stat", "-c", "%s", "/root/big").stdout.strip() == str(80 * MiB)
    assert not image(d, "big").exists()
