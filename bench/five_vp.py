#!/usr/bin/python3
"""The 5-VP experiment of Cells: what background VPs cost the foreground one, per
background policy, against the same work on the host.

    /usr/bin/python3 bench/five_vp.py [--rounds 3] [--draw-seconds 3] [--cpu N]
                                      [--policies run,throttle,freeze] [--json FILE]

One private cellsd (`--uplink` to a namespace of its own, `--vnc none --web none`), the
"minimal" image, five VPs. The foreground VP "fg" has no launcher (bench/display.py's
upper-layer stub) and runs, through `cell exec`, the static bench/fbbench.c and
bench/workload.c:
  draw   fbbench's drawing loop (fill, a moving rectangle, a full-page copy) into its
         mmap'd /dev/fb0 for --draw-seconds: frames per second
  cpu    workload's --cpu rounds of integer arithmetic: milliseconds
The host runs the same two binaries, drawing into a file of /dev/shm (a shared mapping of
tmpfs, as /dev/fb0 is) with no VP running: the peer of every ratio.
Background VPs "bg1".."bg4", started 0 to 4 at a time; each runs one typical load from its
rc (an upper-layer /etc/cells/rc.d/60-load, so no `cell exec` ever waits on a frozen VP):
  audio     1 ms of arithmetic every 10 ms, one process (bench/workload.c periodic: the
            shape of an audio decoder's job)
  download  busybox wget of a 16 MiB file from an http server in the uplink namespace,
            again one second after each finished
  sync      1 MiB written with dd conv=fsync every second (a mail or calendar sync)
  idle      the minimal image's launcher alone, drawing its clock
Each background VP's policy (`cell config NAME --background P`) is set before the VPs
start. For every policy and every number of background VPs, each round measures draw and
cpu once (their order shuffled) and the CPU time the background VPs' cgroups used
meanwhile (`cell stats --json`, cpu_usec). Ratios are host/VP for times and VP/host for
frame rates: 1.00 is no overhead.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402
import display  # noqa: E402
import net  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
HTTP_PORT = 8088
BLOB_MB = 16

LOADS = {
    "audio": "exec /workload periodic 10 1000",
    "download": f"while :; do wget -q -O /dev/null http://{net.PEER}:{HTTP_PORT}/blob; "
                "sleep 1; done",
    "sync": "while :; do dd if=/dev/zero of=/root/sync.dat bs=64k count=16 conv=fsync "
            "2>/dev/null; sleep 1; done",
    "idle": None,  # the launcher
}
BACKGROUND = list(zip(["bg1", "bg2", "bg3", "bg4"], LOADS))


def put(upper, uid, rel, data=None, src=None, mode=0o755):
    """A file of the VP's own (host uid UID) at REL in its upper layer."""
    path = upper
    parts = rel.split("/")
    for part in parts[:-1]:
        path = os.path.join(path, part)
        if not os.path.isdir(path):
            os.mkdir(path, 0o755)
            os.chown(path, uid, uid)
    path = os.path.join(path, parts[-1])
    if src:
        shutil.copyfile(src, path)
    else:
        with open(path, "w") as f:
            f.write(data)
    os.chmod(path, mode)
    os.chown(path, uid, uid)


def set_up_vps(d, fbbench, workload):
    display.create_plain(d, "fg")
    for name, _ in BACKGROUND:
        display.create_plain(d, name)
    for name in ["fg"] + [n for n, _ in BACKGROUND]:
        d.cell("start", name)  # makes its upper layer
        d.cell("stop", name)
    display.install_in_upper(d, "fg", fbbench)
    put(d.upper("fg"), display.vp_uid(d, "fg"), "workload", src=workload)
    for name, load in BACKGROUND:
        put(d.upper(name), display.vp_uid(d, name), "workload", src=workload)
        if LOADS[load]:
            put(d.upper(name), display.vp_uid(d, name), "etc/cells/rc.d/60-load",
                f"#!/bin/sh\n# bench/five_vp.py: the {load} load\n"
                f"({LOADS[load]}) </dev/null >/dev/null 2>&1 &\n")


def set_policy(d, name, policy):
    r = d.cell("config", name, "--background", policy, check=False)
    # "run" is what a VP does where nothing sets a policy (a cellsd without one).
    if r.returncode != 0 and policy != "run":
        raise RuntimeError(f"cell config {name} --background {policy}: {r.stderr}")


def cpu_usec(d, names):
    vps = {vp["name"]: vp for vp in d.stats()["vps"]}
    return sum(vps[n].get("cpu_usec", 0) for n in names if n in vps)


