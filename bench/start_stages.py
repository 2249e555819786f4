#!/usr/bin/python3
"""Where a VP's start goes: each step of the start pipeline, as cellsd --verbose logs it.

    /usr/bin/python3 bench/start_stages.py [--runs N] [--gap S] [--json FILE]
                                           [--before BUILD] [--bwrap]

A private cellsd runs with --verbose; its log has one line per start ("VP NAME start,
us: cgroup.prepare=... exec=... total=...", src/vp/spawn.c): each step's microseconds
since the step before it, in the order they ran (the child's enter hooks in a page it
shares with the daemon). The VP is the one bench/start.py starts (the minimal image,
whose rc only writes a marker, plain upper directory), started and stopped N times, each
start timed from the caller too: until `cell start` returns and until the rc's marker.
Medians, p10 and p90 in microseconds; the rows "outside vp_spawn" are what the caller
sees beyond the pipeline (the CLI, the control socket, cellsd's bookkeeping around it,
and for the marker, cell-init starting the rc).

--before BUILD: the same with a cellsd of another tree's build/ (one that logs the
steps too), its VP started alternately with this tree's, and a column of its medians.

--bwrap: bench/start.py's bwrap over a copy of the same rootfs, run in the same rounds
(until the rc's marker), and the ratio of Cells' caller times to its, per round and of
the medians: the budget of DESIGN.md section 10, from one run whatever the load.
"""

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402
import start  # noqa: E402

LINE = re.compile(r"VP (\S+) start, us:(.*) total=(\d+)")
# A prepared VP's start (cellsd --prepare): its pipeline ran before, the start releases it.
RELEASE = re.compile(r"VP (\S+) release, us: (\d+)")


def starts_logged(path, vp, prepared=False):
    """The steps of every start of VP in cellsd's log, in order. PREPARED: the releases of
    its prepared starts instead (one step, "release")."""
    out = []
    with open(path) as f:
        for line in f:
            m = RELEASE.search(line) if prepared else None
            if prepared:
                if m and m.group(1) == vp:
                    out.append({"release": int(m.group(2)), "total": int(m.group(2)),
                                "_order": ["release"]})
                continue
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


