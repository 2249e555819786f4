"""Shared helpers of the Cells benchmarks (Python 3 standard library only).

A private cellsd (its own --state and --run directories under /tmp), timing of a child
process until it exits and/or until a marker file appears (inotify through ctypes),
order statistics, a plain-text table, and cleanup that only touches what the benchmark
itself started: its own cellsd (by pid), its own temp directories, its own cgroups.
"""

import ctypes
import ctypes.util
import datetime
import hashlib
import json
import os
import platform
import random
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
CELLSD = os.path.join(BUILD, "cellsd")
CELL = os.path.join(BUILD, "cell")

now_ns = time.perf_counter_ns


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def install_signal_handlers():
    """Turn SIGTERM/SIGHUP/SIGINT into SystemExit so that every `finally` runs; after the
    first one the others are ignored, so that a second signal cannot cut the cleanup."""
    def handler(signum, frame):
        for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, handler)


def shield_signals():
    """Called first thing in a cleanup: no signal may interrupt it any more."""
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, signal.SIG_IGN)


# --------------------------------------------------------------------------- inotify

IN_MODIFY = 0x002
IN_CLOSE_WRITE = 0x008
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.inotify_init1.argtypes = [ctypes.c_int]
_libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
_libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]


class Inotify:
    """A directory watch; `names()` drains the queue and returns the entry names seen."""

    def __init__(self, directory, mask=IN_CREATE | IN_MOVED_TO):
        self.fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            e = ctypes.get_errno()
            raise OSError(e, "inotify_init1: " + os.strerror(e))
        self.wd = _libc.inotify_add_watch(self.fd, os.fsencode(directory), mask)
        if self.wd < 0:
            e = ctypes.get_errno()
            os.close(self.fd)
            raise OSError(e, "inotify_add_watch %s: %s" % (directory, os.strerror(e)))

    def names(self):
        out = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            off = 0
            while off + 16 <= len(buf):
                _wd, _mask, _cookie, length = struct.unpack_from("iIII", buf, off)
                name = buf[off + 16:off + 16 + length].split(b"\0", 1)[0]
                out.append(os.fsdecode(name))
                off += 16 + length

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


# --------------------------------------------------------------------------- timing

def timed_run(argv, marker=None, marker_name="started", timeout=20.0, env=None):
    """Spawn argv; return dict(t_exit_ms, t_marker_ms, rc) measured from just before the
    spawn. `marker` is an Inotify whose directory should get `marker_name`: the time of
    its creation event is t_marker_ms (None when no marker is watched)."""
    if marker is not None:
        marker.names()  # drop stale events
    t0 = now_ns()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env)
    pidfd = os.pidfd_open(p.pid)
    t_exit = t_marker = None
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    if marker is not None:
        poller.register(marker.fd, select.POLLIN)
    deadline = t0 + int(timeout * 1e9)
    try:
        while t_exit is None or (marker is not None and t_marker is None):
            left_ms = (deadline - now_ns()) / 1e6
            if left_ms <= 0:
                raise TimeoutError("%s: no %s after %.0f s" % (
                    " ".join(argv), "exit" if t_exit is None else "marker", timeout))
            for fd, _ev in poller.poll(left_ms):
                t = now_ns()
                if fd == pidfd and t_exit is None:
                    t_exit = t
                    poller.unregister(pidfd)
                elif marker is not None and fd == marker.fd:
                    if marker_name in marker.names() and t_marker is None:
                        t_marker = t
                        poller.unregister(marker.fd)
        rc = p.wait()
        err = p.stderr.read().decode(errors="replace").strip()
    finally:
        os.close(pidfd)
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stderr.close()
    return {
        "rc": rc,
        "stderr": err,
        "t_exit_ms": (t_exit - t0) / 1e6,
        "t_marker_ms": None if t_marker is None else (t_marker - t0) / 1e6,
    }


