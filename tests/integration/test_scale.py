"""Scale (DESIGN.md §6): KSM driven by cellsd, the low-memory killer, lxcfs's /proc views.

The KSM scanner is the host's one: these tests change it and check that cellsd gives it
back. They run busybox VPs of the minimal image with apps/memhog."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CELL, LineReader, pid_alive, wait_for as wait_until, wait_pid_gone

KSM = Path("/sys/kernel/mm/ksm")
KNOBS = ("run", "sleep_millisecs", "pages_to_scan")


def ksm_settings():
    return {k: (KSM / k).read_text().strip() for k in KNOBS}


def daemon_stats(d):
    return d.stats()["daemon"]


@pytest.fixture
def ksm_host():
    """The host's KSM settings, set to values of its own and given back after the test."""
    if not KSM.exists():
        pytest.skip("no KSM in this kernel")
    saved = ksm_settings()
    own = {"run": "0", "sleep_millisecs": "37", "pages_to_scan": "41"}
    for k, v in own.items():
        (KSM / k).write_text(v)
    yield own
    for k in ("sleep_millisecs", "pages_to_scan", "run"):
        (KSM / k).write_text(saved[k])


def hold(d, vp, mib):
    """Starts memhog MIB in VP, in the background, and waits until it holds it all;
    returns its pid as the host sees it."""
    d.sh(vp, f"memhog {mib} > /tmp/memhog.out 2>&1 & echo $! > /tmp/memhog.pid; "
             "while ! grep -q done /tmp/memhog.out; do "
             "  kill -0 $(cat /tmp/memhog.pid) 2>/dev/null || exit 1; sleep 0.05; done",
         timeout=60)
    return memhog_pid(d, vp)


def memhog_pid(d, vp):
    procs = d.cgroup("memory", vp) / "cgroup.procs"
    for pid in procs.read_text().split():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "memhog":
                return int(pid)
        except OSError:
            pass
    return None


# ---------------------------------------------------------------------------------------
# KSM


def test_ksm_scanner_follows_the_vps(make_daemon, ksm_host):
    d = make_daemon(extra_args=["--ksm-hard", "100,500,2", "--ksm-gentle", "1500,100"])
    assert ksm_settings() == ksm_host, "changed before any VP runs"
    d.create_start("a")
    assert ksm_settings() == {"run": "1", "sleep_millisecs": "100", "pages_to_scan": "500"}
    assert daemon_stats(d)["ksm_phase"] == "hard"
    # After 2 s, once the scanner has made three passes (at once with one small VP, more
    # with other programs' mergeable memory on the host), 20 s after the start at most.
    wait_until(lambda: ksm_settings()["sleep_millisecs"] == "1500", 25, "the gentle phase")
    assert ksm_settings() == {"run": "1", "sleep_millisecs": "1500", "pages_to_scan": "100"}
    assert daemon_stats(d)["ksm_phase"] == "gentle"
    # Another start scans hard again.
    d.create_start("b")
    assert ksm_settings()["sleep_millisecs"] == "100"
    d.cell("stop", "a")
    assert ksm_settings()["run"] == "1", "stopped while a VP runs"
    d.cell("stop", "b")
    assert ksm_settings() == ksm_host, "not the host's once no VP runs"
    d.cell("start", "a")
    assert ksm_settings()["run"] == "1"
    d.stop()
    assert ksm_settings() == ksm_host, "not the host's after cellsd exited"


def test_ksm_settings_back_after_a_killed_daemon(make_daemon, ksm_host):
    d = make_daemon()
    d.create_start("a")
    assert ksm_settings()["sleep_millisecs"] == "100"
    d.kill9()
    assert ksm_settings()["sleep_millisecs"] == "100", "nobody could have given them back"
    d.start()
    # The next daemon on the run directory gives the host's back, then drives again.
    assert d.vp("a")["state"] != "running" or ksm_settings()["sleep_millisecs"] == "100"
    d.cell("stop", "a", check=False)
    wait_until(lambda: ksm_settings() == ksm_host, 10, "the host's settings back")


