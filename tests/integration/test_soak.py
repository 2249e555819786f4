"""Everything at once: hostile VPs (garbage fbdev ioctls from many threads, a framebuffer
truncated and punched, evdev files opened to the limit and fed bad ioctls), foreground
switches, the system switch chord, VNC clients that leave mid-frame or send garbage,
screenshots, taps, processes entering a VP one after another and a VP stopping and
starting, all for SOAK_SECONDS. cellsd (in `make check` also its ASan/UBSan build) must
answer throughout, and every device must work afterwards. The parts are tested one at a
time elsewhere; this is for the races between the daemon's threads (event loop,
supervisors, FUSE, VNC sink) and the processes it starts meanwhile."""

import json
import random
import socket
import struct
import subprocess
import threading
import time

import rfb
from conftest import CELL, read_line
from rfb import VP_YRES, XRES, YRES
from test_display import create_vp_with, probe, tools  # noqa: F401 (fixture)
from test_input import evprobe, kv  # noqa: F401 (fixture)

SOAK_SECONDS = 12
CTRL, ALT, RIGHT = 0xFFE3, 0xFFE9, 0xFF53  # X keysyms


class Workers:
    """Threads that each repeat one action until the soak ends; what went wrong is kept."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds
        self.errors = []
        self.counts = {}
        self.threads = []

    def running(self):
        return time.monotonic() < self.end

    def add(self, name, action):
        def loop():
            n = 0
            try:
                while self.running():
                    action()
                    n += 1
            except Exception as e:  # noqa: BLE001 - reported by the test
                self.errors.append(f"{name} (after {n}): {type(e).__name__}: {e}")
            self.counts[name] = n

        t = threading.Thread(target=loop, name=name, daemon=True)
        self.threads.append(t)
        t.start()

    def join(self):
        for t in self.threads:
            t.join(timeout=60)
            assert not t.is_alive(), f"worker {t.name} did not end"


def vnc_rough_client(port, password):
    """One client that asks for a whole frame and leaves after a random part of it, with
    pointer moves, the system chord, and sometimes garbage on the way."""
    s = rfb.connect(port, password)
    try:
        rfb.request(s, incremental=False)
        for _ in range(random.randrange(0, 4)):
            x, y = random.randrange(XRES), random.randrange(YRES)
            s.sendall(struct.pack(">BBHH", 5, 1, x, y) + struct.pack(">BBHH", 5, 0, x, y))
        if random.random() < 0.3:
            keys = (CTRL, ALT, RIGHT)
            s.sendall(b"".join(struct.pack(">BBxxI", 4, 1, k) for k in keys) +
                      b"".join(struct.pack(">BBxxI", 4, 0, k) for k in reversed(keys)))
        s.recv(random.randrange(1, 200_000))
        if random.random() < 0.2:
            s.sendall(bytes(random.randrange(256) for _ in range(64)))
    except (ConnectionError, socket.timeout):
        pass  # the server may drop a client that sent garbage: that is its right
    finally:
        s.close()


def vnc_whole_frame(port, password):
    """A well-behaved client: the first full FramebufferUpdate, every Raw rectangle read."""
    s = rfb.connect(port, password)
    try:
        s.settimeout(10)
        rfb.request(s, incremental=False)
        area = sum(w * h for _, _, w, h, _ in rfb.read_update(s))
        assert area == XRES * YRES, f"the update covered {area} pixels"
    finally:
        s.close()


def test_everything_at_once(make_daemon, tools, evprobe, tmp_path):  # noqa: F811
    port = rfb.free_port()
    d = make_daemon(extra_args=["--vnc", f"127.0.0.1:{port}"])
    password = rfb.viewer_info(d)["vnc_password"]
    files = {"usr/bin/fbprobe": tools.probe, "usr/bin/evprobe": evprobe.x64}
    for name in ("garbage", "chaos", "input", "restart"):
        create_vp_with(d, name, files, launcher=True)
    s = SOAK_SECONDS

    def in_vp(name, *cmd):
        return [str(CELL), "--run", str(d.run), "exec", name, "--", *cmd]

    hostile = [
        in_vp("garbage", "fbprobe", "garbage", "8", str(s)),
        in_vp("chaos", "fbprobe", "chaos", str(s)),
        in_vp("input", "sh", "-c",
                    f"end=$(($(date +%s) + {s})); while [ $(date +%s) -lt $end ]; do "
                    "evprobe badioctl /dev/input/event0 && "
                    "evprobe opens /dev/input/event1 100 && "
                    "evprobe write /dev/input/event1 || exit 1; done >/dev/null"),
    ]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for argv in hostile]

    w = Workers(s)
    control = d.connect(timeout=10)

    def switch():
        control.sendall(json.dumps({"cmd": random.choice(["next", "prev"])}).encode() + b"\n")
        answer = json.loads(read_line(control))
        assert answer.get("ok"), answer
        time.sleep(0.005)

    def screenshot():
        d.cell("screenshot", tmp_path / "shot.png")

    def tap():
        d.cell("input", "tap", random.randrange(XRES), random.randrange(VP_YRES))

    def chord():
        d.cell("input", "key", random.choice(["ctrl+alt+right", "ctrl+alt+left"]))
        time.sleep(0.02)

    stops = []

    def restart():
        t = time.monotonic()
        d.cell("stop", "restart")
        stops.append(time.monotonic() - t)
        d.cell("start", "restart")

    def execs():
        # A new process each time: a listener and its supervisor thread come and go.
        assert probe(d, "input", "info")["xres"] == str(XRES)

    w.add("switch", switch)
    w.add("screenshot", screenshot)
    w.add("tap", tap)
    w.add("chord", chord)
    w.add("restart", restart)
    w.add("exec", execs)
    for i in range(2):
        w.add(f"vnc{i}", lambda: vnc_rough_client(port, password))
    w.join()
    control.close()
    outs = [p.communicate(timeout=60) for p in procs]
    print("\nsoak:", w.counts, "slowest stop %.3f s" % max(stops))

    assert d.running, "cellsd died during the soak:\n" + d.log()[-4000:]
    assert not w.errors, "\n".join(w.errors)
    for argv, p, (out, err) in zip(hostile, procs, outs):
        assert p.returncode == 0, f"{argv[-1]!r} in a VP exited {p.returncode}: {out} {err}"
    assert "garbage=0" in outs[0][0], outs[0]
    assert min(w.counts.values()) > 0, w.counts
    # A stop right after a start, under load, is a clean one (SIGTERM reached cell-init),
    # never the kill at the end of the grace period.
    assert "did not stop in time" not in d.log(), [x for x in stops if x > 1]
    # Afterwards every VP and device works, and a new VNC client gets a whole frame.
    vps = d.list()
    assert all(vp["state"] == "running" for vp in vps.values()), vps
    for name in vps:
        assert probe(d, name, "info")["xres"] == str(XRES)
        info = kv(d.exec(name, "evprobe", "info", "/dev/input/event0").stdout)
        assert info["name"] == "Cells touchscreen", info
    vnc_whole_frame(port, password)
    d.cell("screenshot", tmp_path / "after.png")
