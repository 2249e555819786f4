"""One cellsd per state directory, a failed start that leaves nothing, restart policies
across SIGTERM and SIGKILL of the daemon, and `cell config`."""

import json
import os
import signal
import socket

import pytest

from conftest import (CGROUP_ROOT, cgroup_dirs, mounts_under, run_cellsd, wait_pid_gone)


def test_second_daemon_on_the_same_state_is_refused(daemon, make_daemon):
    d = daemon
    d.create_start("solo")
    init = d.vp("solo")["pid"]
    other_run = d.base / "run2"
    r = run_cellsd(d.base, "--state", d.state, "--run", other_run)
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"pid {d.proc.pid}" in lines[0] and str(d.run) in lines[0], lines[0]
    assert str(d.state) in lines[0], lines[0]
    # The first daemon and its VP are untouched.
    assert d.vp("solo")["pid"] == init and d.state_of("solo") == "running"
    assert d.exec("solo", "true").returncode == 0
    assert not mounts_under(other_run)
    assert not (other_run / "cellsd.sock").exists()


def test_second_daemon_on_the_same_run_dir_is_refused(daemon):
    d = daemon
    r = run_cellsd(d.base, "--state", d.base / "state2", "--run", d.run)
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"pid {d.proc.pid}" in lines[0] and str(d.run) in lines[0], \
        r.stderr
    # Its socket and pid file are the first daemon's still.
    assert d.sock.exists()
    assert (d.run / "cellsd.pid").read_text().strip() == str(d.proc.pid)
    assert d.list() == {}


def test_failed_start_leaves_nothing(make_daemon):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        d = make_daemon(build_image=False)
        base = d.base
        d.stop()
        cgroup = d.cgroup_parent
        r = run_cellsd(base, "--state", d.state, "--run", d.run, "--vnc", f"127.0.0.1:{port}")
        assert r.returncode == 1 and "127.0.0.1" in r.stderr, r
        assert not mounts_under(d.run), mounts_under(d.run)
        assert not (d.run / "cellsd.sock").exists()
        assert not (d.run / "cellsd.pid").exists()
        assert not (d.run / "dev").exists()
        assert not cgroup_dirs(cgroup)
        # And the directories work for the next daemon.
        d.start()
        assert d.list() == {}
    finally:
        taken.close()


def policies_setup(d):
    d.cell("create", "always", "--restart", "always")
    d.cell("create", "usual")  # unless-stopped, the default
    d.cell("create", "never", "--restart", "no")
    d.cell("create", "legacy", "--autostart")
    d.cell("create", "stopped")
    d.cell("create", "idle", "--restart", "always")
    for n in ("always", "usual", "never", "legacy", "stopped"):
        d.cell("start", n)
    d.cell("stop", "stopped")  # stopped by the user: stays stopped
    d.sh("usual", "echo kept > /root/file")
    d.cell("switch", "usual")
    assert d.vp("legacy")["restart"] == "always"
    assert d.vp("usual")["restart"] == "unless-stopped"


def check_policies(d):
    vps = d.list()
    states = {n: vps[n]["state"] for n in vps}
    assert states == {"always": "running", "usual": "running", "never": "stopped",
                      "legacy": "running", "stopped": "stopped", "idle": "running"}, states
    assert vps["usual"]["foreground"], "the foreground of before is not the foreground"
    assert d.exec("usual", "cat", "/root/file").stdout == "kept\n"
    assert d.exec("usual", "hostname").stdout.strip() == "usual"


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_restart_policies(daemon, how):
    d = daemon
    policies_setup(d)
    inits = [vp["pid"] for vp in d.list().values() if "pid" in vp]
    if how == "sigterm":
        assert d.stop() == 0
    else:
        d.kill9()
        for pid in inits:
            assert wait_pid_gone(pid, 5), f"init {pid} outlived its daemon"
    d.start()
    check_policies(d)
    # A second restart in a row keeps the same picture.
    d.stop()
    d.start()
    check_policies(d)


def test_a_vp_stopped_by_the_user_stays_stopped_after_restart(daemon):
    d = daemon
    d.create_start("a", "b")
    d.cell("switch", "b")
    d.cell("stop", "b")
    d.kill9()
    d.start()
    assert d.state_of("a") == "running" and d.state_of("b") == "stopped"
    assert d.vp("a")["foreground"]


def test_a_vp_whose_init_exited_stays_stopped(daemon):
    d = daemon
    d.create_start("a")
    pid = d.vp("a")["pid"]
    os.kill(pid, signal.SIGKILL)
    d.wait_state("a", "stopped")
    assert wait_pid_gone(pid, 5)
    d.stop()
    d.start()
    assert d.state_of("a") == "stopped"