def test_ksm_off_leaves_the_scanner(make_daemon, ksm_host):
    d = make_daemon(extra_args=["--ksm", "off"])
    d.create_start("a")
    assert ksm_settings() == ksm_host


def test_ksm_options_checked(make_daemon):
    from conftest import run_cellsd, make_base
    base = make_base()
    for args in (["--ksm", "maybe"], ["--ksm-hard", "100,500"], ["--ksm-gentle", "0,100"],
                 ["--memory-total", "lots"], ["--lmk", "x"]):
        r = run_cellsd(base, *args)
        assert r.returncode == 2, (args, r)
        assert "cellsd:" in r.stderr, (args, r.stderr)


def test_stats_show_merged_pages(make_daemon, ksm_host):
    # A fast scanner: the test waits for it, not for the defaults' pace.
    d = make_daemon(extra_args=["--ksm-hard", "10,5000,120"])
    d.create_start("a")
    d.create_start("b")
    hold(d, "a", 32)
    hold(d, "b", 32)

    def merged():
        vps = {v["name"]: v for v in d.stats()["vps"]}
        # Two identical 32 MiB hogs (8192 pages each): a good share of them merged (not
        # all: transparent huge pages are split only as the scanner gets to them).
        return all(vps[n]["ksm_merging_pages"] >= 1024 for n in ("a", "b")) and vps
    vps = wait_until(merged, 90, "merged pages in cell stats")
    assert vps["a"]["ksm_merging_pages"] <= 4 * 8192


# ---------------------------------------------------------------------------------------
# The low-memory killer


def events(d):
    p = subprocess.Popen([str(CELL), "--run", str(d.run), "events"], stdout=subprocess.PIPE,
                         text=True)
    return p, LineReader(p)


def test_lmk_kills_background_before_foreground(make_daemon):
    d = make_daemon(extra_args=["--memory-total", "200M"])
    parent = d.cgroup("memory", "")
    assert int((parent / "memory.limit_in_bytes").read_text()) == 200 << 20
    d.create_start("front")
    d.create_start("back")
    d.cell("switch", "front")
    proc, reader = events(d)
    try:
        # The foreground holds more than the background: the kernel's OOM killer would
        # pick it; Cells' order picks the background VP's.
        front_hog = hold(d, "front", 110)
        d.sh("back", "memhog 150 > /dev/null 2>&1 &")
        kill = reader.wait_for(lambda e: e.get("event") == "lmk-kill", timeout=30)
        assert kill, f"no lmk-kill event; seen {reader.seen}\n{d.log()[-2000:]}"
        assert kill["vp"] == "back" and kill["comm"] == "memhog", kill
        assert kill["foreground"] is False, kill
        assert pid_alive(front_hog), "the foreground's memhog was killed"
        assert d.vp("front")["state"] == "running"
        assert d.vp("back")["state"] == "running", "the background VP's init was killed"
        assert d.exec("front", "echo", "ok").stdout == "ok\n"
        assert daemon_stats(d)["lmk_kills"] >= 1
        assert not any(e.get("event") == "lmk-kill" and e.get("vp") == "front"
                       for e in reader.seen)
    finally:
        proc.terminate()
        proc.wait()


def test_lmk_order_least_recently_foreground_first(make_daemon):
    d = make_daemon(extra_args=["--memory-total", "200M"])
    d.create_start("old", "recent", "front")
    d.cell("switch", "old")
    d.cell("switch", "recent")
    d.cell("switch", "front")
    proc, reader = events(d)
    try:
        old = hold(d, "old", 40)
        recent = hold(d, "recent", 40)
        d.sh("front", "memhog 150 > /dev/null 2>&1 &")
        kill = reader.wait_for(lambda e: e.get("event") == "lmk-kill", timeout=30)
        assert kill and kill["vp"] == "old", (kill, reader.seen)
        assert not pid_alive(old) or wait_pid_gone(old)
        second = reader.wait_for(lambda e: e.get("event") == "lmk-kill", timeout=30)
        assert second and second["vp"] in ("old", "recent"), (second, reader.seen)
        assert pid_alive(recent) or second["vp"] == "recent"
    finally:
        proc.terminate()
        proc.wait()


