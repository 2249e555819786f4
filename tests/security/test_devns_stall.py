"""A VP's attacks on cellsd's device side (issue 11, items 1-3): whatever one VP does
with its trapped calls, cellsd's loop, its control socket and the other VPs' calls carry
on. Each attack runs in VP "a" (tests/security/devns_attacks.c) while VP "b" times its
own trapped ioctls and the test times `cell list`."""

import threading
import time

import pytest

from attackers import make_vp, results as parse

ATTACKS = "devns_attacks.c"
FBPROBE = "../integration/fbprobe.c"


@pytest.fixture
def two_vps(daemon, build_static):
    attacks = build_static(ATTACKS)
    for name in ("a", "b"):
        make_vp(daemon, name, {"usr/bin/devns_attacks": attacks,
                               "usr/bin/fbprobe": build_static(FBPROBE)})
    return daemon


def timed_list(d, limit=5):
    t0 = time.monotonic()
    d.cell("list", timeout=limit)
    return time.monotonic() - t0


def latency(d, name, seconds):
    r = d.exec(name, "devns_attacks", "lat", str(seconds), timeout=seconds + 30)
    got = parse(r.stdout)
    return {k: float(v) for k, v in got.items()}


class Lister(threading.Thread):
    """`cell list` in a loop while an attack runs: the slowest answer."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d, self.slowest, self.errors = d, 0.0, []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                self.slowest = max(self.slowest, timed_list(self.d))
            except Exception as e:  # a timeout is the failure this looks for
                self.errors.append(repr(e))
                return
            time.sleep(0.05)

    def stop(self):
        self.done.set()
        self.join(30)
        return self.slowest, self.errors


def wait_for_file_line(d, name, path, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = d.exec(name, "cat", path, check=False, timeout=10)
        if text in r.stdout:
            return r.stdout
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in {name}:{path}")


def test_a_fault_into_the_daemons_own_fuse_file_stops_no_one(two_vps):
    """The argument points into a private mapping of the VP's own event1: reading it
    faults into a FUSE read of cellsd's loop. Only the attacker's call may wait."""
    d = two_vps
    d.sh("a", "devns_attacks fuse-fault > /root/out 2>&1 &")
    wait_for_file_line(d, "a", "/root/out", "mapped")
    time.sleep(0.5)  # the ioctl is now in the daemon (or done)
    assert timed_list(d) < 2
    b = latency(d, "b", 1)
    assert b["calls"] > 50 and b["max_us"] < 500_000, b
    t0 = time.monotonic()
    d.cell("stop", "a", timeout=30)
    assert time.monotonic() - t0 < 15
    assert d.running, d.log()[-2000:]
    assert latency(d, "b", 0.5)["calls"] > 50


def test_lingering_sockets_closed_by_the_daemon_stop_no_one(two_vps):
    """The attacker closes its socket while cellsd holds it for a trapped call, so
    cellsd's close is the last: a linger of 60 s with a full send queue."""
    d = two_vps
    lister = Lister(d)
    lister.start()
    d.sh("a", "devns_attacks linger 5 > /root/out 2>&1 &")
    b = latency(d, "b", 4)
    slowest, errors = lister.stop()
    assert not errors and slowest < 2, (slowest, errors)
    assert b["max_us"] < 500_000, b
    rounds = parse(wait_for_file_line(d, "a", "/root/out", "rounds=", timeout=90))
    assert int(rounds["rounds"]) > 0
    assert d.running


def test_a_vp_holding_its_mmap_lock_stalls_no_one(two_vps):
    d = two_vps
    lister = Lister(d)
    lister.start()
    d.sh("a", "devns_attacks mmap-churn 5 > /root/out 2>&1 &")
    time.sleep(0.5)
    b = latency(d, "b", 3)
    slowest, errors = lister.stop()
    assert not errors and slowest < 2, (slowest, errors)
    assert b["max_us"] < 200_000, b
    assert d.running


def test_vsync_waiters_of_one_vp_do_not_slow_another(two_vps):
    """A thousand threads in FBIO_WAITFORVSYNC: another VP's calls stay fast, and are
    never the ones held back for the attacker's share of cellsd."""
    d = two_vps
    idle = latency(d, "b", 1)
    d.sh("a", "fbprobe vsync_flood 1000 6 > /root/flood 2>&1 &")
    time.sleep(1)
    b = latency(d, "b", 3)
    assert b["median_us"] < max(4 * idle["median_us"], 100), (idle, b)
    assert b["p99_us"] < 20_000, (idle, b)
    flood = parse(wait_for_file_line(d, "a", "/root/flood", "total=", timeout=60))
    assert int(flood["threads"]) == 1000
    stats = {vp["name"]: vp for vp in d.stats()["vps"]}
    # a may be throttled (past half of a CPU of cellsd's: tests/unit/test_budget.c), b
    # never: its calls are a fraction of that.
    assert stats["b"]["device_throttled"] == 0, stats["b"]
    assert stats["a"]["device_calls"] > 1000 and stats["b"]["device_calls"] > 1000
    assert d.running
