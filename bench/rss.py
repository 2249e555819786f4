#!/usr/bin/python3
"""Memory of cellsd with 0, 1 and 20 running VPs, of cell-init, and of one VP's cgroup.

    /usr/bin/python3 bench/rss.py [--runs N] [--vps 20] [--settle S] [--json FILE]

cellsd: VmRSS (and RssAnon/RssFile) from /proc/PID/status of this benchmark's own
cellsd, next to the "daemon": {"rss_kb"} that `cell stats --json` reports, at each
level: just started, minimal image built, 1 VP running, --vps VPs running. Each level is
sampled --runs times, 50 ms apart, after --settle seconds; the table shows medians.
Last level: after --cycles more start/stop cycles of one VP, to show a leak if any.
cell-init: VmRSS of the init pid of each running VP (from stats), median over the VPs.
VP: the memory of a VP's cgroup (stats "memory_bytes"), median, min and max over the VPs.
Every VP runs the "minimal" image (its rc: tmpfs on /tmp and /run, a login shell on the
console).
"""

import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402


def sample_level(d, runs, settle):
    time.sleep(settle)
    proc_rss, anon, filerss, stats_rss, init = [], [], [], [], {}
    vpmem = {}
    for _ in range(runs):
        st = cb.read_status(d.pid)
        proc_rss.append(st["VmRSS"])
        anon.append(st.get("RssAnon", 0))
        filerss.append(st.get("RssFile", 0))
        s = d.stats()
        stats_rss.append(s["daemon"]["rss_kb"])
        for vp in s["vps"]:
            if vp.get("state") != "running":
                continue
            try:
                init.setdefault(vp["name"], []).append(cb.read_status(vp["pid"]))
            except (OSError, KeyError):
                pass
            vpmem.setdefault(vp["name"], []).append(vp.get("memory_bytes", 0))
        time.sleep(0.05)
    med = lambda xs: cb.summary(xs)["median"] if xs else None  # noqa: E731
    init_rss = [med([x["VmRSS"] for x in v]) for v in init.values()]
    init_anon = [med([x.get("RssAnon", 0) for x in v]) for v in init.values()]
    vp_kb = [med(v) / 1024 for v in vpmem.values()]
    return {
        "cellsd_vmrss_kb": med(proc_rss), "cellsd_anon_kb": med(anon),
        "cellsd_file_kb": med(filerss), "stats_rss_kb": med(stats_rss),
        "init_vmrss_kb": med(init_rss), "init_anon_kb": med(init_anon),
        "vp_cgroup_kb": med(vp_kb),
        "vp_cgroup_kb_min": min(vp_kb) if vp_kb else None,
        "vp_cgroup_kb_max": max(vp_kb) if vp_kb else None,
        "vps_running": len(vpmem),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="samples per level")
    ap.add_argument("--vps", type=int, default=20)
    ap.add_argument("--settle", type=float, default=1.0)
    ap.add_argument("--cycles", type=int, default=100,
                    help="start/stop cycles of one VP before the last sample (leaks)")
    ap.add_argument("--json")
    args = ap.parse_args()
    cb.check_binaries()
    cb.install_signal_handlers()
    info = cb.machine()
    levels = []
    with cb.Daemon("rss") as d:
        levels.append(("0 VPs (just started)", sample_level(d, args.runs, args.settle)))
        cb.log("building the minimal image ...")
        d.cell("image", "build")
        for i in range(args.vps):
            d.cell("create", "r%02d" % i)
        levels.append(("0 VPs running (image built, %d created)" % args.vps,
                       sample_level(d, args.runs, args.settle)))
        d.cell("start", "r00")
        levels.append(("1 VP running", sample_level(d, args.runs, args.settle)))
        t0 = time.monotonic()
        for i in range(1, args.vps):
            d.cell("start", "r%02d" % i)
        t_start_all = time.monotonic() - t0
        levels.append(("%d VPs running" % args.vps, sample_level(d, args.runs, args.settle)))
        for i in range(args.vps):
            d.cell("stop", "r%02d" % i)
        levels.append(("0 VPs running (all stopped again)",
                       sample_level(d, args.runs, args.settle)))
        for _ in range(args.cycles):
            d.cell("start", "r00")
            d.cell("stop", "r00")
        levels.append(("0 VPs running (+%d start/stop cycles)" % args.cycles,
                       sample_level(d, args.runs, args.settle)))
        info["loadavg_end"] = cb.machine()["loadavg"]
        identity = info["cells"] = d.identity

    print()
    cb.print_machine(info)
    print("cells: %s" % identity)
    print()
    rows = []
    for label, v in levels:
        rows.append([label, cb.fmt(v["cellsd_vmrss_kb"], 0), cb.fmt(v["cellsd_anon_kb"], 0),
                     cb.fmt(v["cellsd_file_kb"], 0), cb.fmt(v["stats_rss_kb"], 0)])
    cb.table("cellsd memory (kB, medians of %d samples)" % args.runs,
             ["", "VmRSS", "RssAnon", "RssFile", "stats rss_kb"], rows)
    rows = []
    for label, v in levels:
        if v["vps_running"]:
            rows.append([label, cb.fmt(v["init_vmrss_kb"], 0), cb.fmt(v["init_anon_kb"], 0),
                         cb.fmt(v["vp_cgroup_kb"], 0), cb.fmt(v["vp_cgroup_kb_min"], 0),
                         cb.fmt(v["vp_cgroup_kb_max"], 0)])
    cb.table("per VP (kB, medians over the running VPs)",
             ["", "cell-init VmRSS", "cell-init RssAnon", "VP cgroup", "min", "max"], rows)
    lv = dict(levels)
    one, many = lv["1 VP running"], lv["%d VPs running" % args.vps]
    base = levels[1][1]
    print("cellsd growth per running VP: %.0f kB (VmRSS, 0 -> %d VPs)" % (
        (many["cellsd_vmrss_kb"] - base["cellsd_vmrss_kb"]) / args.vps, args.vps))
    print("ratio cellsd VmRSS %d VPs / 1 VP: %.2f" % (
        args.vps, many["cellsd_vmrss_kb"] / one["cellsd_vmrss_kb"]))
    print("starting VPs 2..%d one after another took %.2f s" % (args.vps, t_start_all))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "levels": levels, "start_all_s": t_start_all}, f,
                      indent=1)


if __name__ == "__main__":
    main()