# ---------------------------------------------------------------------------------------
# /proc views (lxcfs)


needs_lxcfs = pytest.mark.skipif(not os.path.exists("/usr/bin/lxcfs"), reason="no lxcfs")


@needs_lxcfs
def test_free_shows_the_vps_memory_limit(daemon):
    d = daemon
    d.create_start("v", memory="256M")
    started = time.monotonic()
    meminfo = d.exec("v", "cat", "/proc/meminfo").stdout
    assert re.search(r"^MemTotal:\s+262144 kB$", meminfo, re.M), meminfo
    # busybox's free asks sysinfo(2) (the daemon answers it), its top reads meminfo.
    free = d.exec("v", "free", "-m").stdout
    mem = [l.split() for l in free.splitlines() if l.startswith("Mem:")][0]
    assert mem[1] == "256", free
    top = d.exec("v", "top", "-bn1").stdout
    used, free_kb = re.search(r"^Mem: (\d+)K used, (\d+)K free", top, re.M).groups()
    assert int(used) + int(free_kb) == 262144, top
    host_uptime = float(Path("/proc/uptime").read_text().split()[0])
    assert host_uptime > 120, "the host booted just now: the VP's uptime cannot differ"
    uptime = float(d.exec("v", "cat", "/proc/uptime").stdout.split()[0])
    assert uptime <= time.monotonic() - started + 10, (uptime, host_uptime)
    # busybox's uptime asks sysinfo too: "up N min" or "up 0:0N" would both be short.
    up = d.exec("v", "uptime").stdout
    assert re.search(r"up\s+(\d+ min|0:\d\d)", up), up
    # A VP without a limit sees the host's memory.
    d.create_start("big", memory="max")
    total = [l.split() for l in d.exec("big", "free", "-m").stdout.splitlines()
             if l.startswith("Mem:")][0][1]
    host_total = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])
    assert abs(int(total) - host_total // 1024) <= 1, (total, host_total)
    # The other files are lxcfs's too: bound, read-only.
    mounts = d.exec("v", "cat", "/proc/self/mountinfo").stdout
    for f in ("meminfo", "cpuinfo", "stat", "uptime", "loadavg", "diskstats", "swaps"):
        line = [l for l in mounts.splitlines() if l.split()[4] == f"/proc/{f}"]
        assert line and " ro," in " " + line[0].split()[5] + ",", (f, line)
    r = d.sh("v", "echo x > /proc/meminfo", check=False)
    assert r.returncode != 0


@needs_lxcfs
def test_lxcfs_restarted_when_it_dies(daemon):
    d = daemon
    first = daemon_stats(d)["lxcfs_pid"]
    assert first > 0 and pid_alive(first)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: daemon_stats(d)["lxcfs_pid"] not in (0, first), 10, "a new lxcfs")
    assert daemon_stats(d)["lxcfs_starts"] == 2
    d.create_start("v", memory="128M")
    assert "MemTotal:         131072 kB" in d.exec("v", "cat", "/proc/meminfo").stdout


def mem_total_kb(d, vp):
    """MemTotal of the VP's /proc/meminfo in kB, or None while it cannot be read."""
    r = d.exec(vp, "cat", "/proc/meminfo", check=False)
    m = re.search(r"^MemTotal:\s+(\d+) kB$", r.stdout, re.M)
    return int(m[1]) if r.returncode == 0 and m else None


def free_total_mib(d, vp):
    free = d.exec(vp, "free", "-m").stdout
    return int([l.split() for l in free.splitlines() if l.startswith("Mem:")][0][1])


def view_mounts(d, vp, name="meminfo"):
    """The lines of the VP's mountinfo for /proc/NAME, bottom to top."""
    mounts = d.exec(vp, "cat", "/proc/self/mountinfo").stdout
    return [l for l in mounts.splitlines() if l.split()[4] == f"/proc/{name}"]