class Contender:
    """A cellsd --verbose of BUILD (None: this tree's) and bench/start.py's VP in it."""

    def __init__(self, stack, tag, build, workdir, prepare=False):
        self.prepare = prepare
        args = ["--verbose"] + (["--prepare", "all"] if prepare else [])
        self.d = stack.enter_context(cb.Daemon(tag, args=args, build=build))
        self.d.cell("image", "build")
        os.makedirs(workdir)
        self.cells = start.Cells(self.d, workdir)
        self.cells.setup()
        self.caller = []

    def run(self):
        r = self.cells.run()
        if r["rc"] != 0:
            raise RuntimeError("cell start failed: %s" % r)
        self.caller.append(r)

    def finish(self, runs):
        self.cells.close()
        self.logged = starts_logged(self.d.logpath, start.VP, self.prepare)[-runs:]
        if len(self.logged) != len(self.caller):
            sys.exit("cellsd logged %d starts for %d runs: is it built with the marks?"
                     % (len(self.logged), len(self.caller)))

    def rows(self):
        """(label, samples in us) in the order the steps ran."""
        out = [(k, [x[k] for x in self.logged if k in x])
               for k in self.logged[-1]["_order"] + ["total"]]
        pairs = list(zip(self.caller, self.logged))
        out.append(("outside vp_spawn, until cell start returns",
                    [r["t_exit_ms"] * 1000 - x["total"] for r, x in pairs]))
        out.append(("outside vp_spawn, until the rc's marker",
                    [r["t_marker_ms"] * 1000 - x["total"] for r, x in pairs]))
        out.append(("caller: cell start returns", [r["t_exit_ms"] * 1000 for r in self.caller]))
        out.append(("caller: rc's first command",
                    [r["t_marker_ms"] * 1000 for r in self.caller]))
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--gap", type=float, default=0.3, help="idle seconds before each start")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--before", metavar="BUILD",
                    help="also start a VP with another tree's build/, alternately")
    ap.add_argument("--prepare", action="store_true",
                    help="this tree's cellsd with --prepare all: its starts release a VP "
                         "prepared since its last stop (the pipeline row is the release)")
    ap.add_argument("--bwrap", action="store_true",
                    help="also run bwrap over the same rootfs in every round")
    args = ap.parse_args()
    cb.check_binaries()
    cb.install_signal_handlers()
    workdir = tempfile.mkdtemp(prefix="cells-bench-stages.", dir="/tmp")
    os.chmod(workdir, 0o755)
    info = cb.machine()
    try:
        with contextlib.ExitStack() as stack:
            cb.log("building the minimal image ...")
            now = Contender(stack, "stages", None, os.path.join(workdir, "now"), args.prepare)
            before = (Contender(stack, "stages-before", args.before,
                                os.path.join(workdir, "before")) if args.before else None)
            bwrap = None
            if args.bwrap:
                bwrap = start.Bwrap(workdir)
                stack.callback(bwrap.close)
                bwrap.setup(now.d.image_rootfs("minimal"))
            bwrap_ms = []
            contenders = [c for c in (now, before, bwrap) if c]
            for _, order in cb.rounds(args.runs, contenders):
                for c in order:
                    if args.gap > 0:
                        time.sleep(args.gap)
                    if c is bwrap:
                        r = bwrap.run("rc")
                        if r["rc"] != 0 or r["t_marker_ms"] is None:
                            raise RuntimeError("bwrap failed: %s" % r)
                        bwrap_ms.append(r["t_marker_ms"])
                    else:
                        c.run()
            for c in (now, before):
                if c:
                    c.finish(args.runs)
            info["loadavg_end"] = cb.machine()["loadavg"]
            identity = now.d.identity
            identity_before = before.d.identity if before else None
    finally:
        cb.shield_signals()
        shutil.rmtree(workdir, ignore_errors=True)

    def q(v, x):
        return round(pct(v, x)) if v else "-"

    header = ["step", "median", "p10", "p90", "n"]
    now_rows = now.rows()
    if before:
        header.append("before")
        old = dict(before.rows())
    rows = []
    for label, v in now_rows:
        row = [label, q(v, 0.5), q(v, 0.1), q(v, 0.9), len(v)]
        if before:
            row.append(q(old.get(label, []), 0.5))
        rows.append(row)
    if before:
        for label, v in before.rows():
            if label not in dict(now_rows):
                rows.append([label + " (before only)", "-", "-", "-", 0, q(v, 0.5)])
    print()
    cb.print_machine(info)
    print("load average at the end: %s" % info["loadavg_end"])
    print("cells: %s" % identity)
    if before:
        print("before: %s" % identity_before)
    print()
    cb.table("Steps of a VP's start (us), %d starts each, %.1f s apart%s" % (
        args.runs, args.gap, ", interleaved" if before or bwrap else ""), header, rows)
    if bwrap:
        print()
        print("bwrap -> rc's first command (ms): median %.2f  p10 %.2f  p90 %.2f" % (
            pct(bwrap_ms, 0.5), pct(bwrap_ms, 0.1), pct(bwrap_ms, 0.9)))
        for label, c in (("now", now), ("before", before)):
            if not c:
                continue
            for what, key in (("rc's first command", "t_marker_ms"),
                              ("cell start returns", "t_exit_ms")):
                v = [r[key] for r in c.caller]
                per = [a / b for a, b in zip(v, bwrap_ms)]
                print("Cells %s / bwrap, %s: of the medians %.2f, of the p10s %.2f, "
                      "per round median %.2f (quartiles %.2f, %.2f)" % (
                          label, what, pct(v, 0.5) / pct(bwrap_ms, 0.5),
                          pct(v, 0.1) / pct(bwrap_ms, 0.1), pct(per, 0.5),
                          pct(per, 0.25), pct(per, 0.75)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info,
                       "now": {"logged": now.logged, "caller": now.caller},
                       "before": ({"logged": before.logged, "caller": before.caller}
                                  if before else None),
                       "bwrap_marker_ms": bwrap_ms}, f, indent=1)


if __name__ == "__main__":
    main()
