"""Issue 11, items 10 and 11: the viewer (VNC and the web page) as a host user or another
site's page would attack it. It runs without root in a process of its own; over TCP it
wants the password or the token; it refuses another site's requests and WebSockets; a
flood of connections is refused past its limits while cellsd, the VPs and an authenticated
client carry on; killed, it comes back and the VPs never notice."""

import base64
import json
import os
import re
import resource
import signal
import socket
import struct
import threading
import time
import urllib.error
import urllib.request

import pytest

import rfb
from integration_conftest import proc_status

FLOOD_VNC = 800
FLOOD_WEB = 600
# src/viewer/viewer.h
VNC_MAX_PER_HOST = 8
WEB_MAX_PER_HOST = 16
AUTH_TIMEOUT_S = 10
WEB_IDLE_TIMEOUT_S = 10


def tcp_ports(n):
    return [rfb.free_port() for _ in range(n)]


@pytest.fixture
def viewed(make_daemon):
    """A daemon with VNC and the web page on TCP, a running VP "alpha", and `cell viewer`."""
    vnc_port, web_port = tcp_ports(2)
    d = make_daemon(extra_args=["--vnc", f"127.0.0.1:{vnc_port}",
                                "--web", f"127.0.0.1:{web_port}"])
    d.create_start("alpha")
    d.vnc_port, d.web_port = vnc_port, web_port
    d.info = rfb.viewer_info(d)
    return d


def viewer_pid(d, other_than=None, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        pid = rfb.viewer_info(d).get("pid", 0)
        if pid and pid != other_than and d.stats()["daemon"].get("viewer_pid") == pid:
            return pid
        assert time.monotonic() < deadline, f"no viewer process (last pid {pid})"
        time.sleep(0.05)


def http(d, path, method="GET", headers=None, token=None):
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"http://127.0.0.1:{d.web_port}{path}", method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def websocket(d, origin, token=None, cookie=True):
    """The status code of a WebSocket handshake to /websockify with ORIGIN."""
    key = base64.b64encode(os.urandom(16)).decode()
    head = [f"GET /websockify HTTP/1.1", f"Host: 127.0.0.1:{d.web_port}",
            "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: binary"]
    if origin:
        head.append(f"Origin: {origin}")
    if token:
        head.append(f"Cookie: cells_token={token}" if cookie else f"Authorization: Bearer {token}")
    with socket.create_connection(("127.0.0.1", d.web_port), timeout=5) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        answer = s.recv(4096).decode(errors="replace")
    m = re.match(r"HTTP/1\.[01] (\d+)", answer)
    assert m, answer
    return int(m.group(1))


def test_the_viewer_runs_without_root_caps_or_files(viewed):
    pid = viewer_pid(viewed)
    st = proc_status(pid)
    uids = [int(x) for x in st["Uid"].split()]
    gids = [int(x) for x in st["Gid"].split()]
    assert all(u == viewed.info["uid"] and u != 0 for u in uids), st["Uid"]
    assert all(g != 0 for g in gids), st["Gid"]
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap], 16) == 0, (cap, st[cap])
    assert st["NoNewPrivs"].strip() == "1"
    assert st["Seccomp"].strip() == "2"
    assert st.get("Groups", "").strip() == ""
    # Its root is an empty directory: no state, no run directory, no VP's files.
    root = os.readlink(f"/proc/{pid}/root")
    assert root.endswith("/viewer/root") and os.listdir(f"/proc/{pid}/root") == []
    # Its descriptors: the link, the scanout's eventfd, noVNC's directory and the
    # listeners cellsd passed; the scanout is mapped read-only.
    maps = open(f"/proc/{pid}/maps").read()
    scanout = [line for line in maps.splitlines() if "cells-scanout" in line]
    assert scanout and all(line.split()[1].startswith("r--") for line in scanout), scanout
    assert os.stat(viewed.info["vnc_unix"]).st_mode & 0o777 in (0o600, 0o660)


