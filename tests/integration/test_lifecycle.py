"""Lifecycle: many VPs created, started, listed, stopped and destroyed cleanly; files and
configs survive stops and daemon restarts; a killed daemon's leftovers are cleaned."""

import os
import subprocess
import time
from pathlib import Path

from conftest import UID_RANGE, cgroup_dirs, cgroup_subdirs, mounts_under, pid_alive, \
    procs_with_uid, wait_pid_gone, CGROUP_ROOT

N = 20


def daemon_mounts(d):
    """What a running daemon keeps mounted: its device files' tmpfs, and lxcfs's /proc
    views where lxcfs is installed."""
    return [str(d.run / "dev")] + ([str(d.run / "lxcfs")] if Path("/usr/bin/lxcfs").exists()
                                   else [])


def test_twenty_vps(daemon):
    d = daemon
    names = [f"vp{i:02d}" for i in range(N)]
    for n in names:
        d.cell("create", n, "--memory", "64M", "--pids", "100")
    vps = d.list()
    assert set(vps) == set(names)
    assert all(vp["state"] == "stopped" for vp in vps.values())
    ids = [vp["id"] for vp in vps.values()]
    assert len(set(ids)) == N
    t = time.monotonic()
    for n in names:
        d.cell("start", n)
    start_took = time.monotonic() - t
    vps = d.list()
    assert all(vp["state"] == "running" for vp in vps.values()), \
        {n: vp["state"] for n, vp in vps.items()}
    pids = [vp["pid"] for vp in vps.values()]
    assert len(set(pids)) == N and all(pid_alive(p) for p in pids)
    text = d.cell("list").stdout
    assert text.count("running") == N, text
    # Each is its own VP, with its own cgroup and uid range.
    for n in (names[0], names[7], names[-1]):
        assert d.exec(n, "hostname").stdout.strip() == n
        assert d.vp_cgroup_dirs(n)
    for vp in vps.values():
        uid = d.vp_uid(vp["id"])
        assert open(f"/proc/{vp['pid']}/status").read().count(f"\t{uid}\t") >= 1
    stats = d.stats()
    assert stats["daemon"]["vps"] == N and stats["daemon"]["running"] == N
    # Stop half, destroy the rest running with --force, destroy all.
    for n in names[: N // 2]:
        d.cell("stop", n)
    vps = d.list()
    assert [vps[n]["state"] for n in names] == ["stopped"] * (N // 2) + ["running"] * (N // 2)
    for n in names[N // 2:]:
        d.cell("stop", n)
    for n in names:
        d.cell("destroy", n)
    assert d.list() == {}
    assert os.listdir(d.state / "vps") == []
    assert not (d.run / "vps").exists() or os.listdir(d.run / "vps") == []
    for p in pids:
        assert wait_pid_gone(p, 2), f"init {p} survived"
    assert not procs_with_uid(d.uid_base, d.uid_base + 64 * UID_RANGE), "processes left"
    # Only the running daemon's own tmpfs for device files stays mounted (and its lxcfs).
    assert mounts_under(d.base) == daemon_mounts(d), mounts_under(d.base)
    assert not cgroup_subdirs(d.cgroup_parent), cgroup_subdirs(d.cgroup_parent)
    assert start_took < 20, f"20 starts took {start_took:.1f}s"


def test_daemon_sigterm_stops_every_vp(make_daemon):
    d = make_daemon()
    d.create_start("a", "b", "c")
    pids = [vp["pid"] for vp in d.list().values()]
    t = time.monotonic()
    assert d.stop() == 0
    assert time.monotonic() - t < d.stop_timeout + 3
    for p in pids:
        assert wait_pid_gone(p, 2)
    assert not cgroup_dirs(d.cgroup_parent), cgroup_dirs(d.cgroup_parent)
    assert not mounts_under(d.base)
    assert not d.sock.exists(), "the socket stays after a clean exit"


def test_files_survive_stop_start_and_daemon_restart(daemon):
    d = daemon
    d.cell("create", "keep", "--memory", "128M", "--pids", "200", "--cpu", "50",
           "--restart", "no", "--device", "vt=exclusive", "--device", "display=none")
    d.cell("start", "keep")
    d.sh("keep", "echo one > /root/one; mkdir -p /data/dir; echo two > /data/dir/two; "
                 "ln -s /root/one /data/link; chmod 0640 /root/one")
    config = d.config_path("keep").read_bytes()
    listed = d.vp("keep")
    d.cell("stop", "keep")
    d.cell("start", "keep")
    assert d.exec("keep", "cat", "/root/one", "/data/dir/two", "/data/link").stdout == \
        "one\ntwo\none\n"
    d.stop()
    d.start()
    vp = d.vp("keep")
    assert vp["state"] == "stopped"
    for k in ("id", "image", "memory", "pids", "cpu", "devices", "restart"):
        assert vp[k] == listed[k], (k, vp[k], listed[k])
    assert vp["memory"] == 128 << 20 and vp["restart"] == "no"
    assert vp["devices"]["vt"]["access"] == "exclusive"
    assert vp["devices"]["display"]["access"] == "none"
    assert d.config_path("keep").read_bytes() == config
    assert "minimal" in d.cell("image", "list").stdout
    d.cell("start", "keep")
    assert d.exec("keep", "cat", "/root/one", "/data/dir/two").stdout == "one\ntwo\n"
    assert d.exec("keep", "stat", "-c", "%a", "/root/one").stdout.strip() == "640"
    # A destroyed VP stays destroyed.
    d.cell("destroy", "keep", "--force")
    d.stop()
    d.start()
    assert d.list() == {}


def test_autostart(daemon):
    d = daemon
    d.cell("create", "auto", "--autostart")
    d.cell("create", "manual")
    assert d.vp("auto")["restart"] == "always"
    d.stop()
    d.start()
    assert d.vp("auto")["state"] == "running"
    assert d.vp("manual")["state"] == "stopped"
    assert d.exec("auto", "hostname").stdout.strip() == "auto"


def test_recovery_after_kill_9(daemon, host_sleep):
    d = daemon
    # Not restarted by the next daemon (test_restart_config covers that): what it finds
    # must be only what the killed one left.
    d.cell("create", "a", "--memory", "96M", "--restart", "no")
    d.cell("create", "b", "--pids", "128", "--restart", "no")
    d.cell("start", "a")
    d.cell("start", "b")
    d.sh("a", "echo file-a > /root/a")
    d.sh("b", "echo file-b > /data/b")
    d.sh("a", "sleep 1000 >/dev/null 2>&1 </dev/null &")
    before = d.list()
    configs = {n: d.config_path(n).read_bytes() for n in ("a", "b")}
    inits = [before[n]["pid"] for n in ("a", "b")]
    parent = d.cgroup_parent
    d.kill9()
    # What a daemon killed at a bad moment can leave: VP cgroups with processes in them,
    # and mounts under the run directory.
    stale = host_sleep(1000)
    planted = False
    for ctrl_dir in CGROUP_ROOT.iterdir():
        cg = ctrl_dir / parent / "a"
        if (cg / "cgroup.procs").exists():
            (cg / "cgroup.procs").write_text(str(stale.pid))
            planted = True
    assert planted, "no cgroup of VP a left after kill -9 (where did it go?)"
    (d.run / "vps" / "a" / "stale-bind").mkdir(parents=True, exist_ok=True)
    (d.run / "vps" / "b" / "stale-tmpfs").mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "--bind", str(d.rootfs), str(d.run / "vps" / "a" / "stale-bind")],
                   check=True)
    subprocess.run(["mount", "-t", "tmpfs", "stale", str(d.run / "vps" / "b" / "stale-tmpfs")],
                   check=True)
    d.start()
    # Clean before anything else.
    assert stale.wait(timeout=5) is not None, "a process in a stale cgroup survived"
    for p in inits:
        assert wait_pid_gone(p, 3), f"old init {p} survived"
    assert not procs_with_uid(d.uid_base, d.uid_base + 64 * UID_RANGE)
    assert not cgroup_subdirs(parent), f"stale cgroups left: {cgroup_subdirs(parent)}"
    # The stale device tmpfs is gone: exactly one, the new daemon's, is mounted (and the
    # new lxcfs, where it is installed).
    assert mounts_under(d.run) == daemon_mounts(d), f"stale mounts: {mounts_under(d.run)}"
    vps = d.list()
    assert set(vps) == {"a", "b"}
    for n in ("a", "b"):
        assert vps[n]["state"] == "stopped", vps[n]
        assert d.config_path(n).read_bytes() == configs[n]
        for k in ("id", "memory", "pids", "image"):
            assert vps[n][k] == before[n][k]
    d.cell("start", "a")
    d.cell("start", "b")
    assert d.exec("a", "cat", "/root/a").stdout == "file-a\n"
    assert d.exec("b", "cat", "/data/b").stdout == "file-b\n"
    assert d.exec("a", "hostname").stdout.strip() == "a"


def test_stale_processes_without_daemon_are_killed(daemon, host_sleep):
    """Processes in a stale cgroup only in the freezer hierarchy or only in memory: each
    is found."""
    d = daemon
    d.create_start("a", restart="no")
    parent = d.cgroup_parent
    d.kill9()
    sleeps = []
    for ctrl in ("memory", "pids", "cpu"):
        cg = CGROUP_ROOT / ctrl / parent / "a"
        if (cg / "cgroup.procs").exists():
            s = host_sleep(1000)
            (cg / "cgroup.procs").write_text(str(s.pid))
            sleeps.append((ctrl, s))
    assert sleeps
    d.start()
    for ctrl, s in sleeps:
        try:
            s.wait(timeout=5)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"a process in the stale {ctrl} cgroup survived")
    assert not cgroup_subdirs(parent), cgroup_subdirs(parent)
    d.cell("start", "a")
    assert d.exec("a", "true").returncode == 0
