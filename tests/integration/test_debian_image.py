"""The "debian" image (images/debian): Debian bookworm by mmdebstrap, whose rc starts Xorg,
matchbox and an xterm on the VP's screen.

Building it takes minutes and needs deb.debian.org, so it is built once and kept: a daemon
of this module keeps its state in CACHE (default /var/cache/cells-test, or
$CELLS_TEST_IMAGE_CACHE) across runs, with the apt packages of the build in its cache/, and
rebuilds the image only when a file of the recipe changed (debian.stamp). Where it cannot
be built (no mmdebstrap, no network), the module is skipped and says why.

What a VP cannot give Xorg (a VT: Xorg wants /dev/tty0 of the kernel's VT driver, see
DEVICES.md) one test holds as an expected failure. The daemon serves VNC and the web page
on ports of its own: noVNC in headless chromium (test_browser.py's tools, installed if
missing) taps and types into the X session.
"""

import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import (NO_LAUNCHER, ROOT, UID_RANGE, Daemon, LineReader, destroy_all,
                      make_base, procs_with_uid, put_file, read_line, stop_and_check,
                      wait_for, wait_pid_gone)
import test_browser
from test_browser import BROWSER_DIR, free_ports, kill_browser, page_url
from test_display import read_png

browser_tools = test_browser.browser_tools  # the fixture, for this module's tests

CACHE = Path(os.environ.get("CELLS_TEST_IMAGE_CACHE") or "/var/cache/cells-test")
RECIPE = ROOT / "images" / "debian"
BUILD_TIMEOUT = 1800
X_LOG = "/run/cells/x-session.log"
TOOLS = ["Xorg", "xterm", "xdotool", "xwininfo", "xdpyinfo", "matchbox-window-manager",
         "matchbox-keyboard", "fbi", "links2", "fbset", "evtest", "cells-x-session"]
QT_EXAMPLE = "/usr/lib/x86_64-linux-gnu/qt5/examples/widgets/widgets/analogclock/analogclock"


def recipe_stamp():
    """What the image was built from: the recipe's files (cell-init is not among them: a
    VP runs the daemon's own, whatever the image holds)."""
    h = hashlib.sha256()
    for f in sorted(RECIPE.iterdir()):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def why_no_build():
    # The first build's 3-6 minutes do not fit make check's budget beside the rest: asked
    # for, it runs.
    if not os.environ.get("CELLS_TEST_DEBIAN"):
        return "CELLS_TEST_DEBIAN=1 runs it (a first build of the debian image takes 3-6 min)"
    if not shutil.which("mmdebstrap"):
        return "mmdebstrap is missing (make deps installs it): no debian image"
    try:
        socket.create_connection(("deb.debian.org", 80), timeout=5).close()
    except OSError as e:
        return f"deb.debian.org is unreachable ({e}): the debian image cannot be built"
    return None


