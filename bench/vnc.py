#!/usr/bin/python3
"""VNC benchmarks: idle bytes, full-motion frames/s, switch to the first frame, a flip.

    /usr/bin/python3 bench/vnc.py [--only idle,motion,switch,flip] [--seconds 10]
                                  [--switches 100] [--flips 30] [--encodings raw,zrle]
                                  [--background N [--background-image ROOTFS]]
                                  [--json FILE]

One private cellsd with `--vnc 127.0.0.1:PORT --web none` (PORT: a free one), the
"minimal" image, three VPs: vnca and vncb have their launcher turned off (the upper-layer
/etc/cells/rc.d/50-launcher stub of bench/display.py) and their /dev/fb0 filled with a
solid colour by bench/fbbench.c (`fbbench fill`, built static, copied into the VP's upper
layer); vncbg runs its launcher (drawing in the background at 10 frames/s) throughout; with
--background N, N such VPs, or with --background-image, N VPs of that image (the Debian
X11 one: Xorg, matchbox, xterm), all running before anything is timed.
The VNC client is this script's own: RFB 3.8, security type None, ClientInit shared,
SetPixelFormat 32 bpp true colour (red shift 16, green 8, blue 0, as the server's own),
SetEncodings with one encoding: Raw (0) or ZRLE (16; only the rectangle headers and
lengths are parsed, except where a switch is checked, below). Every run of the client
first asks for the whole screen (non-incremental) and reads it; what follows is timed.

idle    vnca (static) in the foreground; the client keeps an incremental request for the
        whole screen outstanding and sends a new one every 1/60 s and after every update,
        for --seconds: bytes received (client side), the TCP connection's bytes_sent
        (server side, `ss -ti`: the kernel's count of what cellsd wrote) and cellsd's CPU
        time (utime + stime from /proc), next to cellsd's CPU time over as long with no
        client connected.
motion  vnca runs `fbbench draw --target fb:/dev/fb0` (a full screen of a new colour
        every frame, a 256x256 rectangle moving over it, copied to the shown page), paced
        at 60 frames/s with an FBIOPAN_DISPLAY per frame ("paced"), as fast as it can
        ("unpaced"), or paced with a screen of new pseudo-random pixels every frame
        ("noise", which no encoder compresses); after 1 s, the client asks for an
        incremental update as soon as the previous one is read, for --seconds: updates/s,
        full screens/s (the updates' area / the screen's), bytes/s, the gaps between
        updates, cellsd's CPU, and the drawing program's own rate.
idle and motion also run a child process that pings cellsd's control socket every 20 ms
over the window (and, for idle, over the window with no client): how long the VNC sink
holds cellsd's event loop (control requests); since the sink runs in its own threads
this should stay flat.
switch  vnca and vncb, two distinct solid colours; the client idle with one incremental
        request outstanding (each switch waits 50-80 ms, so that a 60 Hz tick of cellsd
        has read the request); one line {"cmd":"switch","name":...} on a persistent
        control connection, alternating, --warmup untimed then --switches timed: time
        from just before the line is sent to the first byte of the FramebufferUpdate, and
        to the end of it (the whole new frame read), which must show the new VP's
        colour: Raw, a pixel below the status bar of each rectangle; ZRLE, the zlib
        stream inflated and a solid tile of the new colour in it. The control answer is
        read after the frame (cellsd sends the frame before it answers).
flip    vnca in the foreground flips its page (`fbbench flips`: page 1 filled with another
        colour, FBIOPAN_DISPLAY to page 1 and back to page 0 in turn, --flips times),
        the client reading every update and keeping one incremental request
        outstanding: time from just before the flip's ioctl (CLOCK_MONOTONIC in the VP,
        the same clock as here) to the first byte of the first update that shows the new
        page, and to its end. Two regimes: "quiet", 400-600 ms between flips, so the
        screen has been unchanged for over 250 ms at each flip and cellsd compares it at
        10 Hz (the flip itself must wake the sink); "busy", 30-60 ms between flips, so the
        sink is at its 60 Hz compare throughout (what a VP that keeps drawing gets). The
        first two flips of each run are not counted.
"""