def summary(values):
    """median, p90 (nearest rank), min, max and mean of a list of numbers."""
    v = sorted(values)
    n = len(v)
    if n == 0:
        return None
    mid = n // 2
    median = v[mid] if n % 2 else (v[mid - 1] + v[mid]) / 2
    p90 = v[min(n - 1, max(0, -(-9 * n // 10) - 1))]
    return {"n": n, "median": median, "p90": p90, "min": v[0], "max": v[-1],
            "mean": sum(v) / n}


def table(title, header, rows):
    """Print a plain-text table: rows are lists of cells (already strings)."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print(title)
    line = "  ".join(str(h).ljust(widths[0]) if i == 0 else str(h).rjust(widths[i])
                     for i, h in enumerate(header))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i])
                        for i, c in enumerate(r)))
    print()


def fmt(x, digits=2):
    return "-" if x is None else ("%.*f" % (digits, x))


def machine():
    try:
        load = open("/proc/loadavg").read().split()[:3]
    except OSError:
        load = []
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "loadavg": " ".join(load),
    }


def print_machine(info):
    print("machine: nproc %s, kernel %s, %s, loadavg %s" % (
        info["nproc"], info["kernel"], info["date"], info["loadavg"]))


def read_status(pid):
    """The kB fields of /proc/PID/status that matter for memory."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
                out[key] = int(val.split()[0])
    return out


def rounds(runs, names, seed=1):
    """The order of the measurements: `runs` rounds, each every name once, shuffled, so
    that a drift in the machine's load hits every contender alike."""
    rnd = random.Random(seed)
    for i in range(runs):
        order = list(names)
        rnd.shuffle(order)
        yield i, order


def copy_tree(src, dst):
    """cp -a (keeps owners, modes, links, device nodes and xattrs)."""
    subprocess.run(["cp", "-a", src, dst], check=True)


# --------------------------------------------------------------------------- cellsd

def _mounts_under(paths):
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                mnt = line.split()[4].replace("\\040", " ")
                if any(mnt == p or mnt.startswith(p.rstrip("/") + "/") for p in paths):
                    found.append(mnt)
    except OSError:
        pass
    return found


def snapshot_build(tag, build=None):
    """A private copy of BUILD's (build/'s) cellsd, cell, cell-init, cells-viewer (where
    the tree has one), apps/ and images/ (cellsd finds them beside itself): others may
    rebuild build/ while a benchmark runs. Returns (dir, identity) where identity names
    the source tree and the binaries."""
    build = build or BUILD
    names = [n for n in ("cellsd", "cell", "cell-init", "cells-viewer", "apps", "images")
             if n != "cells-viewer" or os.path.exists(os.path.join(build, n))]
    lib = tempfile.mkdtemp(prefix="cells-%s-lib." % tag, dir="/tmp")
    os.chmod(lib, 0o755)
    for attempt in range(20):
        ok = True
        for name in names:
            src = os.path.join(build, name)
            dst = os.path.join(lib, name)
            if os.path.isdir(dst):
                shutil.rmtree(dst)
            try:
                subprocess.run(["cp", "-a", src, dst], check=True, capture_output=True)
            except subprocess.CalledProcessError:
                ok = False
        # a binary caught half-written by a concurrent `make` does not run
        for name in ("cellsd", "cell"):
            r = subprocess.run([os.path.join(lib, name), "--help"], capture_output=True)
            ok = ok and r.returncode == 0
        if ok and os.access(os.path.join(lib, "cell-init"), os.X_OK):
            break
        time.sleep(1)
    else:
        shutil.rmtree(lib, ignore_errors=True)
        raise RuntimeError("could not copy a working build/ (is `make` running?)")
    digest = hashlib.sha256()
    for name in names:
        if name in ("apps", "images"):
            continue
        with open(os.path.join(lib, name), "rb") as f:
            digest.update(f.read())
    rev = subprocess.run(["git", "-C", os.path.dirname(build), "describe", "--always",
                          "--dirty"],
                         capture_output=True, text=True).stdout.strip() or "?"
    return lib, "tree %s, binaries sha256 %s" % (rev, digest.hexdigest()[:12])


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DaemonExited(RuntimeError):
    """cellsd exited while starting; .log holds what it said."""

    def __init__(self, status, log):
        super().__init__("cellsd exited with %s: %s" % (status, log))
        self.log = log


class Daemon:
    """A private cellsd: `with Daemon() as d: d.cell("image", "build")`.

    On exit it sends SIGTERM to *its* cellsd (by pid) and waits; if that fails it uses
    SIGKILL, kills what is left in its own cgroup subtree, removes that subtree, and
    removes its temp directories (never while something is still mounted below them)."""

    def __init__(self, tag="bench", args=(), build=None):
        self.tag = tag
        self.build = build  # another tree's build/ (a benchmark's "before")
        self.args = list(args)  # cellsd's options beyond --state and --run
        self.proc = None
        self.state = self.run = None
        self.cgroup_parent = None
        self.logfile = None
        self.lib = None
        self.identity = ""

    def __enter__(self):
        try:
            return self._enter()
        except BaseException:
            self.close()
            raise

    def _enter(self):
        self._prepare()
        self._launch(self.args)
        return self

    def _prepare(self):
        self.lib, self.identity = snapshot_build(self.tag, self.build)
        self.cellsd = os.path.join(self.lib, "cellsd")
        self.cell_bin = os.path.join(self.lib, "cell")
        self.state = tempfile.mkdtemp(prefix="cells-%s-state." % self.tag, dir="/tmp")
        self.run = tempfile.mkdtemp(prefix="cells-%s-run." % self.tag, dir="/tmp")
        os.chmod(self.state, 0o755)
        os.chmod(self.run, 0o755)
        self.logpath = os.path.join(tempfile.gettempdir(),
                                    "cells-%s-%d.log" % (self.tag, os.getpid()))

    def _launch(self, extra_args):
        """Start cellsd with EXTRA_ARGS and wait for its socket; DaemonExited if it dies."""
        self.logfile = open(self.logpath, "w")
        self.proc = subprocess.Popen(
            [self.cellsd, "--state", self.state, "--run", self.run] + list(extra_args),
            stdin=subprocess.DEVNULL, stdout=self.logfile, stderr=subprocess.STDOUT,
            start_new_session=True)
        sock = os.path.join(self.run, "cellsd.sock")
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            if self.proc.poll() is not None:
                raise DaemonExited(self.proc.returncode, open(self.logpath).read())
            if time.monotonic() > deadline:
                raise RuntimeError("cellsd did not create %s" % sock)
            time.sleep(0.01)
        m = re.search(r"cgroup (\S+) \((v[12])\)", open(self.logpath).read())
        if m:
            self.cgroup_parent, self.cgroup_version = m.group(1), m.group(2)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cell(self, *args, check=True, capture=True):
        r = subprocess.run([self.cell_bin, "--run", self.run] + [str(a) for a in args],
                           stdin=subprocess.DEVNULL, capture_output=capture, text=True)
        if check and r.returncode != 0:
            raise RuntimeError("cell %s failed (%d): %s\n--- cellsd log tail:\n%s" % (
                " ".join(map(str, args)), r.returncode, (r.stderr or "").strip(),
                self.log_tail()))
        return r

    def cell_argv(self, *args):
        return [self.cell_bin, "--run", self.run] + [str(a) for a in args]

    def json(self, *args):
        return json.loads(self.cell(*args).stdout)

    def stats(self):
        return self.json("stats", "--json")

    def vp_dir(self, name):
        return os.path.join(self.state, "vps", name)

    def upper(self, name):
        return os.path.join(self.vp_dir(name), "upper")

    def image_rootfs(self, image="minimal"):
        return os.path.join(self.state, "images", image, "rootfs")

    def log_tail(self, n=20):
        try:
            return "".join(open(self.logpath).readlines()[-n:])
        except OSError:
            return ""

    def _own_cgroup_dirs(self):
        if not self.cgroup_parent:
            return []
        base = "/sys/fs/cgroup"
        dirs = []
        for entry in sorted(os.listdir(base)):
            d = os.path.join(base, entry, self.cgroup_parent)
            if os.path.isdir(d):
                dirs.append(d)
        d = os.path.join(base, self.cgroup_parent)  # cgroup v2
        if os.path.isdir(d) and os.path.exists(os.path.join(base, "cgroup.controllers")):
            dirs.append(d)
        return dirs

    def _kill_own_cgroups(self):
        for top in self._own_cgroup_dirs():
            for dirpath, _dirs, files in os.walk(top, topdown=False):
                if "cgroup.procs" in files:
                    try:
                        for pid in open(os.path.join(dirpath, "cgroup.procs")).read().split():
                            try:
                                os.kill(int(pid), signal.SIGKILL)
                            except ProcessLookupError:
                                pass
                    except OSError:
                        pass
            time.sleep(0.2)
            for dirpath, _dirs, _files in os.walk(top, topdown=False):
                try:
                    os.rmdir(dirpath)
                except OSError as e:
                    log("bench cleanup: cannot remove %s: %s" % (dirpath, e))

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        shield_signals()
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                log("bench cleanup: cellsd %d ignored SIGTERM for 60 s: SIGKILL" % self.proc.pid)
                self.proc.kill()
                self.proc.wait()
                self._kill_own_cgroups()
        if self.proc is not None and self.proc.returncode not in (0, None):
            log("bench: cellsd exited with status %s; log tail:\n%s" % (
                self.proc.returncode, self.log_tail()))
        if self.cgroup_parent and self._own_cgroup_dirs():
            self._kill_own_cgroups()
        if self.logfile:
            self.logfile.close()
        for d in (self.state, self.run, self.lib):
            if not d or not os.path.isdir(d):
                continue
            left = _mounts_under([d])
            if left:
                log("bench cleanup: not removing %s, still mounted: %s" % (d, left))
                continue
            shutil.rmtree(d, ignore_errors=True)
        if self.logfile:
            try:
                os.unlink(self.logpath)
            except OSError:
                pass
        self.proc = None


def wait_until(pred, timeout=10.0, step=0.005, what="condition"):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out waiting for " + what)
        time.sleep(step)


def check_binaries():
    for b in (CELLSD, CELL):
        if not os.access(b, os.X_OK):
            sys.exit("%s missing: run `make` in %s first" % (b, ROOT))
    if os.geteuid() != 0:
        sys.exit("the benchmarks need root (cellsd makes namespaces, cgroups and mounts)")
