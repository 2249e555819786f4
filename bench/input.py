#!/usr/bin/python3
"""Input benchmarks: latency of an event through cellsd to the foreground VP, and cellsd's
CPU while it routes them.

    /usr/bin/python3 bench/input.py [--rate 1000] [--packets 5000] [--runs 3]
                                    [--background 2] [--json FILE]

One private cellsd with `--input FIFO --vnc none --web none` (the host-device path: a FIFO
of struct input_event records, read, packed into whole packets and routed as a grabbed
evdev device's events would be), the "minimal" image, one VP "lat" with its launcher
turned off (the upper-layer rc.d stub of bench/display.py) in the foreground, and
--background VPs running their launchers (each reads its own /dev/input, and hears
nothing: they are not in the foreground).

Each run: bench/evlat.c (static) `recv` in the VP reads /dev/input/event0 (blocking
reads, CLOCK_MONOTONIC timestamps set with EVIOCSCLOCKID); `send` on the host writes
--packets packets at --rate packets/s into the FIFO, each an ABS_X holding its send time
and a SYN_REPORT (so --rate packets/s are 2 x --rate events/s). For every packet the
reader takes
  stamp  now - the packet's timestamp: cellsd stamps the events when it has read them
         from the source and routes them, so this is from the event arriving at cellsd
         to it being read in the VP (the FUSE reply, the reader's wake-up and read());
  total  now - the send time: the whole way, including the FIFO hop into cellsd.
Side by side, in the same run: `evlat pipe`, the same packets at the same rate through a
plain pipe to a blocked reader on the host: one wake-up, the floor of any such path.
cellsd's CPU is its utime + stime over the send window (and over as long with nothing
sent, for its idle cost).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402
import display  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class InputDaemon(cb.Daemon):
    def _enter(self):
        self._prepare()
        self.fifo = os.path.join(self.run, "input.fifo")
        os.mkfifo(self.fifo, 0o600)
        self._launch(["--input", self.fifo, "--vnc", "none", "--web", "none"])
        return self


def run_once(d, evlat_host, args):
    recv = subprocess.Popen(d.cell_argv("exec", "lat", "--", "/fbbench", "recv",
                                        "/dev/input/event0", str(args.packets)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = recv.stdout.readline()
    if line.strip() != "ready":
        raise RuntimeError("evlat recv: %r %s" % (line, recv.stderr.read()))
    idle0 = cpu_seconds(d.pid)
    time.sleep(1.0)
    idle = cpu_seconds(d.pid) - idle0
    c0, t0 = cpu_seconds(d.pid), time.monotonic()
    subprocess.run([evlat_host, "send", d.fifo, str(args.rate), str(args.packets)], check=True)
    c1, t1 = cpu_seconds(d.pid), time.monotonic()
    out, err = recv.communicate(timeout=60)
    if recv.returncode != 0:
        raise RuntimeError("evlat recv failed: %s" % err)
    res = json.loads(out)
    pipe = json.loads(subprocess.run([evlat_host, "pipe", str(args.rate), str(args.packets)],
                                     capture_output=True, text=True, check=True).stdout)
    return {"stamp": res["stamp"], "total": res["total"], "pipe": pipe["total"],
            "cpu": (c1 - c0) / (t1 - t0), "idle_cpu": idle / 1.0, "seconds": t1 - t0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--packets", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--background", type=int, default=2)
    ap.add_argument("--json")
    args = ap.parse_args()
    cb.install_signal_handlers()
    info = cb.machine()
    tmp = tempfile.mkdtemp(prefix="cells-bench-input-")
    out = {"machine": info, "args": vars(args), "runs": []}
    try:
        evlat_host = display.build(os.path.join(HERE, "evlat.c"), os.path.join(tmp, "evlat"),
                                   static=True)
        with InputDaemon("input") as d:
            out["identity"] = d.identity
            cb.log("cellsd reading %s; building the minimal image ..." % d.fifo)
            d.cell("image", "build")
            d.cell("create", "lat")
            d.cell("start", "lat")  # makes its upper layer
            d.cell("stop", "lat")
            display.install_in_upper(d, "lat", evlat_host)  # as /fbbench
            d.cell("start", "lat")
            for i in range(args.background):
                d.cell("create", "bg%d" % i)
                d.cell("start", "bg%d" % i)
            d.cell("switch", "lat")
            for r in range(args.runs):
                cb.log("run %d: %d packets at %d/s" % (r + 1, args.packets, args.rate))
                out["runs"].append(run_once(d, evlat_host, args))
            out["stats"] = d.stats()["daemon"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f)

    cb.print_machine(info)
    print("cells: %s" % out.get("identity", ""))
    rows = []
    for name, key in (("arrival at cellsd -> read in the VP", "stamp"),
                      ("sender -> FIFO -> cellsd -> read in the VP", "total"),
                      ("sender -> pipe -> read (peer: one wake-up)", "pipe")):
        values = [v for run in out["runs"] for v in run[key]]
        s = display.stats(values)
        rows.append([name, cb.fmt(s["median"], 1), cb.fmt(s["p90"], 1), cb.fmt(s["p99"], 1),
                     cb.fmt(s["min"], 1), cb.fmt(s["max"], 1), str(len(values))])
    med = {k: display.stats([v for run in out["runs"] for v in run[k]])["median"]
           for k in ("stamp", "total", "pipe")}
    cb.table("Input latency, us, %d packets/s (%d events/s), %d x %d packets, %d background VPs"
             % (args.rate, 2 * args.rate, args.runs, args.packets, args.background),
             ["path", "median", "p90", "p99", "min", "max", "n"], rows)
    print("ratio of medians, whole way through cellsd / pipe: %.2f" % (med["total"] / med["pipe"]))
    cpu = [run["cpu"] for run in out["runs"]]
    idle = [run["idle_cpu"] for run in out["runs"]]
    print("cellsd CPU while routing: %s of one CPU (runs: %s); idle: %s" % (
        "%.1f%%" % (100 * sorted(cpu)[len(cpu) // 2]), ", ".join("%.1f%%" % (100 * c) for c in cpu),
        ", ".join("%.1f%%" % (100 * c) for c in idle)))
    st = out.get("stats", {})
    print("cellsd: input_packets %s, delivered %s, dropped %s" % (
        st.get("input_packets"), st.get("input_events_delivered"),
        st.get("input_events_dropped")))


if __name__ == "__main__":
    main()
