"""Fixtures of the integration tests: real cellsd daemons in throw-away directories.

Every daemon gets its own state and run directories under /tmp, its own host uid range
(--uid-base) and therefore its own cgroup parent (cells-XXXXXXXX). At teardown the daemon
is stopped with SIGTERM and everything it could have left behind is looked for and removed
by force: processes in its uid range or cgroups, cgroup directories of its parent, mounts
under its directories. Leftovers fail the test (as an error in teardown), after cleaning.
"""

import atexit
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import queue
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
# CELLS_TEST_CELLSD: another cellsd to test (make check: build/asan/cellsd, with the
# sanitizers); it takes cell-init, apps and images from build/ (--lib).
CELLSD = Path(os.environ.get("CELLS_TEST_CELLSD") or BUILD / "cellsd")
CELL = BUILD / "cell"
CGROUP_ROOT = Path("/sys/fs/cgroup")
UID_RANGE = 65536
# Each test daemon owns UID_SLOTS VP uid ranges starting at its --uid-base.
UID_SLOTS = 64
STOP_TIMEOUT = 4  # the daemons' --stop-timeout (grace period of a stop)


# The minimal image, built by the session's first daemon and imported by the others: a
# build takes 2 s, an import 0.1 (most tests start a daemon of their own). The recipe's
# own tests (test_images_cli) build it themselves.
_minimal_cache = None


def minimal_image(d):
    global _minimal_cache
    if _minimal_cache is None:
        d.cell("image", "build", timeout=120)
        cache = Path(tempfile.mkdtemp(prefix="cells-test-minimal-", dir="/tmp"))
        atexit.register(shutil.rmtree, cache, ignore_errors=True)
        subprocess.run(["cp", "-a", f"{d.rootfs}/.", str(cache)], check=True)
        _minimal_cache = cache
        return
    d.cell("image", "import", "minimal", str(_minimal_cache), timeout=120)


def pytest_configure(config):
    missing = [str(p) for p in (CELLSD, CELL, BUILD / "cell-init") if not p.exists()]
    if missing:
        raise pytest.UsageError("build first (make): missing " + ", ".join(missing))


# ---------------------------------------------------------------------------------------
# Inspection of the host


def _unescape_mountinfo(s):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def mounts_under(path, mountinfo="/proc/self/mountinfo"):
    """Mount points at or under PATH in the given mountinfo, in mount order."""
    path = str(path).rstrip("/")
    found = []
    try:
        with open(mountinfo) as f:
            for line in f:
                point = _unescape_mountinfo(line.split()[4])
                if point == path or point.startswith(path + "/"):
                    found.append(point)
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def loop_devices_under(path):
    """Loop devices whose backing file lies under PATH (a VP's disk image)."""
    out = []
    for f in glob.glob("/sys/block/loop*/loop/backing_file"):
        try:
            backing = Path(f).read_text().strip()
        except OSError:
            continue
        if backing.startswith(str(path) + "/"):
            out.append((f.split("/")[3], backing))
    return sorted(out)


def cgroup_dirs(parent):
    """Every directory of a cgroup parent (cells-XXXXXXXX) in every hierarchy."""
    if not parent:
        return []
    return sorted(glob.glob(str(CGROUP_ROOT / "*" / parent)) +
                  glob.glob(str(CGROUP_ROOT / parent)))


def cgroup_subdirs(parent):
    """The cgroups below a parent: one per VP and controller."""
    out = []
    for top in cgroup_dirs(parent):
        for dirpath, dirnames, _ in os.walk(top):
            out.extend(os.path.join(dirpath, d) for d in dirnames)
    return sorted(out)


def cgroup_pids(parent):
    """Pids in any cgroup of PARENT (the parent itself included), any hierarchy."""
    pids = set()
    for top in cgroup_dirs(parent):
        for dirpath, _, filenames in os.walk(top):
            if "cgroup.procs" in filenames:
                try:
                    with open(os.path.join(dirpath, "cgroup.procs")) as f:
                        pids.update(int(x) for x in f.read().split())
                except OSError:
                    pass
    return pids


def proc_status(pid):
    """The fields of /proc/PID/status, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            out = {}
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
            return out
    except (FileNotFoundError, ProcessLookupError):
        return None


def pid_alive(pid):
    """True if PID exists and is not a zombie."""
    st = proc_status(pid)
    return st is not None and not st.get("State", "").startswith("Z")


def wait_pid_gone(pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.02)
    return not pid_alive(pid)


def procs_with_uid(lo, hi):
    """(pid, comm, uid) of live processes whose real or effective host uid is in [lo, hi)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = proc_status(entry)
        if not st or st.get("State", "").startswith("Z"):
            continue
        uids = [int(x) for x in st.get("Uid", "0").split()]
        if any(lo <= u < hi for u in uids[:2]):
            found.append((int(entry), st.get("Name", "?"), uids[0]))
    return found


