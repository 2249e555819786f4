"""Prepared VPs (`cellsd --prepare`): a stopped VP's start made ahead up to its init's exec.
Not running in any way the user sees; `cell start` releases it and it runs as any start;
its config, its destroy, an exclusive device and the daemon's end tear it down; a daemon
killed with prepared VPs leaves nothing once the next one has started and stopped."""

import json
import os
import shutil
import signal
from pathlib import Path

from conftest import UID_RANGE, cgroup_pids, cgroup_subdirs, mounts_under, procs_with_uid
from conftest import wait_for as wait_until


def vp_json(d, name):
    return {v["name"]: v for v in json.loads(d.cell("list", "--json").stdout)}[name]


def prepared(d, name):
    return vp_json(d, name)["prepared"]


def vp_procs(d, name):
    pids = set()
    for cg in d.vp_cgroup_dirs(name):
        try:
            with open(os.path.join(cg, "cgroup.procs")) as f:
                pids |= {int(p) for p in f.read().split()}
        except FileNotFoundError:
            pass
    return pids


def comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def make(make_daemon, n="all"):
    return make_daemon(extra_args=("--prepare", n))


def test_prepared_vp_is_stopped_and_waits(make_daemon):
    d = make(make_daemon)
    d.cell("create", "a", "--restart", "no")
    wait_until(lambda: prepared(d, "a"), what="a prepared")
    vp = vp_json(d, "a")
    assert vp["state"] == "stopped" and not vp["foreground"] and "pid" not in vp, vp
    # One waiting process in its cgroup: the daemon's copy before its exec, not cell-init.
    procs = vp_procs(d, "a")
    assert len(procs) == 1, procs
    waiting = procs.pop()
    assert comm(waiting) != "cell-init"
    # A copy of cellsd's memory: not dumpable (its /proc files are root's) until its exec.
    assert os.stat(f"/proc/{waiting}/environ").st_uid == 0
    assert "not running" in d.fail("exec", "a", "true", status=125)
    stats = d.stats()
    assert stats.get("running", 0) == 0, stats
    # Nor through its devices' commands.
    assert "VP a is not running" in d.fail("device", "vt", "show", "a")
    # Released: it runs as any start.
    d.cell("start", "a")
    vp = vp_json(d, "a")
    assert vp["state"] == "running" and not vp["prepared"] and vp["foreground"], vp
    assert comm(vp["pid"]) == "cell-init"
    assert "active    yes" in d.cell("device", "vt", "show", "a").stdout
    assert vp["pid"] == waiting
    assert os.stat(f"/proc/{waiting}/environ").st_uid == d.vp_uid(vp["id"])
    assert d.exec("a", "hostname").stdout.strip() == "a"
    assert d.exec("a", "cat", "/proc/1/comm").stdout.strip() == "cell-init"
    assert d.exec("a", "ls", "/dev/fb0").returncode == 0
    assert d.exec("a", "cat", "/sys/class/graphics/fb0/virtual_size").stdout.strip()
    status = d.exec("a", "cat", "/proc/self/status").stdout
    assert "Seccomp:\t2" in status and "NoNewPrivs:\t1" in status, status
    d.cell("stop", "a")
    # Prepared again after its stop, and a second start from it works too.
    wait_until(lambda: prepared(d, "a"), what="a prepared again after its stop")
    d.cell("start", "a")
    assert d.exec("a", "hostname").stdout.strip() == "a"
    d.cell("stop", "a")


def test_switch_to_released_vp(make_daemon):
    d = make(make_daemon)
    d.create_start("a", restart="no")
    d.cell("create", "b", "--restart", "no")
    wait_until(lambda: prepared(d, "b"), what="b prepared")
    assert vp_json(d, "a")["foreground"]
    assert "not running" in d.fail("switch", "b")
    d.cell("start", "b")
    d.cell("switch", "b")
    assert vp_json(d, "b")["foreground"]


def test_config_change_invalidates(make_daemon):
    d = make(make_daemon)
    d.cell("create", "a", "--restart", "no", "--pids", "200")
    wait_until(lambda: prepared(d, "a"), what="a prepared")
    old = vp_procs(d, "a")
    d.cell("config", "a", "--pids", "300")
    # Torn down and made again with the new config.
    wait_until(lambda: prepared(d, "a") and vp_procs(d, "a") and vp_procs(d, "a") != old,
               what="a prepared anew")
    assert not any(os.path.exists(f"/proc/{p}") for p in old), old
    d.cell("start", "a")
    assert (d.cgroup("pids", "a") / "pids.max").read_text().strip() == "300"
    assert d.exec("a", "hostname").stdout.strip() == "a"


