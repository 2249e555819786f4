"""The "debian" image (images/debian): Debian bookworm by mmdebstrap, whose rc starts Xorg,
matchbox and an xterm on the VP's screen.

Building it takes minutes and needs deb.debian.org, so it is built once and kept: a daemon
of this module keeps its state in CACHE (default /var/cache/cells-test, or
$CELLS_TEST_IMAGE_CACHE) across runs, with the apt packages of the build in its cache/, and
rebuilds the image only when a file of the recipe changed (debian.stamp). Where it cannot
be built (no mmdebstrap, no network), the module is skipped and says why.

What a VP cannot give Xorg yet (its /sys/class/graphics/fb0, the input devices in /sys and
the udev database, a VT) the last test holds as an expected failure: it passes once they
are there.
"""

import hashlib
import os
import shutil
import socket
import time
from pathlib import Path

import pytest

from conftest import ROOT, Daemon, make_base

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
    # Until Xorg runs in a VP (issue 12's /sys and VT), the first build's 3-6 minutes do not
    # fit make check's budget: asked for, it runs.
    if not os.environ.get("CELLS_TEST_DEBIAN"):
        return "CELLS_TEST_DEBIAN=1 runs it (a first build of the debian image takes 3-6 min)"
    if not shutil.which("mmdebstrap"):
        return "mmdebstrap is missing (make deps installs it): no debian image"
    try:
        socket.create_connection(("deb.debian.org", 80), timeout=5).close()
    except OSError as e:
        return f"deb.debian.org is unreachable ({e}): the debian image cannot be built"
    return None


def destroy_all(d):
    for name in d.list():
        d.cell("destroy", name, "--force", timeout=60)


@pytest.fixture(scope="module")
def deb():
    """A daemon on the persistent state CACHE/state with the debian image built."""
    CACHE.mkdir(parents=True, exist_ok=True)
    os.chmod(CACHE, 0o755)
    stamp = CACHE / "debian.stamp"
    d = Daemon(make_base(), state=CACHE / "state")
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
        problems = []
        try:
            if d.running:
                destroy_all(d)
                status = d.stop()
                if status not in (0, None):
                    problems.append(f"cellsd exited with status {status} on SIGTERM")
        except AssertionError as e:
            problems.append(str(e))
        left = d.leftovers()
        d.force_clean()
        if left:
            problems.append(f"left behind by cellsd: {left}")
        log = d.log()
        shutil.rmtree(d.base, ignore_errors=True)
        if problems:
            pytest.fail("\n".join(problems) + "\ncellsd log:\n" + log[-4000:], pytrace=False)


@pytest.fixture
def vp(deb):
    """A running VP of the debian image (display and input as a VP gets them by default)."""
    deb.cell("create", "deb", "--image", "debian")
    deb.cell("start", "deb")
    yield "deb"
    deb.cell("destroy", "deb", "--force", timeout=60)


def wait_x_log(d, name, timeout=30):
    """The rc's X session log once it says how Xorg's start ended."""
    deadline = time.monotonic() + timeout
    while True:
        text = d.exec(name, "cat", X_LOG, check=False).stdout
        if "Xorg ready" in text or "Xorg exited" in text or "no /dev/fb0" in text:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{X_LOG} after {timeout} s: {text!r}")
        time.sleep(0.2)


def test_image_is_bookworm_with_its_packages(deb):
    rootfs = deb.state / "images" / "debian" / "rootfs"
    assert 'VERSION_CODENAME=bookworm' in (rootfs / "etc" / "os-release").read_text()
    assert os.access(rootfs / "sbin" / "cell-init", os.X_OK)
    status = (rootfs / "var" / "lib" / "dpkg" / "status").read_text()
    installed = {b.split("\n", 1)[0][len("Package: "):] for b in status.split("\n\n")
                 if "Status: install ok installed" in b}
    for pkg in ("xserver-xorg-core", "xserver-xorg-video-fbdev", "xserver-xorg-input-evdev",
                "matchbox-window-manager", "matchbox-keyboard", "xterm", "xdotool",
                "x11-utils", "fbi", "links2", "fbset", "evtest", "qtbase5-examples"):
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


@pytest.mark.xfail(strict=False, reason="a VP has no /sys/class/graphics/fb0, input devices "
                   "in /sys and /run/udev/data, nor a VT yet (issue 12): Xorg stops with "
                   "'No devices detected'")
def test_xorg_runs_and_finds_the_touchscreen(deb, vp):
    text = wait_x_log(deb, vp)
    assert "Xorg ready" in text, text
    xlog = deb.exec(vp, "cat", "/var/log/Xorg.0.log").stdout
    assert "Found absolute touchscreen" in xlog, xlog
    r = deb.exec(vp, "env", "DISPLAY=:0", "xdotool", "getmouselocation")
    assert r.stdout.startswith("x:"), r
    r = deb.exec(vp, "env", "DISPLAY=:0", "xwininfo", "-root", "-tree")
    for client in ("matchbox", "xterm"):
        assert client in r.stdout.lower(), r.stdout
