"""The display seen by software no one here wrote: noVNC in Debian's headless chromium
(driven by playwright-core from npm, tests/browser/novnc.mjs) shows the foreground VP and
follows a switch made with the page's buttons and one made with `cell switch`; Debian's
vncsnapshot, a second VNC client, captures the same picture as `cell screenshot`.

What it needs is installed once per session if missing (apt-get: chromium, vncsnapshot,
python3-pil, novnc; `npm ci` in tests/browser); the test is skipped, saying why, only when
that cannot be done.
"""

import importlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import rfb
from conftest import ROOT, Daemon, LineReader

BROWSER_DIR = ROOT / "tests" / "browser"
SCRIPT = BROWSER_DIR / "novnc.mjs"
CHROMIUM = Path("/usr/bin/chromium")
VNCSNAPSHOT = Path("/usr/bin/vncsnapshot")
NOVNC_PAGE = Path("/usr/share/novnc/vnc_lite.html")
NODE_MAJOR_MIN = 20  # playwright-core's "engines"

# apps/launcher.c: the VP's colour, by the FNV-1a hash of its name.
LAUNCHER_PALETTE = [0x1e3a8a, 0x8b1a1a, 0x166534, 0x6b21a8, 0x9a4a00, 0x0f5f66, 0x831843,
                    0x374151]
# src/devices/display.c: the status bar's colour, by VP id.
BAR_PALETTE = [0x1e88e5, 0x43a047, 0xe53935, 0x8e24aa, 0xfb8c00, 0x00897b, 0x6d4c41, 0x3949ab]

# Points of the screen as fractions of its size, clear of the launcher's text (name and
# clock centred in the top third within 90% of the width, "Cells" centred at the bottom),
# of its moving square (middle third) and of the status bar's text (left end of the bar).
BAR_POINT = (0.97, 0.008)
BG_POINTS = [(0.04, 0.80), (0.96, 0.80), (0.04, 0.06), (0.96, 0.06)]
# Where the launcher's background fills everything: the dominant colour of this box.
BG_BOX = (0.0, 0.72, 0.30, 0.90)

# apps/launcher.c: its mark where it was last touched, and where the browser touches.
MARK = 0xffd400
BAR_HEIGHT = 28
TOUCH = (0.5, 0.75)

BROWSER_TOLERANCE = 3   # a flat colour, rendered by the browser (scaled)
JPEG_TOLERANCE = 12     # vncsnapshot writes JPEG


def hexrgb(v):
    return f"#{v:06x}"


def rgb(v):
    return ((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff)


def launcher_colour(name):
    h = 2166136261
    for b in name.encode():
        h ^= b
        h = (h * 16777619) & 0xffffffff
    return LAUNCHER_PALETTE[h % 8]


def bar_colour(vp_id):
    return BAR_PALETTE[vp_id % len(BAR_PALETTE)]


# ---------------------------------------------------------------------------------------
# What the test needs, installed once


def _apt_install(*pkgs):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", *pkgs]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200)
    if r.returncode != 0:  # perhaps stale package lists
        subprocess.run(["apt-get", "update"], capture_output=True, env=env, timeout=600)
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200)
    return r


def _need(what, present, pkgs):
    """Installs PKGS unless present(); skips the tests when that cannot be done."""
    if present():
        return
    r = _apt_install(*pkgs)
    if r.returncode != 0 or not present():
        pytest.skip(f"{what} is missing and `apt-get install -y {' '.join(pkgs)}` did not "
                    f"install it (exit {r.returncode}): {(r.stderr or r.stdout)[-500:]}")


def _have_pil():
    importlib.invalidate_caches()
    try:
        importlib.import_module("PIL.Image")
        return True
    except ImportError:
        return False


def _node_major():
    node = shutil.which("node")
    if not node:
        return None
    r = subprocess.run([node, "--version"], capture_output=True, text=True)
    m = re.match(r"v(\d+)\.", r.stdout.strip())
    return int(m.group(1)) if m else None


