#!/usr/bin/python3
"""What a prepared VP holds (cellsd --prepare): memory of its cgroup, cellsd's RSS, its
processes, mounts and kernel objects, against the same VPs stopped and not prepared.

    /usr/bin/python3 bench/prepared.py [--vps 5] [--settle 1]

Two private cellsd of this tree, one with --prepare all and one with --prepare none, each
with --vps VPs created from the minimal image (no disk image), started and stopped once.
Per VP of the prepared daemon: its memory cgroup's usage (v1 memory.usage_in_bytes or v2
memory.current), its processes, the mounts of its waiting process's mount namespace; for
both daemons: cellsd's VmRSS, the tmpfs and FUSE mounts under their run directory, and
the host's count of user, mount and net namespaces (lsns) before and after.
"""

import argparse
import glob
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402


def cgroup_file(d, vp, v1_name, v2_name):
    for path in (os.path.join("/sys/fs/cgroup/memory", d.cgroup_parent, vp, v1_name),
                 os.path.join("/sys/fs/cgroup", d.cgroup_parent, vp, v2_name)):
        if os.path.exists(path):
            with open(path) as f:
                return f.read()
    return None


def vp_pids(d, vp):
    out = set()
    for path in glob.glob("/sys/fs/cgroup/*/%s/%s/cgroup.procs" % (d.cgroup_parent, vp)) + \
            glob.glob("/sys/fs/cgroup/%s/%s/cgroup.procs" % (d.cgroup_parent, vp)):
        with open(path) as f:
            out |= {int(p) for p in f.read().split()}
    return out


def namespaces():
    r = subprocess.run(["lsns", "-n", "-o", "TYPE"], capture_output=True, text=True)
    counts = {}
    for t in r.stdout.split():
        counts[t] = counts.get(t, 0) + 1
    return counts


def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return sum(1 for line in f if line.split()[4].startswith(path + "/"))


def level(d, vps, settle, prepared):
    if prepared:
        cb.wait_until(lambda: all(v.get("prepared") for v in d.json("list", "--json")
                                  if v["name"] in vps), timeout=30, what="VPs prepared")
    time.sleep(settle)
    out = {"rss_kb": cb.read_status(d.pid)["VmRSS"], "ns": namespaces(),
           "run_mounts": mounts_under(d.run)}
    if prepared:
        mem, procs, mnt = [], [], []
        for vp in vps:
            mem.append(int(cgroup_file(d, vp, "memory.usage_in_bytes", "memory.current")))
            pids = vp_pids(d, vp)
            procs.append(len(pids))
            with open("/proc/%d/mountinfo" % min(pids)) as f:
                mnt.append(sum(1 for _ in f))
        out.update(mem=sorted(mem), procs=procs, vp_mounts=mnt)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vps", type=int, default=5)
    ap.add_argument("--settle", type=float, default=1.0)
    args = ap.parse_args()
    cb.check_binaries()
    cb.install_signal_handlers()
    info = cb.machine()
    vps = ["prep%d" % i for i in range(args.vps)]
    res = {}
    for mode in ("none", "all"):
        with cb.Daemon("prepared-" + mode, args=["--prepare", mode]) as d:
            d.cell("image", "build")
            base = level(d, [], args.settle, False)
            for vp in vps:
                d.cell("create", vp, "--disk", "none", "--restart", "no")
                d.cell("start", vp)
                d.cell("stop", vp)
            res[mode] = (base, level(d, vps, args.settle, mode == "all"))
    cb.print_machine(info)
    for mode, (base, after) in res.items():
        print("--prepare %s, %d VPs stopped:" % (mode, args.vps))
        print("  cellsd VmRSS: %d kB with no VP, %d kB with them (+%.0f kB per VP)" % (
            base["rss_kb"], after["rss_kb"], (after["rss_kb"] - base["rss_kb"]) / args.vps))
        print("  mounts under its run directory: %d, then %d" % (base["run_mounts"],
                                                               after["run_mounts"]))
        print("  host namespaces (lsns): %s, then %s" % (base["ns"], after["ns"]))
        if "mem" in after:
            m = after["mem"]
            print("  per VP: memory cgroup %s kB (min, median, max), processes %s, "
                  "mounts in its namespace %s" % (
                      [m[0] // 1024, m[len(m) // 2] // 1024, m[-1] // 1024],
                      after["procs"], after["vp_mounts"]))


if __name__ == "__main__":
    main()
