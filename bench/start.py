#!/usr/bin/python3
"""Start latency of a Cells VP against crun and bubblewrap over the same root file system.

    /usr/bin/python3 bench/start.py [--runs N] [--warmup N] [--gap S] [--json FILE]
                                    [--before BUILD]

Cells: from invoking `cell start` until the VP's init runs the first command of its
/etc/cells/rc (`: > /started`), seen as the IN_CREATE of `started` in the VP's upper
directory on the host; also until `cell start` returns (cellsd answers once cell-init
is exec'd). The VP is stopped (untimed) between runs and the marker removed.

crun: `crun run` of an OCI bundle over a copy of the same rootfs (pid, ipc, uts, mount,
network, cgroup, time and user namespaces; uid/gid mapped to a host range, the copy
chown'ed to it), once running the same /etc/cells/rc (time until the marker) and once
/bin/true (time until crun exits: the reference of issue 2). crun 1.8 refuses this
machine's hybrid cgroup layout, so a driver (this script with --crun-driver) runs inside
`unshare -m`, unmounts /sys/fs/cgroup/unified there and times each `crun run` itself:
unshare's own cost is not counted.

bwrap: `bwrap --unshare-all --bind ROOTFS / --proc /proc --dev /dev` over another copy,
with the same two commands.

--before BUILD: Cells again, a cellsd of another tree's build/ (what a change started
from), with its own VP over the same rootfs, as one more contender.

Every contender runs once per round, in a shuffled order, so a change of the machine's
load during the run hits all of them alike. Medians and p90 in milliseconds.
"""

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402

RC = "#!/bin/sh\n: > /started\n"
MAP_BASE = 1500000000  # host uid/gid range of the crun container's user namespace
VP = "bstart"


# --------------------------------------------------------------------------- crun driver

def crun_config(rootfs, args, userns):
    """`crun spec`'s default config, edited: args, no terminal, our rootfs (writable),
    the namespaces of a VP (time and cgroup too), a uid/gid map when userns."""
    tmp = tempfile.mkdtemp(prefix="cells-bench-spec.", dir="/tmp")
    try:
        subprocess.run(["crun", "spec"], cwd=tmp, check=True, capture_output=True)
        with open(os.path.join(tmp, "config.json")) as f:
            spec = json.load(f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    spec["process"]["args"] = args
    spec["process"]["terminal"] = False
    spec["root"] = {"path": rootfs, "readonly": False}
    spec["hostname"] = "bench"
    ns = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "cgroup", "time")]
    if userns:
        ns.append({"type": "user"})
        spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": MAP_BASE, "size": 65536}]
        spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": MAP_BASE, "size": 65536}]
    spec["linux"]["namespaces"] = ns
    return spec


def crun_driver():
    """Runs inside `unshare -m`: one request per stdin line, one JSON answer per line.
    Requests: `probe`, `run ID BUNDLE [marker]`."""
    r = subprocess.run(["umount", "/sys/fs/cgroup/unified"], capture_output=True, text=True)
    print(json.dumps({"umount_rc": r.returncode, "err": r.stderr.strip()}), flush=True)
    watches = {}
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] == "run":
            cid, bundle = words[1], words[2]
            marker = None
            if len(words) > 3:
                rootfs = words[3]
                if rootfs not in watches:
                    watches[rootfs] = cb.Inotify(rootfs)
                marker = watches[rootfs]
                try:
                    os.unlink(os.path.join(rootfs, "started"))
                except FileNotFoundError:
                    pass
            try:
                res = cb.timed_run(["crun", "run", "--bundle", bundle, cid], marker=marker)
            except Exception as e:  # noqa: BLE001 - report every failure to the parent
                res = {"rc": -1, "stderr": str(e), "t_exit_ms": None, "t_marker_ms": None}
            if res["rc"] != 0:
                subprocess.run(["crun", "delete", "-f", cid], capture_output=True)
            print(json.dumps(res), flush=True)
    for w in watches.values():
        w.close()