@needs_lxcfs
def test_lxcfs_restart_heals_running_vps(daemon):
    d = daemon
    d.create_start("a", memory="128M")
    d.create_start("b", memory="192M")
    assert mem_total_kb(d, "a") == 131072 and mem_total_kb(d, "b") == 196608
    # A program of "a" holds the first instance's meminfo open across the restart.
    d.sh("a", "(exec 3</proc/meminfo; while [ ! -e /tmp/go ]; do sleep 0.05; done; "
              "cat <&3 >/tmp/old.out 2>/tmp/old.err; echo $? >/tmp/old.rc) "
              ">/dev/null 2>&1 &")
    proc, reader = events(d)
    try:
        for round_ in (1, 2):
            first = daemon_stats(d)["lxcfs_pid"]
            assert first > 0
            killed = time.monotonic()
            os.kill(first, signal.SIGKILL)
            ev = reader.wait_for(lambda e: e.get("event") == "lxcfs-restarted", timeout=15)
            assert ev, f"no lxcfs-restarted event; seen {reader.seen}\n{d.log()[-2000:]}"
            assert ev["vps"] == 2 and ev["failed"] == 0, ev
            assert ev["pid"] == daemon_stats(d)["lxcfs_pid"] != first, ev
            # Healed within the restart delay (0.5 s after a quick death) and a start.
            assert mem_total_kb(d, "a") == 131072, d.log()[-2000:]
            assert mem_total_kb(d, "b") == 196608
            assert time.monotonic() - killed < 10
            assert free_total_mib(d, "a") == 128 and free_total_mib(d, "b") == 192
            # The new bind is read-only too; the first restart covers the seal's locked
            # bind, the second replaces the first restart's: never more than two.
            for vp in ("a", "b"):
                lines = view_mounts(d, vp)
                assert len(lines) == 2, (round_, lines)
                assert " ro," in " " + lines[-1].split()[5] + ",", lines
            r = d.sh("a", "echo x > /proc/meminfo", check=False)
            assert r.returncode != 0
        assert re.search(r"lxcfs: pid \d+ restarted; /proc views bound again in 2 VPs",
                         d.log()), d.log()[-2000:]
        # The file opened from the dead instance fails at once; it does not hang.
        d.sh("a", "touch /tmp/go")
        rc = wait_until(lambda: d.exec("a", "cat", "/tmp/old.rc", check=False).stdout.strip(),
                        10, "the old reader's end")
        assert rc != "0"
        err = d.exec("a", "cat", "/tmp/old.err").stdout
        assert "Transport endpoint is not connected" in err, err
    finally:
        proc.terminate()
        proc.wait()


@needs_lxcfs
def test_lxcfs_restart_heals_a_programs_own_mount_namespace(daemon):
    """A program of the VP in a mount namespace of its own (busybox's unshare -m, private
    propagation: nothing the daemon binds in the VP's namespace reaches it) took copies
    of the views along; after a restart they are bound again there too."""
    d = daemon
    d.create_start("a", memory="128M")
    # It writes the first line of its meminfo, or why it could not, twice a second.
    d.sh("a", "unshare -m sh -c 'while :; do head -n1 /proc/meminfo >/tmp/n.tmp 2>&1; "
              "mv /tmp/n.tmp /tmp/nested.out; sleep 0.2; done' >/dev/null 2>&1 &")

    def nested():
        return d.exec("a", "cat", "/tmp/nested.out", check=False).stdout.strip()

    wait_until(lambda: nested() == "MemTotal:         131072 kB", 10, "the nested reader")
    proc, reader = events(d)
    try:
        os.kill(daemon_stats(d)["lxcfs_pid"], signal.SIGKILL)
        ev = reader.wait_for(lambda e: e.get("event") == "lxcfs-restarted", timeout=15)
        assert ev, f"no lxcfs-restarted event; seen {reader.seen}\n{d.log()[-2000:]}"
        assert ev["vps"] == 1 and ev["namespaces"] == 1 and ev["namespaces_failed"] == 0, ev
    finally:
        proc.terminate()
        proc.wait()
    wait_until(lambda: nested() == "MemTotal:         131072 kB", 10,
               "the nested reader's view back")
    assert re.search(r"bound again in 1 VPs \(0 failed\) and 1 mount namespaces of their "
                     r"programs \(0 failed\)", d.log()), d.log()[-2000:]
    # Another restart: the first one's files die too and are replaced in turn.
    proc, reader = events(d)
    try:
        os.kill(daemon_stats(d)["lxcfs_pid"], signal.SIGKILL)
        ev = reader.wait_for(lambda e: e.get("event") == "lxcfs-restarted", timeout=15)
        assert ev and ev["namespaces"] == 1, ev
    finally:
        proc.terminate()
        proc.wait()
    wait_until(lambda: nested() == "MemTotal:         131072 kB", 10, "the view back again")


