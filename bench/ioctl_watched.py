#!/usr/bin/python3
"""Trapped fbdev ioctls in a VP while a VNC client watches a moving screen.

    /usr/bin/python3 bench/ioctl_watched.py [--runs 2] [--samples 2000] [--batch 20]

With a client connected the VNC sink composes the screen 60 times a second: it reads the
foreground's page (3.7 MB at the default mode) and compares it. This times what that does
to the trapped calls of another VP. One private cellsd with --vnc: VP "m" in the
foreground, its launcher drawing; VP "v" runs bench/fbbench.c (`fbbench ioctl`, batches
of --batch FBIOGET_VSCREENINFO, per-call means); an RFB client (bench/vnc.py's) asks for
the next incremental update as soon as it has one. Two placements per run: "apart"
(the sink's thread, the busiest of cellsd's threads, pinned to CPU 0, fbbench to CPU 1,
so only a lock held by the sink can delay the calls) and "unpinned".
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402
import display as bd  # noqa: E402
import vnc as bv  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def busiest_thread(pid):
    def cpu(tid):
        fields = open("/proc/%d/task/%s/stat" % (pid, tid)).read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    return int(max(os.listdir("/proc/%d/task" % pid), key=cpu))


def watch(port, stop):
    rfb = bv.RFB(port, 0)
    rfb.full_frame()
    while not stop.is_set():
        rfb.request()
        rfb.message()
    rfb.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--json")
    args = ap.parse_args()
    cb.install_signal_handlers()
    cb.check_binaries()
    tmp = tempfile.mkdtemp(prefix="cells-bench-")
    fbbench = os.path.join(tmp, "fbbench")
    subprocess.run(["gcc", "-O2", "-static", "-o", fbbench, os.path.join(HERE, "fbbench.c")],
                   check=True)
    port = bv.free_port()
    samples = {"apart": [], "unpinned": []}
    try:
        with cb.Daemon("watched", args=["--vnc", "127.0.0.1:%d" % port,
                                        "--web", "none"]) as d:
            bv.use_viewer_password(d)
            d.cell("image", "build", "minimal")
            d.cell("create", "v")
            d.cell("start", "v")
            d.cell("stop", "v")
            bd.install_in_upper(d, "v", fbbench)
            d.cell("create", "m")
            for name in ("v", "m"):
                d.cell("start", name)
            d.cell("switch", "m")
            stop = threading.Event()
            client = threading.Thread(target=watch, args=(port, stop), daemon=True)
            client.start()
            time.sleep(1)  # the sink's thread is the busiest by now
            sink = busiest_thread(d.pid)
            try:
                for rnd, order in cb.rounds(args.runs, list(samples), seed=5):
                    for place in order:
                        argv = ["/fbbench", "ioctl", "--samples", str(args.samples),
                                "--batch", str(args.batch), "--ops", "vget"]
                        if place == "apart":
                            os.sched_setaffinity(sink, {0})
                            argv += ["--cpu", "1"]
                        else:
                            os.sched_setaffinity(sink, set(range(os.cpu_count())))
                        res = bd.exec_json(d, "v", argv)
                        samples[place].extend(x / 1000.0 for x in res["ops"]["vget"])
                        cb.log("run %d %s done" % (rnd, place))
            finally:
                stop.set()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = []
    for place, v in samples.items():
        s = bd.stats(v)
        rows.append([place, cb.fmt(s["median"]), cb.fmt(s["p90"]), cb.fmt(s["p99"]),
                     cb.fmt(s["max"]), len(v)])
    cb.print_machine(cb.machine())
    cb.table("FBIOGET_VSCREENINFO in a VP while a VNC client watches, µs per call "
             "(per-call means of batches of %d)" % args.batch,
             ["placement", "median", "p90", "p99", "max", "batches"], rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"batch": args.batch, "samples_us": samples}, f)


if __name__ == "__main__":
    main()