def memory_limit_file(d, name):
    v1 = d.cgroup("memory", name) / "memory.limit_in_bytes"
    return v1 if v1.exists() else CGROUP_ROOT / d.cgroup_parent / name / "memory.max"


def test_config_prints_and_changes(daemon):
    d = daemon
    d.cell("create", "c", "--memory", "64M")
    text = d.cell("config", "c").stdout
    assert "memory     64M" in text and "restart    unless-stopped" in text, text
    shown = json.loads(d.cell("config", "c", "--json").stdout)
    assert shown["memory"] == 64 << 20 and shown["restart"] == "unless-stopped"
    assert shown["state"] == "stopped"
    d.cell("config", "c", "--memory", "96M", "--pids", "300", "--cpu", "40",
           "--restart", "no", "--device", "display=none")
    vp = d.vp("c")
    assert (vp["memory"], vp["pids"], vp["cpu"], vp["restart"]) == (96 << 20, 300, 40, "no")
    assert vp["devices"]["display"]["access"] == "none"
    stored = json.loads(d.config_path("c").read_text())
    assert stored["memory"] == 96 << 20 and stored["restart"] == "no" and stored["version"] == 4
    d.cell("start", "c")
    assert not d.exec("c", "test", "-e", "/dev/fb0", check=False).returncode == 0
    # Live: the memory limit (and pids, cpu, restart) of a running VP.
    d.cell("config", "c", "--memory", "128M", "--autostart")
    assert int(memory_limit_file(d, "c").read_text().split()[0]) == 128 << 20
    assert d.vp("c")["restart"] == "always"
    d.cell("config", "c", "--memory", "0")
    limit = memory_limit_file(d, "c").read_text().strip()
    assert limit == "max" or int(limit) > 1 << 50, limit
    # The image and devices only while stopped; nothing changes on a refusal.
    before = d.config_path("c").read_bytes()
    err = d.fail("config", "c", "--device", "display=shared")
    assert "running" in err and "stop it" in err, err
    err = d.fail("config", "c", "--image", "other")
    assert "running" in err, err
    assert d.config_path("c").read_bytes() == before
    d.cell("stop", "c")
    err = d.fail("config", "c", "--image", "nosuch")
    assert "unknown image 'nosuch'" in err, err
    d.cell("config", "c", "--device", "display=shared")
    d.cell("start", "c")
    assert d.exec("c", "test", "-e", "/dev/fb0").returncode == 0
    # It survives a restart of the daemon.
    d.stop()
    d.start()
    assert d.vp("c")["devices"]["display"]["access"] == "shared" and d.vp("c")["restart"] == "always"


@pytest.mark.parametrize("args,want", [
    # Settings of devices this cellsd does not have (yet): no device takes them.
    (["--number=12ab"], "--number wants a phone number"),
    (["--on-call", "maybe"], "--on-call wants switch, ask or none"),
    (["--device", "audio=shared"], "unknown device 'audio' (this cellsd has: power, display"),
    # A device's setting with a value it does not take.
    (["--background", "sometimes"], "background: run, throttle or freeze, not 'sometimes'"),
    (["--restart", "sometimes"], "--restart wants always, unless-stopped or no, not 'sometimes'"),
    (["--memory", "lots"], "--memory wants a size"),
    (["--device", "display=maybe"], "access must be none, shared or exclusive"),
])
def test_config_and_create_refuse_bad_options(daemon, args, want):
    d = daemon
    d.cell("create", "c")
    before = d.config_path("c").read_bytes()
    assert want in d.fail("config", "c", *args)
    assert d.config_path("c").read_bytes() == before
    assert want in d.fail("create", "n", *args)
    assert "n" not in d.list()


def test_config_usage_errors(daemon):
    d = daemon
    assert "no VP named ghost" in d.fail("config", "ghost")
    d.fail("config", status=2)
    d.fail("config", "a", "b", status=2)


def test_version_1_config_is_read(daemon):
    d = daemon
    d.cell("create", "old")
    d.cell("create", "oldauto")
    d.stop()
    for name, auto in (("old", False), ("oldauto", True)):
        path = d.config_path(name)
        cfg = json.loads(path.read_text())
        cfg["version"] = 1
        del cfg["restart"]
        del cfg["disk"]
        cfg["autostart"] = auto
        cfg.update(number="", uplink="wlan", background="run")
        cfg["devices"] = {k: v["access"] for k, v in cfg["devices"].items()}
        path.write_text(json.dumps(cfg))
    d.start()
    assert d.vp("old")["restart"] == "unless-stopped" and d.state_of("old") == "stopped"
    assert d.vp("oldauto")["restart"] == "always" and d.state_of("oldauto") == "running"
    # Written as version 4 at its next change.
    d.cell("config", "old", "--pids", "100")
    assert json.loads(d.config_path("old").read_text())["version"] == 4
