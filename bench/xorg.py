#!/usr/bin/python3
"""Xorg benchmarks: a switch between two VPs running Debian's Xorg, until the new VP's
frame is at a VNC client; the memory of Xorg VPs and of cellsd per VP.

    /usr/bin/python3 bench/xorg.py [--image-dir DIR] [--switches 60] [--warmup 5]
                                   [--max-vps 4] [--json FILE]

One private cellsd with `--vnc 127.0.0.1:PORT --web none` (vnc.py's VncDaemon) and the
"debian" image (images/debian), imported from --image-dir (default: the integration
tests' cache, /var/cache/cells-test/state/images/debian/rootfs; build it there with
CELLS_TEST_DEBIAN=1 tests/integration/test_debian_image.py, or `cell image build
debian`). Every VP runs the image's X session: Xorg on its fb0 (fbdev, evdev),
matchbox-window-manager, matchbox-keyboard and an xterm; a VP counts as up once its
session log says "Xorg ready" and xwininfo lists the xterm.

switch  two such VPs, xa and xb. vnc.py's client (RFB 3.8, Raw encoding, 32 bpp) keeps
        one incremental request outstanding; one line {"cmd":"switch","name":...} on a
        persistent control connection, alternating, each 50-80 ms after the last frame
        (what the X clients send meanwhile, xterm's blinking cursor, is read and
        answered): time from just before the line is sent to the first byte and to the
        end of the first FramebufferUpdate whose status bar shows the new VP's colour
        (display.c's palette, by VP id: the two X screens are alike below it). --warmup
        untimed, then --switches timed.
memory  1 to --max-vps such VPs started one after the other; after each is up and 3 s
        have passed, every running VP's cgroup memory (memory.current, as `cell stats`
        gives it: its processes' memory and its page cache, the share of the image's
        files it read included), cellsd's RSS (`cell stats` rss_kb) and the VNC sink's
        process' RSS (/proc/PID/status VmRSS), against the same with no VP.
"""

import argparse
import json
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402
import display  # noqa: E402
import vnc  # noqa: E402

DEFAULT_IMAGE = "/var/cache/cells-test/state/images/debian/rootfs"
# src/devices/display.c: the status bar's colour, by VP id.
BAR_PALETTE = [0x1e88e5, 0x43a047, 0xe53935, 0x8e24aa, 0xfb8c00, 0x00897b, 0x6d4c41, 0x3949ab]
BAR_X = 710  # right of the bar's text


def x_up(d, name, timeout=60):
    """Until NAME's X session is up: Xorg ready and the xterm mapped."""
    deadline = time.monotonic() + timeout
    while True:
        log = d.cell("exec", name, "--", "cat", "/run/cells/x-session.log", check=False).stdout
        if "Xorg exited" in log:
            raise RuntimeError("%s: Xorg exited: %s" % (name, log))
        if "Xorg ready" in log:
            tree = d.cell("exec", name, "--", "env", "DISPLAY=:0", "xwininfo", "-root",
                          "-tree", check=False).stdout.lower()
            if "xterm" in tree and "matchbox" in tree:
                return
        if time.monotonic() > deadline:
            raise RuntimeError("%s: X session not up after %d s: %r" % (name, timeout, log))
        time.sleep(0.2)


def new_vp(d, name):
    d.cell("create", name, "--image", "debian", "--disk", "none")
    d.cell("start", name)
    x_up(d, name)


def bar_shows(m, colour):
    """Whether a Raw FramebufferUpdate has the status bar's pixel at BAR_X in COLOUR."""
    for rect, payload in zip(m["rects"], m["payloads"]):
        x, y, w, h, _enc = rect
        if y <= 4 < y + h and x <= BAR_X < x + w:
            return vnc.raw_pixel(rect, payload, BAR_X, 4) == colour
    return False


