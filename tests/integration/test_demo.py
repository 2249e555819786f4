"""scripts/demo (make demo) beside another cellsd: CELLS_STATE, CELLS_RUN, CELLS_VNC and
CELLS_WEB choose its daemon's directories and addresses, its text names them, and nothing
of the other daemon is touched; a demo whose daemon cannot start says why at once."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import http.cookiejar
import json
import urllib.error
import urllib.request

import pytest

from conftest import BUILD, ROOT, Daemon, make_base, wait_pid_gone
from rfb import free_port

DEMO = ROOT / "scripts" / "demo"
DEMO_UID_BASE = 1_000_000_000  # cellsd's default: the demo gives no --uid-base


def run_demo(state, run, vnc="none", web="none", timeout=300):
    env = {**os.environ, "CELLS_STATE": str(state), "CELLS_RUN": str(run), "CELLS_VNC": vnc,
           "CELLS_WEB": web}
    start = time.monotonic()
    r = subprocess.run([str(DEMO)], env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    return r, time.monotonic() - start


@pytest.fixture
def demo_dirs():
    """Directories for the demo's cellsd; at teardown that daemon is stopped with SIGTERM
    (it must exit and leave nothing) and everything is removed."""
    base = make_base()
    d = Daemon(base)
    d.uid_base = DEMO_UID_BASE
    yield d
    problems = []
    pid_file = d.run / "cellsd.pid"
    pid = int(pid_file.read_text()) if pid_file.exists() else None
    sim_pid_file = d.state / "modemsim" / "pid"
    sim_pid = int(sim_pid_file.read_text()) if sim_pid_file.exists() else None
    log = d.state / "cellsd.log"
    m = re.search(r"ready:.*cgroup (cells-[0-9a-f]+)", log.read_text()) \
        if log.exists() else None
    d.cgroup_parent = m.group(1) if m else None
    if pid:
        os.kill(pid, signal.SIGTERM)
        if not wait_pid_gone(pid, 30):
            problems.append("the demo's cellsd did not exit on SIGTERM")
    if sim_pid:
        os.kill(sim_pid, signal.SIGTERM)
        if not wait_pid_gone(sim_pid, 10):
            problems.append("the demo's modem simulator did not exit on SIGTERM")
            os.kill(sim_pid, signal.SIGKILL)
    deadline = time.monotonic() + 3
    while (left := d.leftovers()) and time.monotonic() < deadline:
        time.sleep(0.1)
    if left:
        problems.append(f"left behind by the demo's cellsd: {left}")
    d.force_clean()
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(base, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def snapshot(other):
    """What the demo must not change of the other daemon."""
    files = sorted(str(p.relative_to(other.state)) for p in other.state.rglob("*")
                   if "upper" not in p.parts and "rootfs" not in p.parts)
    return {"vps": {n: (vp["state"], vp.get("pid"), vp.get("foreground"))
                    for n, vp in other.list().items()},
            "config": other.config_path("keep").read_bytes(), "files": files,
            "log": other.log()}


def test_demo_beside_another_daemon(daemon, demo_dirs):
    daemon.create_start("keep")
    before = snapshot(daemon)
    demo = demo_dirs
    vnc, web = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"

    r, _ = run_demo(demo.state, demo.run, vnc, web)
    assert r.returncode == 0, f"demo failed:\n{r.stdout}\n{r.stderr}"
    out = r.stdout
    for text in (f"{demo.state} (CELLS_STATE)", f"{demo.run} (CELLS_RUN)",
                 f"VNC on {vnc} (CELLS_VNC)", f"web page on {web} (CELLS_WEB)",
                 f"http://{web}/", f"vncviewer {vnc}"):
        assert text in out, f"{text!r} not in the demo's text:\n{out}"
    # The hints are plain cell commands, after an export that makes them work.
    export = re.search(r"^First, in your shell: export (.*)$", out, re.M)
    assert export and f"CELLS_RUN={demo.run}" in export.group(1), out
    assert re.search(r"^  cell list ", out, re.M), out

    vps = demo.list()
    assert {n: vp["state"] for n, vp in vps.items()} == \
        {"personal": "running", "work": "running", "lab": "running"}
    assert vps["personal"]["foreground"]
    # Its daemon listens where it was told.
    with socket.create_connection(("127.0.0.1", int(vnc.rsplit(":")[1])), timeout=5) as s:
        assert s.recv(12) == b"RFB 003.008\n"
    # The page takes the token `cell viewer` shows; without it, nothing but a refusal.
    info = json.loads(subprocess.run([str(BUILD / "cell"), "--run", str(demo.run), "viewer",
                                      "--json"], capture_output=True, text=True,
                                     check=True).stdout)
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with browser.open(f"http://{web}/?token={info['web_token']}", timeout=5) as page:
        assert page.status == 200 and page.url == f"http://{web}/"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://{web}/", timeout=5)
    assert refused.value.code == 401

    # The phones share the simulated modem: a call for work's number rings in work.
    stats = lambda: json.loads(subprocess.run(  # noqa: E731
        [str(BUILD / "cell"), "--run", str(demo.run), "stats", "--json"],
        capture_output=True, text=True, check=True).stdout)
    deadline = time.monotonic() + 10
    while not stats()["daemon"]["telephony"]["modem_up"]:
        assert time.monotonic() < deadline, "the demo's modem never came up"
        time.sleep(0.1)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(demo.state / "modemsim" / "control"))
        f = s.makefile("rw")
        f.write(json.dumps({"cmd": "call", "from": "+15551234", "to": "+15550102"}) + "\n")
        f.flush()
        call = json.loads(f.readline())
        assert call.get("ok"), call
        calls = ""
        while "work" not in calls and time.monotonic() < deadline + 10:
            calls = subprocess.run([str(BUILD / "cell"), "--run", str(demo.run), "device",
                                    "telephony", "calls"], capture_output=True, text=True,
                                   check=True).stdout
            time.sleep(0.1)
        assert "work" in calls and "+15551234" in calls, calls
        f.write(json.dumps({"cmd": "hangup", "call": call["call"]}) + "\n")
        f.flush()
        assert json.loads(f.readline()).get("ok")

    # Again: the demo finds its daemon and changes nothing.
    r, _ = run_demo(demo.state, demo.run, vnc, web)
    assert r.returncode == 0, f"demo failed:\n{r.stdout}\n{r.stderr}"
    assert f"cellsd already runs on {demo.run}" in r.stdout
    assert {n: vp["pid"] for n, vp in demo.list().items()} == \
        {n: vp["pid"] for n, vp in vps.items()}

    assert snapshot(daemon) == before
    assert not (daemon.state / "cellsd.log").exists()


def test_demo_on_a_held_state_says_why_and_touches_nothing(daemon, demo_dirs):
    daemon.create_start("keep")
    before = snapshot(daemon)
    # The other daemon's state with a run directory of its own: the state lock refuses.
    r, took = run_demo(daemon.state, demo_dirs.run)
    assert r.returncode == 1, f"{r.stdout}\n{r.stderr}"
    assert "holds the state directory" in r.stderr, r.stderr
    assert took < 4, f"the demo took {took:.1f} s to see its cellsd exit"
    # The refused daemon wrote its log line there (the demo's log); nothing else changed.
    (daemon.state / "cellsd.log").unlink()
    assert snapshot(daemon) == before
    assert daemon.running