@pytest.fixture(scope="session")
def browser_tools():
    """chromium, vncsnapshot, PIL, novnc's files, node + playwright-core: installed if
    missing. Returns the path of node."""
    _need("Debian's chromium", CHROMIUM.exists, ["chromium"])
    _need("vncsnapshot", VNCSNAPSHOT.exists, ["vncsnapshot"])
    _need("PIL (python3-pil)", _have_pil, ["python3-pil"])
    _need("noVNC's files", NOVNC_PAGE.exists, ["novnc"])
    _need("node and npm", lambda: bool(shutil.which("node") and shutil.which("npm")),
          ["nodejs", "npm"])
    major = _node_major()
    if major is None or major < NODE_MAJOR_MIN:
        pytest.skip(f"playwright-core needs node >= {NODE_MAJOR_MIN}, this one is "
                    f"{major}")
    if not (BROWSER_DIR / "node_modules" / "playwright-core" / "package.json").exists():
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR,
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            pytest.skip(f"`npm ci` in {BROWSER_DIR} failed (exit {r.returncode}): "
                        f"{(r.stderr or r.stdout)[-500:]}")
    return shutil.which("node")


# ---------------------------------------------------------------------------------------
# Pictures


def _image(path):
    from PIL import Image
    with Image.open(path) as im:
        return im.convert("RGB")


