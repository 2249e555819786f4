#!/usr/bin/python3
"""What moving a new process into a cgroup costs on this kernel (cgroup v1 only).

    /usr/bin/python3 bench/cgroup_attach.py [--runs N] [--gap S] [--json FILE]

This is where most of a cold `cell start` goes (see docs/BENCHMARKS.md). For each run a
fresh child process is moved into a private cgroup in each v1 hierarchy that cellsd uses
(memory, cpu, cpuacct, pids, freezer), in one of three ways, after --gap idle seconds:

  pid -> cgroup.procs  the parent writes the child's pid into each cgroup.procs (what
                       cellsd and crun do): takes cgroup_threadgroup_rwsem for writing,
                       which waits for an RCU grace period when it was idle;
  0 -> cgroup.procs    the child writes "0" (itself) into each cgroup.procs: the same lock;
  0 -> tasks           the child writes "0" into each v1 `tasks` file: a single thread
                       moving itself skips that lock (kernel/cgroup/cgroup.c,
                       cgroup_procs_write_start).

Medians and p90 in milliseconds, for the five writes together.
"""

import argparse
import json
import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402

CONTROLLERS = ("memory", "cpu", "cpuacct", "pids", "freezer")


def child_moves_itself(dirs, filename):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            t = time.perf_counter_ns()
            for d in dirs:
                with open(os.path.join(d, filename), "w") as f:
                    f.write("0")
            os.write(w, str((time.perf_counter_ns() - t) / 1e6).encode())
        finally:
            os._exit(0)
    os.close(w)
    val = os.read(r, 64).decode()
    os.close(r)
    os.waitpid(pid, 0)
    if not val:
        raise RuntimeError("child could not move itself into %s" % filename)
    return float(val)


def parent_moves_child(dirs):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)  # wait to be moved, then exit
        os._exit(0)
    os.close(r)
    try:
        t = time.perf_counter_ns()
        for d in dirs:
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write(str(pid))
        return (time.perf_counter_ns() - t) / 1e6
    finally:
        os.close(w)
        os.waitpid(pid, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--gap", type=float, default=0.3)
    ap.add_argument("--json")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root")
    if not all(os.path.isdir("/sys/fs/cgroup/" + c) for c in CONTROLLERS):
        print("cgroup_attach: no cgroup v1 hierarchies for %s here: nothing to measure"
              % ", ".join(CONTROLLERS))
        return
    cb.install_signal_handlers()
    info = cb.machine()
    group = "cells-bench-attach-%d" % os.getpid()
    dirs = [os.path.join("/sys/fs/cgroup", c, group) for c in CONTROLLERS]
    samples = {"pid -> cgroup.procs": [], "0 -> cgroup.procs": [], "0 -> tasks": []}
    try:
        for d in dirs:
            os.mkdir(d)
        for i, order in cb.rounds(args.runs + 1, list(samples)):
            for how in order:
                time.sleep(args.gap)
                if how == "pid -> cgroup.procs":
                    ms = parent_moves_child(dirs)
                elif how == "0 -> cgroup.procs":
                    ms = child_moves_itself(dirs, "cgroup.procs")
                else:
                    ms = child_moves_itself(dirs, "tasks")
                if i > 0:
                    samples[how].append(ms)
    finally:
        cb.shield_signals()
        for d in dirs:
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
    s = {k: cb.summary(v) for k, v in samples.items()}
    print()
    cb.print_machine(info)
    print()
    rows = [[k, cb.fmt(v["median"]), cb.fmt(v["p90"]), cb.fmt(v["min"]), cb.fmt(v["max"]),
             v["n"]] for k, v in s.items()]
    cb.table("Moving a new process into %d v1 cgroups (ms, %d runs, %.1f s idle before each)"
             % (len(dirs), args.runs, args.gap), ["", "median", "p90", "min", "max", "n"],
             rows)
    print("ratio pid -> cgroup.procs / 0 -> tasks: %.1f" % (
        s["pid -> cgroup.procs"]["median"] / s["0 -> tasks"]["median"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "summary": s, "samples": samples}, f, indent=1)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