def procs_in_cgroup_parent(parent):
    """Live processes whose /proc/PID/cgroup names PARENT, in any hierarchy."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cgroup") as f:
                text = f.read()
        except OSError:
            continue
        if f"/{parent}/" in text or text.rstrip().endswith(f"/{parent}") or \
                f"/{parent}\n" in text:
            if pid_alive(entry):
                found.append(int(entry))
    return found


def ns_of(pid, kind):
    try:
        return os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None


# ---------------------------------------------------------------------------------------
# A daemon under test


class CellError(AssertionError):
    pass


def _fmt(r):
    return (f"$ {' '.join(map(str, r.args))}\n-> exit {r.returncode}\n"
            f"stdout: {r.stdout!r}\nstderr: {r.stderr!r}")


class Daemon:
    """One cellsd on its own directories. start() may be called again after stop()/kill9()."""

    cell_bin = CELL  # the cell to drive it with

    def __init__(self, base, state=None, run=None, stop_timeout=STOP_TIMEOUT, extra_args=()):
        self.base = Path(base)
        self.extra_args = [str(a) for a in extra_args]
        self.state = Path(state) if state else self.base / "state"
        self.run = Path(run) if run else self.base / "run"
        self.stop_timeout = stop_timeout
        slot = random.randrange(0, 600)
        self.uid_base = 1_100_000_000 + slot * UID_SLOTS * UID_RANGE
        self.proc = None
        self.cgroup_parent = None
        self.log_paths = []
        self.starts = 0

    # -- process --------------------------------------------------------------------------
    @property
    def sock(self):
        return self.run / "cellsd.sock"

    def argv(self):
        # No VNC or web page unless a test asks (with ports of its own): daemons run side by
        # side and must not compete for the default ports.
        # VPs get plain upper directories unless a test asks for a disk (--disk, or
        # --default-disk in EXTRA_ARGS): the tests look at what lands in upper/.
        # CELLS_TEST_CELLSD_ARGS: more options for every daemon (say --prepare all, to run
        # a suite with prepared VPs; tests that check a stopped VP leaves no cgroup then
        # fail by design).
        return [str(CELLSD), "--state", str(self.state), "--run", str(self.run),
                "--stop-timeout", str(self.stop_timeout), "--uid-base", str(self.uid_base),
                "--lib", str(BUILD), "--vnc", "none", "--web", "none",
                "--default-disk", "none",
                *os.environ.get("CELLS_TEST_CELLSD_ARGS", "").split(), *self.extra_args]

    def start(self, timeout=15, build_image=False):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        log_path = self.base / f"cellsd-{self.starts}.log"
        self.log_paths.append(log_path)
        with open(log_path, "w") as log:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            text = log_path.read_text(errors="replace")
            m = re.search(r"ready:.*cgroup (cells-[0-9a-f]+)", text)
            if m and self.sock.exists():
                if self.cgroup_parent and self.cgroup_parent != m.group(1):
                    raise AssertionError(f"cgroup parent changed: {self.cgroup_parent} -> "
                                         f"{m.group(1)}")
                self.cgroup_parent = m.group(1)
                break
            if self.proc.poll() is not None:
                raise AssertionError(f"cellsd exited with {self.proc.returncode} before it "
                                     f"was ready:\n{text}")
            if time.monotonic() > deadline:
                raise AssertionError(f"cellsd not ready after {timeout}s:\n{text}")
            time.sleep(0.02)
        if build_image:
            minimal_image(self)
        return self

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=None):
        """SIGTERM and wait; returns the exit status. A daemon that does not exit is killed
        and the test fails."""
        if not self.running:
            return self.proc.returncode if self.proc else None
        timeout = timeout if timeout is not None else self.stop_timeout + 15
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"cellsd did not exit within {timeout}s of SIGTERM:\n"
                                 + self.log())

    def kill9(self):
        if self.running:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        return "\n".join(p.read_text(errors="replace") for p in self.log_paths if p.exists())

    # -- the command line -----------------------------------------------------------------
    def cell(self, *args, check=True, input=None, timeout=30, env=None):
        argv = [str(self.cell_bin), "--run", str(self.run), *map(str, args)]
        try:
            r = subprocess.run(argv, input=input, capture_output=True, timeout=timeout,
                               text=isinstance(input, str) or input is None, env=env)
        except subprocess.TimeoutExpired as e:
            raise CellError(f"$ {' '.join(argv)}\n-> no answer in {timeout}s "
                            f"(stdout {e.stdout!r}, stderr {e.stderr!r})") from None
        if check and r.returncode != 0:
            raise CellError(_fmt(r))
        return r

    def fail(self, *args, status=1, **kw):
        """Runs a command that must fail with STATUS and one 'cell: ...' line on stderr;
        returns that line."""
        r = self.cell(*args, check=False, **kw)
        allowed = status if isinstance(status, tuple) else (status,)
        assert r.returncode in allowed, f"expected exit {status}\n" + _fmt(r)
        err = r.stderr.strip()
        assert err, "no error message\n" + _fmt(r)
        if r.returncode != 2:
            lines = err.splitlines()
            assert len(lines) == 1 and lines[0].startswith("cell: "), \
                "expected one 'cell: ...' line on stderr\n" + _fmt(r)
        return err

    def exec(self, name, *cmd, **kw):
        return self.cell("exec", name, "--", *cmd, **kw)

    def sh(self, name, script, **kw):
        return self.exec(name, "sh", "-c", script, **kw)

    def list(self):
        """name -> VP object of `cell list --json`."""
        vps = json.loads(self.cell("list", "--json").stdout)
        assert isinstance(vps, list), vps
        return {vp["name"]: vp for vp in vps}

    def vp(self, name):
        vps = self.list()
        assert name in vps, f"{name} not listed: {sorted(vps)}"
        return vps[name]

    def state_of(self, name):
        return self.vp(name)["state"]

    def wait_state(self, name, state, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            got = self.state_of(name)
            if got == state:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"VP {name} is {got}, not {state}, after {timeout}s")
            time.sleep(0.05)

    def create_start(self, *names, **opts):
        extra = []
        for k, v in opts.items():
            extra += [f"--{k}", str(v)]
        for n in names:
            self.cell("create", n, *extra)
            self.cell("start", n)

    def stats(self, name=None):
        args = ["stats"] + ([name] if name else []) + ["--json"]
        return json.loads(self.cell(*args).stdout)

    # -- where things are -----------------------------------------------------------------
    def vp_uid(self, vp_id):
        return self.uid_base + vp_id * UID_RANGE

    def config_path(self, name):
        return self.state / "vps" / name / "config.json"

    def upper(self, name):
        return self.state / "vps" / name / "upper"

    @property
    def rootfs(self):
        return self.state / "images" / "minimal" / "rootfs"

    def cgroup(self, controller, name):
        return CGROUP_ROOT / controller / self.cgroup_parent / name

    def vp_cgroup_dirs(self, name):
        return [d for d in cgroup_subdirs(self.cgroup_parent) if os.path.basename(d) == name]

    # -- the raw control protocol ---------------------------------------------------------
    def connect(self, timeout=5):
        s = Conn(socket.AF_UNIX, socket.SOCK_STREAM)
        # A blocking connect: a non-blocking one to a unix socket whose backlog is full
        # fails with EAGAIN instead of waiting.
        s.connect(str(self.sock))
        s.settimeout(timeout)
        return s

    def request(self, obj, timeout=5):
        """Sends one request (an object, or raw bytes sent as they are) on a new connection;
        returns the decoded answer line."""
        with self.connect(timeout) as s:
            data = obj if isinstance(obj, bytes) else (json.dumps(obj) + "\n").encode()
            s.sendall(data)
            return json.loads(read_line(s))

    # -- leftovers ------------------------------------------------------------------------
    def leftovers(self):
        """What this daemon's VPs left on the host: {kind: [...]}, empty when clean."""
        out = {}
        procs = procs_with_uid(self.uid_base, self.uid_base + UID_SLOTS * UID_RANGE)
        if procs:
            out["processes in the VP uid range"] = procs
        if self.cgroup_parent:
            in_cg = procs_in_cgroup_parent(self.cgroup_parent)
            if in_cg:
                out["processes in its cgroups"] = in_cg
            dirs = cgroup_dirs(self.cgroup_parent)
            if dirs:
                out["cgroup directories"] = dirs
        mounts = sorted(set(mounts_under(self.base) + mounts_under(self.state) +
                            mounts_under(self.run)))
        if mounts:
            out["mounts"] = mounts
        loops = loop_devices_under(self.base) + loop_devices_under(self.state)
        if loops:
            out["loop devices"] = loops
        return out

    def force_clean(self):
        if self.running:
            self.proc.kill()
            self.proc.wait()
        for _ in range(3):
            pids = {p for p, _, _ in procs_with_uid(self.uid_base,
                                                    self.uid_base + UID_SLOTS * UID_RANGE)}
            if self.cgroup_parent:
                pids |= set(procs_in_cgroup_parent(self.cgroup_parent))
                pids |= cgroup_pids(self.cgroup_parent)
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for p in pids:
                wait_pid_gone(p, 2)
            if self.cgroup_parent:
                for top in cgroup_dirs(self.cgroup_parent):
                    for f in glob.glob(top + "/**/freezer.state", recursive=True):
                        try:
                            Path(f).write_text("THAWED")
                        except OSError:
                            pass
                    for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                        try:
                            os.rmdir(dirpath)
                        except OSError:
                            pass
        for root in (self.run, self.state, self.base):
            for point in reversed(mounts_under(root)):
                subprocess.run(["umount", "-l", point], capture_output=True)