def patch_colour(im, point, radius=3):
    """The per-channel median of a small square around POINT (fractions of the size)."""
    x = min(max(int(point[0] * im.width), radius), im.width - 1 - radius)
    y = min(max(int(point[1] * im.height), radius), im.height - 1 - radius)
    px = [im.getpixel((i, j)) for i in range(x - radius, x + radius + 1)
          for j in range(y - radius, y + radius + 1)]
    return tuple(sorted(p[c] for p in px)[len(px) // 2] for c in range(3))


def dominant_colour(im, box):
    """The most frequent colour in BOX (fractions) and its share of the box."""
    x0, y0, x1, y1 = (int(box[0] * im.width), int(box[1] * im.height),
                      int(box[2] * im.width), int(box[3] * im.height))
    colours = im.crop((x0, y0, x1, y1)).getcolors(maxcolors=1 << 20)
    count, colour = max(colours)
    return colour, count / ((x1 - x0) * (y1 - y0))


def close(a, b, tol):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


def fmt(c):
    return "#%02x%02x%02x" % tuple(c)


def check_shows(png, name, vp_id, tol=BROWSER_TOLERANCE):
    """PNG shows VP NAME (its launcher's colour) under the status bar of id VP_ID."""
    im = _image(png)
    want_bg, want_bar = rgb(launcher_colour(name)), rgb(bar_colour(vp_id))
    dom, share = dominant_colour(im, BG_BOX)
    assert close(dom, want_bg, tol) and share > 0.9, \
        (f"{png.name}: dominant colour {fmt(dom)} ({share:.0%} of the sampled box), "
         f"expected {name}'s launcher colour {fmt(want_bg)}")
    for p in BG_POINTS:
        got = patch_colour(im, p)
        assert close(got, want_bg, tol), \
            f"{png.name}: {fmt(got)} at {p}, expected {name}'s colour {fmt(want_bg)}"
    got = patch_colour(im, BAR_POINT)
    assert close(got, want_bar, tol), \
        f"{png.name}: status bar {fmt(got)}, expected {fmt(want_bar)} (id {vp_id})"


def same_picture(jpg, png, tol=JPEG_TOLERANCE):
    """The VNC client's JPEG and `cell screenshot`'s PNG show the same screen."""
    a, b = _image(jpg), _image(png)
    assert a.size == b.size == (720, 1280), f"sizes {a.size} (vncsnapshot), {b.size}"
    for p in [BAR_POINT, *BG_POINTS]:
        ca, cb = patch_colour(a, p), patch_colour(b, p)
        assert close(ca, cb, tol), \
            f"at {p}: vncsnapshot {fmt(ca)}, cell screenshot {fmt(cb)} (tolerance {tol})"
    # The status bar with its text (the VP's name), averaged: the same within JPEG's loss.
    box = (0, 0, 360, 28)
    ma = [sum(c) / len(c) for c in zip(*a.crop(box).getdata())]
    mb = [sum(c) / len(c) for c in zip(*b.crop(box).getdata())]
    assert all(abs(x - y) <= 4 for x, y in zip(ma, mb)), \
        f"status bar mean colour: vncsnapshot {ma}, cell screenshot {mb}"


# ---------------------------------------------------------------------------------------
# Processes


def free_ports(n):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def pids_with_arg(needle):
    """Live processes whose command line mentions NEEDLE (our browser's profile)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if needle.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


def kill_browser(proc, profile):
    """Ends the node script (its process group: it was started in a session of its own)
    and any chromium process of its profile, by pid."""
    if proc is not None and proc.poll() is None:
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 5
    while True:
        left = pids_with_arg(str(profile))
        if not left:
            return
        if time.monotonic() > deadline:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
            return
        time.sleep(0.1)


def start_daemon(make_daemon, vnc_port, web_port):
    """make_daemon, with the VNC and web sinks on the given ports."""
    argv = Daemon.argv

    def with_sinks(self):
        return argv(self) + ["--vnc", f"127.0.0.1:{vnc_port}",
                             "--web", f"127.0.0.1:{web_port}"]

    Daemon.argv = with_sinks
    try:
        d = make_daemon()
    finally:
        Daemon.argv = argv
    d.argv = lambda: with_sinks(d)  # a restart keeps the ports
    return d


def screenshot(d, path):
    d.cell("screenshot", path)
    return path


def wait_screen(d, tmp, name, vp_id, timeout=10):
    """Until `cell screenshot` shows VP NAME drawn by its launcher."""
    deadline = time.monotonic() + timeout
    n = 0
    while True:
        n += 1
        png = screenshot(d, tmp / f"wait-{name}-{n}.png")
        try:
            check_shows(png, name, vp_id, tol=0)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def mark_box(im):
    """The bounding box of the launcher's touch-mark colour in IM, or None."""
    xs, ys = [], []
    px = im.load()
    for y in range(BAR_HEIGHT, im.height, 2):
        for x in range(0, im.width, 2):
            if close(px[x, y], rgb(MARK), 8):
                xs.append(x)
                ys.append(y)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def wait_mark(d, tmp, tag, point, timeout=10):
    """Until `cell screenshot` shows the launcher's touch mark centred on POINT (a few
    pixels of rounding allowed: noVNC scales the canvas)."""
    deadline = time.monotonic() + timeout
    n = 0
    while True:
        n += 1
        im = _image(screenshot(d, tmp / f"mark-{tag}-{n}.png"))
        box = mark_box(im)
        if box and abs((box[0] + box[2]) / 2 - point[0]) <= 6 and \
                abs((box[1] + box[3]) / 2 - point[1]) <= 6:
            return
        if time.monotonic() > deadline:
            st = d.stats()["daemon"]
            raise AssertionError(
                f"no touch mark centred at {point}: the mark's colour is at {box}; "
                f"cellsd: {({k: v for k, v in st.items() if 'input' in k or 'vnc' in k})}")
        time.sleep(0.1)


def vnc_and_cell_screenshot(d, vnc_port, tmp, tag):
    """A vncsnapshot and a `cell screenshot` of the same moment; both checked equal."""
    jpg, png = tmp / f"vncsnapshot-{tag}.jpg", tmp / f"cell-screenshot-{tag}.png"
    passwd = tmp / "vncpasswd"  # the password `cell viewer` shows, as vncpasswd keeps it
    passwd.write_bytes(rfb.vnc_passwd_file(rfb.viewer_info(d)["vnc_password"]))
    r = subprocess.run([str(VNCSNAPSHOT), "-quiet", "-passwd", str(passwd),
                        f"127.0.0.1::{vnc_port}", str(jpg)],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0 and jpg.exists(), \
        f"vncsnapshot failed (exit {r.returncode}): {r.stderr[-1000:]}"
    screenshot(d, png)
    same_picture(jpg, png)
    return jpg, png


# ---------------------------------------------------------------------------------------


def wait_step(lines, name, timeout, stderr, tmp_path):
    """The line of novnc.mjs that reports step NAME, or an error with what it said."""
    got = lines.wait_for(lambda o: o.get("step") in (name, "error"), timeout)
    if got is None or got.get("step") != name:
        stderr.flush()
        raise AssertionError(
            f"novnc.mjs: no step {name!r} (got {got}, before: {lines.seen}); "
            f"stderr: {(tmp_path / 'novnc.stderr').read_text()[-2000:]}")
    return got


def test_novnc_in_chromium_and_vncsnapshot(make_daemon, browser_tools, tmp_path):
    node = browser_tools
    a, b = "alpha", "beta"
    assert launcher_colour(a) != launcher_colour(b), "pick names of different colours"
    vnc_port, web_port = free_ports(2)
    d = start_daemon(make_daemon, vnc_port, web_port)
    d.create_start(a, b)
    ids = {n: vp["id"] for n, vp in d.list().items()}
    assert bar_colour(ids[a]) != bar_colour(ids[b])
    assert d.cell("active").stdout.strip() == a
    wait_screen(d, tmp_path, a, ids[a])

    # A second VNC client sees what the output shows.
    vnc_and_cell_screenshot(d, vnc_port, tmp_path, "1-" + a)

    out = tmp_path / "browser"
    profile = Path(tempfile.mkdtemp(prefix="cells-chromium-"))
    stderr = open(tmp_path / "novnc.stderr", "w")
    proc = None
    try:
        proc = subprocess.Popen(
            [node, str(SCRIPT), page_url(d, web_port), str(out),
             "--user-data-dir", str(profile), "--external-switch", "--touch",
             f"{TOUCH[0]},{TOUCH[1]}", "--timeout", "20"],
            cwd=BROWSER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            text=True, start_new_session=True)
        lines = LineReader(proc)

        def step(name, timeout=40):
            return wait_step(lines, name, timeout, stderr, tmp_path)

        # 1. The page shows the foreground VP, its button marked.
        s1 = step("1-initial")
        assert s1["foreground"] == a, s1
        assert s1["canvas"]["width"] == 720 and s1["canvas"]["height"] == 1280, s1
        assert s1["canvas"]["bg"] == hexrgb(launcher_colour(a)), s1
        assert s1["canvas"]["bar"] == hexrgb(bar_colour(ids[a])), s1
        check_shows(out / "1-initial.png", a, ids[a])

        # 2. Its button for the other VP switched: cellsd agrees, the browser shows it.
        s2 = step("2-clicked")
        assert s2["clicked"] == b and s2["foreground"] == b, s2
        assert d.cell("active").stdout.strip() == b
        check_shows(out / "2-clicked.png", b, ids[b])
        # So does a second VNC client, while the browser stays connected.
        vnc_and_cell_screenshot(d, vnc_port, tmp_path, "2-" + b)

        # 3. A switch with the command line: the browser follows.
        step("waiting-for-external-switch")
        d.cell("switch", a)
        assert d.cell("active").stdout.strip() == a
        proc.stdin.write("switched\n")
        proc.stdin.flush()
        step("3-external")
        check_shows(out / "3-external.png", a, ids[a])
        vnc_and_cell_screenshot(d, vnc_port, tmp_path, "3-" + a)

        # 4. A click in the browser is a touch at that point in the foreground VP: its
        # launcher marks it. The background VP heard nothing: no mark when shown.
        step("4-touched")
        # A point of the panel: the VP gets it less the bar's rows, and its mark is drawn
        # there on its screen, which is below the bar: the same point of the panel.
        x, y = int(TOUCH[0] * 720), int(TOUCH[1] * 1280)
        wait_mark(d, tmp_path, "a", (x, y))
        d.cell("switch", b)
        wait_screen(d, tmp_path, b, ids[b])
        im = _image(screenshot(d, tmp_path / "b-after-touch.png"))
        assert not any(close(p, rgb(MARK), 40) for p in im.getdata()), \
            "the background VP drew a touch mark"

        assert proc.wait(timeout=20) == 0, \
            (tmp_path / "novnc.stderr").read_text()[-2000:]
        summary = json.loads((out / "summary.json").read_text())
        assert summary["ok"] is True, summary
        assert "/phone.html?" in summary["iframe_src"], summary["iframe_src"]
    finally:
        kill_browser(proc, profile)
        stderr.close()
        shutil.rmtree(profile, ignore_errors=True)


def page_url(d, web_port):
    """The page's address with its token, as `cell viewer` shows it."""
    return f"http://127.0.0.1:{web_port}/?token={rfb.viewer_info(d)['web_token']}"


def http(port, path, method="GET", headers=None, token=None):
    """(status, content type, body) of one request to the web page (with TOKEN: as an
    Authorization: Bearer header)."""
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


def test_favicon_and_who_may_post(make_daemon):
    vnc_port, web_port = free_ports(2)
    d = start_daemon(make_daemon, vnc_port, web_port)
    d.create_start("alpha")
    token = rfb.viewer_info(d)["web_token"]
    # Without the token: the icon only.
    for path, method in (("/", "GET"), ("/api/vps", "GET"), ("/api/stop?name=alpha", "POST")):
        status, _, body = http(web_port, path, method)
        assert status == 401, (path, status, body)
    status, _, body = http(web_port, "/api/vps", token="0" * 32)
    assert status == 401, (status, body)
    status, _, body = http(web_port, "/api/vps", token=token)
    assert status == 200 and json.loads(body)["vps"][0]["name"] == "alpha", body
    for path in ("/favicon.ico", "/favicon.svg"):
        status, ctype, body = http(web_port, path)
        assert status == 200 and ctype.startswith("image/"), (path, status, ctype)
        assert body.lstrip().startswith(b"<svg") and body.rstrip().endswith(b"</svg>"), body
    # Another site's page in the user's browser may not stop a VP (nor switch one).
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{web_port}.evil.example"):
        status, _, body = http(web_port, "/api/stop?name=alpha", "POST", {"Origin": origin},
                               token)
        assert status == 403, (origin, status, body)
    assert d.state_of("alpha") == "running"
    # The page itself may (its Origin is its own), and so may a client that is no browser.
    status, _, body = http(web_port, "/api/stop?name=alpha", "POST",
                           {"Origin": f"http://127.0.0.1:{web_port}"}, token)
    assert status == 200 and json.loads(body)["ok"] is True, body
    d.wait_state("alpha", "stopped")
    status, _, body = http(web_port, "/api/start?name=alpha", "POST", token=token)
    assert status == 200 and json.loads(body) == {"ok": True, "state": "running"}, body
    assert d.state_of("alpha") == "running"
    for path, why in (("/api/start?name=alpha", "already running"),
                      ("/api/stop?name=nosuch", "no such VP"),
                      ("/api/start?name=../x", "no such VP"),
                      ("/api/start", "no such VP")):
        status, _, body = http(web_port, path, "POST", token=token)
        got = json.loads(body)
        assert got["ok"] is False and why in got["error"], (path, got)


def test_page_starts_stops_and_comes_back_after_a_restart(make_daemon, browser_tools,
                                                           tmp_path):
    """The page's stop and start buttons; then cellsd stops and starts again on the same
    directories and ports: the page, never reloaded, shows the phone again. No request of
    the page's fails (a favicon is served)."""
    node = browser_tools
    vnc_port, web_port = free_ports(2)
    d = start_daemon(make_daemon, vnc_port, web_port)
    for name in ("alpha", "beta"):  # they come back when cellsd starts again
        d.cell("create", name, "--autostart")
        d.cell("start", name)
    out = tmp_path / "browser"
    profile = Path(tempfile.mkdtemp(prefix="cells-chromium-"))
    stderr = open(tmp_path / "novnc.stderr", "w")
    proc = None
    try:
        proc = subprocess.Popen(
            [node, str(SCRIPT), page_url(d, web_port), str(out),
             "--user-data-dir", str(profile), "--start-stop", "alpha", "--restart",
             "--timeout", "30"],
            cwd=BROWSER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            text=True, start_new_session=True)
        lines = LineReader(proc)

        def step(name, timeout=60):
            return wait_step(lines, name, timeout, stderr, tmp_path)

        pid = d.vp("alpha")["pid"]
        step("2-clicked")
        stopped = step("5-stopped")
        assert any(v["name"] == "alpha" and v["disabled"] for v in stopped["vps"]), stopped
        step("6-started")
        # cellsd stopped it and started it again: a new init.
        assert d.state_of("alpha") == "running" and d.vp("alpha")["pid"] != pid

        step("waiting-for-restart")
        assert d.stop() == 0
        step("7-lost")
        d.start()
        proc.stdin.write("restarted\n")
        proc.stdin.flush()
        back = step("8-reconnected")
        assert back["canvas"]["width"] == 720 and back["foreground"] in ("alpha", "beta"), back
        assert {v["name"] for v in back["vps"]} == {"alpha", "beta"}, back

        assert proc.wait(timeout=20) == 0, \
            (tmp_path / "novnc.stderr").read_text()[-2000:]
        summary = json.loads((out / "summary.json").read_text())
        assert summary["ok"] is True, summary
        assert "/phone.html?" in summary["iframe_src"], summary["iframe_src"]
        # Requests refused while cellsd was away are expected; none may be a 404.
        # (A status, not digits of a port: ws://127.0.0.1:44041/ once failed this.)
        assert not [m for m in summary["console"] if re.search(r"(?<![\d:])404(?!\d)", m)], \
            summary["console"]
    finally:
        kill_browser(proc, profile)
        stderr.close()
        shutil.rmtree(profile, ignore_errors=True)
