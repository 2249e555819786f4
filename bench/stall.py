#!/usr/bin/python3
"""A VP's trapped calls while another VP attacks cellsd's device side (issue 11, items 1-3).

    /usr/bin/python3 bench/stall.py [--before REV] [--seconds 3] [--json FILE]

One private cellsd, VPs "a" (the attacker) and "b" (the victim), both with
tests/security/devns_attacks.c and tests/integration/fbprobe.c built static. b times
FBIOGET_VSCREENINFO back to back (`devns_attacks lat`: median, p99, max of single calls)
while a runs, one after the other: nothing (idle), 1000 threads in FBIO_WAITFORVSYNC
(`fbprobe vsync_flood`), two threads munmapping 64 MiB populated mappings while a third
makes trapped calls (`mmap-churn`, the VP holds its own mmap lock), sockets with SO_LINGER
and a full send queue closed while cellsd holds them for a call (`linger`), and a call
whose argument points into a private mapping of a's own /dev/input/event1
(`fuse-fault`). Meanwhile a thread times `cell list` (the slowest answer).

With --before REV the same run is made first with the cellsd of that git revision (built
in a temporary worktree), so both are side by side in one run. An attack that stops cellsd
(`cell list` unanswered for 10 s) ends that daemon's run: it is reported as "hung".
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

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402

ATTACKS = [
    ("idle", None),
    ("vsync flood", "fbprobe vsync_flood 1000 {t}"),
    ("mmap churn", "devns_attacks mmap-churn {t}"),
    ("linger", "devns_attacks linger {t}"),
    ("fuse fault", "devns_attacks fuse-fault"),
]


def build_tools(tmp):
    out = {}
    for name, src in (("devns_attacks", "tests/security/devns_attacks.c"),
                      ("fbprobe", "tests/integration/fbprobe.c")):
        path = os.path.join(tmp, name)
        subprocess.run(["gcc", "-O2", "-static", "-pthread", "-o", path,
                        os.path.join(cb.ROOT, src)], check=True)
        out[name] = path
    return out


def build_before(rev, tmp):
    tree = os.path.join(tmp, "before")
    subprocess.run(["git", "-C", cb.ROOT, "worktree", "add", "-q", "--detach", tree, rev],
                   check=True)
    subprocess.run(["make", "-C", tree, "-s", "all"], check=True)
    return tree, os.path.join(tree, "build")


def install(d, name, tools):
    for tool, path in tools.items():
        with open(path, "rb") as f:
            subprocess.run(d.cell_argv("exec", name, "--", "sh", "-c",
                                       "cat > /usr/bin/%s && chmod 755 /usr/bin/%s"
                                       % (tool, tool)),
                           input=f.read(), check=True, capture_output=True, timeout=30)


def parse(text):
    return {k: float(v) for k, _, v in (line.partition("=") for line in text.splitlines())
            if _ and v.replace(".", "", 1).isdigit()}


class Lister(threading.Thread):
    def __init__(self, d):
        super().__init__(daemon=True)
        self.d, self.slowest, self.hung = d, 0.0, False
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            t0 = time.monotonic()
            try:
                subprocess.run(self.d.cell_argv("list"), capture_output=True, timeout=10)
            except subprocess.TimeoutExpired:
                self.hung = True
                return
            self.slowest = max(self.slowest, time.monotonic() - t0)
            time.sleep(0.05)


def run_variant(tag, build, tools, seconds):
    """Every attack against one daemon, of BUILD (a build/ directory; None: this tree's)."""
    results = []
    with cb.Daemon(tag, ["--vnc", "none", "--web", "none"], build=build) as d:
        d.cell("image", "build")
        for name in ("a", "b"):
            d.cell("create", name)
            d.cell("start", name)
            install(d, name, tools)
        for attack, cmd in ATTACKS:
            lister = Lister(d)
            lister.start()
            try:
                if cmd:
                    subprocess.run(d.cell_argv("exec", "a", "--", "sh", "-c",
                                               cmd.format(t=seconds + 2) + " >/dev/null 2>&1 &"),
                                   check=True, capture_output=True, timeout=30)
                    time.sleep(0.5)
                r = subprocess.run(d.cell_argv("exec", "b", "--", "devns_attacks", "lat",
                                               str(seconds)),
                                   capture_output=True, text=True, timeout=seconds + 20)
                got = parse(r.stdout)
            except subprocess.TimeoutExpired:
                got = {}
            lister.done.set()
            lister.join(15)
            row = {"attack": attack, "daemon": tag, **got,
                   "list_max_s": lister.slowest, "hung": lister.hung or not got}
            results.append(row)
            cb.log("%s / %s: %s" % (tag, attack, row))
            if row["hung"]:
                break
            time.sleep(seconds + 2.5)  # the attack ends
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", help="a git revision to run side by side")
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    cb.install_signal_handlers()
    cb.check_binaries()
    tmp = tempfile.mkdtemp(prefix="cells-stall.")
    tree = None
    try:
        tools = build_tools(tmp)
        rows = []
        if args.before:
            tree, before = build_before(args.before, tmp)
            rows += run_variant("before", before, tools, args.seconds)
        rows += run_variant("after", None, tools, args.seconds)
    finally:
        if tree:
            subprocess.run(["git", "-C", cb.ROOT, "worktree", "remove", "--force", tree])
        shutil.rmtree(tmp, ignore_errors=True)
    idle = {r["daemon"]: r for r in rows if r["attack"] == "idle"}
    table = []
    for r in rows:
        if r["hung"]:
            table.append([r["attack"], r["daemon"], "hung", "", "", "", ""])
            continue
        base = idle[r["daemon"]]["median_us"]
        table.append([r["attack"], r["daemon"], cb.fmt(r["median_us"]),
                      cb.fmt(r["median_us"] / base), cb.fmt(r["p99_us"]),
                      cb.fmt(r["max_us"] / 1000), cb.fmt(r["list_max_s"] * 1000, 0)])
    cb.table("b's trapped FBIOGET_VSCREENINFO while a attacks (us)",
                   ["attack", "cellsd", "median", "x idle", "p99", "max ms", "list max ms"],
                   table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