class Conn(socket.socket):
    """A unix socket that remembers what it read past the end of a line."""
    pending = b""


def read_line(s, limit=1 << 20):
    """One line from S (a Conn keeps what came after it for the next call)."""
    buf = getattr(s, "pending", b"")
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError(f"connection closed after {buf!r}")
        buf += chunk
        if len(buf) > limit:
            raise AssertionError("answer line too long")
    line, _, rest = buf.partition(b"\n")
    if isinstance(s, Conn):
        s.pending = rest
    elif rest:
        raise AssertionError(f"more than one line came: {buf!r}")
    return line.decode() + "\n"


def cannot_exec(path):
    """Why this kernel cannot run the program PATH (an i386 one where IA32 emulation is
    off: ENOEXEC), or None when it can."""
    try:
        subprocess.run([str(path)], capture_output=True, timeout=10)
    except OSError as e:
        return f"this kernel cannot run {Path(path).name}: {e.strerror}"
    except subprocess.TimeoutExpired:
        pass
    return None


def run_cellsd(base, *args, timeout=10):
    """cellsd on private directories under BASE (searchable by others, as cellsd wants)
    with ARGS, for the options it must refuse: the finished process."""
    return subprocess.run([str(CELLSD), "--lib", str(BUILD), "--state", str(Path(base) / "s"),
                           "--run", str(Path(base) / "r"), "--vnc", "none", "--web", "none",
                           *map(str, args)], capture_output=True, text=True, timeout=timeout)


