#!/usr/bin/python3
"""Where a VP's start goes: each step of the start pipeline, as cellsd --verbose logs it.

    /usr/bin/python3 bench/start_stages.py [--runs N] [--gap S] [--json FILE]

A private cellsd runs with --verbose; its log has one line per start ("VP NAME start,
us: cgroup.prepare=... exec=... total=...", src/vp/spawn.c): each step's microseconds
since the step before it, in the order they ran (the child's enter hooks in a page it
shares with the daemon). The VP is the one bench/start.py starts (the minimal image,
whose rc only writes a marker, plain upper directory), started and stopped N times, each
start timed from the caller too: until `cell start` returns and until the rc's marker.
Medians, p10 and p90 in microseconds; the rows "outside vp_spawn" are what the caller
sees beyond the pipeline (the CLI, the control socket, cellsd's bookkeeping around it,
and for the marker, cell-init starting the rc).
"""

import argparse
import json
import os
import re
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402
import start  # noqa: E402

LINE = re.compile(r"VP (\S+) start, us:(.*) total=(\d+)")


def starts_logged(path, vp):
    """The steps of every start of VP in cellsd's log, in order."""
    out = []
    with open(path) as f:
        for line in f:
            m = LINE.search(line)
            if not m or m.group(1) != vp:
                continue
            steps = [kv.split("=") for kv in m.group(2).split()]
            d = {k: int(v) for k, v in steps}
            d["total"] = int(m.group(3))
            d["_order"] = [k for k, _ in steps]
            out.append(d)
    return out


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(round(q * (len(v) - 1)))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--gap", type=float, default=0.3, help="idle seconds before each start")
    ap.add_argument("--json", help="also write the raw results here")
    args = ap.parse_args()
    cb.check_binaries()
    cb.install_signal_handlers()
    workdir = tempfile.mkdtemp(prefix="cells-bench-stages.", dir="/tmp")
    os.chmod(workdir, 0o755)
    caller = []
    try:
        with cb.Daemon("stages", args=["--verbose"]) as d:
            cb.log("building the minimal image ...")
            d.cell("image", "build")
            cells = start.Cells(d, workdir)
            cells.setup()
            for _ in range(args.runs):
                if args.gap > 0:
                    time.sleep(args.gap)
                r = cells.run()
                if r["rc"] != 0:
                    raise RuntimeError("cell start failed: %s" % r)
                caller.append(r)
            cells.close()
            logged = starts_logged(d.logpath, start.VP)[-args.runs:]
            identity = d.identity
    finally:
        cb.shield_signals()
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    if len(logged) != len(caller):
        sys.exit("cellsd logged %d starts for %d runs: is it built with the marks?"
                 % (len(logged), len(caller)))

    order = logged[-1]["_order"]
    rows = []
    for k in order + ["total"]:
        v = [x[k] for x in logged if k in x]
        rows.append([k, pct(v, 0.5), pct(v, 0.1), pct(v, 0.9), len(v)])
    cli = [r["t_exit_ms"] * 1000 - x["total"] for r, x in zip(caller, logged)]
    mk = [r["t_marker_ms"] * 1000 - x["total"] for r, x in zip(caller, logged)]
    rows.append(["outside vp_spawn, until cell start returns", round(pct(cli, 0.5)),
                 round(pct(cli, 0.1)), round(pct(cli, 0.9)), len(cli)])
    rows.append(["outside vp_spawn, until the rc's marker", round(pct(mk, 0.5)),
                 round(pct(mk, 0.1)), round(pct(mk, 0.9)), len(mk)])
    for key, label in (("t_exit_ms", "caller: cell start returns"),
                       ("t_marker_ms", "caller: rc's first command")):
        v = [r[key] * 1000 for r in caller]
        rows.append([label, round(pct(v, 0.5)), round(pct(v, 0.1)), round(pct(v, 0.9)),
                     len(v)])
    print()
    cb.print_machine(cb.machine())
    print("cells: %s" % identity)
    print()
    cb.table("Steps of a VP's start (us), %d starts, %.1f s apart" % (args.runs, args.gap),
             ["step", "median", "p10", "p90", "n"], rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"logged": logged, "caller": caller}, f, indent=1)


if __name__ == "__main__":
    main()