def test_destroy_cleans_everything(make_daemon):
    d = make(make_daemon)
    d.cell("create", "a", "--restart", "no")
    wait_until(lambda: prepared(d, "a"), what="a prepared")
    pid = vp_procs(d, "a").pop()
    d.cell("destroy", "a")
    assert not os.path.exists(f"/proc/{pid}")
    assert not d.vp_cgroup_dirs("a"), d.vp_cgroup_dirs("a")
    assert not [m for m in mounts_under(d.run) if "/a" in m[len(str(d.run)):]], \
        mounts_under(d.run)
    assert not procs_with_uid(d.uid_base, d.uid_base + 64 * UID_RANGE)


def test_exclusive_device_never_held_by_prepared_vp(make_daemon):
    d = make(make_daemon)
    d.cell("create", "x", "--restart", "no", "--device", "display=exclusive")
    d.cell("create", "s", "--restart", "no")
    wait_until(lambda: prepared(d, "s"), what="s prepared")
    # A VP asking for a device exclusively is not prepared ...
    assert not prepared(d, "x")
    # ... and its start takes the device from the prepared ones.
    d.cell("start", "x")
    assert not prepared(d, "s")
    assert vp_json(d, "x")["state"] == "running"
    assert not vp_procs(d, "s")
    d.cell("stop", "x")
    wait_until(lambda: prepared(d, "s"), what="s prepared again once x stopped")


def test_daemon_stop_tears_down(make_daemon):
    d = make(make_daemon)
    d.cell("create", "a", "--restart", "no")
    wait_until(lambda: prepared(d, "a"), what="a prepared")
    parent = d.cgroup_parent
    assert d.stop() == 0
    assert not cgroup_pids(parent)
    assert not cgroup_subdirs(parent)
    assert mounts_under(d.run) == []


def test_sigkill_with_prepared_vps_leaves_nothing(make_daemon):
    d = make(make_daemon)
    d.cell("create", "a", "--restart", "unless-stopped")
    d.cell("create", "b", "--restart", "no")
    wait_until(lambda: prepared(d, "a") and prepared(d, "b"), what="both prepared")
    old = vp_procs(d, "a") | vp_procs(d, "b")
    parent = d.cgroup_parent
    d.kill9()
    # They die with it (their parent death signal, set before they wait) or are left in
    # their cgroups; either way the next daemon finds no more than a crashed VP leaves.
    d.extra_args = ["--prepare", "none"]
    d.start()
    # Cleaned as a crashed VP's, and not taken for a running VP to restore.
    wait_until(lambda: not any(os.path.exists(f"/proc/{p}") for p in old),
               what="the prepared children gone")
    for n in ("a", "b"):
        assert vp_json(d, n)["state"] == "stopped"
    assert not cgroup_subdirs(parent), cgroup_subdirs(parent)
    assert d.stop() == 0
    assert not cgroup_pids(parent)
    assert mounts_under(d.run) == []
    assert not procs_with_uid(d.uid_base, d.uid_base + 64 * UID_RANGE)


def test_a_prepared_vp_holds_none_of_the_daemons_descriptors(make_daemon):
    """Forked from the daemon and waiting before its exec, maybe for hours: its console,
    the socket to the daemon and cell-init's file, nothing else (another VP's device
    connections or seccomp listener, the daemon's lock and listeners)."""
    d = make(make_daemon)
    d.create_start("b")
    d.cell("create", "a", "--restart", "no")
    wait_until(lambda: prepared(d, "a"), what="a prepared")
    procs = vp_procs(d, "a")
    assert procs
    for pid in procs:
        above = {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}")
                 for fd in os.listdir(f"/proc/{pid}/fd") if int(fd) > 2}
        assert len(above) == 2, above
        assert any(what.startswith("socket:") for what in above.values()), above
        assert any("cell-init" in what for what in above.values()), above
    d.cell("start", "a")
    assert d.exec("a", "true").returncode == 0