def test_unauthenticated_vnc_and_web_are_refused(viewed):
    d = viewed
    pid = viewer_pid(d)
    # VNC over TCP offers the password (type 2) only, and refuses a wrong one.
    with socket.create_connection(("127.0.0.1", d.vnc_port), timeout=5) as s:
        assert rfb.read_exact(s, 12) == b"RFB 003.008\n"
        s.sendall(b"RFB 003.008\n")
        n = rfb.read_exact(s, 1)[0]
        assert list(rfb.read_exact(s, n)) == [2]
    with pytest.raises(PermissionError):
        rfb.connect(d.vnc_port, "wrong!!!")
    rfb.connect(d.vnc_port, d.info["vnc_password"]).close()
    # The web page over TCP: the icon only without the token.
    for path, method in (("/", "GET"), ("/phone.html", "GET"), ("/api/vps", "GET"),
                         ("/novnc/core/rfb.js", "GET"), ("/api/next", "POST"),
                         ("/api/stop?name=alpha", "POST")):
        status, _ = http(d, path, method)
        assert status == 401, (path, status)
    assert http(d, "/api/vps", token="f" * 32)[0] == 401
    assert http(d, "/?token=" + "f" * 32)[0] == 401
    assert websocket(d, f"http://127.0.0.1:{d.web_port}") == 401
    assert d.state_of("alpha") == "running"
    assert http(d, "/api/vps", token=d.info["web_token"])[0] == 200
    # All of it served by the same viewer: nothing it did broke its seccomp filter.
    assert viewer_pid(d) == pid


def test_another_sites_post_and_websocket_are_refused(viewed):
    d = viewed
    token = d.info["web_token"]
    d.create_start("beta")
    d.cell("switch", "alpha")
    for origin in ("https://evil.example", "null", f"http://127.0.0.1:{d.web_port}.evil.example",
                   f"http://localhost:{d.web_port}"):
        status, _ = http(d, "/api/next", "POST", {"Origin": origin}, token)
        assert status == 403, (origin, status)
        assert websocket(d, origin, token) == 403, origin
    # Even with the cookie a browser would send along: the origin decides.
    assert websocket(d, "https://evil.example", token, cookie=True) == 403
    # A browser always names the origin of a WebSocket; one without is refused too.
    assert websocket(d, None, token) == 403
    assert d.cell("active").stdout.strip() == "alpha"
    # The page's own origin may.
    assert websocket(d, f"http://127.0.0.1:{d.web_port}", token) == 101
    status, body = http(d, "/api/next", "POST", {"Origin": f"http://127.0.0.1:{d.web_port}"},
                        token)
    assert status == 200 and json.loads(body) == {"ok": True, "foreground": "beta"}, body
    assert d.cell("active").stdout.strip() == "beta"


def open_many(port, n, path=None):
    socks = []
    for _ in range(n):
        try:
            s = socket.socket(socket.AF_UNIX if path else socket.AF_INET)
            s.settimeout(5)
            s.connect(path or ("127.0.0.1", port))
            socks.append(s)
        except OSError:
            s.close()
            break
    return socks


def answer_of(s):
    """What the viewer did with S, by what it sent without reading anything of ours:
    "refused" (RFB: no security type; HTTP: 503), "admitted" (RFB: only its version,
    then perhaps closed when the handshake timed out; HTTP: nothing, or closed when the
    request timed out), or None while it has not answered."""
    s.setblocking(False)
    try:
        data = s.recv(64, socket.MSG_PEEK)
    except BlockingIOError:
        return None
    except ConnectionResetError:
        return "refused"
    if data.startswith(b"RFB 003.008\n\0") or data.startswith(b"HTTP/1.0 503"):
        return "refused"
    return "admitted"