import argparse
import json
import os
import random
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402
import display  # noqa: E402  (its helpers: Control, install_in_upper, build, ...)

HERE = os.path.dirname(os.path.abspath(__file__))
SECTIONS = ("idle", "motion", "switch", "flip")
ENCODINGS = {"raw": 0, "zrle": 16}
STATUS_BAR = 28  # rows of the root's status bar over the foreground's page
COLOURS = {"vnca": 0xc03020, "vncb": 0x2060c0}
MOTION = ("paced", "unpaced", "noise")
FLIP_COLOUR = 0x30a050  # vnca's page 1 in the flip section
FLIP_GAPS_MS = {"quiet": "400-600", "busy": "30-60"}

# A child process that sends {"cmd":"ping"} on cellsd's control socket every 20 ms for a
# while and prints the round trips (ms): whether the VNC sink holds cellsd's event loop.
PING_PROBE = r'''
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rb")
end = time.monotonic() + float(sys.argv[2])
out = []
while time.monotonic() < end:
    t0 = time.perf_counter_ns()
    s.sendall(b'{"cmd":"ping"}\n')
    if not json.loads(f.readline()).get("ok"):
        sys.exit("ping refused")
    out.append((time.perf_counter_ns() - t0) / 1e6)
    time.sleep(0.02)
print(json.dumps(out))
'''


# --------------------------------------------------------------------------- cellsd

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class VncDaemon(cb.Daemon):
    """cb.Daemon, with cellsd started as `--vnc 127.0.0.1:PORT --web none` (cellsd fails
    when --vnc's port is taken; a few ports are tried)."""

    def _enter(self):
        self._prepare()
        for attempt in range(5):
            self.port = free_port()
            try:
                self._launch(["--vnc", "127.0.0.1:%d" % self.port, "--web", "none"])
                break
            except cb.DaemonExited as e:
                self.logfile.close()
                if "cannot listen" not in e.log or attempt == 4:
                    raise
        log = open(self.logpath).read()
        if "VNC on 127.0.0.1:%d" % self.port not in log:
            raise RuntimeError("cellsd does not say it listens on VNC port %d:\n%s" % (
                self.port, log))
        use_viewer_password(self)
        return self


def use_viewer_password(d):
    """The RFB clients of the benchmarks authenticate as a user does: with the VNC password
    `cell viewer` shows."""
    RFB.password = json.loads(d.cell("viewer", "--json").stdout)["vnc_password"]


def vnc_response(password, challenge):
    """RFB's VNC authentication: DES of the challenge, the password's bits reversed."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    key = bytes(int("{:08b}".format(b)[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
    enc = Cipher(algorithms.TripleDES(key * 3), modes.ECB()).encryptor()
    return enc.update(challenge) + enc.finalize()


def start_probe(d, seconds):
    return subprocess.Popen([sys.executable, "-c", PING_PROBE,
                             os.path.join(d.run, "cellsd.sock"), str(seconds)],
                            stdout=subprocess.PIPE, text=True)


def probe_result(probe):
    """The probe's round trips (ms); None if it failed."""
    try:
        out = probe.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        probe.kill()
        probe.wait()
        return None
    return display.stats(json.loads(out)) if probe.returncode == 0 else None


def stop_probe(probe):
    if probe is not None and probe.poll() is None:
        probe.kill()
        probe.wait()


def server_bytes(port):
    """The kernel's bytes_sent of cellsd's end of each established connection from
    127.0.0.1:PORT (`ss -ti`); summed. None if ss says nothing of it."""
    try:
        r = subprocess.run(["ss", "-tinH", "state", "established", "(", "sport", "=",
                            ":%d" % port, ")"], capture_output=True, text=True)
    except FileNotFoundError:  # no iproute2: client side only
        return None
    found = re.findall(r"\bbytes_sent:(\d+)", r.stdout)
    return sum(int(x) for x in found) if found else None


# --------------------------------------------------------------------------- RFB client