class SinkDaemon(Daemon):
    """A daemon with its VNC and web sinks on ports of its own (the browser's tests)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.vnc_port, self.web_port = free_ports(2)

    def argv(self):
        return super().argv() + ["--vnc", f"127.0.0.1:{self.vnc_port}",
                                 "--web", f"127.0.0.1:{self.web_port}"]


@pytest.fixture(scope="module")
def deb():
    """A daemon on the persistent state CACHE/state with the debian image built."""
    CACHE.mkdir(parents=True, exist_ok=True)
    os.chmod(CACHE, 0o755)
    stamp = CACHE / "debian.stamp"
    if not os.environ.get("CELLS_TEST_DEBIAN"):
        pytest.skip(why_no_build())  # asked for only, even with an image built before
    d = SinkDaemon(make_base(), state=CACHE / "state")
    try:
        d.start()
        destroy_all(d)  # what an interrupted run left
        want = recipe_stamp()
        built = (d.state / "images" / "debian" / "rootfs" / "etc" / "cells" / "rc").exists()
        if not built or not stamp.exists() or stamp.read_text() != want:
            reason = why_no_build()
            if reason:
                pytest.skip(reason)
            stamp.unlink(missing_ok=True)
            start = time.monotonic()
            r = d.cell("image", "build", "debian", check=False, timeout=BUILD_TIMEOUT)
            took = time.monotonic() - start
            assert r.returncode == 0, f"image build debian failed after {took:.0f} s:\n" \
                f"{r.stdout[-6000:]}\n{r.stderr[-6000:]}"
            print(f"debian image built in {took:.0f} s")
            stamp.write_text(want)
        yield d
    finally:
        stop_and_check(d)


@pytest.fixture
def vp(deb):
    """A running VP of the debian image (display and input as a VP gets them by default)."""
    deb.cell("create", "deb", "--image", "debian")
    deb.cell("start", "deb")
    yield "deb"
    deb.cell("destroy", "deb", "--force", timeout=60)


def wait_x_log(d, name, timeout=30):
    """The rc's X session log once it says how Xorg's start ended."""
    def x_log():
        return d.exec(name, "cat", X_LOG, check=False).stdout

    def ended():
        text = x_log()
        return text if any(s in text for s in ("Xorg ready", "Xorg exited", "no /dev/fb0")) \
            else None
    return wait_for(ended, timeout, lambda: f"{X_LOG}: {x_log()!r}")


def test_image_is_bookworm_with_its_packages(deb):
    rootfs = deb.state / "images" / "debian" / "rootfs"
    assert 'VERSION_CODENAME=bookworm' in (rootfs / "etc" / "os-release").read_text()
    assert os.access(rootfs / "sbin" / "cell-init", os.X_OK)
    status = (rootfs / "var" / "lib" / "dpkg" / "status").read_text()
    installed = {b.split("\n", 1)[0][len("Package: "):] for b in status.split("\n\n")
                 if "Status: install ok installed" in b}
    for pkg in ("xserver-xorg-core", "xserver-xorg-video-fbdev", "xserver-xorg-input-evdev",
                "matchbox-window-manager", "matchbox-keyboard", "xterm", "xdotool",
                "x11-utils", "fbi", "links2", "fbset", "evtest", "qtbase5-examples",
                "gammu", "modemmanager", "ofono", "dbus", "curl", "openvpn", "wpasupplicant",
                "brightnessctl", "stress-ng"):
        assert pkg in installed, f"{pkg} is not installed in the image"
    # evdev drives input: the libinput driver would want udev-known device nodes.
    assert "xserver-xorg-input-libinput" not in installed
    assert not (rootfs / "etc" / "X11" / "xorg.conf").exists()
    assert not list((rootfs / "var" / "cache" / "apt" / "archives").glob("*.deb"))
    assert "debian" in deb.cell("image", "list").stdout


def test_vp_runs_debian_with_cell_init_and_x_tools(deb, vp):
    assert deb.exec(vp, "cat", "/proc/1/comm").stdout.strip() == "cell-init"
    assert deb.exec(vp, "hostname").stdout.strip() == vp
    r = deb.exec(vp, "sh", "-c", ". /etc/os-release; echo $VERSION_CODENAME")
    assert r.stdout.strip() == "bookworm"
    r = deb.exec(vp, "Xorg", "-version", check=False)
    assert "X.Org X Server 1.21" in r.stdout + r.stderr, r
    missing = deb.exec(vp, "sh", "-c", 'for t in "$@"; do command -v "$t" >/dev/null || '
                       'echo "$t"; done', "-", *TOOLS).stdout.split()
    assert not missing, f"not in the VP's PATH: {missing}"
    assert deb.exec(vp, "test", "-x", QT_EXAMPLE, check=False).returncode == 0
    # Its drivers: fbdev and evdev, found by Xorg without a configuration.
    for mod in ("drivers/fbdev_drv.so", "input/evdev_drv.so"):
        assert deb.exec(vp, "test", "-f", f"/usr/lib/xorg/modules/{mod}",
                        check=False).returncode == 0, mod


def test_rc_starts_x_session_and_logs_how_it_ended(deb, vp):
    assert deb.exec(vp, "test", "-e", "/dev/fb0", check=False).returncode == 0, \
        "the VP has no /dev/fb0"
    text = wait_x_log(deb, vp)
    assert "starting Xorg on :0" in text, text
    if "Xorg exited" in text:
        # Why it stopped is in the rc's log, taken from Xorg's own.
        assert "(EE)" in text or "Fatal server error" in text, text
        xlog = deb.exec(vp, "cat", "/var/log/Xorg.0.log").stdout
        assert "X.Org X Server" in xlog
    assert "rc: deb up" in deb.cell("logs", vp).stdout


def test_xorg_keeps_no_shadow_screen_and_no_glx(deb, vp):
    """10-cells.conf: fbdev draws on the VP's RAM framebuffer itself and GLX (llvmpipe
    without a GPU) is not loaded: together about 14 MiB of every VP's Xorg."""
    text = wait_x_log(deb, vp)
    assert "Xorg ready" in text, text
    xlog = deb.exec(vp, "cat", "/var/log/Xorg.0.log").stdout
    assert '(**) FBDEV(0): Option "ShadowFB" "off"' in xlog, xlog[:6000]
    assert '(**) Extension "GLX" is disabled' in xlog, xlog[:6000]
    maps = deb.exec(vp, "sh", "-c", "cat /proc/$(pidof Xorg)/maps").stdout
    assert "/usr/lib/xorg/modules/drivers/fbdev_drv.so" in maps, maps[:2000]
    assert "libLLVM" not in maps and "swrast_dri" not in maps and "libshadow" not in maps
    # Not even the module: it would bring libGL and libGLX into every Xorg.
    assert "libglx.so" not in maps and "libGL" not in maps, maps[:2000]
    exts = deb.exec(vp, "env", "DISPLAY=:0", "xdpyinfo").stdout
    assert "RENDER" in exts and "GLX" not in exts, exts


