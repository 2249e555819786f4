"""Scale with software nobody here wrote (issue 15): Debian's procps free and top show a
VP's limit; a Debian stress-ng --vm in a background VP, under cellsd --memory-total, is
killed before anything of the foreground VP, whose X session keeps running.

Needs CELLS_TEST_DEBIAN=1 and the debian image that test_debian_image.py builds into
$CELLS_TEST_IMAGE_CACHE (default /var/cache/cells-test): the image is imported from there
into a daemon of this module's own (with --memory-total), never run on that state."""

import os
import re
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from conftest import CELL, Daemon, LineReader, make_base, pid_alive, stop_and_check

CACHE = Path(os.environ.get("CELLS_TEST_IMAGE_CACHE") or "/var/cache/cells-test")
ROOTFS = CACHE / "state" / "images" / "debian" / "rootfs"
TOTAL_MIB = 700


@pytest.fixture(scope="module")
def deb():
    if not os.environ.get("CELLS_TEST_DEBIAN"):
        pytest.skip("CELLS_TEST_DEBIAN=1 runs it (with the debian image of "
                    "test_debian_image.py)")
    if not (ROOTFS / "etc" / "cells" / "rc").exists():
        pytest.skip(f"no debian image at {ROOTFS}: run test_debian_image.py first")
    d = Daemon(make_base(), extra_args=["--memory-total", f"{TOTAL_MIB}M"])
    try:
        d.start()
        d.cell("image", "import", "debian", str(ROOTFS), timeout=300)
        yield d
    finally:
        stop_and_check(d)


def png_pixels(path):
    """(width, height, bytes of RGB or RGBA rows without filter bytes) of a PNG that
    cell screenshot wrote."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    w = h = 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    return w, h, zlib.decompress(idat)


def test_procps_free_and_top_show_the_limit(deb):
    deb.cell("create", "lim", "--image", "debian", "--memory", "256M")
    deb.cell("start", "lim")
    free = deb.exec("lim", "free", "-m").stdout
    mem = [l.split() for l in free.splitlines() if l.startswith("Mem:")][0]
    assert mem[1] == "256", free
    top = deb.exec("lim", "top", "-bn1").stdout
    assert re.search(r"MiB Mem :\s+256\.0 total", top), top
    print(free)
    print("\n".join(top.splitlines()[:5]))
    deb.cell("destroy", "lim", "--force", timeout=60)


def test_stress_ng_in_the_background_dies_first(deb):
    d = deb
    for name in ("front", "back"):
        d.cell("create", name, "--image", "debian")
        d.cell("start", name)
    d.cell("switch", "front")
    events = subprocess.Popen([str(CELL), "--run", str(d.run), "events"],
                              stdout=subprocess.PIPE, text=True)
    reader = LineReader(events)
    shots = Path(d.base)
    try:
        # The foreground's X session draws; it holds memory too (more than the
        # background's will get, so the kernel's own choice would be it).
        deadline = time.monotonic() + 60
        while "Xorg ready" not in d.exec("front", "cat", "/run/cells/x-session.log",
                                         check=False).stdout:
            assert time.monotonic() < deadline, "no X session in front"
            time.sleep(0.5)
        d.cell("screenshot", str(shots / "before.png"))
        d.sh("front", "stress-ng --vm 1 --vm-bytes 360M --vm-keep --timeout 600 "
                      ">/tmp/stress.log 2>&1 &")
        time.sleep(8)  # it holds its 360 MiB
        front_stress = d.exec("front", "pgrep", "-f", "stress-ng").stdout.split()
        assert front_stress, "no stress-ng in front"
        d.sh("back", "stress-ng --vm 1 --vm-bytes 400M --vm-keep --timeout 600 "
                     ">/tmp/stress.log 2>&1 &")
        kill = reader.wait_for(lambda e: e.get("event") == "lmk-kill", timeout=60)
        assert kill, f"no lmk-kill; events {reader.seen}\n{d.log()[-3000:]}"
        assert kill["vp"] == "back" and kill["comm"].startswith("stress-ng"), kill
        print("kill:", kill)
        # Let it go on (stress-ng restarts its killed worker): whatever dies is back's.
        reader.wait_for(lambda e: False, timeout=10)
        kills = [e for e in reader.seen if e.get("event") == "lmk-kill"]
        assert all(e["vp"] == "back" for e in kills), kills
        assert d.exec("front", "pgrep", "-f", "stress-ng").stdout.split() == front_stress
        x = d.exec("front", "cat", "/run/cells/x-session.log").stdout
        assert "Xorg exited" not in x, x
        d.cell("screenshot", str(shots / "after.png"))
        w, h, before = png_pixels(shots / "before.png")
        assert (w, h) == png_pixels(shots / "after.png")[:2]
        assert len(set(before)) > 1, "the foreground drew nothing"
        keep = os.environ.get("CELLS_TEST_SHOTS")
        if keep:
            for f in ("before.png", "after.png"):
                shutil.copy(shots / f, Path(keep) / f"lmk-{f}")
        assert d.vp("front")["state"] == "running"
        print(f"{len(kills)} kills, all of back; front's stress-ng and X still run")
    finally:
        events.terminate()
        events.wait()
        for name in ("front", "back"):
            d.cell("destroy", name, "--force", timeout=60, check=False)