class RFB:
    """A minimal RFB 3.8 client: None security or the VNC password (RFB.password), shared,
    32 bpp true colour, one encoding. Counts every byte it reads (`rx`) and sends (`tx`)."""

    password = None

    def __init__(self, port, encoding, inflate=False, timeout=10.0):
        self.encoding = encoding
        self.inflate = inflate  # ZRLE: inflate every rectangle's data (else skip it)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rx = self.tx = 0
        self.scratch = bytearray(1 << 22)
        self.zlib = zlib.decompressobj()  # ZRLE: one zlib stream per connection
        version = bytes(self.read(12))
        if not version.startswith(b"RFB 003."):
            raise RuntimeError("not an RFB server: %r" % version)
        self.send(b"RFB 003.008\n")
        n = self.read(1)[0]
        if n == 0:
            raise RuntimeError("server refused: %r" % bytes(self.read(self.u32())))
        types = bytes(self.read(n))
        if 1 in types:
            self.send(b"\x01")
        elif 2 in types and self.password:
            self.send(b"\x02")
            self.send(vnc_response(self.password, bytes(self.read(16))))
        else:
            raise RuntimeError("server offers no security type we can use: %r" % types)
        if self.u32() != 0:
            raise RuntimeError("security handshake failed")
        self.send(b"\x01")  # ClientInit: shared
        self.width, self.height = struct.unpack(">HH", self.read(4))
        self.server_format = bytes(self.read(16))
        self.name = bytes(self.read(self.u32())).decode(errors="replace")
        # SetPixelFormat: 32 bpp, depth 24, little endian, true colour, 255/255/255, 16/8/0
        self.send(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
        self.send(struct.pack(">BxHi", 2, 1, encoding))

    def send(self, data):
        self.sock.sendall(data)
        self.tx += len(data)

    def read(self, n, into=None):
        """Exactly n bytes; into `into` (a bytearray of at least n) or a new bytearray."""
        buf = into if into is not None else bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = self.sock.recv_into(view[got:n], n - got)
            if not k:
                raise RuntimeError("the VNC server closed the connection")
            got += k
        self.rx += n
        return buf if into is None else view[:n]

    def u32(self):
        return struct.unpack(">I", self.read(4))[0]

    def request(self, incremental=True):
        self.send(struct.pack(">BBHHHH", 3, 1 if incremental else 0, 0, 0,
                              self.width, self.height))

    def message(self, keep=False):
        """Read one server message. A FramebufferUpdate gives a dict: rects (x, y, w, h,
        encoding), area, bytes, t_first (ns, when its first byte was read), t_end, and with
        keep=True each rectangle's payload (Raw: pixels; ZRLE: the inflated data)."""
        kind = self.read(1)[0]
        t_first = cb.now_ns()
        start = self.rx - 1
        if kind == 0:
            n = struct.unpack(">xH", self.read(3))[0]
            rects, payloads, area = [], [], 0
            for _ in range(n):
                x, y, w, h, enc = struct.unpack(">HHHHi", self.read(12))
                if enc == 0:
                    size = w * h * 4
                    if keep:
                        payloads.append(self.read(size))
                    else:
                        self._skip(size)
                elif enc == 16:
                    size = self.u32()
                    if self.inflate:
                        data = self.zlib.decompress(bytes(self.read(size)))
                        if keep:
                            payloads.append(data)
                    else:
                        self._skip(size)
                else:
                    raise RuntimeError("unexpected encoding %d" % enc)
                rects.append((x, y, w, h, enc))
                area += w * h
            return {"type": 0, "rects": rects, "area": area, "bytes": self.rx - start,
                    "t_first": t_first, "t_end": cb.now_ns(), "payloads": payloads}
        if kind == 1:  # SetColourMapEntries
            self.read(6 * struct.unpack(">xHH", self.read(5))[1])
        elif kind == 2:  # Bell
            pass
        elif kind == 3:  # ServerCutText
            self.read(struct.unpack(">3xI", self.read(7))[0])
        else:
            raise RuntimeError("unexpected server message %d" % kind)
        return {"type": kind, "bytes": self.rx - start, "t_first": t_first,
                "t_end": cb.now_ns()}

    def _skip(self, n):
        while n:
            k = min(n, len(self.scratch))
            self.read(k, self.scratch)
            n -= k

    def full_frame(self):
        """Ask for the whole screen and read it (the first frame of every run)."""
        self.request(incremental=False)
        while True:
            m = self.message(keep=True)
            if m["type"] == 0:
                if m["area"] != self.width * self.height:
                    raise RuntimeError("first frame covers %d of %d pixels" % (
                        m["area"], self.width * self.height))
                return m

    def readable(self, timeout):
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        return bool(r)

    def close(self):
        self.sock.close()


def raw_pixel(rect, payload, x, y):
    rx, ry, w, _h, _enc = rect
    off = ((y - ry) * w + (x - rx)) * 4
    return struct.unpack_from("<I", payload, off)[0] & 0xffffff


def frame_colour(rfb, m, want):
    """Whether a FramebufferUpdate shows `want` below the status bar (see the module doc)."""
    for rect, payload in zip(m["rects"], m["payloads"]):
        x, y, w, h, enc = rect
        if y + h <= STATUS_BAR:
            continue
        if enc == 0:
            if raw_pixel(rect, payload, x + w // 2, max(y, STATUS_BAR) + (y + h - max(
                    y, STATUS_BAR)) // 2) != want:
                return False
        elif b"\x01" + struct.pack("<I", want)[:3] not in payload:
            return False
    return any(r[1] + r[3] > STATUS_BAR for r in m["rects"])