def make_base():
    base = tempfile.mkdtemp(prefix="cells-test-", dir="/tmp")
    os.chmod(base, 0o755)
    return Path(base)


def destroy_all(d):
    for name in d.list():
        d.cell("destroy", name, "--force", timeout=60)


def stop_and_check(d):
    """The end of a module's own daemon D: its VPs destroyed, cellsd stopped, what it left
    cleaned and its base removed; fails the test, with the log, if cellsd did not exit
    well or left anything."""
    problems = []
    try:
        if d.running:
            destroy_all(d)
            status = d.stop()
            if status not in (0, None):
                problems.append(f"cellsd exited with status {status} on SIGTERM")
    except AssertionError as e:
        problems.append(str(e))
    left = d.leftovers()
    d.force_clean()
    if left:
        problems.append(f"left behind by cellsd: {left}")
    log = d.log()
    shutil.rmtree(d.base, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems) + "\ncellsd log:\n" + log[-4000:], pytrace=False)


KSM = Path("/sys/kernel/mm/ksm")
KSM_KNOBS = ("run", "sleep_millisecs", "pages_to_scan")


@pytest.fixture(scope="session", autouse=True)
def host_ksm_kept():
    """The host's KSM scanner as the session found it, whatever its daemons did: cellsd
    tunes it while VPs run and gives it back at exit, or at the next start on the same run
    directory after a SIGKILL, which a killed test daemon never gets."""
    found = {k: (KSM / k).read_text() for k in KSM_KNOBS if (KSM / k).exists()}
    yield
    for k, v in found.items():
        if (KSM / k).read_text() != v:
            (KSM / k).write_text(v)


