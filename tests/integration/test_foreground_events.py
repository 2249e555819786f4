"""The foreground VP (bookkeeping) and the event stream."""

import json
import os
import signal
import subprocess
import time


from conftest import CELL, LineReader, read_line


def active(d):
    r = d.cell("active", check=False)
    return r.stdout.strip() if r.returncode == 0 else None


def test_foreground_bookkeeping(daemon):
    d = daemon
    for n in ("a", "b", "c", "d"):
        d.cell("create", n)
    assert active(d) is None
    err = d.fail("active")
    assert "foreground" in err
    d.fail("next")
    d.fail("prev")
    d.cell("start", "a")
    assert active(d) == "a"
    assert d.vp("a")["foreground"] is True
    d.cell("start", "b")
    d.cell("start", "c")
    assert active(d) == "a", "starting another VP took the foreground"
    assert d.cell("next").stdout.strip() == "b"
    assert active(d) == "b"
    assert d.cell("next").stdout.strip() == "c"
    assert d.cell("next").stdout.strip() == "a"
    assert d.cell("prev").stdout.strip() == "c"
    assert d.cell("prev").stdout.strip() == "b"
    d.cell("switch", "a")
    assert active(d) == "a"
    fg = [n for n, vp in d.list().items() if vp["foreground"]]
    assert fg == ["a"]
    # Not to a stopped or unknown VP.
    err = d.fail("switch", "d")
    assert "d" in err and "running" in err, err
    d.fail("switch", "nosuch")
    assert active(d) == "a"
    # A stopped VP is skipped by next/prev.
    d.cell("stop", "b")
    assert d.cell("next").stdout.strip() == "c"
    assert d.cell("next").stdout.strip() == "a"
    d.cell("start", "b")
    # The foreground VP stops: the next running one takes over.
    d.cell("switch", "b")
    d.cell("stop", "b")
    assert active(d) == "c"
    # Its init dies: the same.
    os.kill(d.vp("c")["pid"], signal.SIGKILL)
    d.wait_state("c", "stopped")
    assert active(d) == "a"
    d.cell("stop", "a")
    assert active(d) is None
    assert not any(vp["foreground"] for vp in d.list().values())
    d.fail("next")
    # Started again, the first VP takes the foreground again.
    d.cell("start", "d")
    assert active(d) == "d"
    st = d.stats()["daemon"]
    assert st["switches"] >= 10, st


def start_events(d):
    p = subprocess.Popen([str(CELL), "--run", str(d.run), "events"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    reader = LineReader(p)
    # Sure to be subscribed once an event of ours arrives.
    for i in range(20):
        d.cell("create", f"probe{i}")
        if reader.wait_for(lambda e: e.get("vp") == f"probe{i}", timeout=0.5 + i * 0.2):
            d.cell("destroy", f"probe{i}")
            return p, reader
        d.cell("destroy", f"probe{i}")
    p.kill()
    raise AssertionError("`cell events` showed no event")


def test_events(daemon):
    d = daemon
    d.cell("create", "a")
    d.cell("create", "b")
    p, ev = start_events(d)
    try:
        def state(vp, st):
            return lambda e: e.get("event") == "state" and e.get("vp") == vp and \
                e.get("state") == st

        def switch(frm, to):
            return lambda e: e.get("event") == "switch" and e.get("from") == frm and \
                e.get("to") == to

        d.cell("start", "a")
        assert ev.wait_for(state("a", "running")), ev.seen
        assert ev.wait_for(switch(None, "a")), ev.seen
        d.cell("start", "b")
        assert ev.wait_for(state("b", "running")), ev.seen
        d.cell("switch", "b")
        assert ev.wait_for(switch("a", "b")), ev.seen
        d.cell("next")
        assert ev.wait_for(switch("b", "a")), ev.seen
        d.cell("stop", "a")
        assert ev.wait_for(state("a", "stopping")), ev.seen
        assert ev.wait_for(state("a", "stopped")), ev.seen
        assert ev.wait_for(switch("a", "b")), ev.seen
        os.kill(d.vp("b")["pid"], signal.SIGKILL)
        e = ev.wait_for(state("b", "stopped"))
        assert e, ev.seen
        assert "9" in e.get("reason", "") or "kill" in e.get("reason", ""), e
        assert ev.wait_for(switch("b", None)), ev.seen
        d.cell("create", "c")
        assert ev.wait_for(lambda e: e.get("vp") == "c"), ev.seen
        d.cell("destroy", "c")
        assert ev.wait_for(lambda e: e.get("vp") == "c" and "destroy" in json.dumps(e)), \
            ev.seen
        for e in ev.seen:
            assert isinstance(e, dict) and "event" in e and "time" in e, e
        assert p.poll() is None, "cell events ended"
    finally:
        p.kill()
        p.wait()
    # The daemon going away ends `cell events`.
    p, ev = start_events(d)
    try:
        d.stop()
        assert p.wait(timeout=10) is not None
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        d.start()


def test_subscriber_that_does_not_read_is_no_brake(daemon):
    d = daemon
    d.create_start("a", "b")
    stuck = d.connect()
    try:
        stuck.sendall(b'{"cmd": "events"}\n')
        assert json.loads(read_line(stuck))["ok"] is True
        # Far more events than a socket buffer holds, never read.
        t = time.monotonic()
        for _ in range(40):
            with d.connect() as s:
                for _ in range(50):
                    s.sendall(b'{"cmd": "next"}\n')
                    assert json.loads(read_line(s))["ok"] is True
        took = time.monotonic() - t
        assert took < 20, f"2000 switches took {took:.1f}s"
        assert d.cell("list", timeout=5).returncode == 0
        assert d.exec("a", "true", timeout=10).returncode == 0
    finally:
        stuck.close()


def test_event_times_to_the_microsecond(daemon):
    d = daemon
    p, ev = start_events(d)
    try:
        with d.connect() as s:
            for name in ("t1", "t2", "t3"):
                s.sendall((json.dumps({"cmd": "create", "name": name}) + "\n").encode())
                assert json.loads(read_line(s))["ok"] is True
                time.sleep(0.003)
        got = []
        for name in ("t1", "t2", "t3"):
            e = ev.wait_for(lambda e, n=name: e.get("vp") == n)
            assert e, ev.seen
            got.append(e)
        times = [e["time"] for e in got]
        assert times == sorted(times) and len(set(times)) == 3, got
        # 3 ms apart, told to the microsecond (not to the second, nor to 10 s).
        assert all(b - a >= 0.0025 for a, b in zip(times, times[1:])), times
        for e in got:
            assert e["time_us"] == round(e["time"] * 1e6), e
            assert abs(e["time"] - time.time()) < 60, e
    finally:
        p.kill()
        p.wait()