def start_image_vps(d, rootfs, names):
    """The background VPs of --background-image: each started once the previous one's
    cell start returned, then all given time to bring their X sessions up (cell-init, rc,
    x-session, Xorg, matchbox and its keyboard, xterm and their shells: 8 processes)."""
    d.cell("image", "import", "debian", rootfs)
    for name in names:
        d.cell("create", name, "--image", "debian", "--disk", "none")
        d.cell("start", name)
    cb.wait_until(lambda: all(display.vp_stats(d)[n].get("pids", 0) >= 8 for n in names),
                  timeout=60 + 3 * len(names), step=1.0, what="the background VPs' X sessions")


# --------------------------------------------------------------------------- sections

def bench_idle(d, enc, args):
    pid = d.pid
    # cellsd with no client (its VNC tick is off), over as long
    c0 = cb.cpu_seconds(pid)
    probe = start_probe(d, args.seconds)
    time.sleep(args.seconds)
    cpu_none = (cb.cpu_seconds(pid) - c0) / args.seconds
    ping_none = probe_result(probe)
    rfb = RFB(d.port, ENCODINGS[enc])
    probe = None
    try:
        first = rfb.full_frame()
        time.sleep(0.2)  # cellsd's tick has compared its first composition
        rx0, s0, c0 = rfb.rx, server_bytes(d.port), cb.cpu_seconds(pid)
        probe = start_probe(d, args.seconds)
        t0 = time.monotonic()
        end = t0 + args.seconds
        updates, requests, nxt = [], 0, t0
        while True:
            now = time.monotonic()
            if now >= end:
                break
            if now >= nxt:
                rfb.request()
                requests += 1
                nxt = now + 1 / 60
            if rfb.readable(min(nxt, end) - now):
                m = rfb.message()
                updates.append({k: m.get(k) for k in ("type", "bytes", "area")})
                rfb.request()
                requests += 1
        cpu = (cb.cpu_seconds(pid) - c0) / args.seconds
        rx, s1 = rfb.rx - rx0, server_bytes(d.port)
        ping = probe_result(probe)
    finally:
        stop_probe(probe)
        rfb.close()
    return {"encoding": enc, "seconds": args.seconds, "first_frame_bytes": first["bytes"],
            "requests": requests, "messages": len(updates), "updates": updates[:20],
            "client_bytes": rx, "client_bytes_per_s": rx / args.seconds,
            "server_bytes": None if s0 is None or s1 is None else s1 - s0,
            "server_bytes_per_s": None if s0 is None or s1 is None else
            (s1 - s0) / args.seconds,
            "cellsd_cpu": cpu, "cellsd_cpu_no_client": cpu_none,
            "ping_ms": ping, "ping_ms_no_client": ping_none}