@pytest.fixture
def make_daemon():
    """Factory: make_daemon(**kw) starts one more daemon; all are torn down and checked."""
    made = []

    def factory(build_image=True, cls=Daemon, **kw):
        base = kw.pop("base", None) or make_base()
        d = cls(base, **kw)
        made.append(d)
        d.start(build_image=build_image)
        return d

    yield factory

    problems = []
    for d in made:
        try:
            status = d.stop()
            if status not in (0, None):
                problems.append(f"cellsd exited with status {status} on SIGTERM")
        except AssertionError as e:
            problems.append(str(e))
        left = {}
        # A VP's cgroup may take a moment to disappear after its last task.
        deadline = time.monotonic() + 3
        while True:
            left = d.leftovers()
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if left:
            problems.append(f"left behind by cellsd on {d.base}: {left}")
        d.force_clean()
        still = d.leftovers()
        if still:
            problems.append(f"could not clean up even by force: {still}")
        shutil.rmtree(d.base, ignore_errors=True)
        if problems:
            problems.append("cellsd log:\n" + d.log()[-4000:])
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def make_modemsim():
    """Factory: make_modemsim(**kw) starts a cells-modemsim (tests/integration/modemsim.py,
    ModemSim: number, access, gateway, forwards={NUM: TAG}, ring_interval, echo_off, args)
    on a private directory. Each has .pty/.link (give .link to cellsd --modem), .control,
    .client() (a Control: ctl("call", frm=...) -> reply, .subscribe(), .wait_event()) and
    .port() (an AtPort on the modem's line). All are stopped and removed at teardown; one
    that died on its own fails the test."""
    from modemsim import ModemSim

    made = []

    def factory(**kw):
        m = ModemSim(**kw)
        made.append(m)
        return m

    yield factory
    died = [m.log() for m in made if m.proc.poll() is not None]
    for m in made:
        m.stop()
    if died:
        pytest.fail("cells-modemsim died:\n" + "\n".join(died), pytrace=False)


@pytest.fixture
def modemsim(make_modemsim):
    """A cells-modemsim with the SIM number +15550100, access/SMS gateway +15550999."""
    return make_modemsim()


@pytest.fixture
def daemon(make_daemon):
    """A running cellsd with the minimal image built."""
    return make_daemon()


@pytest.fixture
def cell(daemon):
    return daemon.cell


@pytest.fixture
def host_sleep():
    """Starts host processes (`sleep`) that tests check for survival; kills them after."""
    procs = []

    def start(seconds=300):
        p = subprocess.Popen(["sleep", str(seconds)], start_new_session=True)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


class LineReader:
    """Collects the lines of a subprocess' stdout in a thread."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = queue.Queue()
        self.seen = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, pred, timeout=5.0):
        """The first new line (parsed as JSON) for which pred(obj) holds, or None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            obj = json.loads(line)
            self.seen.append(obj)
            if pred(obj):
                return obj


# ---------------------------------------------------------------------------------------
# Files of a VP's own, put in its upper layer before it starts (one home for every test
# directory: tests/security imports them through integration_conftest).

NO_LAUNCHER = b"#!/bin/sh\n# the test draws or drives: no launcher\nexit 0\n"


def wait_for(pred, timeout=10.0, what="condition"):
    """PRED's first true value, polled until TIMEOUT seconds have passed. Then fails naming
    WHAT: a string ("no WHAT after ..."), or a function that says what is seen instead
    (called only then)."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            if callable(what):
                raise AssertionError(f"after {timeout} s: {what()}")
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(0.05)


def put_file(d, name, rel, data, mode=0o755):
    """Writes DATA (bytes, or a Path to copy) at REL in the VP's upper layer, owned by its
    root (the directories on the way too)."""
    uid = d.vp_uid(d.vp(name)["id"])
    path = d.upper(name)
    for part in [""] + rel.split("/")[:-1]:
        path = path / part if part else path
        if not path.exists():
            path.mkdir(mode=0o755)
            os.chown(path, uid, uid)
    f = path / rel.split("/")[-1]
    if isinstance(data, Path):
        shutil.copyfile(data, f)
    else:
        f.write_bytes(data)
    os.chmod(f, mode)
    os.chown(f, uid, uid)


def create_vp_with(d, name, files, create_args=(), launcher=False, start=True):
    """`cell create NAME CREATE_ARGS`, FILES ({path in the VP: bytes}) put in its upper
    layer, the launcher kept from starting unless LAUNCHER, then started if START."""
    d.cell("create", name, *create_args)
    for rel, data in files.items():
        put_file(d, name, rel, data)
    if not launcher:
        put_file(d, name, "etc/cells/rc.d/50-launcher", NO_LAUNCHER)
    if start:
        d.cell("start", name)


def build_static(src, out_dir, *cflags):
    """SRC (a C file) built static into OUT_DIR, for a VP: its bytes."""
    out = Path(out_dir) / Path(src).stem
    r = subprocess.run(["gcc", "-O2", "-Wall", "-static", *cflags, "-o", str(out), str(src)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"cannot build {Path(src).name}:\n{r.stderr}"
    return out.read_bytes()