def freeze(parent, frozen):
    """Freeze or thaw every VP group below PARENT (v1 freezer, or v2's cgroup.freeze)."""
    for group in cgroup_subdirs(parent):
        if os.path.exists(f"{group}/freezer.state"):
            Path(f"{group}/freezer.state").write_text("FROZEN" if frozen else "THAWED")
        elif os.path.exists(f"{group}/cgroup.freeze"):
            Path(f"{group}/cgroup.freeze").write_text("1" if frozen else "0")


def test_a_dead_daemons_lock_dies_with_it(make_daemon):
    """A prepared VP's child holds copies of the daemon's descriptors until its exec; frozen
    (or only slow to die) after the daemon's crash, it must not keep the state directory
    locked: the lock is the daemon process's, not its open file's."""
    d = make(make_daemon)
    d.cell("create", "a", "--restart", "no")
    wait_until(lambda: prepared(d, "a"), what="a prepared")
    parent = d.cgroup_parent
    freeze(parent, True)
    try:
        d.kill9()
        d.extra_args = ["--prepare", "none"]
        d.start()
        assert vp_json(d, "a")["state"] == "stopped"
    finally:
        freeze(parent, False)
    assert d.stop() == 0
    assert not cgroup_pids(parent)


def test_image_import_invalidates(make_daemon, tmp_path):
    d = make(make_daemon)
    d.cell("create", "a", "--restart", "no")
    wait_until(lambda: prepared(d, "a"), what="a prepared")
    old = vp_procs(d, "a")
    src = tmp_path / "rootfs"
    shutil.copytree(d.rootfs, src, symlinks=True)
    (src / "etc" / "new-tree").write_text("yes\n")
    d.cell("image", "import", "minimal", str(src), timeout=120)
    assert not any(os.path.exists(f"/proc/{p}") for p in old), old
    wait_until(lambda: prepared(d, "a"), what="a prepared again on the new image")
    d.cell("start", "a")
    assert d.exec("a", "cat", "/etc/new-tree").stdout == "yes\n"


def test_released_vp_has_its_devices(make_daemon):
    d = make(make_daemon)
    d.cell("create", "a", "--restart", "no")
    wait_until(lambda: prepared(d, "a"), what="a prepared")
    d.cell("start", "a")
    devs = d.exec("a", "ls", "/dev", "/dev/input").stdout.split()
    for name in ("fb0", "tty0", "tty1", "event0", "event1", "null", "console"):
        assert name in devs, devs
    assert d.exec("a", "cat", "/sys/class/input/event0/device/name").stdout.strip()
    assert d.exec("a", "cat", "/proc/1/status").stdout.count("CapBnd") == 1


def test_a_prepared_start_that_died_starts_anew(make_daemon):
    d = make(make_daemon)
    d.cell("create", "a", "--restart", "no")
    wait_until(lambda: prepared(d, "a"), what="a prepared")
    waiting = vp_procs(d, "a").pop()
    os.kill(waiting, signal.SIGKILL)
    wait_until(lambda: not vp_procs(d, "a") or
               open(f"/proc/{waiting}/stat").read().split()[2] == "Z",
               what="the waiting process dead")
    d.cell("start", "a")
    vp = vp_json(d, "a")
    assert vp["state"] == "running" and vp["pid"] != waiting, vp
    assert d.exec("a", "hostname").stdout.strip() == "a"
    assert "starting anew" in d.log()


def test_prepare_count_and_none(make_daemon):
    d = make(make_daemon, "1")
    for n in ("a", "b", "c"):
        d.cell("create", n, "--restart", "no")
    wait_until(lambda: prepared(d, "a"), what="a prepared")
    # One at most, the first in list order; the others start the normal way.
    assert not prepared(d, "b") and not prepared(d, "c")
    assert not vp_procs(d, "b")
    d.cell("start", "b")
    assert d.exec("b", "hostname").stdout.strip() == "b"
    d.cell("start", "a")
    # a is running now: the one prepared VP is the next stopped one.
    wait_until(lambda: prepared(d, "c"), what="c prepared once a started")
    none = make(make_daemon, "none")
    none.cell("create", "x", "--restart", "no")
    none.cell("start", "x")
    none.cell("stop", "x")
    assert not vp_json(none, "x")["prepared"] and not vp_procs(none, "x")