@needs_lxcfs
def test_lxcfs_restart_heals_a_prepared_vp(make_daemon):
    """A prepared VP's mounts were made with the first instance's files: its start after
    a restart has the new one's."""
    d = make_daemon(extra_args=["--prepare", "all"])
    d.cell("create", "p", "--memory", "128M")
    wait_until(lambda: d.vp("p")["prepared"], what="p prepared")
    proc, reader = events(d)
    try:
        os.kill(daemon_stats(d)["lxcfs_pid"], signal.SIGKILL)
        ev = reader.wait_for(lambda e: e.get("event") == "lxcfs-restarted", timeout=15)
        assert ev and ev["vps"] == 1 and ev["failed"] == 0, (ev, reader.seen)
    finally:
        proc.terminate()
        proc.wait()
    d.cell("start", "p")
    assert not d.vp("p")["prepared"]
    assert mem_total_kb(d, "p") == 131072, d.log()[-2000:]


@needs_lxcfs
def test_lxcfs_restart_backs_off_when_it_keeps_dying(daemon):
    d = daemon
    d.create_start("v", memory="128M")
    proc, reader = events(d)
    try:
        starts = daemon_stats(d)["lxcfs_starts"]
        # Each instance killed as soon as it is seen, for 4 s: restarted at once, it would
        # start some forty times; after 0.5, 1 and 2 s, four times at most.
        end = time.monotonic() + 4
        while time.monotonic() < end:
            pid = daemon_stats(d)["lxcfs_pid"]
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        assert daemon_stats(d)["lxcfs_starts"] - starts <= 4, d.log()[-3000:]
        # One more death: lxcfs is down for the next delay, 4 s or more. A VP started
        # now starts at once with the kernel's files, and gets the views when lxcfs is back.
        pid = wait_until(lambda: daemon_stats(d)["lxcfs_pid"], 20, "an lxcfs")
        os.kill(pid, signal.SIGKILL)
        ev = reader.wait_for(lambda e: e.get("event") == "lxcfs-exited" and e["pid"] == pid,
                             timeout=10)
        assert ev and ev["restart_in_ms"] >= 4000, (ev, reader.seen)
        d.create_start("late", memory="128M")
        host_total = int(re.search(r"MemTotal:\s+(\d+)",
                                   Path("/proc/meminfo").read_text())[1])
        assert daemon_stats(d)["lxcfs_pid"] == 0, "lxcfs came back too soon for the test"
        assert mem_total_kb(d, "late") == host_total
        delays = [e["restart_in_ms"] for e in reader.seen if e.get("event") == "lxcfs-exited"]
        quick = [x for x in delays if x]
        assert all(b == min(2 * a, 30000) for a, b in zip(quick, quick[1:])), delays
        ev = reader.wait_for(lambda e: e.get("event") == "lxcfs-restarted",
                             timeout=ev["restart_in_ms"] / 1000 + 10)
        assert ev and ev["vps"] == 2, (ev, reader.seen)
        assert mem_total_kb(d, "late") == 131072
        assert mem_total_kb(d, "v") == 131072
        assert re.search(r"lxcfs: pid \d+ exited after \d+ ms; restarting it in 4000 ms",
                         d.log())
    finally:
        proc.terminate()
        proc.wait()


@needs_lxcfs
def test_no_views_without_lxcfs(make_daemon):
    d = make_daemon(extra_args=["--proc-views", "off"])
    d.create_start("v", memory="256M")
    meminfo = d.exec("v", "cat", "/proc/meminfo").stdout
    assert not re.search(r"^MemTotal:\s+262144 kB$", meminfo, re.M), meminfo
    assert daemon_stats(d)["lxcfs_pid"] == 0