def bench_switch(d, args):
    ids = {v["name"]: v["id"] for v in json.loads(d.cell("list", "--json").stdout)}
    ctl = display.Control(d)
    rfb = vnc.RFB(d.port, vnc.ENCODINGS["raw"])
    rnd = random.Random(7)
    to_first, to_end, between = [], [], []
    try:
        rfb.full_frame()
        rfb.request()
        fg = ctl.request({"cmd": "active"}).get("foreground")
        order = ["xa", "xb"] if fg != "xa" else ["xb", "xa"]
        for i in range(args.warmup + args.switches):
            to = order[i % 2]
            colour = BAR_PALETTE[ids[to] % len(BAR_PALETTE)]
            end = time.monotonic() + 0.05 + 0.03 * rnd.random()
            while time.monotonic() < end:  # the X clients' own updates, read
                if rfb.readable(end - time.monotonic()):
                    if rfb.message(keep=True)["type"] == 0:
                        rfb.request()
            t0 = cb.now_ns()
            ctl.send({"cmd": "switch", "name": to})
            skipped = 0
            while True:
                m = rfb.message(keep=True)
                if m["type"] != 0:
                    continue
                if bar_shows(m, colour):
                    break
                skipped += 1  # an update of the old VP's, sent before the switch
                rfb.request()
            rfb.request()
            reply = json.loads(ctl.line(timeout=5) or "null")
            if not reply or not reply.get("ok") or reply.get("foreground") != to:
                raise RuntimeError("switch to %s: %s" % (to, reply))
            if i >= args.warmup:
                to_first.append((m["t_first"] - t0) / 1e6)
                to_end.append((m["t_end"] - t0) / 1e6)
                between.append(skipped)
    finally:
        rfb.close()
        ctl.close()
    return {"switches": len(to_end), "warmup": args.warmup,
            "samples_ms": {"first_byte": to_first, "frame": to_end},
            "summary_ms": {"first_byte": display.stats(to_first),
                           "frame": display.stats(to_end)},
            "updates_of_the_old_vp_before": sum(between)}


def rss_kb(pid):
    try:
        return cb.read_status(pid).get("VmRSS")
    except OSError:
        return None


def memory_sample(d):
    st = d.stats()
    daemon = st["daemon"]
    vps = {v["name"]: v.get("memory_bytes") for v in st["vps"] if v.get("state") == "running"}
    viewer = daemon.get("viewer_pid") or 0
    return {"cellsd_rss_kb": daemon["rss_kb"],
            "viewer_rss_kb": rss_kb(viewer) if viewer else None,
            "vp_memory_bytes": vps}


def bench_memory(d, args):
    out = [dict(memory_sample(d), vps=0)]
    for n in range(1, args.max_vps + 1):
        new_vp(d, "m%d" % n)
        time.sleep(3)
        out.append(dict(memory_sample(d), vps=n))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image-dir", default=DEFAULT_IMAGE)
    ap.add_argument("--switches", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--max-vps", type=int, default=4)
    ap.add_argument("--only", default="switch,memory")
    ap.add_argument("--json")
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.image_dir, "etc", "cells", "rc")):
        sys.exit("no debian image in %s (see --help)" % args.image_dir)
    cb.install_signal_handlers()
    result = {"machine": cb.machine()}
    only = args.only.split(",")
    with vnc.VncDaemon(tag="xorg") as d:
        t0 = time.monotonic()
        d.cell("image", "import", "debian", args.image_dir)
        cb.log("imported the debian image in %.0f s" % (time.monotonic() - t0))
        if "switch" in only:
            new_vp(d, "xa")
            new_vp(d, "xb")
            result["switch"] = bench_switch(d, args)
            s = result["switch"]["summary_ms"]
            cb.table("switch between two Xorg VPs, to the new frame at a VNC client (ms)",
                     ["", "median", "p99", "min", "max"],
                     [[k, cb.fmt(v["median"]), cb.fmt(v["p99"]), cb.fmt(v["min"]),
                       cb.fmt(v["max"])] for k, v in s.items()])
            for name in ("xa", "xb"):
                d.cell("destroy", name, "--force")
        if "memory" in only:
            result["memory"] = bench_memory(d, args)
            rows = []
            for r in result["memory"]:
                mem = sorted(r["vp_memory_bytes"].values())
                rows.append([r["vps"], r["cellsd_rss_kb"], r["viewer_rss_kb"],
                             " ".join("%.1f" % (b / 2**20) for b in mem)])
            cb.table("memory with N Xorg VPs", ["N", "cellsd RSS kB", "VNC sink RSS kB",
                                                "each VP's cgroup MiB"], rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
