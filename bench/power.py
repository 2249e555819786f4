#!/usr/bin/python3
"""The background policy (issue 15): the CPU a busy background VP gets under each policy,
and the foreground VP's frame rate beside it.

    /usr/bin/python3 bench/power.py [--rounds 5] [--seconds 5] [--throttle 10]
                                    [--build DIR] [--json FILE]

One private cellsd, two VPs of the "minimal" image, their launchers off: "back" draws and
computes continuously (bench/fbbench.c's drawing loop into its /dev/fb0, unpaced, and a
shell busy loop), "front" is in the foreground. For each policy of back (run, throttle
at --throttle % of one CPU, freeze; the order shuffled in each of --rounds rounds), set
live with `cell config back --background P`, once the policy holds (a second and a bit
after the change, `held` in `cell stats`), for --seconds: back's CPU time (its cgroup's
cpuacct.usage, or cpu.stat usage_usec on v2) as a share of one CPU, and front's frames
per second (fbbench's drawing loop into its /dev/fb0, unpaced, run by `cell exec`
meanwhile). The row "alone" is front with back stopped: the frame rate with nothing
behind it. Medians over the rounds.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cellsbench as cb  # noqa: E402
from display import build, create_plain, install_in_upper  # noqa: E402

POLICIES = ["run", "throttle", "freeze"]


def cgroup_cpu_ns(d, name):
    if d.cgroup_version == "v2":
        with open("/sys/fs/cgroup/%s/%s/cpu.stat" % (d.cgroup_parent, name)) as f:
            for line in f:
                k, v = line.split()
                if k == "usage_usec":
                    return int(v) * 1000
        raise RuntimeError("no usage_usec")
    with open("/sys/fs/cgroup/cpuacct/%s/%s/cpuacct.usage" % (d.cgroup_parent, name)) as f:
        return int(f.read())


def held(d, name):
    return d.stats()["daemon"]["power"]["vps"][name]["held"]


def front_fps(d, seconds):
    r = d.cell("exec", "front", "--", "/fbbench", "draw", "--target", "fb:/dev/fb0",
               "--frames", "100000000", "--warmup", "20", "--seconds", str(seconds))
    return json.loads(r.stdout)["fps"]


def measure(d, seconds, with_back=True):
    """front's fps while back's CPU is measured over the same span."""
    result = {}

    def draw():
        result["fps"] = front_fps(d, seconds)

    t = threading.Thread(target=draw)
    c0, t0 = (cgroup_cpu_ns(d, "back") if with_back else 0), time.monotonic()
    t.start()
    t.join()
    if with_back:
        result["back_cpu"] = (cgroup_cpu_ns(d, "back") - c0) / ((time.monotonic() - t0) * 1e9)
    return result


def start_back_load(d):
    d.cell("exec", "back", "--", "sh", "-c",
           "/fbbench draw --target fb:/dev/fb0 --frames 1000000000 --seconds 100000 "
           ">/dev/null 2>&1 & sh -c 'while :; do :; done' >/dev/null 2>&1 &")


def run(args):
    out = {"machine": cb.machine(), "rounds": args.rounds, "seconds": args.seconds,
           "throttle": args.throttle, "policies": {p: [] for p in POLICIES}, "alone": []}
    workdir = tempfile.mkdtemp(prefix="cells-power.", dir="/tmp")
    try:
        fbbench = build(os.path.join(HERE, "fbbench.c"), os.path.join(workdir, "fbbench"), True)
        with cb.Daemon("power", args=["--vnc", "none", "--web", "none"], build=args.build) as d:
            out["machine"]["cells"] = d.identity
            out["cgroups"] = d.cgroup_version
            cb.log("building the minimal image ...")
            d.cell("image", "build")
            for name in ("back", "front"):
                create_plain(d, name)
                d.cell("start", name)
                d.cell("stop", name)
                install_in_upper(d, name, fbbench)
            d.cell("config", "back", "--throttle", str(args.throttle))
            d.cell("start", "back")
            d.cell("start", "front")
            d.cell("switch", "back")
            start_back_load(d)
            d.cell("switch", "front")
            rng = random.Random(1)
            for r in range(args.rounds):
                order = POLICIES[:]
                rng.shuffle(order)
                for p in order:
                    d.cell("config", "back", "--background", p)
                    deadline = time.monotonic() + 5
                    while p != "run" and not held(d, "back"):
                        if time.monotonic() > deadline:
                            raise RuntimeError("back is not held under %s" % p)
                        time.sleep(0.05)
                    m = measure(d, args.seconds)
                    cb.log("round %d %-8s back %.3f of a CPU, front %.1f fps" % (
                        r + 1, p, m["back_cpu"], m["fps"]))
                    out["policies"][p].append(m)
            d.cell("config", "back", "--background", "run")
            d.cell("stop", "back")
            for r in range(args.rounds):
                m = measure(d, args.seconds, with_back=False)
                cb.log("round %d alone    front %.1f fps" % (r + 1, m["fps"]))
                out["alone"].append(m)
            d.cell("stop", "front")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def report(out):
    print()
    cb.print_machine(out["machine"])
    print("cgroups %s, %d rounds of %g s, throttle %d %%" % (
        out["cgroups"], out["rounds"], out["seconds"], out["throttle"]))
    rows = []
    for p in POLICIES:
        ms = out["policies"][p]
        rows.append([p, "%.3f" % statistics.median(m["back_cpu"] for m in ms),
                     "%.3f-%.3f" % (min(m["back_cpu"] for m in ms),
                                    max(m["back_cpu"] for m in ms)),
                     "%.1f" % statistics.median(m["fps"] for m in ms),
                     "%.1f-%.1f" % (min(m["fps"] for m in ms), max(m["fps"] for m in ms))])
    fps = [m["fps"] for m in out["alone"]]
    rows.append(["alone", "-", "-", "%.1f" % statistics.median(fps),
                 "%.1f-%.1f" % (min(fps), max(fps))])
    cb.table("background policy: back's CPU (of one CPU), front's frames/s",
             ["policy", "back CPU", "range", "front fps", "range"], rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--throttle", type=int, default=10)
    ap.add_argument("--runs", type=int, help="ignored (bench/run-all passes it)")
    ap.add_argument("--build", help="another tree's build/ to run (a 'before' run)")
    ap.add_argument("--json")
    args = ap.parse_args()
    cb.check_binaries()
    cb.install_signal_handlers()
    out = run(args)
    report(out)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
