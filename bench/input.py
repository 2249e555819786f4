#!/usr/bin/python3
"""Input benchmarks: latency of an event through cellsd to the foreground VP, and cellsd's
CPU while it routes them.

    /usr/bin/python3 bench/input.py [--rate 1000] [--packets 5000] [--runs 3]
                                    [--background 2] [--sources fifo,vnc] [--json FILE]

One private cellsd with `--input FIFO --vnc 127.0.0.1:PORT --web none` (the host-device
path: a FIFO of struct input_event records, read, packed into whole packets and routed as
a grabbed evdev device's events would be; and the VNC sink's), the "minimal" image, one VP "lat" with its launcher
turned off (the upper-layer rc.d stub of bench/display.py) in the foreground, and
--background VPs running their launchers (each reads its own /dev/input, and hears
nothing: they are not in the foreground).

Each run: bench/evlat.c (static) `recv` in the VP reads /dev/input/event0 (blocking
reads, CLOCK_MONOTONIC timestamps set with EVIOCSCLOCKID); `send` on the host writes
--packets packets at --rate packets/s into the FIFO, each a move of one contact, its
ABS_MT_POSITION_X holding its send time, and a SYN_REPORT; the VP reads it as
MT_POSITION_X, the screen's own ABS_X (its pointer emulation) and SYN_REPORT (so --rate
packets/s are 3 x --rate events/s). For every packet the reader takes
  stamp  now - the packet's timestamp: cellsd stamps the events when it has read them
         from the source and routes them, so this is from the event arriving at cellsd
         to it being read in the VP (the FUSE reply, the reader's wake-up and read());
  total  now - the send time: the whole way, including the FIFO hop into cellsd.
Side by side, in the same run: `evlat pipe`, the same packets at the same rate through a
plain pipe to a blocked reader on the host: one wake-up, the floor of any such path.
cellsd's CPU is its utime + stime over the send window (and over as long with nothing
sent, for its idle cost).

Source "vnc": the same, from an RFB client (bench/vnc.py's; connected before the idle
measurement, so that includes the sink's 60 Hz compare) that holds the left button
and moves the pointer at --rate moves/s (each a packet of MT_POSITION_X/Y, the screen's
ABS_X/Y and SYN_REPORT in the VP: 5 events); `recv ... any` reads them. *stamp* as above (cellsd
stamps in the client's reader thread, as libvncserver hands it the event); *total* pairs
the i-th move sent with the i-th packet read (CLOCK_MONOTONIC on both sides): TCP over
loopback, libvncserver's reader thread, the router, FUSE, the reader.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402
import display  # noqa: E402
import vnc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
class InputDaemon(cb.Daemon):
    def _enter(self):
        self._prepare()
        self.fifo = os.path.join(self.run, "input.fifo")  # made here: in its run directory
        os.mkfifo(self.fifo, 0o600)
        self.port = vnc.free_port()
        self._launch(["--input", self.fifo, "--vnc", "127.0.0.1:%d" % self.port, "--web",
                      "none"])
        vnc.use_viewer_password(self)
        return self


def vnc_moves(client, rate, n):
    """Hold the button and move the pointer N times at RATE/s; the send times (us). The
    finger lands first (a packet of its own, not timed)."""
    sent = []
    step = 1.0 / rate
    try:
        client.send(struct.pack(">BBHH", 5, 1, 100, 100))
        time.sleep(0.2)
        t = time.monotonic()
        for i in range(n):
            x, y = 200 + i % 300, 300 + (i * 7) % 600  # always somewhere new
            sent.append(time.monotonic_ns() // 1000)
            client.send(struct.pack(">BBHH", 5, 1, x, y))
            t += step
            delay = t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        time.sleep(0.2)
        client.send(struct.pack(">BBHH", 5, 0, 100, 100))
    finally:
        client.sock.close()
    return sent


def run_once(d, evlat_host, args, source="fifo"):
    recv_argv = ["/fbbench", "recv", "/dev/input/event0", str(args.packets)]
    client = None
    if source == "vnc":  # the landing finger, then the moves; connected before the idle
        recv_argv = ["/fbbench", "recv", "/dev/input/event0", str(args.packets + 1), "any"]
        client = vnc.RFB(d.port, 0)
    recv = subprocess.Popen(d.cell_argv("exec", "lat", "--", *recv_argv),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = recv.stdout.readline()
    if line.strip() != "ready":
        raise RuntimeError("evlat recv: %r %s" % (line, recv.stderr.read()))
    idle0 = cb.cpu_seconds(d.pid)
    time.sleep(1.0)
    idle = cb.cpu_seconds(d.pid) - idle0
    c0, t0 = cb.cpu_seconds(d.pid), time.monotonic()
    if source == "vnc":
        sent = vnc_moves(client, args.rate, args.packets)
    else:
        subprocess.run([evlat_host, "send", d.fifo, str(args.rate), str(args.packets)],
                       check=True)
    c1, t1 = cb.cpu_seconds(d.pid), time.monotonic()
    out, err = recv.communicate(timeout=60)
    if recv.returncode != 0:
        raise RuntimeError("evlat recv failed: %s" % err)
    res = json.loads(out)
    if source == "vnc":
        res["stamp"] = res["stamp"][1:]
        res["total"] = [a - s for a, s in zip(res["at"][1:], sent)]
        return {"source": source, "stamp": res["stamp"], "total": res["total"],
                "cpu": (c1 - c0) / (t1 - t0), "idle_cpu": idle, "seconds": t1 - t0}
    pipe = json.loads(subprocess.run([evlat_host, "pipe", str(args.rate), str(args.packets)],
                                     capture_output=True, text=True, check=True).stdout)
    return {"source": source, "stamp": res["stamp"], "total": res["total"],
            "pipe": pipe["total"],
            "cpu": (c1 - c0) / (t1 - t0), "idle_cpu": idle / 1.0, "seconds": t1 - t0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--packets", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--background", type=int, default=2)
    ap.add_argument("--sources", default="fifo,vnc")
    ap.add_argument("--json")
    ap.add_argument("--build", help="another tree's build/ directory (a comparison's "
                    "before); default: this tree's")
    args = ap.parse_args()
    cb.install_signal_handlers()
    info = cb.machine()
    tmp = tempfile.mkdtemp(prefix="cells-bench-input-")
    out = {"machine": info, "args": vars(args), "runs": []}
    try:
        evlat_host = display.build(os.path.join(HERE, "evlat.c"), os.path.join(tmp, "evlat"),
                                   static=True)
        with InputDaemon("input", build=args.build) as d:
            out["identity"] = d.identity
            cb.log("cellsd reading %s; building the minimal image ..." % d.fifo)
            d.cell("image", "build")
            display.create_plain(d, "lat")  # a plain upper directory to install into
            d.cell("start", "lat")  # makes its upper layer
            d.cell("stop", "lat")
            display.install_in_upper(d, "lat", evlat_host)  # as /fbbench
            d.cell("start", "lat")
            for i in range(args.background):
                d.cell("create", "bg%d" % i)
                d.cell("start", "bg%d" % i)
            d.cell("switch", "lat")
            for r in range(args.runs):
                for source in args.sources.split(","):
                    cb.log("run %d, %s: %d packets at %d/s" % (r + 1, source, args.packets,
                                                               args.rate))
                    out["runs"].append(run_once(d, evlat_host, args, source))
            out["stats"] = d.stats()["daemon"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f)

    cb.print_machine(info)
    print("cells: %s" % out.get("identity", ""))
    rows = []
    runs = {src: [r for r in out["runs"] if r["source"] == src] for src in ("fifo", "vnc")}
    lines = (("fifo", "arrival at cellsd -> read in the VP", "stamp"),
             ("fifo", "sender -> FIFO -> cellsd -> read in the VP", "total"),
             ("fifo", "sender -> pipe -> read (peer: one wake-up)", "pipe"),
             ("vnc", "VNC: arrival at cellsd -> read in the VP", "stamp"),
             ("vnc", "VNC: client send -> read in the VP", "total"))
    med = {}
    for src, name, key in lines:
        values = [v for run in runs[src] for v in run[key]]
        if not values:
            continue
        s = display.stats(values)
        med[(src, key)] = s["median"]
        rows.append([name, cb.fmt(s["median"], 1), cb.fmt(s["p90"], 1), cb.fmt(s["p99"], 1),
                     cb.fmt(s["min"], 1), cb.fmt(s["max"], 1), str(len(values))])
    cb.table("Input latency, us, %d packets/s, %d x %d packets per source, %d background VPs"
             % (args.rate, args.runs, args.packets, args.background),
             ["path", "median", "p90", "p99", "min", "max", "n"], rows)
    if ("fifo", "total") in med:
        print("ratio of medians, FIFO's whole way through cellsd / pipe: %.2f" % (
            med[("fifo", "total")] / med[("fifo", "pipe")]))
    for src in ("fifo", "vnc"):
        cpu = [run["cpu"] for run in runs[src]]
        idle = [run["idle_cpu"] for run in runs[src]]
        if cpu:
            print("cellsd CPU while routing from %s: %s of one CPU (runs: %s); idle: %s" % (
                src, "%.1f%%" % (100 * sorted(cpu)[len(cpu) // 2]),
                ", ".join("%.1f%%" % (100 * c) for c in cpu),
                ", ".join("%.1f%%" % (100 * c) for c in idle)))
    st = out.get("stats", {})
    print("cellsd: input_packets %s, delivered %s, dropped %s" % (
        st.get("input_packets"), st.get("input_events_delivered"),
        st.get("input_events_dropped")))


if __name__ == "__main__":
    main()
