#!/usr/bin/python3
"""Stop latency of a Cells VP.

    /usr/bin/python3 bench/stop.py [--runs N] [--gap S] [--json FILE]

A VP of the "minimal" image (its rc has mounted /tmp and /run and runs a login shell on
the console, so init has children to stop) is started, left idle for --gap seconds, and
stopped with `cell stop`. From the invocation of `cell stop`, measured:
  - until `cell stop` returns (cellsd answers once cell-init has exited and the VP is
    torn down);
  - until cell-init has exited (a pidfd of the init process polls readable);
  - until the last of the VP's cgroup directories is gone (IN_DELETE on the parent
    cgroup directory of each hierarchy).
Medians and p90 in milliseconds over --runs stops.
"""

import argparse
import json
import os
import select
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402

VP = "bstop"


def vp_info(d, name):
    for vp in d.stats()["vps"]:
        if vp["name"] == name:
            return vp
    raise RuntimeError("no VP %s in stats" % name)


def cgroup_dirs(d, name):
    """The VP's cgroup directories, one per hierarchy (v1) or one (v2)."""
    out = []
    for entry in sorted(os.listdir("/sys/fs/cgroup")):
        p = os.path.join("/sys/fs/cgroup", entry, d.cgroup_parent, name)
        if os.path.isdir(p):
            out.append(p)
    p = os.path.join("/sys/fs/cgroup", d.cgroup_parent, name)
    if os.path.isdir(p):
        out.append(p)
    return out


def timed_stop(d, name, init_pid, cgdirs, timeout=30.0):
    watches = {}
    for cg in cgdirs:
        w = cb.Inotify(os.path.dirname(cg), cb.IN_DELETE)
        watches[w.fd] = (w, os.path.basename(cg))
    init_fd = os.pidfd_open(init_pid)
    poller = select.poll()
    poller.register(init_fd, select.POLLIN)
    for fd in watches:
        poller.register(fd, select.POLLIN)
    t0 = cb.now_ns()
    p = subprocess.Popen(d.cell_argv("stop", name), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cli_fd = os.pidfd_open(p.pid)
    poller.register(cli_fd, select.POLLIN)
    t_cli = t_init = None
    gone = {}
    try:
        while t_cli is None or t_init is None or len(gone) < len(watches):
            left = (t0 + int(timeout * 1e9) - cb.now_ns()) / 1e6
            if left <= 0:
                raise TimeoutError("stop: cli %s init %s cgroups %d/%d" % (
                    t_cli, t_init, len(gone), len(watches)))
            for fd, _ev in poller.poll(left):
                t = cb.now_ns()
                if fd == cli_fd:
                    t_cli = t
                    poller.unregister(cli_fd)
                elif fd == init_fd:
                    t_init = t
                    poller.unregister(init_fd)
                elif fd in watches:
                    w, base = watches[fd]
                    if base in w.names() and fd not in gone:
                        gone[fd] = t
                        poller.unregister(fd)
        rc = p.wait()
        err = p.stderr.read().decode(errors="replace").strip()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stderr.close()
        for fd in (init_fd, cli_fd):
            os.close(fd)
        for w, _ in watches.values():
            w.close()
    if rc != 0:
        raise RuntimeError("cell stop failed: %s" % err)
    ms = lambda t: (t - t0) / 1e6  # noqa: E731
    return {"cli": ms(t_cli), "init_exit": ms(t_init),
            "cgroup_gone": ms(max(gone.values())) if gone else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--gap", type=float, default=0.3,
                    help="seconds the VP runs idle before it is stopped")
    ap.add_argument("--json")
    args = ap.parse_args()
    cb.check_binaries()
    if args.runs < 20:
        cb.log("note: %d runs; the published numbers use at least 20" % args.runs)
    cb.install_signal_handlers()
    info = cb.machine()
    samples = {"cli": [], "init_exit": [], "cgroup_gone": []}
    with cb.Daemon("stop") as d:
        cb.log("building the minimal image ...")
        d.cell("image", "build")
        d.cell("create", VP)
        cb.log("measuring %d stops" % args.runs)
        for i in range(args.runs + 1):
            d.cell("start", VP)
            # the rc's login shell is up: cell-init, rc and sh
            cb.wait_until(lambda: vp_info(d, VP).get("pids", 0) >= 3, what="the VP's shell")
            time.sleep(args.gap)
            vp = vp_info(d, VP)
            cgdirs = cgroup_dirs(d, VP)
            r = timed_stop(d, VP, vp["pid"], cgdirs)
            if i == 0:
                ncg = len(cgdirs)
                continue  # warm-up
            for k in samples:
                if r[k] is not None:
                    samples[k].append(r[k])
        info["loadavg_end"] = cb.machine()["loadavg"]
        cgv = d.cgroup_version
        identity = info["cells"] = d.identity

    s = {k: cb.summary(v) for k, v in samples.items() if v}
    print()
    cb.print_machine(info)
    print("cells: %s" % identity)
    print("VP: minimal image, idle %.1f s before each stop; cgroup %s, %d hierarchies"
          % (args.gap, cgv, ncg))
    print()
    labels = [("cli", "cell stop returns"),
              ("init_exit", "cell-init has exited"),
              ("cgroup_gone", "last VP cgroup directory removed")]
    rows = [[label, cb.fmt(s[k]["median"]), cb.fmt(s[k]["p90"]), cb.fmt(s[k]["min"]),
             cb.fmt(s[k]["max"]), s[k]["n"]] for k, label in labels if k in s]
    cb.table("Stop latency from invoking `cell stop` (ms), %d runs" % args.runs,
             ["", "median", "p90", "min", "max", "n"], rows)
    if "cgroup_gone" in s:
        print("cgroup removed before `cell stop` returned in %d of %d runs" % (
            sum(1 for a, b in zip(samples["cgroup_gone"], samples["cli"]) if a <= b),
            len(samples["cli"])))
        print("ratio cell stop return / cell-init exit: %.2f" % (
            s["cli"]["median"] / s["init_exit"]["median"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "summary": s, "samples": samples}, f, indent=1)


if __name__ == "__main__":
    main()