class Crun:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "crun")
        self.rootfs = os.path.join(self.dir, "rootfs")
        self.proc = None
        self.seq = 0
        self.userns = True
        self.note = ""

    def setup(self, base_rootfs):
        os.makedirs(self.dir)
        cb.copy_tree(base_rootfs, self.rootfs)
        with open(os.path.join(self.rootfs, "etc/cells/rc"), "w") as f:
            f.write(RC)
        os.chmod(os.path.join(self.rootfs, "etc/cells/rc"), 0o755)
        self.proc = subprocess.Popen(
            ["unshare", "-m", sys.executable, os.path.abspath(__file__), "--crun-driver"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        hello = json.loads(self.proc.stdout.readline())
        if hello["umount_rc"] != 0:
            cb.log("crun driver: umount /sys/fs/cgroup/unified: %s" % hello["err"])
        # The user namespace first: the copy owned by the mapped range, as the idmapped
        # mount makes Cells' base image look root-owned inside a VP.
        subprocess.run(["chown", "-R", "%d:%d" % (MAP_BASE, MAP_BASE), self.rootfs], check=True)
        self.write_bundles(userns=True)
        res = self.run("true")
        if res["rc"] != 0:
            self.note = ("crun with a user namespace failed (%s); measured without one"
                         % res["stderr"][:200])
            cb.log(self.note)
            subprocess.run(["chown", "-R", "0:0", self.rootfs], check=True)
            self.userns = False
            self.write_bundles(userns=False)
            res = self.run("true")
            if res["rc"] != 0:
                raise RuntimeError("crun run fails: %s" % res["stderr"])
        for kind in ("true", "rc"):
            res = self.run(kind)
            if res["rc"] != 0 or (kind == "rc" and res["t_marker_ms"] is None):
                raise RuntimeError("crun %s run fails: %s" % (kind, res))

    def write_bundles(self, userns):
        for kind, args in (("true", ["/bin/true"]), ("rc", ["/etc/cells/rc"])):
            b = os.path.join(self.dir, "bundle-" + kind)
            os.makedirs(b, exist_ok=True)
            with open(os.path.join(b, "config.json"), "w") as f:
                json.dump(crun_config(self.rootfs, args, userns), f, indent=1)

    def run(self, kind):
        self.seq += 1
        cid = "cells-bench-%d-%d" % (os.getpid(), self.seq)
        req = "run %s %s" % (cid, os.path.join(self.dir, "bundle-" + kind))
        if kind == "rc":
            req += " " + self.rootfs
        self.proc.stdin.write(req + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("crun driver died")
        return json.loads(line)

    def close(self):
        if self.proc is not None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        # crun run deletes its containers; remove any that a failure left behind
        r = subprocess.run(["crun", "list", "-q"], capture_output=True, text=True)
        for cid in r.stdout.split():
            if cid.startswith("cells-bench-%d-" % os.getpid()):
                subprocess.run(["crun", "delete", "-f", cid], capture_output=True)


class Bwrap:
    def __init__(self, workdir):
        self.rootfs = os.path.join(workdir, "bwrap-rootfs")
        self.watch = None

    def setup(self, base_rootfs):
        cb.copy_tree(base_rootfs, self.rootfs)
        with open(os.path.join(self.rootfs, "etc/cells/rc"), "w") as f:
            f.write(RC)
        os.chmod(os.path.join(self.rootfs, "etc/cells/rc"), 0o755)
        self.watch = cb.Inotify(self.rootfs)
        for kind in ("true", "rc"):
            res = self.run(kind)
            if res["rc"] != 0:
                raise RuntimeError("bwrap fails: %s" % res["stderr"])

    def argv(self, cmd):
        return ["bwrap", "--unshare-all", "--bind", self.rootfs, "/", "--proc", "/proc",
                "--dev", "/dev", cmd]

    def run(self, kind):
        if kind == "true":
            return cb.timed_run(self.argv("/bin/true"))
        try:
            os.unlink(os.path.join(self.rootfs, "started"))
        except FileNotFoundError:
            pass
        return cb.timed_run(self.argv("/etc/cells/rc"), marker=self.watch)

    def close(self):
        if self.watch:
            self.watch.close()


class Cells:
    def __init__(self, daemon, workdir):
        self.d = daemon
        self.workdir = workdir
        self.watch = None

    def setup(self):
        src = os.path.join(self.workdir, "cells-benchstart-rootfs")
        cb.copy_tree(self.d.image_rootfs("minimal"), src)
        with open(os.path.join(src, "etc/cells/rc"), "w") as f:
            f.write(RC)
        os.chmod(os.path.join(src, "etc/cells/rc"), 0o755)
        self.d.cell("image", "import", "benchstart", src)
        # A plain upper directory, which the marker is watched in: a disk image (the
        # default) adds its loop device and ext4 mount (BENCHMARKS.md, "Disk images").
        self.d.cell("create", VP, "--image", "benchstart", "--disk", "none")
        self.upper = self.d.upper(VP)
        # The upper directory appears at the first start: one untimed start first.
        self.d.cell("start", VP)
        cb.wait_until(lambda: os.path.exists(os.path.join(self.upper, "started")),
                      what="the first VP's marker")
        self.d.cell("stop", VP)
        self.watch = cb.Inotify(self.upper)
        res = self.run()
        if res["rc"] != 0 or res["t_marker_ms"] is None:
            raise RuntimeError("cell start fails: %s" % res)

    def run(self):
        try:
            os.unlink(os.path.join(self.upper, "started"))
        except FileNotFoundError:
            pass
        res = cb.timed_run(self.d.cell_argv("start", VP), marker=self.watch)
        if res["rc"] == 0:
            self.d.cell("stop", VP)  # untimed
        return res

    def close(self):
        if self.watch:
            self.watch.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30, help="measured runs of each (>= 20)")
    ap.add_argument("--warmup", type=int, default=3, help="unmeasured rounds first")
    ap.add_argument("--gap", type=float, default=0.3,
                    help="idle seconds before each measured run (0: back to back)")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--before", metavar="BUILD",
                    help="also start VPs with another tree's build/ (a change's 'before'), "
                         "interleaved with the rest")
    ap.add_argument("--prepare", action="store_true",
                    help="Cells' cellsd (not --before's) with --prepare all: each start "
                         "releases the VP prepared since its last stop")
    ap.add_argument("--crun-driver", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.crun_driver:
        return crun_driver()
    cb.check_binaries()
    if args.runs < 20:
        cb.log("note: %d runs; the published numbers use at least 20" % args.runs)
    cb.install_signal_handlers()
    for tool in ("crun", "bwrap", "unshare"):
        if not shutil.which(tool):
            sys.exit("%s is not installed" % tool)

    info = cb.machine()
    workdir = tempfile.mkdtemp(prefix="cells-bench-start.", dir="/tmp")
    os.chmod(workdir, 0o755)  # crun's user-namespace root must reach the rootfs below
    crun = bwrap = cells = None
    before = None
    samples = {k: [] for k in ("before_marker", "before_cli",
                               "cells_marker", "cells_cli", "crun_marker", "crun_exit_rc",
                               "crun_true", "bwrap_marker", "bwrap_exit_rc", "bwrap_true",
                               "host_true")}
    try:
        with contextlib.ExitStack() as stack:
            d = stack.enter_context(cb.Daemon(
                "start", args=["--prepare", "all"] if args.prepare else []))
            cb.log("building the minimal image ...")
            d.cell("image", "build")
            identity = info["cells"] = d.identity
            base = d.image_rootfs("minimal")
            cells = Cells(d, workdir)
            cells.setup()
            if args.before:
                db = stack.enter_context(cb.Daemon("start-before", build=args.before))
                db.cell("image", "build")
                info["cells_before"] = db.identity
                os.makedirs(os.path.join(workdir, "before"))
                before = Cells(db, os.path.join(workdir, "before"))
                before.setup()
            crun = Crun(workdir)
            crun.setup(base)
            bwrap = Bwrap(workdir)
            bwrap.setup(base)

            names = ["cells", "crun-rc", "crun-true", "bwrap-rc", "bwrap-true", "host-true"]
            if before:
                names.append("cells-before")
            total = args.warmup + args.runs
            cb.log("measuring: %d warm-up + %d rounds of %s" % (args.warmup, args.runs,
                                                                ", ".join(names)))
            for i, order in cb.rounds(total, names):
                for name in order:
                    if args.gap > 0:
                        time.sleep(args.gap)
                    if name == "cells":
                        r = cells.run()
                    elif name == "cells-before":
                        r = before.run()
                    elif name == "crun-rc":
                        r = crun.run("rc")
                    elif name == "crun-true":
                        r = crun.run("true")
                    elif name == "bwrap-rc":
                        r = bwrap.run("rc")
                    elif name == "bwrap-true":
                        r = bwrap.run("true")
                    else:
                        r = cb.timed_run(["/bin/true"])
                    if r["rc"] != 0:
                        raise RuntimeError("%s failed in round %d: %s" % (name, i, r))
                    if i < args.warmup:
                        continue
                    if name == "cells":
                        samples["cells_marker"].append(r["t_marker_ms"])
                        samples["cells_cli"].append(r["t_exit_ms"])
                    elif name == "cells-before":
                        samples["before_marker"].append(r["t_marker_ms"])
                        samples["before_cli"].append(r["t_exit_ms"])
                    elif name == "crun-rc":
                        samples["crun_marker"].append(r["t_marker_ms"])
                        samples["crun_exit_rc"].append(r["t_exit_ms"])
                    elif name == "crun-true":
                        samples["crun_true"].append(r["t_exit_ms"])
                    elif name == "bwrap-rc":
                        samples["bwrap_marker"].append(r["t_marker_ms"])
                        samples["bwrap_exit_rc"].append(r["t_exit_ms"])
                    elif name == "bwrap-true":
                        samples["bwrap_true"].append(r["t_exit_ms"])
                    else:
                        samples["host_true"].append(r["t_exit_ms"])
            info["loadavg_end"] = cb.machine()["loadavg"]
    finally:
        cb.shield_signals()
        for x in (cells, before, crun, bwrap):
            if x is not None:
                try:
                    x.close()
                except Exception as e:  # noqa: BLE001
                    cb.log("cleanup: %s" % e)
        shutil.rmtree(workdir, ignore_errors=True)

    s = {k: cb.summary(v) for k, v in samples.items() if v}
    rows = []
    labels = [("before_marker", "Cells before: cell start -> rc's first command"),
              ("before_cli", "Cells before: cell start returns")] if before else []
    labels += [
        ("cells_marker", "Cells: cell start -> rc's first command"),
        ("cells_cli", "Cells: cell start returns (cell-init exec'd)"),
        ("crun_marker", "crun run -> rc's first command"),
        ("crun_exit_rc", "crun run of rc, until crun exits"),
        ("crun_true", "crun run /bin/true, until crun exits"),
        ("bwrap_marker", "bwrap -> rc's first command"),
        ("bwrap_exit_rc", "bwrap of rc, until bwrap exits"),
        ("bwrap_true", "bwrap /bin/true, until bwrap exits"),
        ("host_true", "host /bin/true (harness spawn cost)"),
    ]
    for key, label in labels:
        x = s[key]
        rows.append([label, cb.fmt(x["median"]), cb.fmt(x["p90"]), cb.fmt(x["min"]),
                     cb.fmt(x["max"]), x["n"]])
    print()
    cb.print_machine(info)
    print("cells: %s" % identity)
    print("crun %s; user namespace for crun: %s%s" % (
        subprocess.run(["crun", "--version"], capture_output=True, text=True).stdout
        .split("\n")[0].split()[-1], "yes" if crun.userns else "no",
        ("  (" + crun.note + ")") if crun.note else ""))
    print()
    cb.table("Start latency (ms), %d runs each, interleaved" % args.runs,
             ["", "median", "p90", "min", "max", "n"], rows)

    def ratio(a, b):
        return s[a]["median"] / s[b]["median"]
    ratios = [
        ["Cells / crun   (to the first command)", "%.2f" % ratio("cells_marker", "crun_marker")],
        ["Cells / bwrap  (to the first command)", "%.2f" % ratio("cells_marker", "bwrap_marker")],
        ["Cells / crun   /bin/true (reference of issue 2)", "%.2f" % ratio("cells_marker", "crun_true")],
        ["Cells / bwrap  /bin/true (reference of issue 2)", "%.2f" % ratio("cells_marker", "bwrap_true")],
        ["cell start return / crun /bin/true", "%.2f" % ratio("cells_cli", "crun_true")],
    ]
    if before:
        ratios.append(["Cells / Cells before (to the first command)",
                       "%.2f" % ratio("cells_marker", "before_marker")])
        print("cells before: %s" % info["cells_before"])
    cb.table("Ratios of medians", ["", "ratio"], ratios)
    verdict = "meets" if s["cells_marker"]["median"] <= s["crun_marker"]["median"] else "misses"
    print("target (Cells <= crun, to the first command): %s (%.2f ms vs %.2f ms)" % (
        verdict, s["cells_marker"]["median"], s["crun_marker"]["median"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "runs": args.runs, "crun_userns": crun.userns,
                       "summary": s, "samples": samples}, f, indent=1)


if __name__ == "__main__":
    main()