def test_console_shell_starts_when_asked(deb, vp):
    """The console's bash starts at an Enter on the console, not with the VP: an unused
    shell would cost every VP its memory."""
    wait_for(lambda: "rc: press Enter for a shell" in deb.cell("logs", vp).stdout,
             timeout=30, what=lambda: deb.cell("logs", vp).stdout[-2000:])
    rc_children = "ps -o comm= --ppid $(pgrep -x rc)"  # exit status 1: none
    assert "bash" not in deb.exec(vp, "sh", "-c", rc_children, check=False).stdout
    n = random.randrange(10000, 99999)
    r = deb.cell("console", vp, input=f"\necho marker-$(({n}+1))\n", timeout=20)
    assert f"marker-{n + 1}" in r.stdout, r.stdout
    assert "bash" in deb.exec(vp, "sh", "-c", rc_children).stdout


def test_no_display_no_x_session(deb):
    deb.cell("create", "nodisp", "--image", "debian", "--device", "display=none")
    deb.cell("start", "nodisp")
    try:
        text = wait_x_log(deb, "nodisp")
        assert "no /dev/fb0" in text and "starting Xorg" not in text, text
        r = deb.exec("nodisp", "sh", "-c", "ps -e -o comm= | grep -x Xorg", check=False)
        assert r.returncode == 1, r
    finally:
        deb.cell("destroy", "nodisp", "--force", timeout=60)


def test_xorg_runs_and_finds_the_touchscreen(deb, vp):
    text = wait_x_log(deb, vp)
    assert "Xorg ready" in text, text
    xlog = deb.exec(vp, "cat", "/var/log/Xorg.0.log").stdout
    assert "Found absolute touchscreen" in xlog, xlog
    r = deb.exec(vp, "env", "DISPLAY=:0", "xdotool", "getmouselocation")
    assert r.stdout.startswith("x:"), r
    deadline = time.monotonic() + 30
    while True:  # the session starts its clients once Xorg is ready
        tree = deb.exec(vp, "env", "DISPLAY=:0", "xwininfo", "-root", "-tree").stdout.lower()
        if "matchbox" in tree and "xterm" in tree:
            break
        assert time.monotonic() < deadline, tree
        time.sleep(0.3)
    # A tap on the VP's screen moves X's pointer there (the touchscreen's axes span the
    # VP's screen, which is X's).
    for x, y in ((300, 400), (650, 1200)):
        deb.cell("input", "tap", str(x), str(y))
        deadline = time.monotonic() + 10
        while True:
            loc = deb.exec(vp, "env", "DISPLAY=:0", "xdotool", "getmouselocation").stdout
            got = dict(kv.split(":") for kv in loc.split()[:2])
            if abs(int(got["x"]) - x) <= 2 and abs(int(got["y"]) - y) <= 2:
                break
            assert time.monotonic() < deadline, (x, y, loc)
            time.sleep(0.2)


