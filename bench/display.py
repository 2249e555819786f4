#!/usr/bin/python3
"""Display benchmarks: foreground switch, trapped fbdev ioctls, drawing, screenshots.

    /usr/bin/python3 bench/display.py [--only LIST] [--switches 1000] [--build DIR] [--json FILE]

Sections (--only switch,screenshot,ioctl,draw,unotify; all by default), one private
cellsd, every VP of the "minimal" image:

switch      --vps (5) VPs run, each with its launcher drawing. --switches round-robin
            switches, each one JSON line {"cmd":"switch","name":...} on one persistent
            connection to the control socket, its answer read before the next; a second
            connection subscribed to events (as `cell events`) collects every switch
            event's "usec", the time cellsd spends inside the switch (deactivate the old
            VP's devices, activate the new one's). Medians, p99 of both, after --warmup
            untimed switches. Also 50 `cell switch` invocations (process and all).
screenshot  with the same VPs running: `cell screenshot F.png`, timed from the spawn of
            `cell` to its exit (--shots times), next to `cell active` (the cost of the
            process and the connection alone) and to the same request sent on a persistent
            connection with the file passed as SCM_RIGHTS (cellsd's own time).
ioctl       one VP, its launcher turned off (an upper-layer /etc/cells/rc.d/50-launcher
            that exits at once), runs bench/fbbench.c (built static into a temp dir, copied
            into the VP's upper layer owned by the VP's host uid): --ioctl-rounds rounds of
            `fbbench ioctl`, batches of 100 calls, FBIOGET_VSCREENINFO and FBIOPAN_DISPLAY
            (trapped, answered by cellsd) and FIONREAD on a pipe and TCGETS on /dev/null
            (not trapped) interleaved; 1,000 batches of each per placement: unpinned, fbbench
            and cellsd on the same CPU, on different CPUs, fbbench alone pinned, cellsd
            alone pinned (sched_setaffinity of fbbench and of every thread of cellsd, as
            taskset does; cellsd is unpinned again after).
            Also the untrapped calls on the host, outside any VP (no seccomp filter).
draw        the same VP: the drawing loop of fbbench (fill a page, a moving rectangle,
            memcpy of the full page: 720x1280x4, or the VP's mode on fb0, 720x1252x4 below
            the status bar) into mmap'd /dev/fb0 inside the VP, with
            and without a pan per frame, and into malloc'd memory inside the VP, vs the
            same binary on the host into malloc'd memory and into a MAP_SHARED tmpfs file
            (/dev/shm); --draw-rounds rounds, contenders shuffled in each; frames/s.
            --draw-cpu N pins every contender to CPU N (default: unpinned).
unotify     bench/unotify.c, a seccomp-notify supervisor of its own (no cellsd): the same
            trapped-call round trip with the supervisor blocked in SECCOMP_IOCTL_NOTIF_RECV
            or in epoll_wait (cellsd's way), with and without
            SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, for each placement, with the handler doing
            nothing, cellsd's steps (the caller's liveness, kcmp, ID_VALID, its map, the
            /proc/PID/mem write) or one of them,
            and with a caller that works 300 µs before each call; --unotify-rounds runs of
            each, shuffled.
"""

import argparse
import json
import os
import random
import select
import shutil
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SECTIONS = ("switch", "screenshot", "ioctl", "draw", "unotify")
UID_BASE, UID_RANGE = 1000000000, 65536