def measure(d, host, args, rnd, side):
    """One draw and one cpu run, in a shuffled order: {"fps":..., "cpu_ms":...}."""
    out = {}
    for what in rnd.sample(["draw", "cpu"], 2):
        if what == "draw":
            argv = ["draw", "--seconds", str(args.draw_seconds), "--frames", "100000"]
            if side == "host":
                shm = f"/dev/shm/cells-five-vp-{os.getpid()}"
                r = json.loads(subprocess.run([host["fbbench"]] + argv +
                                              ["--target", "file:" + shm],
                                              capture_output=True, text=True,
                                              check=True).stdout)
            else:
                r = display.exec_json(d, "fg", ["/fbbench"] + argv + ["--target",
                                                                      "fb:/dev/fb0"])
            out["fps"] = r["fps"]
        else:
            argv = ["cpu", str(args.cpu)]
            if side == "host":
                r = json.loads(subprocess.run([host["workload"]] + argv, capture_output=True,
                                              text=True, check=True).stdout)
            else:
                r = display.exec_json(d, "fg", ["/workload"] + argv)
            out["cpu_ms"] = r["ns"] / 1e6
    return out


def run(args):
    tmp = tempfile.mkdtemp(prefix="cells-bench-five-vp-")
    host = {"fbbench": display.build(os.path.join(HERE, "fbbench.c"),
                                     os.path.join(tmp, "fbbench"), static=True),
            "workload": display.build(os.path.join(HERE, "workload.c"),
                                      os.path.join(tmp, "workload"), static=True)}
    www = os.path.join(tmp, "www")
    os.mkdir(www)
    with open(os.path.join(www, "blob"), "wb") as f:
        f.write(os.urandom(BLOB_MB << 20))
    rnd = random.Random(5)
    samples = {}
    try:
        with net.Uplink():
            http = subprocess.Popen(["ip", "netns", "exec", net.NS, "python3", "-m",
                                     "http.server", "-b", net.PEER, "-d", www,
                                     str(HTTP_PORT)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                with cb.Daemon("five-vp", ["--uplink", f"up={net.IFACE},gw={net.PEER}",
                                           "--vnc", "none", "--web", "none"]) as d:
                    cb.log("building the minimal image ...")
                    d.cell("image", "build")
                    set_up_vps(d, host["fbbench"], host["workload"])
                    d.cell("start", "fg")
                    d.cell("switch", "fg")
                    for r in range(args.rounds):
                        cb.log(f"round {r + 1} of {args.rounds}")
                        samples.setdefault("host", []).append(
                            measure(d, host, args, rnd, "host"))
                        for policy in args.policies:
                            for name, _ in BACKGROUND:
                                set_policy(d, name, policy)
                            for k in range(len(BACKGROUND) + 1):
                                names = [n for n, _ in BACKGROUND[:k]]
                                for n in names:
                                    d.cell("start", n)
                                d.cell("switch", "fg")
                                time.sleep(args.settle)  # the loads get going
                                t0, c0 = time.monotonic(), cpu_usec(d, names)
                                m = measure(d, host, args, rnd, "vp")
                                m["bg_cpu_pct"] = (cpu_usec(d, names) - c0) / 1e4 / \
                                    (time.monotonic() - t0)
                                samples.setdefault(f"{policy}/{k}", []).append(m)
                                for n in names:
                                    d.cell("stop", n)
            finally:
                http.kill()
                http.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return samples


def median(rows, key):
    return cb.summary([r[key] for r in rows])["median"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--draw-seconds", type=float, default=3.0)
    ap.add_argument("--cpu", type=int, default=200_000_000)
    ap.add_argument("--settle", type=float, default=1.0,
                    help="seconds between starting the background VPs and measuring")
    ap.add_argument("--policies", default="run,throttle,freeze")
    ap.add_argument("--json")
    args = ap.parse_args()
    args.policies = args.policies.split(",")
    cb.install_signal_handlers()
    info = cb.machine()
    samples = run(args)
    cb.print_machine(info)
    host_fps, host_ms = median(samples["host"], "fps"), median(samples["host"], "cpu_ms")
    rows = [["host (no VP)", "-", cb.fmt(host_fps, 1), "1.00", cb.fmt(host_ms, 1), "1.00", "-"]]
    out = {"machine": info, "args": vars(args), "samples": samples, "results": {}}
    for policy in args.policies:
        for k in range(len(BACKGROUND) + 1):
            s = samples[f"{policy}/{k}"]
            fps, ms, bg = median(s, "fps"), median(s, "cpu_ms"), median(s, "bg_cpu_pct")
            out["results"][f"{policy}/{k}"] = {"fps": fps, "cpu_ms": ms, "bg_cpu_pct": bg,
                                               "fps_ratio": fps / host_fps,
                                               "cpu_ratio": host_ms / ms}
            rows.append([policy, str(k), cb.fmt(fps, 1), "%.2f" % (fps / host_fps),
                         cb.fmt(ms, 1), "%.2f" % (host_ms / ms), cb.fmt(bg, 1)])
    cb.table(f"The foreground VP's drawing and CPU work with background VPs ({args.rounds} "
             "rounds, medians; loads in order: " + ", ".join(LOADS) + ")",
             ["background policy", "bg VPs", "frames/s", "vs host", "cpu ms", "vs host",
              "bg CPU %"], rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