def png(width, height, rgb, bottom=None):
    """A PNG of one colour (its bottom half BOTTOM if given), made here (the VP's image has
    no encoder to spare)."""
    import struct
    import zlib

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    row = b"\0" + bytes(rgb) * width
    low = b"\0" + bytes(bottom or rgb) * width
    pixels = row * (height // 2) + low * (height - height // 2)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b""))


@pytest.fixture
def bare(deb):
    """A VP of the debian image whose rc starts no X session: the screen is a program's."""
    deb.cell("create", "bare", "--image", "debian")
    put_file(deb, "bare", "etc/cells/rc.d/50-x", NO_LAUNCHER)
    deb.cell("start", "bare")
    yield "bare"
    deb.cell("destroy", "bare", "--force", timeout=60)


def screen_centre(d, tmp_path, name):
    """The RGB of the middle of the VP's screen (below the root's bar), from a screenshot."""
    shot = tmp_path / f"{name}.png"
    d.cell("screenshot", str(shot))
    img = read_png(shot)
    p = img.pixel(img.width // 2, img.height * 2 // 3)
    return (p >> 16, (p >> 8) & 255, p & 255)


def wait_colour(d, tmp_path, name, want, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        got = screen_centre(d, tmp_path, name)
        if all(abs(a - b) <= 8 for a, b in zip(got, want)):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"screen centre {got}, wanted {want}")
        time.sleep(0.3)


def test_fbi_shows_a_png(deb, bare, tmp_path):
    # Two colours, top and bottom, so the screen shows the picture and not a fill. Not in
    # /tmp: the VP's /tmp is a fresh tmpfs over its upper layer's.
    top, bottom = (200, 30, 40), (30, 60, 200)
    put_file(deb, bare, "srv/two.png", png(720, 1280, top, bottom), mode=0o644)
    # As a user runs it on a console: -T 1, its VT (fbi forks, the child takes /dev/tty1
    # as its controlling tty and asks FBIOGET_CON2FBMAP which framebuffer VT 1 is on).
    deb.exec(bare, "sh", "-c", "(setsid fbi -T 1 -a --noverbose /srv/two.png "
             "</dev/tty1 >/tmp/fbi.log 2>&1; echo exit $? >>/tmp/fbi.log) &")
    try:
        wait_colour(deb, tmp_path, "fbi", bottom)
        shot = tmp_path / "fbi-both.png"
        deb.cell("screenshot", str(shot))
        img = read_png(shot)
        p = img.pixel(img.width // 2, img.height // 3)
        got = (p >> 16, (p >> 8) & 255, p & 255)
        assert all(abs(a - b) <= 8 for a, b in zip(got, top)), f"top half {got}"
    except AssertionError as e:
        log = deb.exec(bare, "cat", "/tmp/fbi.log", check=False).stdout
        raise AssertionError(f"{e}; fbi said: {log!r}") from None


def test_links2_renders_a_page_on_the_framebuffer(deb, bare, tmp_path):
    page = b"<html><body><h1>Cells in a VP</h1><p>rendered by links2 -g -driver fb</p>" \
        b"</body></html>"
    put_file(deb, bare, "srv/page.html", page, mode=0o644)
    # links2's framebuffer driver makes its VT calls on its standard input.
    deb.exec(bare, "sh", "-c", "setsid links2 -g -driver fb file:///srv/page.html "
             "</dev/tty1 >/tmp/links.log 2>&1 &")
    try:
        # links2's own background, then the page's heading drawn on it.
        wait_colour(deb, tmp_path, "links", (0xc0, 0xc0, 0xc0))
        shot = tmp_path / "links-page.png"
        deb.cell("screenshot", str(shot))
        img = read_png(shot)
        top = img.colours(40, 200)
        assert any(c < 0x404040 for c in top), f"no text on the page: {sorted(top)[:8]}"
    except AssertionError as e:
        log = deb.exec(bare, "cat", "/tmp/links.log", check=False).stdout
        raise AssertionError(f"{e}; links2 said: {log!r}") from None


QT_ENV = "QT_QPA_PLATFORM=linuxfb QT_QPA_FB_NO_LIBINPUT=1"
QT_EXAMPLES = "/usr/lib/x86_64-linux-gnu/qt5/examples/widgets/widgets"


def screen_rows(d, tmp_path, tag):
    shot = tmp_path / f"{tag}.png"
    d.cell("screenshot", str(shot))
    return read_png(shot).rows


def wait_changed(d, tmp_path, before, tag, timeout=20):
    """A screenshot that differs from BEFORE (rows), within TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while True:
        rows = screen_rows(d, tmp_path, tag)
        if rows != before:
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"the screen did not change in {timeout} s ({tag})")
        time.sleep(0.3)


def start_qt(d, vp, tmp_path, example):
    """An example of Qt's, on linuxfb with Qt's own evdev input (udev discovery, no device
    paths given); returns the screen once it has drawn."""
    black = screen_rows(d, tmp_path, "before-qt")
    d.exec(vp, "sh", "-c", f"cd /srv && {QT_ENV} setsid {QT_EXAMPLES}/{example}/{example} "
           f"</dev/null >/srv/qt.log 2>&1 &")
    rows = wait_changed(d, tmp_path, black, "qt-drawn")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # until two frames agree: the first ones settled
        later = screen_rows(d, tmp_path, "qt-settled")
        if later == rows:
            break
        rows = later
    return rows


def qt_log(d, vp):
    return d.exec(vp, "cat", "/srv/qt.log", check=False).stdout


def test_qt_line_edit_takes_keys(deb, bare, tmp_path):
    start_qt(deb, bare, tmp_path, "lineedits")

    def dark_in_first_line_edit():
        rows = screen_rows(deb, tmp_path, "qt-line")
        return sum(1 for y in range(287 + 28, 308 + 28) for x in range(26, 340)
                   if max(rows[y][3 * x:3 * x + 3]) < 0x50)
    # A tap gives the first line edit the focus (the touchscreen, through Qt's evdevtouch),
    # then the keys type into it (the keyboard, through Qt's evdevkeyboard): the grey
    # placeholder gives way to dark text, far more dark pixels than a cursor's.
    assert dark_in_first_line_edit() < 30
    deb.cell("input", "tap", "180", "297")
    deb.cell("input", "text", "cells")
    deadline = time.monotonic() + 20
    while dark_in_first_line_edit() < 60:
        if time.monotonic() > deadline:
            raise AssertionError(f"no text typed in the line edit; Qt said: "
                                 f"{qt_log(deb, bare)!r}")
        time.sleep(0.3)


def test_qt_scribble_draws_where_touched(deb, bare, tmp_path):
    before = start_qt(deb, bare, tmp_path, "scribble")
    deb.cell("input", "swipe", "100", "500", "600", "700", "300")
    try:
        wait_changed(deb, tmp_path, before, "qt-touch")
    except AssertionError as e:
        raise AssertionError(f"{e}; Qt said: {qt_log(deb, bare)!r}") from None


def switch_away_and_back(d, vp, other):
    d.cell("switch", other)
    d.cell("switch", vp)


def x_clients_up(d, vp):
    deadline = time.monotonic() + 30
    while "xterm" not in d.exec(vp, "env", "DISPLAY=:0", "xwininfo", "-root",
                                "-tree").stdout.lower():
        assert time.monotonic() < deadline, "no xterm"
        time.sleep(0.3)


def test_xorgs_screen_is_right_again_after_switches(deb, vp, bare, tmp_path):
    wait_x_log(deb, vp)
    deb.cell("switch", vp)
    x_clients_up(deb, vp)
    shown = screen_rows(deb, tmp_path, "x-before")
    for _ in range(3):
        switch_away_and_back(deb, vp, bare)
    # Xorg's picture again, but for what moves on it by itself (xterm's blinking cursor):
    # at most a few rows differ, where the other VP's screen would differ everywhere.
    deadline = time.monotonic() + 20
    while True:
        after = screen_rows(deb, tmp_path, "x-after")
        differ = sum(1 for a, b in zip(after[28:], shown[28:]) if a != b)
        if differ <= len(shown) // 20:
            break
        assert time.monotonic() < deadline, \
            f"the screen is not Xorg's again after the switch ({differ} rows differ)"
        time.sleep(0.3)


@pytest.fixture
def xvt(deb):
    """A debian VP whose /dev/tty0 is a VT node (--tty0 vt-node): Xorg takes its VT."""
    deb.cell("create", "xvt", "--image", "debian", "--tty0", "vt-node")
    deb.cell("start", "xvt")
    yield "xvt"
    deb.cell("destroy", "xvt", "--force", timeout=60)


def vt_acks(d, vp):
    """What the VP's VT_PROCESS owner acknowledged: (releases, acquires)."""
    text = d.cell("device", "vt", "show", vp).stdout
    m = re.search(r"acked +(\d+) releases, (\d+) acquires", text)
    assert m, text
    return int(m[1]), int(m[2])


def test_xorg_hears_of_switches_through_its_vt(deb, xvt, bare):
    """Xorg 1.20+ takes a VT only if /dev/tty0 is the VT driver's (xf86HasTTYs); with
    --tty0 vt-node it takes /dev/tty1 (vt1), sets VT_PROCESS and acknowledges each release
    and acquire, which the VT device counts (Xorg's log says nothing of VT switches
    without AIGLX: fbdev has none)."""
    vp = xvt
    wait_x_log(deb, vp)
    xlog = deb.exec(vp, "cat", "/var/log/Xorg.0.log").stdout
    assert "using VT number 1" in xlog, xlog[-2000:]
    deb.cell("switch", vp)
    x_clients_up(deb, vp)
    shown = deb.cell("device", "vt", "show", vp).stdout
    assert "vt mode   process" in shown and "kd mode   graphics" in shown, shown
    assert "kb mode   off" in shown, shown
    for _ in range(2):
        released, acquired = vt_acks(deb, vp)
        deb.cell("switch", bare)
        wait_for(lambda: vt_acks(deb, vp)[0] == released + 1, 15, "release of the VT by Xorg")
        assert "shown     no" in deb.cell("device", "vt", "show", vp).stdout
        deb.cell("switch", vp)
        wait_for(lambda: vt_acks(deb, vp)[1] == acquired + 1, 15, "acquisition of the VT by Xorg")
    assert "did not release the VT" not in deb.log()
    # It draws again: its xterm is still there and answers.
    x_clients_up(deb, vp)


NOVNC_INPUT = BROWSER_DIR / "novnc_input.mjs"
BAR = 28  # the root's status bar above the VP's screen, in the panel (and noVNC's canvas)


class Browser:
    """novnc_input.mjs: noVNC in headless chromium on the daemon's web page, taking
    clicks and keys from the test."""

    def __init__(self, node, d, tmp_path):
        self.profile = Path(tempfile.mkdtemp(prefix="cells-chromium-"))
        self.stderr_path = tmp_path / "novnc_input.stderr"
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(
            [node, str(NOVNC_INPUT), page_url(d, d.web_port), "--user-data-dir",
             str(self.profile), "--timeout", "30"],
            cwd=BROWSER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, text=True, start_new_session=True)
        self.lines = LineReader(self.proc)
        self.n = 0
        self.ready = self._step("ready", 60)

    def _step(self, name, timeout=30):
        got = self.lines.wait_for(lambda o: o.get("step") in (name, "error"), timeout)
        if got is None or got.get("step") != name:
            self.stderr.flush()
            raise AssertionError(f"novnc_input.mjs: no {name!r} (got {got}, before "
                                 f"{self.lines.seen}); stderr: "
                                 f"{self.stderr_path.read_text()[-2000:]}")
        return got

    def do(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        self.n += 1
        got = self._step("done")
        assert got["n"] == self.n, got

    def tap(self, x, y):
        """A click at the VP's pixel (X, Y): the panel's row Y + BAR."""
        self.do(click=[x, y + BAR])

    def close(self):
        kill_browser(self.proc, self.profile)
        self.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser(deb, browser_tools, tmp_path):
    b = None

    def start():
        nonlocal b
        b = Browser(browser_tools, deb, tmp_path)
        return b
    yield start
    if b:
        b.close()


def x(d, vp, *cmd, **kw):
    return d.exec(vp, "env", "DISPLAY=:0", *cmd, **kw)


def pointer(d, vp):
    loc = x(d, vp, "xdotool", "getmouselocation").stdout
    got = dict(kv.split(":") for kv in loc.split()[:2])
    return int(got["x"]), int(got["y"])


def test_novnc_tap_moves_xs_pointer_and_clicks(deb, vp, browser):
    assert "Xorg ready" in wait_x_log(deb, vp)
    x_clients_up(deb, vp)
    deb.cell("switch", vp)
    # xev's window (matchbox maps it over the screen, above the keyboard) reports the
    # button events it gets, with where they landed on the root window.
    deb.exec(vp, "sh", "-c", "DISPLAY=:0 setsid xev -event button </dev/null "
             ">>/tmp/xev.log 2>&1 &")
    wait_for(lambda: "IsViewable" in x(deb, vp, "xwininfo", "-name", "Event Tester",
                                       check=False).stdout, 15, "viewable window of xev")
    b = browser()
    assert b.ready["canvas"]["width"] == 720, b.ready
    for px, py in ((300, 500), (420, 260)):
        b.tap(px, py)
        wait_for(lambda: all(abs(a - w) <= 2 for a, w in zip(pointer(deb, vp), (px, py))), 15,
                 lambda: f"pointer {pointer(deb, vp)}, wanted ({px}, {py})")

        def clicked():
            # Both halves of a click of button 1 at the tap, on the root window's scale.
            log = deb.exec(vp, "cat", "/tmp/xev.log").stdout
            kinds = set()
            for m in re.finditer(r"(ButtonPress|ButtonRelease) event.*?root:\((\d+),(\d+)\),"
                                 r".*?button (\d+),", log, re.S):
                if m.group(4) == "1" and abs(int(m.group(2)) - px) <= 2 and \
                        abs(int(m.group(3)) - py) <= 2:
                    kinds.add(m.group(1))
            return kinds == {"ButtonPress", "ButtonRelease"}
        wait_for(clicked, 15, lambda: "no click in xev's log: " +
                 deb.exec(vp, "cat", "/tmp/xev.log").stdout[-1500:])
        deb.exec(vp, "sh", "-c", ": >/tmp/xev.log")


def test_novnc_keys_type_into_xterm(deb, vp, browser):
    assert "Xorg ready" in wait_x_log(deb, vp)
    x_clients_up(deb, vp)
    deb.cell("switch", vp)
    deb.exec(vp, "rm", "-f", "/tmp/k")
    wid = x(deb, vp, "xdotool", "search", "--class", "xterm").stdout.split()[0]
    geo = x(deb, vp, "xdotool", "getwindowgeometry", "--shell", wid).stdout
    g = dict(line.split("=") for line in geo.split())
    cx, cy = int(g["X"]) + int(g["WIDTH"]) // 2, int(g["Y"]) + int(g["HEIGHT"]) // 2
    b = browser()
    # A tap on the xterm: the canvas takes the browser's keyboard, the xterm X's.
    b.tap(cx, cy)
    wait_for(lambda: all(abs(a - w) <= 2 for a, w in zip(pointer(deb, vp), (cx, cy))), 15,
             lambda: f"pointer {pointer(deb, vp)}, wanted ({cx}, {cy})")
    b.do(type="echo hi > /tmp/k")
    b.do(press="Enter")
    wait_for(lambda: deb.exec(vp, "cat", "/tmp/k", check=False).stdout == "hi\n", 15,
             lambda: f"/tmp/k: {deb.exec(vp, 'cat', '/tmp/k', check=False)}")


def xorg_host_pid(d, vp):
    lo = d.vp_uid(d.vp(vp)["id"])
    pids = [p for p, comm, _ in procs_with_uid(lo, lo + UID_RANGE) if comm == "Xorg"]
    assert len(pids) == 1, pids
    return pids[0]


def test_xorg_killed_mid_switch_harms_nobody(deb, vp, bare, tmp_path):
    assert "Xorg ready" in wait_x_log(deb, vp)
    x_clients_up(deb, vp)
    # The other VP's screen: fbi's picture, known colours.
    top, bottom = (200, 30, 40), (30, 60, 200)
    put_file(deb, bare, "srv/two.png", png(720, 1280, top, bottom), mode=0o644)
    deb.exec(bare, "sh", "-c", "setsid fbi -T 1 -a --noverbose /srv/two.png "
             "</dev/tty1 >/dev/null 2>&1 &")
    deb.cell("switch", bare)
    wait_colour(deb, tmp_path, "fbi", bottom)
    xorg = xorg_host_pid(deb, vp)

    # Switches back and forth on one connection, each answered before the next, while
    # SIGKILL reaches Xorg between two of them.
    took, answers, killed_at = [], [], None
    with deb.connect(timeout=5) as s:
        for i in range(40):
            if i == 20:
                os.kill(xorg, signal.SIGKILL)
                killed_at = len(took)
            t0 = time.monotonic()
            s.sendall((json.dumps({"cmd": "switch", "name": (vp, bare)[i % 2]}) +
                       "\n").encode())
            answers.append(json.loads(read_line(s)))
            took.append(time.monotonic() - t0)
    assert all(a.get("ok") for a in answers), [a for a in answers if not a.get("ok")]
    # Within the VT's release deadline (500 ms), with room to spare: no switch waits on
    # a VP.
    assert max(took) < 0.5, (max(took), killed_at)
    assert wait_pid_gone(xorg), "Xorg outlived SIGKILL"

    # cellsd is well, the other VP is shown and still draws, the VP lives on.
    assert deb.running, deb.log()[-3000:]
    assert deb.cell("active").stdout.strip() == bare
    wait_colour(deb, tmp_path, "after", bottom)
    put_file(deb, bare, "srv/swapped.png", png(720, 1280, bottom, top), mode=0o644)
    deb.exec(bare, "sh", "-c", "pkill -x fbi; setsid fbi -T 1 -a --noverbose "
             "/srv/swapped.png </dev/tty1 >/dev/null 2>&1 &")
    wait_colour(deb, tmp_path, "redrawn", top)
    text = wait_for(lambda: "Xorg exited" in (t := deb.exec(vp, "cat", X_LOG).stdout) and t, 15,
                    "end of Xorg in the X session's log")
    assert "Xorg exited with status 137" in text, text
    assert deb.state_of(vp) == "running"
    deb.cell("switch", vp)
    assert deb.cell("active").stdout.strip() == vp
    deb.cell("switch", bare)
    wait_colour(deb, tmp_path, "last", top)


def test_brightnessctl_lists_and_sets_the_backlight(deb, bare, tmp_path):
    """Debian's brightnessctl finds the power device's backlight and LEDs in sysfs and
    sets the level; without a real backlight the screen is dimmed to it, and a background
    VP's setting waits for its turn in front."""
    d = deb
    listed = d.exec(bare, "brightnessctl", "--list").stdout
    assert "Device 'panel' of class 'backlight'" in listed, listed
    for led in ("red", "green", "blue", "vibrator"):
        assert f"Device '{led}' of class 'leds'" in listed, listed
    bar = read_png_max(d, tmp_path)
    d.exec(bare, "brightnessctl", "--device=panel", "set", "50%")
    level = int(d.exec(bare, "cat", "/sys/class/backlight/panel/brightness").stdout)
    assert level in (127, 128), level
    assert d.exec(bare, "brightnessctl", "--device=panel", "get").stdout.strip() == str(level)
    dimmed = read_png_max(d, tmp_path)
    assert abs(dimmed - bar * level // 255) <= 1, (bar, dimmed)
    # In a VP behind it: kept, not shown, until it comes to the front.
    d.cell("create", "behind", "--image", "debian")
    put_file(d, "behind", "etc/cells/rc.d/50-x", NO_LAUNCHER)
    d.cell("start", "behind")
    try:
        d.exec("behind", "brightnessctl", "--device=panel", "set", "10%")
        assert read_png_max(d, tmp_path) == dimmed
        d.cell("switch", "behind")
        assert read_png_max(d, tmp_path) < dimmed
    finally:
        d.cell("destroy", "behind", "--force", timeout=60)


def read_png_max(d, tmp_path):
    """The brightest channel of a screenshot (the root's bar, dimmed as the rest)."""
    shot = tmp_path / "max.png"
    d.cell("screenshot", str(shot))
    img = read_png(shot)
    return max(max(row) for row in img.rows)