def pct(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    return v[min(len(v) - 1, max(0, -(-p * len(v) // 100) - 1))]


def stats(values):
    s = cb.summary(values)
    s["p99"] = pct(values, 99)
    return s


# --------------------------------------------------------------------------- helpers

class Control:
    """A persistent connection to cellsd's control socket: one JSON line each way."""

    def __init__(self, d):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(os.path.join(d.run, "cellsd.sock"))
        self.buf = b""

    def send(self, req, fds=None):
        data = (json.dumps(req) + "\n").encode()
        if fds:
            socket.send_fds(self.sock, [data], fds)
        else:
            self.sock.sendall(data)

    def line(self, timeout=None):
        """The next line, or None if none comes within `timeout` seconds (None: wait)."""
        while b"\n" not in self.buf:
            if timeout is not None:
                r, _, _ = select.select([self.sock], [], [], timeout)
                if not r:
                    return None
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("cellsd closed the control connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def request(self, req, fds=None):
        self.send(req, fds)
        reply = json.loads(self.line())
        if not reply.get("ok"):
            raise RuntimeError("%s: %s" % (req, reply.get("error")))
        return reply

    def close(self):
        self.sock.close()


def vp_stats(d):
    return {vp["name"]: vp for vp in d.stats()["vps"]}


def start_vps(d, names):
    for name in names:
        d.cell("create", name)
        d.cell("start", name)
    # cell-init, rc, the console shell and the launcher
    cb.wait_until(lambda: all(vp_stats(d)[n].get("pids", 0) >= 4 for n in names),
                  timeout=20, what="the VPs' launchers")


def build(src, out, static):
    argv = ["gcc", "-O2", "-Wall", "-o", out, src] + (["-static"] if static else [])
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(argv), r.stderr))
    return out


def vp_uid(d, name):
    for vp in d.json("list", "--json"):
        if vp["name"] == name:
            return UID_BASE + vp["id"] * UID_RANGE
    raise RuntimeError("no VP %s" % name)


def create_plain(d, name):
    """`cell create NAME` with its upper layer a plain directory of the state (--disk
    none), which install_in_upper writes into; a tree before disk images has only that."""
    if d.cell("create", name, "--disk", "none", check=False).returncode != 0:
        d.cell("create", name)


def install_in_upper(d, name, fbbench):
    """Put /fbbench and a silent /etc/cells/rc.d/50-launcher in the (stopped) VP's upper
    layer, owned by its host uid (the VP's root)."""
    uid = vp_uid(d, name)
    upper = d.upper(name)
    dst = os.path.join(upper, "fbbench")
    shutil.copyfile(fbbench, dst)
    os.chmod(dst, 0o755)
    os.chown(dst, uid, uid)
    path = upper
    for part in ("etc", "cells", "rc.d"):
        path = os.path.join(path, part)
        if not os.path.isdir(path):
            os.mkdir(path, 0o755)
            os.chown(path, uid, uid)
    stub = os.path.join(path, "50-launcher")
    with open(stub, "w") as f:
        f.write("#!/bin/sh\n# the display benchmark: no launcher, fbbench alone draws\nexit 0\n")
    os.chmod(stub, 0o755)
    os.chown(stub, uid, uid)
    return uid


def exec_json(d, name, argv):
    r = d.cell("exec", name, "--", *argv)
    return json.loads(r.stdout)


def set_affinity(pid, cpus):
    """Every thread of PID (taskset -a -p)."""
    for tid in os.listdir("/proc/%d/task" % pid):
        os.sched_setaffinity(int(tid), cpus)


def us(ns_list):
    return [x / 1000.0 for x in ns_list]


# --------------------------------------------------------------------------- switch

def bench_switch(d, names, args, out):
    ctl, ev = Control(d), Control(d)
    try:
        ev.request({"cmd": "events"})
        rtt, usec = [], []
        # the first target is not the foreground (a switch to it would be no switch)
        fg = ctl.request({"cmd": "active"}).get("foreground")
        order = names[:]
        while order[0] == fg:
            order = order[1:] + order[:1]
        total = args.warmup + args.switches
        for i in range(total):
            to = order[i % len(order)]
            t0 = cb.now_ns()
            ctl.send({"cmd": "switch", "name": to})
            reply = ctl.line()
            t1 = cb.now_ns()
            reply = json.loads(reply)
            if not reply.get("ok") or reply.get("foreground") != to:
                raise RuntimeError("switch to %s: %s" % (to, reply))
            # the event was sent before the answer: it is there already
            got = None
            while True:
                line = ev.line(timeout=0 if got is not None else 1.0)
                if line is None:
                    break
                e = json.loads(line)
                if e.get("event") == "switch":
                    if e.get("to") != to:
                        raise RuntimeError("switch event %s, expected to %s" % (e, to))
                    got = e["usec"]
            if got is None:
                raise RuntimeError("no switch event for the switch to %s" % to)
            if i >= args.warmup:
                rtt.append((t1 - t0) / 1000.0)
                usec.append(got)
        st = d.stats()["daemon"]
    finally:
        ctl.close()
        ev.close()
    cli = []
    for i in range(50):
        r = cb.timed_run(d.cell_argv("switch", order[(total + i) % len(order)]))
        if r["rc"] != 0:
            raise RuntimeError("cell switch: %s" % r["stderr"])
        cli.append(r["t_exit_ms"] * 1000.0)
    out["switch"] = {"vps": len(names), "switches": len(usec), "warmup": args.warmup,
                     "daemon_switches": st["switches"],
                     "last_switch_usec": st["last_switch_usec"],
                     "samples": {"usec": usec, "rtt_us": rtt, "cli_us": cli},
                     "summary": {"usec": stats(usec), "rtt_us": stats(rtt),
                                 "cli_us": stats(cli)}}


def print_switch(r):
    s = r["summary"]
    rows = [[label, cb.fmt(s[k]["median"]), cb.fmt(s[k]["p90"]), cb.fmt(s[k]["p99"]),
             cb.fmt(s[k]["min"]), cb.fmt(s[k]["max"]), s[k]["n"]]
            for k, label in (("usec", "in cellsd (switch event usec)"),
                             ("rtt_us", "request round trip (persistent socket)"),
                             ("cli_us", "`cell switch NAME` (spawn to exit)"))]
    cb.table("Foreground switch among %d running VPs, µs (%d switches, round robin; "
             "cellsd counted %d)" % (r["vps"], r["switches"], r["daemon_switches"]),
             ["", "median", "p90", "p99", "min", "max", "n"], rows)


# --------------------------------------------------------------------------- screenshot

def bench_screenshot(d, args, out, workdir):
    png = os.path.join(workdir, "shot.png")
    shot, active, sock = [], [], []
    ctl = Control(d)
    try:
        for i in range(args.shots + 1):
            for what in random.Random(i).sample(["shot", "active", "sock"], 3):
                if what == "shot":
                    r = cb.timed_run(d.cell_argv("screenshot", png))
                    if r["rc"] != 0:
                        raise RuntimeError("cell screenshot: %s" % r["stderr"])
                    if i:
                        shot.append(r["t_exit_ms"])
                elif what == "active":
                    r = cb.timed_run(d.cell_argv("active"))
                    if r["rc"] != 0:
                        raise RuntimeError("cell active: %s" % r["stderr"])
                    if i:
                        active.append(r["t_exit_ms"])
                else:
                    fd = os.open(png + ".sock", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                    try:
                        t0 = cb.now_ns()
                        ctl.request({"cmd": "screenshot"}, [fd])
                        t1 = cb.now_ns()
                    finally:
                        os.close(fd)
                    if i:
                        sock.append((t1 - t0) / 1e6)
    finally:
        ctl.close()
    with open(png, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise RuntimeError("cell screenshot did not write a PNG")
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    out["screenshot"] = {
        "png_bytes": os.path.getsize(png), "width": width, "height": height,
        "samples": {"cli_ms": shot, "active_ms": active, "socket_ms": sock},
        "summary": {"cli_ms": stats(shot), "active_ms": stats(active),
                    "socket_ms": stats(sock)}}


def print_screenshot(r):
    s = r["summary"]
    rows = [[label, cb.fmt(s[k]["median"]), cb.fmt(s[k]["p90"]), cb.fmt(s[k]["min"]),
             s[k]["n"]]
            for k, label in (("cli_ms", "`cell screenshot F.png` (spawn to exit)"),
                             ("active_ms", "`cell active` (spawn to exit)"),
                             ("socket_ms", "screenshot request, persistent socket"))]
    cb.table("Screenshot of %dx%d (PNG of %d bytes), ms" % (
        r["width"], r["height"], r["png_bytes"]), ["", "median", "p90", "min", "n"], rows)


# --------------------------------------------------------------------------- ioctl

# where fbbench (in the VP) and cellsd may run: (fbbench's CPU, cellsd's CPUs), None = any
PLACEMENTS = {
    "unpinned": (None, None),
    "same-cpu": (0, {0}),
    "other-cpu": (1, {0}),
    "vp-pinned": (1, None),
    "cellsd-pinned": (None, {0}),
}


def bench_ioctl(d, vp, fbbench_host, args, out):
    ncpu = os.cpu_count()
    all_cpus = set(range(ncpu))
    placements = [p for p in PLACEMENTS if p == "unpinned" or ncpu >= 2]
    per_round = max(1, args.ioctl_samples // args.ioctl_rounds)
    samples = {p: {} for p in placements}
    samples["host"] = {}
    cpus_seen = {p: [] for p in placements}
    try:
        for rnd, order in cb.rounds(args.ioctl_rounds, placements + ["host"], seed=3):
            for p in order:
                argv = ["ioctl", "--samples", str(per_round), "--batch", "100"]
                if p == "host":
                    r = subprocess.run([fbbench_host] + argv + ["--ops", "fionread,tcgets"],
                                       capture_output=True, text=True, check=True)
                    res = json.loads(r.stdout)
                else:
                    vp_cpu, daemon_cpus = PLACEMENTS[p]
                    set_affinity(d.pid, daemon_cpus or all_cpus)
                    if vp_cpu is not None:
                        argv += ["--cpu", str(vp_cpu)]
                    res = exec_json(d, vp, ["/fbbench"] + argv)
                    cpus_seen[p].append(res["cpu_end"])
                for op, vals in res["ops"].items():
                    samples[p].setdefault(op, []).extend(vals)
                cb.log("ioctl round %d %-13s %s" % (rnd, p, "  ".join(
                    "%s %.2f" % (op, cb.summary(v)["median"] / 1000)
                    for op, v in res["ops"].items())))
    finally:
        set_affinity(d.pid, all_cpus)
    summary = {p: {op: stats(us(v)) for op, v in ops.items()} for p, ops in samples.items()}
    split = {p: {op: sum(1 for x in v if x > 20000) / len(v) for op, v in ops.items()
                 if op in ("vget", "pan")} for p, ops in samples.items()}
    out["ioctl"] = {"batch": 100, "calls_per_op": {p: 100 * len(next(iter(o.values())))
                                                   for p, o in samples.items()},
                    "cpus_seen": cpus_seen, "samples_ns": samples, "summary_us": summary,
                    "split": split}


def print_ioctl(r):
    s = r["summary_us"]
    labels = (("vget", "FBIOGET_VSCREENINFO (trapped)"), ("pan", "FBIOPAN_DISPLAY (trapped)"),
              ("fionread", "FIONREAD on a pipe (not trapped)"),
              ("tcgets", "TCGETS on /dev/null (not trapped)"))
    rows = []
    for p in list(PLACEMENTS) + ["host"]:
        if p not in s:
            continue
        for op, label in labels:
            if op in s[p]:
                x = s[p][op]
                split = r["split"].get(p, {}).get(op)
                rows.append(["%-13s %s" % (p, label), cb.fmt(x["median"], 3),
                             cb.fmt(x["mean"], 3), cb.fmt(x["p90"], 3), cb.fmt(x["p99"], 3),
                             cb.fmt(x["min"], 3),
                             "-" if split is None else "%.0f%%" % (100 * split), x["n"]])
    cb.table("ioctl round trip, µs per call (per-call means of batches of %d; "
             "median/mean/p90/p99 over batches; split = batches with a mean > 20 µs)"
             % r["batch"],
             ["placement / call", "median", "mean", "p90", "p99", "min", "split", "batches"],
             rows)


# --------------------------------------------------------------------------- draw

DRAW = ("vp-fb0", "vp-fb0-pan", "vp-malloc", "host-malloc", "host-tmpfs")


def draw_rounds(d, vp, fbbench_host, args, shm):
    fps = {k: [] for k in DRAW}
    common = ["draw", "--frames", str(args.frames), "--warmup", "20"]
    if args.draw_cpu is not None:
        common += ["--cpu", str(args.draw_cpu)]
    for rnd, order in cb.rounds(args.draw_rounds, DRAW, seed=5):
        for k in order:
            if k.startswith("vp-"):
                target = {"vp-fb0": ["--target", "fb:/dev/fb0"],
                          "vp-fb0-pan": ["--target", "fb:/dev/fb0", "--pan"],
                          "vp-malloc": ["--target", "malloc"]}[k]
                res = exec_json(d, vp, ["/fbbench"] + common + target)
            else:
                target = ["--target", "malloc" if k == "host-malloc" else "file:" + shm]
                r = subprocess.run([fbbench_host] + common + target, capture_output=True,
                                   text=True, check=True)
                res = json.loads(r.stdout)
            fps[k].append(res["fps"])
        cb.log("draw round %d: %s" % (rnd, "  ".join("%s %.0f" % (k, fps[k][-1])
                                                      for k in DRAW)))
    return fps


def bench_draw(d, vp, fbbench_host, args, out):
    shm = "/dev/shm/cells-fbbench.%d" % os.getpid()
    try:
        fps = draw_rounds(d, vp, fbbench_host, args, shm)
    finally:
        if os.path.exists(shm):  # fbbench removes it, unless it was interrupted
            os.unlink(shm)
    s = {k: cb.summary(v) for k, v in fps.items()}
    # per round ratios, then their median: pairs measured close together
    ratio = {}
    for num in ("vp-fb0", "vp-fb0-pan", "vp-malloc"):
        for den in ("host-malloc", "host-tmpfs"):
            rs = [a / b for a, b in zip(fps[num], fps[den])]
            ratio["%s/%s" % (num, den)] = {"median_of_rounds": cb.summary(rs)["median"],
                                           "p25": pct(rs, 25), "p75": pct(rs, 75),
                                           "of_medians": s[num]["median"] / s[den]["median"]}
    out["draw"] = {"frames": args.frames, "rounds": args.draw_rounds, "cpu": args.draw_cpu,
                   "mb_per_frame": (2 * 720 * 1280 * 4 + 256 * 256 * 4 + 720 * 1280 * 4) / 1e6,
                   "samples_fps": fps, "summary_fps": s, "ratio": ratio}


def print_draw(r):
    s = r["summary_fps"]
    labels = {"vp-fb0": "VP, mmap'd /dev/fb0",
              "vp-fb0-pan": "VP, mmap'd /dev/fb0, FBIOPAN_DISPLAY every frame",
              "vp-malloc": "VP, malloc'd memory",
              "host-malloc": "host, malloc'd memory",
              "host-tmpfs": "host, MAP_SHARED file on tmpfs (/dev/shm)"}
    rows = [[labels[k], cb.fmt(s[k]["median"], 0), cb.fmt(s[k]["min"], 0),
             cb.fmt(s[k]["max"], 0), "%.1f" % (s[k]["median"] * r["mb_per_frame"] / 1000)]
            for k in DRAW]
    cb.table("Drawing, frames/s (%d frames a run, %d rounds, %s; a frame = fill + 256x256 "
             "rectangle + memcpy of a 720x1280x4 page)" % (
                 r["frames"], r["rounds"],
                 "unpinned" if r.get("cpu") is None else "pinned to CPU %d" % r["cpu"]),
             ["", "median", "min", "max", "GB/s"], rows)
    rows = [[k, "%.3f" % v["median_of_rounds"], "%.3f-%.3f" % (v["p25"], v["p75"]),
             "%.3f" % v["of_medians"]] for k, v in r["ratio"].items()]
    cb.table("Drawing ratios", ["", "median of per-round ratios", "p25-p75",
                                "ratio of medians"], rows)


# --------------------------------------------------------------------------- unotify

UNOTIFY_PLACEMENTS = {
    "unpinned": [],
    "same-cpu": ["--sup-cpu", "0", "--caller-cpu", "0"],
    "other-cpu": ["--sup-cpu", "0", "--caller-cpu", "1"],
    "caller-pinned": ["--caller-cpu", "1"],
    "sup-pinned": ["--sup-cpu", "0"],
}


BUSY_US = 300  # a busy caller's work between two calls: about one frame of the draw loop


def bench_unotify(unotify, args, out):
    two = os.cpu_count() >= 2
    configs = []  # (wait, sync, handler, placement, work µs)
    for wait in ("recv", "epoll"):
        for sync in ("1", "0"):
            for place in UNOTIFY_PLACEMENTS:
                if place == "unpinned" or two:
                    configs.append((wait, sync, "none", place, 0))
        configs.append((wait, "1", "cellsd", "unpinned", 0))
        if two:
            configs.append((wait, "1", "cellsd", "same-cpu", 0))
        # a caller that works between its calls, as a program drawing between two pans
        for place in ("unpinned", "same-cpu", "caller-pinned"):
            if place == "unpinned" or two:
                configs.append((wait, "1", "none", place, BUSY_US))
    if two:
        # where a cellsd-like handler's time goes: one step at a time
        for handler in ("alive", "kcmp", "idvalid", "maps", "mem", "pvw"):
            configs.append(("recv", "1", handler, "same-cpu", 0))
    samples = {c: {"trapped": [], "native": []} for c in configs}
    for rnd, order in cb.rounds(args.unotify_rounds, configs, seed=7):
        for c in order:
            wait, sync, handler, place, work = c
            size = ["--samples", "100", "--batch", "100"] if not work else \
                ["--samples", "20", "--batch", "50", "--work-us", str(work)]
            r = subprocess.run([unotify, "--wait", wait, "--sync", sync, "--handler", handler]
                               + size + UNOTIFY_PLACEMENTS[place],
                               capture_output=True, text=True, check=True)
            res = json.loads(r.stdout)
            samples[c]["trapped"].extend(res["trapped"])
            samples[c]["native"].extend(res["native"])
        cb.log("unotify round %d done" % rnd)
    rows = {}
    for c, v in samples.items():
        t = us(v["trapped"])
        rows["/".join(map(str, c))] = {
            "wait": c[0], "sync": int(c[1]), "handler": c[2], "placement": c[3],
            "work_us": c[4], "calls": len(t) * (50 if c[4] else 100),
            "trapped": stats(t), "native": stats(us(v["native"])),
            "split_batches": sum(1 for x in t if x > 20.0) / len(t)}
    out["unotify"] = {"rounds": args.unotify_rounds, "summary_us": rows}


def print_unotify(r):
    rows = []
    for k, v in r["summary_us"].items():
        t = v["trapped"]
        where = v["placement"] + (", busy %d µs" % v["work_us"] if v.get("work_us") else "")
        rows.append(["%-5s sync=%d %-7s %s" % (v["wait"], v["sync"], v["handler"], where),
                     cb.fmt(t["median"]), cb.fmt(t["mean"]), cb.fmt(t["p90"]), cb.fmt(t["p99"]),
                     "%.0f%%" % (100 * v["split_batches"]), cb.fmt(v["native"]["median"], 3),
                     v["calls"]])
    cb.table("Own seccomp-notify supervisor, trapped ioctl round trip, µs per call "
             "(split = batches with a mean > 20 µs)",
             ["wait sync handler placement", "median", "mean", "p90", "p99", "split",
              "untrapped", "calls"], rows)


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--vps", type=int, default=5)
    ap.add_argument("--switches", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--shots", type=int, default=50)
    ap.add_argument("--ioctl-samples", type=int, default=1000,
                    help="batches of 100 calls per op and placement")
    ap.add_argument("--ioctl-rounds", type=int, default=5)
    ap.add_argument("--frames", type=int, default=1000, help="frames per drawing run")
    ap.add_argument("--draw-rounds", type=int, default=20)
    ap.add_argument("--draw-cpu", type=int,
                    help="pin every drawing run to this CPU (default: unpinned)")
    ap.add_argument("--unotify-rounds", type=int, default=10)
    ap.add_argument("--runs", type=int, help="ignored (bench/run-all passes it)")
    ap.add_argument("--build", help="another tree's build/ to run (a 'before' run)")
    ap.add_argument("--json")
    args = ap.parse_args()
    only = [s for s in args.only.split(",") if s]
    for s in only:
        if s not in SECTIONS:
            ap.error("unknown section %s" % s)
    cb.check_binaries()
    cb.install_signal_handlers()
    info = cb.machine()
    out = {"machine": info}
    loads = info["loadavg_sections"] = {}

    def section_done(name):
        loads[name] = cb.machine()["loadavg"]

    workdir = tempfile.mkdtemp(prefix="cells-display.", dir="/tmp")
    try:
        fbbench = build(os.path.join(HERE, "fbbench.c"), os.path.join(workdir, "fbbench"), True)
        if "unotify" in only:
            unotify = build(os.path.join(HERE, "unotify.c"), os.path.join(workdir, "unotify"),
                            False)
            cb.log("unotify: %d rounds" % args.unotify_rounds)
            bench_unotify(unotify, args, out)
            section_done("unotify")
        if set(only) - {"unotify"}:
            with cb.Daemon("display", build=args.build) as d:
                info["cells"] = d.identity
                cb.log("building the minimal image ...")
                d.cell("image", "build")
                if "switch" in only or "screenshot" in only:
                    names = ["disp%d" % i for i in range(1, args.vps + 1)]
                    cb.log("starting %d VPs" % len(names))
                    start_vps(d, names)
                    if "switch" in only:
                        cb.log("switch: %d + %d switches" % (args.warmup, args.switches))
                        bench_switch(d, names, args, out)
                        section_done("switch")
                    if "screenshot" in only:
                        cb.log("screenshot: %d of each" % args.shots)
                        bench_screenshot(d, args, out, workdir)
                        section_done("screenshot")
                    for name in names:
                        d.cell("stop", name)
                if "ioctl" in only or "draw" in only:
                    vp = "dispfb"
                    create_plain(d, vp)
                    # the first start makes the upper layer (owned by the VP's root)
                    d.cell("start", vp)
                    d.cell("stop", vp)
                    uid = install_in_upper(d, vp, fbbench)
                    d.cell("start", vp)
                    init = vp_stats(d)[vp]["pid"]
                    with open("/proc/%d/status" % init) as f:
                        real = [l.split()[1] for l in f if l.startswith("Uid:")][0]
                    if int(real) != uid:
                        raise RuntimeError("VP uid %s, expected %d" % (real, uid))
                    d.cell("switch", vp)
                    if "ioctl" in only:
                        cb.log("ioctl: %d rounds" % args.ioctl_rounds)
                        bench_ioctl(d, vp, fbbench, args, out)
                        section_done("ioctl")
                    if "draw" in only:
                        cb.log("draw: %d rounds of %d frames" % (args.draw_rounds, args.frames))
                        bench_draw(d, vp, fbbench, args, out)
                        section_done("draw")
                    d.cell("stop", vp)
        info["loadavg_end"] = cb.machine()["loadavg"]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    cb.print_machine(info)
    print("loadavg after each section: %s" % ", ".join(
        "%s %s" % kv for kv in loads.items()))
    if "cells" in info:
        print("cells: %s" % info["cells"])
    print()
    for name, fn in (("switch", print_switch), ("screenshot", print_screenshot),
                     ("ioctl", print_ioctl), ("draw", print_draw), ("unotify", print_unotify)):
        if name in out:
            fn(out[name])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