def bench_motion(d, enc, mode, args):
    pid = d.pid
    settle = 1.0
    draw = ["/fbbench", "draw", "--target", "fb:/dev/fb0", "--warmup", "20",
            "--seconds", "%.1f" % (args.seconds + settle + 1.5), "--frames", "100000000"]
    draw += {"paced": ["--fps", "60", "--pan"], "unpaced": [],
             "noise": ["--fps", "60", "--pan", "--noise"]}[mode]
    p = subprocess.Popen(d.cell_argv("exec", "vnca", "--", *draw), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rfb = probe = None
    try:
        rfb = RFB(d.port, ENCODINGS[enc])
        rfb.full_frame()
        rfb.request()
        settled = cb.now_ns() + int(settle * 1e9)
        while cb.now_ns() < settled:  # read as in the window, not counted
            if rfb.message()["type"] == 0:
                rfb.request()
        t0 = cb.now_ns()
        end = t0 + int(args.seconds * 1e9)
        c0, s0 = cb.cpu_seconds(pid), server_bytes(d.port)
        rx0 = rfb.rx
        probe = start_probe(d, args.seconds)
        n = area = nbytes = rects = 0
        gaps, last = [], None
        while True:
            m = rfb.message()
            if m["type"] != 0:
                continue
            if m["t_end"] > end:
                break
            rfb.request()
            if m["t_first"] >= t0:
                n += 1
                area += m["area"]
                nbytes += m["bytes"]
                rects += len(m["rects"])
                if last is not None:
                    gaps.append((m["t_end"] - last) / 1e6)
                last = m["t_end"]
        secs = (cb.now_ns() - t0) / 1e9
        cpu = (cb.cpu_seconds(pid) - c0) / secs
        s1 = server_bytes(d.port)
        rx_all = rfb.rx - rx0
        ping = probe_result(probe)
    finally:
        stop_probe(probe)
        if rfb:
            rfb.close()
        try:
            out, err = p.communicate(timeout=args.seconds + 30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
    if p.returncode != 0:
        raise RuntimeError("fbbench draw in vnca: %s" % err.strip())
    drawn = json.loads(out)
    screen = rfb.width * rfb.height
    return {"encoding": enc, "mode": mode, "seconds": args.seconds, "updates": n,
            "updates_per_s": n / args.seconds, "screens_per_s": area / screen / args.seconds,
            "rects_per_update": rects / n if n else None,
            "bytes_per_s": nbytes / args.seconds, "bytes_per_update": nbytes / n if n else None,
            "client_bytes_per_s_all": rx_all / secs,
            "server_bytes_per_s": None if s0 is None or s1 is None else (s1 - s0) / secs,
            "gap_ms": cb.summary(gaps), "cellsd_cpu": cpu, "drawing_fps": drawn["fps"],
            "ping_ms": ping}


def bench_switch(d, enc, args):
    ctl = display.Control(d)
    rfb = RFB(d.port, ENCODINGS[enc], inflate=True)
    names = ["vnca", "vncb"]
    rnd = random.Random(11)
    to_first, to_end, to_answer, sizes, stray = [], [], [], [], []
    try:
        fg = ctl.request({"cmd": "active"}).get("foreground")
        first = rfb.full_frame()
        want = COLOURS.get(fg)
        if want is None or not frame_colour(rfb, first, want):
            raise RuntimeError("the first frame does not show %s's colour" % fg)
        rfb.request()
        order = names if fg != names[0] else names[::-1]
        for i in range(args.warmup + args.switches):
            to = order[i % 2]
            time.sleep(0.05 + 0.03 * rnd.random())
            while rfb.readable(0):  # nothing changed: nothing should come
                m = rfb.message(keep=True)
                stray.append({"before_switch": i, "type": m["type"], "bytes": m["bytes"],
                              "rects": [r[:4] for r in m.get("rects", [])]})
                if m["type"] == 0:
                    rfb.request()
                time.sleep(0.05)
            t0 = cb.now_ns()
            ctl.send({"cmd": "switch", "name": to})
            m = rfb.message(keep=True)
            while m["type"] != 0:
                m = rfb.message(keep=True)
            line = ctl.line(timeout=5)
            t_ans = cb.now_ns()
            rfb.request()
            reply = json.loads(line) if line else None
            if not reply or not reply.get("ok") or reply.get("foreground") != to:
                raise RuntimeError("switch to %s: %s" % (to, reply))
            if not frame_colour(rfb, m, COLOURS[to]):
                raise RuntimeError("the update after the switch to %s does not show its "
                                   "colour: %s" % (to, m["rects"]))
            if i >= args.warmup:
                to_first.append((m["t_first"] - t0) / 1e6)
                to_end.append((m["t_end"] - t0) / 1e6)
                to_answer.append((t_ans - t0) / 1e6)
                sizes.append(m["bytes"])
    finally:
        rfb.close()
        ctl.close()
    return {"encoding": enc, "switches": len(to_end), "warmup": args.warmup,
            "samples_ms": {"first_byte": to_first, "frame": to_end},
            "summary_ms": {"first_byte": display.stats(to_first),
                           "frame": display.stats(to_end),
                           "answer_after_frame": display.stats(to_answer)},
            "update_bytes": cb.summary(sizes), "stray_messages": stray}


def bench_flip(d, enc, regime, args):
    rfb = RFB(d.port, ENCODINGS[enc], inflate=True)
    shown = []  # (t_first, t_end, which page's colour the update shows)
    p = None
    try:
        rfb.full_frame()
        rfb.request()
        p = subprocess.Popen(d.cell_argv("exec", "vnca", "--", "/fbbench", "flips",
                                         "--colour", "0x%06x" % FLIP_COLOUR,
                                         "--count", str(args.flips),
                                         "--gap-ms", FLIP_GAPS_MS[regime]),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        while p.poll() is None or rfb.readable(0.5):
            if not rfb.readable(0.05):
                continue
            m = rfb.message(keep=True)
            if m["type"] != 0:
                continue
            rfb.request()
            page = (1 if frame_colour(rfb, m, FLIP_COLOUR) else
                    0 if frame_colour(rfb, m, COLOURS["vnca"]) else None)
            shown.append((m["t_first"], m["t_end"], page))
        out, err = p.communicate(timeout=30)
    finally:
        rfb.close()
        if p and p.poll() is None:
            p.kill()
            p.wait()
    if p.returncode != 0:
        raise RuntimeError("fbbench flips in vnca: %s" % err.strip())
    flips = json.loads(out)["flips"]
    first, frame, missed = [], [], 0
    for i, (before, _after, yoffset) in enumerate(flips):
        until = flips[i + 1][0] if i + 1 < len(flips) else float("inf")
        page = 1 if yoffset else 0
        hit = next((u for u in shown if before <= u[0] < until and u[2] == page), None)
        if i < 2:
            continue
        if hit is None:
            missed += 1
            continue
        first.append((hit[0] - before) / 1e6)
        frame.append((hit[1] - before) / 1e6)
    if not first:
        raise RuntimeError("%s/%s: no update showed any flip's page" % (enc, regime))
    return {"encoding": enc, "regime": regime, "gap_ms": FLIP_GAPS_MS[regime],
            "flips": len(flips) - 2, "missed": missed, "updates": len(shown),
            "samples_ms": {"first_byte": first, "frame": frame},
            "summary_ms": {"first_byte": display.stats(first), "frame": display.stats(frame)}}


# --------------------------------------------------------------------------- output

def fmt_ping(p):
    return "-" if not p else "%.2f/%.2f/%.1f" % (p["median"], p["p99"], p["max"])


def print_idle(rows):
    cb.table("Idle: static foreground, incremental requests every 1/60 s, %g s" % (
        rows[0]["seconds"]),
        ["encoding", "client B/s", "server B/s", "updates", "requests", "cellsd CPU",
         "CPU, no client", "ping p50/p99/max ms", "no client"],
        [[r["encoding"], cb.fmt(r["client_bytes_per_s"], 1),
          "-" if r["server_bytes_per_s"] is None else cb.fmt(r["server_bytes_per_s"], 1),
          r["messages"], r["requests"], "%.1f%%" % (100 * r["cellsd_cpu"]),
          "%.1f%%" % (100 * r["cellsd_cpu_no_client"]), fmt_ping(r["ping_ms"]),
          fmt_ping(r["ping_ms_no_client"])] for r in rows])


def print_motion(rows):
    cb.table("Full motion (vnca draws a new full screen every frame), %g s" % (
        rows[0]["seconds"]),
        ["encoding / drawing", "updates/s", "screens/s", "MB/s", "kB/update",
         "gap p90 ms", "cellsd CPU", "drawn/s", "ping p50/p99/max ms"],
        [["%s / %s" % (r["encoding"], r["mode"]), cb.fmt(r["updates_per_s"], 1),
          cb.fmt(r["screens_per_s"], 1), cb.fmt(r["bytes_per_s"] / 1e6, 2),
          "-" if r["bytes_per_update"] is None else cb.fmt(r["bytes_per_update"] / 1e3, 1),
          "-" if not r["gap_ms"] else cb.fmt(r["gap_ms"]["p90"], 1),
          "%.0f%%" % (100 * r["cellsd_cpu"]), cb.fmt(r["drawing_fps"], 0),
          fmt_ping(r["ping_ms"])] for r in rows])


def print_switch(rows):
    out = []
    for r in rows:
        for k, label in (("first_byte", "first byte of the update"),
                         ("frame", "whole new frame read")):
            s = r["summary_ms"][k]
            out.append(["%s: %s" % (r["encoding"], label), cb.fmt(s["median"]),
                        cb.fmt(s["p90"]), cb.fmt(s["p99"]), cb.fmt(s["min"]),
                        cb.fmt(s["max"]), s["n"]])
    cb.table("Switch to the first frame at a VNC client, ms from sending the switch "
             "(update bytes, median: %s; updates with no switch: %s)" % (
                 ", ".join("%s %.0f" % (r["encoding"], r["update_bytes"]["median"])
                           for r in rows),
                 ", ".join("%s %d" % (r["encoding"], len(r["stray_messages"]))
                           for r in rows)),
             ["", "median", "p90", "p99", "min", "max", "n"], out)


def print_flip(rows):
    out = []
    for r in rows:
        f, e = r["summary_ms"]["first_byte"], r["summary_ms"]["frame"]
        busy = next((b for b in rows if b["encoding"] == r["encoding"] and
                     b["regime"] == "busy"), None)
        ratio = (f["median"] / busy["summary_ms"]["first_byte"]["median"]
                 if busy and busy["summary_ms"]["first_byte"]["n"] else None)
        out.append(["%s / %s (%s ms apart)" % (r["encoding"], r["regime"], r["gap_ms"]),
                    cb.fmt(f["median"]), cb.fmt(f["p90"]), cb.fmt(f["max"]),
                    cb.fmt(e["median"]), "-" if ratio is None else "%.2f" % ratio,
                    "%d/%d" % (f["n"], r["flips"]), r["updates"]])
    cb.table("A flip of the foreground's page to the client, ms from just before the ioctl",
             ["encoding / regime", "first byte median", "p90", "max", "whole frame median",
              "median / busy", "seen", "updates"], out)


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--encodings", default="raw,zrle", help="raw,zrle")
    ap.add_argument("--seconds", type=float, default=10.0,
                    help="length of each idle and full-motion measurement")
    ap.add_argument("--switches", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--flips", type=int, default=30,
                    help="flips per encoding and regime in the flip section (even)")
    ap.add_argument("--background", type=int, default=1,
                    help="VPs running their launchers in the background (density)")
    ap.add_argument("--background-image", metavar="ROOTFS",
                    help="the background VPs run this image instead (imported as "
                    "'debian': the Debian X11 image's rootfs, for density at N)")
    ap.add_argument("--settle", type=float, default=0,
                    help="seconds to wait after the background VPs are up, before timing")
    ap.add_argument("--runs", type=int, help="ignored (bench/run-all passes it)")
    ap.add_argument("--json")
    args = ap.parse_args()
    only = [s for s in args.only.split(",") if s]
    encs = [e for e in args.encodings.split(",") if e]
    for s in only:
        if s not in SECTIONS:
            ap.error("unknown section %s" % s)
    for e in encs:
        if e not in ENCODINGS:
            ap.error("unknown encoding %s" % e)
    if args.flips < 4 or args.flips % 2:
        ap.error("--flips must be even and at least 4")
    cb.check_binaries()
    cb.install_signal_handlers()
    info = cb.machine()
    out = {"machine": info}
    loads = info["loadavg_sections"] = {}
    workdir = tempfile.mkdtemp(prefix="cells-vnc.", dir="/tmp")
    try:
        fbbench = display.build(os.path.join(HERE, "fbbench.c"),
                                os.path.join(workdir, "fbbench"), True)
        with VncDaemon("vnc") as d:
            info["cells"] = d.identity
            info["vnc_port"] = d.port
            cb.log("cellsd with VNC on 127.0.0.1:%d; building the minimal image ..." % d.port)
            d.cell("image", "build")
            for name in COLOURS:
                display.create_plain(d, name)
                d.cell("start", name)  # the first start makes the upper layer
                d.cell("stop", name)
                display.install_in_upper(d, name, fbbench)
                d.cell("start", name)
                display.exec_json(d, name, ["/fbbench", "fill", "--colour",
                                            "0x%06x" % COLOURS[name]])
            background = ["vncbg"] + ["vncbg%d" % i for i in range(1, args.background)]
            t0 = time.monotonic()
            if args.background_image:
                start_image_vps(d, args.background_image, background)
            else:
                display.start_vps(d, background)  # their launchers draw in the background
            info["background_vps"] = len(background)
            info["background_start_s"] = time.monotonic() - t0
            loads["background_up"] = cb.machine()["loadavg"]
            if args.settle:
                cb.log("%d background VPs up; settling %g s" % (len(background), args.settle))
                time.sleep(args.settle)
                loads["settled"] = cb.machine()["loadavg"]
            d.cell("switch", "vnca")
            if "idle" in only:
                out["idle"] = []
                for enc in encs:
                    cb.log("idle, %s: %g s without a client, %g s with one" % (
                        enc, args.seconds, args.seconds))
                    out["idle"].append(bench_idle(d, enc, args))
                loads["idle"] = cb.machine()["loadavg"]
            if "switch" in only:
                out["switch"] = []
                for enc in encs:
                    cb.log("switch, %s: %d + %d switches" % (enc, args.warmup, args.switches))
                    out["switch"].append(bench_switch(d, enc, args))
                loads["switch"] = cb.machine()["loadavg"]
            if "flip" in only:
                d.cell("switch", "vnca")
                out["flip"] = []
                for enc in encs:
                    for regime in FLIP_GAPS_MS:
                        cb.log("flip, %s, %s: %d flips" % (enc, regime, args.flips))
                        out["flip"].append(bench_flip(d, enc, regime, args))
                loads["flip"] = cb.machine()["loadavg"]
            if "motion" in only:
                d.cell("switch", "vnca")
                out["motion"] = []
                for enc in encs:
                    for mode in MOTION:
                        cb.log("motion, %s, %s: %g s" % (enc, mode, args.seconds))
                        out["motion"].append(bench_motion(d, enc, mode, args))
                loads["motion"] = cb.machine()["loadavg"]
            info["cellsd_rss_kb"] = d.stats()["daemon"]["rss_kb"]
            for name in list(COLOURS) + background:
                d.cell("stop", name)
        info["loadavg_end"] = cb.machine()["loadavg"]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    cb.print_machine(info)
    print("loadavg after each section: %s" % ", ".join("%s %s" % kv for kv in loads.items()))
    print("cells: %s" % info.get("cells", "?"))
    print("background VPs running %s: %d (started in %.2f s); cellsd RSS %s kB" % (
        "the X11 session of " + args.background_image if args.background_image
        else "their launchers", info.get("background_vps", 0),
        info.get("background_start_s", 0), info.get("cellsd_rss_kb")))
    print()
    for name, fn in (("idle", print_idle), ("switch", print_switch),
                     ("flip", print_flip), ("motion", print_motion)):
        if name in out:
            fn(out[name])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