def answers_to_flood(socks, started, per_host, expiry_s):
    """Once the viewer answered the last of SOCKS, what it did with each: it accepts in
    order, so by then one that has heard nothing was admitted (a web connection waits for
    its request). Admitted clients that time out free their slots: every EXPIRY_S after
    STARTED up to PER_HOST more of the flood's address may be admitted."""
    deadline = time.monotonic() + expiry_s + 5
    while answer_of(socks[-1]) is None:
        assert time.monotonic() < deadline, "the viewer never answered the flood's last"
        time.sleep(0.05)
    answers = [answer_of(s) or "admitted" for s in socks]
    windows = 1 + int((time.monotonic() - started) // expiry_s)
    return answers, per_host * windows


def test_a_flood_of_connections_is_refused_and_nothing_else_suffers(viewed):
    d = viewed
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    pid = viewer_pid(d)
    log_before = len(d.log())
    started = time.monotonic()
    vnc = open_many(d.vnc_port, FLOOD_VNC)
    vnc_s = time.monotonic() - started
    web = open_many(d.web_port, FLOOD_WEB)
    # For docs/BENCHMARKS.md ("Viewer: a flood of connections"), seen with pytest -s.
    print(f"flood: {len(vnc)} VNC connections in {vnc_s:.2f} s, {len(web)} web in "
          f"{time.monotonic() - started - vnc_s:.2f} s")
    try:
        assert len(vnc) == FLOOD_VNC and len(web) == FLOOD_WEB, (len(vnc), len(web))
        # Past the per-address limits (src/viewer/viewer.h) everything was refused.
        for socks, per_host, expiry_s in ((vnc, VNC_MAX_PER_HOST, AUTH_TIMEOUT_S),
                                          (web, WEB_MAX_PER_HOST, WEB_IDLE_TIMEOUT_S)):
            answers, most = answers_to_flood(socks, started, per_host, expiry_s)
            assert answers[:per_host] == ["admitted"] * per_host, answers[:per_host]
            assert answers.count("admitted") <= most, (answers.count("admitted"), most)
        # The viewer held on to few descriptors, far from FD_SETSIZE; it is the same one.
        assert len(os.listdir(f"/proc/{pid}/fd")) < 200
        assert viewer_pid(d) == pid
        # cellsd and its control socket, the VP: as before.
        assert d.running and d.state_of("alpha") == "running"
        assert d.cell("list").returncode == 0
        # An authenticated client still sees the phone: over the unix socket, and over
        # TCP from another address than the flood's.
        s = rfb.connect_to(d)
        rfb.request(s, incremental=False)
        assert sum(w * h for _, _, w, h, _ in rfb.read_update(s)) == rfb.XRES * rfb.YRES
        s.close()
    finally:
        for s in vnc + web:
            s.close()
    # Refusals are logged, a line a second at most per kind: not one per connection.
    refusals = [line for line in d.log()[log_before:].splitlines() if "refused" in line]
    assert 0 < len(refusals) < 40, refusals[:50]
    # Once the flood is gone, TCP clients are served again.
    deadline = time.monotonic() + 15
    while True:
        try:
            rfb.connect(d.vnc_port, d.info["vnc_password"]).close()
            break
        except (ConnectionRefusedError, EOFError, OSError):
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_idle_connections_are_dropped(viewed):
    d = viewed
    vnc = socket.create_connection(("127.0.0.1", d.vnc_port), timeout=20)
    web = socket.create_connection(("127.0.0.1", d.web_port), timeout=20)
    try:
        start = time.monotonic()
        assert rfb.read_exact(vnc, 12) == b"RFB 003.008\n"  # and then nothing of ours
        assert vnc.recv(64) == b""
        assert web.recv(64) == b""
        took = time.monotonic() - start
        assert 8 < took < 15, took
    finally:
        vnc.close()
        web.close()


def test_killing_the_viewer_leaves_cellsd_and_the_vps_alone(viewed):
    d = viewed
    events = d.connect(timeout=30)
    events.sendall(b'{"cmd": "events"}\n')
    pid = viewer_pid(d)
    vp_pid = d.vp("alpha")["pid"]
    os.kill(pid, signal.SIGKILL)
    new = viewer_pid(d, other_than=pid)
    assert new != pid
    # An event said so.
    buf = b""
    deadline = time.monotonic() + 10
    while b'"viewer"' not in buf and time.monotonic() < deadline:
        buf += events.recv(65536)
    events.close()
    assert b'"event":"viewer"' in buf and b"signal 9" in buf, buf[-2000:]
    # The VP did not notice; cellsd answers; the new viewer serves.
    assert d.vp("alpha")["pid"] == vp_pid and d.state_of("alpha") == "running"
    s = rfb.connect(d.vnc_port, d.info["vnc_password"])
    rfb.request(s, incremental=False)
    assert rfb.read_update(s)
    s.close()
    assert http(d, "/api/vps", token=d.info["web_token"])[0] == 200
