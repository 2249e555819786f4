#!/usr/bin/python3
"""Code inside a VP against the same code on the host (DESIGN.md §10: CPU-bound <= 1%
slower, system-call-bound <= 3%, file I/O on the overlay <= 5%).

    /usr/bin/python3 bench/overhead.py [--rounds 7] [--cpu N] [--syscalls N] [--mb MB]
                                       [--files N] [--json FILE]

One private cellsd (`--vnc none --web none`), the "minimal" image, one VP "ovh" with its
launcher turned off (the upper-layer rc.d stub of bench/display.py). bench/workload.c,
built static, is the same binary on both sides (in the VP as /fbbench, in its upper
layer). Every round runs each workload once on the host and once in the VP (`cell exec`;
the workload times itself, so the exec is not counted), in an order shuffled per round:

cpu       N rounds of xorshift and a multiply in registers (ns in all)
syscall   N getppid() (ns per call): the VP's seccomp filter (its deny-list and the
          device ioctl rules) is evaluated on every one
write     MB MiB in 64 KiB writes and an fsync, then read back from the page cache: on
          the host into a directory of the benchmark's state directory, in the VP into
          /data, on the overlay whose upper layer is in that same state directory (the
          same ext4)
files     N files created, written (4 KiB), closed and removed, in a new directory made
          in those two places (as an app makes its own); files-here: in them directly (in
          the VP, /data is a directory of the image: a merged overlay directory)
seccomp   the peer for syscall: getppid on the host under a seccomp filter of one rule
          (what seccomp itself costs a system call, whatever the filter) against the VP

The file workloads also run on the host in a plain overlayfs mount made by this script
(the image as its lower layer, upper and work directories in the same state directory, no
user namespace, no idmapping): the peer that tells what overlayfs itself costs.

Ratios are VP / host for times and host / VP for rates: 1.00 is no overhead, 1.03 is 3%.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402
import display  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def run_host(workload, argv):
    return json.loads(subprocess.run([workload] + argv, capture_output=True, text=True,
                                     check=True).stdout)


def run_vp(d, argv):
    return json.loads(d.cell("exec", "ovh", "--", "/fbbench", *argv).stdout)


class PlainOverlay:
    """overlayfs of LOWER on the host, upper and work in BASE: mounted on enter."""

    def __init__(self, lower, base):
        self.lower, self.base = lower, base
        self.merged = os.path.join(base, "merged")

    def __enter__(self):
        for sub_dir in ("upper", "work", "merged"):
            os.mkdir(os.path.join(self.base, sub_dir))
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        "lowerdir=%s,upperdir=%s/upper,workdir=%s/work" % (
                            self.lower, self.base, self.base), self.merged], check=True)
        return self

    def __exit__(self, *exc):
        subprocess.run(["umount", self.merged], check=False)
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--cpu", type=int, default=300_000_000)
    ap.add_argument("--syscalls", type=int, default=2_000_000)
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--json")
    args = ap.parse_args()
    cb.install_signal_handlers()
    info = cb.machine()
    tmp = tempfile.mkdtemp(prefix="cells-bench-overhead-")
    samples = {}
    try:
        workload = display.build(os.path.join(HERE, "workload.c"),
                                 os.path.join(tmp, "workload"), static=True)
        with cb.Daemon("overhead", ["--vnc", "none", "--web", "none"]) as d:
            identity = d.identity
            cb.log("building the minimal image ...")
            d.cell("image", "build")
            d.cell("create", "ovh")
            d.cell("start", "ovh")  # makes its upper layer
            d.cell("stop", "ovh")
            display.install_in_upper(d, "ovh", workload)
            d.cell("start", "ovh")
            host_dir = os.path.join(d.state, "host-files")  # the upper layer's file system
            os.mkdir(host_dir)
            os.mkdir(os.path.join(d.state, "plain-overlay"))
            ovl = PlainOverlay(d.image_rootfs(), os.path.join(d.state, "plain-overlay"))
            ovl_data = os.path.join(ovl.merged, "data")
            tests = {
                "cpu": (["cpu", str(args.cpu)], ["cpu", str(args.cpu)]),
                "syscall": (["syscall", str(args.syscalls)], ["syscall", str(args.syscalls)]),
                "write": (["write", host_dir, str(args.mb)], ["write", "/data", str(args.mb)]),
                "files": (["files", host_dir, str(args.files)],
                          ["files", "/data", str(args.files)]),
                "files-here": (["files-here", host_dir, str(args.files)],
                               ["files-here", "/data", str(args.files)]),
                "seccomp": (["syscall-filtered", str(args.syscalls)],
                            ["syscall", str(args.syscalls)]),
            }
            on_overlay = {"write": ["write", ovl_data, str(args.mb)],
                          "files": ["files", ovl_data, str(args.files)],
                          "files-here": ["files-here", ovl_data, str(args.files)]}
            rnd = random.Random(5)
            with ovl:
                for r in range(args.rounds):
                    cb.log("round %d of %d" % (r + 1, args.rounds))
                    order = [(t, side) for t in tests for side in ("host", "vp")] + \
                        [(t, "overlay") for t in on_overlay]
                    rnd.shuffle(order)
                    for t, side in order:
                        host_argv, vp_argv = tests[t]
                        if side == "host":
                            res = run_host(workload, host_argv)
                        elif side == "overlay":
                            res = run_host(workload, on_overlay[t])
                        else:
                            res = run_vp(d, vp_argv)
                        for k, v in res.items():
                            if k != "check":
                                samples.setdefault((t, k, side), []).append(v)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    cb.print_machine(info)
    print("cells: %s" % identity)
    rows = []
    metrics = [("cpu", "ns", "time, ms", 1e-6, "time"),
               ("syscall", "ns_per_call", "getppid, ns per call", 1, "time"),
               ("write", "write_mb_s", "write + fsync, MB/s", 1, "rate"),
               ("write", "read_mb_s", "read (page cache), MB/s", 1, "rate"),
               ("files", "files_per_s", "create+write+remove in a new dir, files/s", 1, "rate"),
               ("files-here", "files_per_s", "the same in /data (an image dir), files/s", 1,
                "rate"),
               ("seccomp", "ns_per_call", "getppid: host under a 1-rule seccomp filter "
                "(peer) vs VP, ns", 1, "time")]
    out = {"machine": info, "identity": identity, "args": vars(args), "results": {}}
    for t, k, label, scale, kind in metrics:
        h = cb.summary(samples[(t, k, "host")])["median"]
        v = cb.summary(samples[(t, k, "vp")])["median"]
        o = samples.get((t, k, "overlay"))
        o = cb.summary(o)["median"] if o else None
        ratio = v / h if kind == "time" else h / v
        ratio_o = None if o is None else (v / o if kind == "time" else o / v)
        out["results"]["%s.%s" % (t, k)] = {"host": samples[(t, k, "host")],
                                             "vp": samples[(t, k, "vp")],
                                             "overlay": samples.get((t, k, "overlay")),
                                             "ratio": ratio, "ratio_overlay": ratio_o}
        rows.append(["%s: %s" % (t, label), cb.fmt(h * scale, 2),
                     "-" if o is None else cb.fmt(o * scale, 2), cb.fmt(v * scale, 2),
                     "%.3f" % ratio, "-" if ratio_o is None else "%.3f" % ratio_o])
    cb.table("Inside a VP vs on the host, medians of %d rounds (ratio 1.00 = no overhead)"
             % args.rounds, ["workload", "host", "host overlay", "VP", "VP/host",
                             "VP/overlay"], rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    main()
