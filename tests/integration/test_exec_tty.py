"""`cell exec -t` on a pty of the VP's, the window size following the caller's terminal,
job control; an interrupted exec ends every process its command started; the console's
window size."""

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

from conftest import CELL


class Terminal:
    """`cell ARGS` on a new pty of the host (its controlling terminal), as a user's shell
    would run it."""

    def __init__(self, d, *args, rows=33, cols=101):
        self.master, slave = os.openpty()
        self.resize(rows, cols, signal_cell=False)
        self.proc = subprocess.Popen(
            [str(CELL), "--run", str(d.run), *map(str, args)], stdin=slave, stdout=slave,
            stderr=slave, start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.out = b""

    def resize(self, rows, cols, signal_cell=True):
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        if signal_cell:
            self.proc.send_signal(signal.SIGWINCH)

    def write(self, data):
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def read_until(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while text.encode() not in self.out:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {text!r} in {self.out!r}")
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"terminal closed before {text!r}: {self.out!r}")
                self.out += data
        return self.out.decode(errors="replace")

    def wait(self, timeout=10):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.1)
            if r:
                try:
                    self.out += os.read(self.master, 4096)
                except OSError:
                    pass
        return self.proc.wait(timeout=1)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def term():
    made = []

    def factory(*args, **kw):
        t = Terminal(*args, **kw)
        made.append(t)
        return t

    yield factory
    for t in made:
        t.close()


def vp_processes(d, name, pattern):
    out = d.exec(name, "ps", "-o", "pid,args").stdout
    return [l for l in out.splitlines() if pattern in l]


def wait_gone(d, name, pattern, timeout=10):
    deadline = time.monotonic() + timeout
    while (left := vp_processes(d, name, pattern)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"still running in {name}: {left}"


def test_exec_t_runs_on_a_pty_of_the_vp_sized_like_the_caller(daemon, term):
    d = daemon
    d.create_start("v")
    t = term(d, "exec", "-t", "v", "--", "sh", "-c", "tty; stty size; exit 7")
    t.read_until("33 101")
    assert t.wait() == 7
    lines = t.out.decode().split()
    assert lines[0].startswith("/dev/pts/"), t.out
    # Without -t, pipes of cellsd's: no terminal.
    r = d.exec("v", "tty", check=False)
    assert r.returncode != 0 and "not a tty" in r.stdout


def test_exec_t_follows_the_window_and_has_job_control(daemon, term):
    d = daemon
    d.create_start("v")
    t = term(d, "exec", "-t", "v", "--", "sh", "-i")
    t.write("stty size\n")
    t.read_until("33 101")
    t.resize(40, 120)
    t.write("stty size\n")
    t.read_until("40 120")
    t.write("sleep 300 &\njobs\n")
    t.read_until("sleep 300")
    # Ctrl-C reaches the foreground job, not the shell.
    t.write("sleep 200\n")
    time.sleep(0.3)
    t.write("\x03")
    t.write("echo still-$((40+2))\n")
    t.read_until("still-42")
    assert not vp_processes(d, "v", "sleep 200")
    t.write("exit 3\n")
    assert t.wait() == 3
    # A normal exit leaves what the shell put in the background, as on any machine.
    assert vp_processes(d, "v", "sleep 300")


@pytest.mark.parametrize("tty,how", [
    (False, "SIGINT"), (False, "SIGTERM"), (False, "SIGKILL"),
    (True, "ctrl-c"), (True, "SIGTERM"), (True, "SIGHUP"), (True, "SIGKILL"),
])
def test_an_interrupted_exec_leaves_no_process(daemon, term, tty, how):
    """Ctrl-C (to cell, or with -t to the command through its pty), a signal, the terminal
    closed, or cell killed: everything the command started ends, daemonized or not."""
    d = daemon
    d.create_start("v")
    script = "sleep 81 & setsid sleep 83 & (sleep 84 &) ; sleep 82"
    args = ["exec"] + (["-t"] if tty else []) + ["v", "--", "sh", "-c", script]
    if tty:
        t = term(d, *args)
        proc = t.proc
    else:
        # SIGINT as a terminal's job has it: make check run as a background job of a
        # shell inherits it ignored, and so would cell.
        proc = subprocess.Popen([str(CELL), "--run", str(d.run), *args],
                                start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 30  # a loaded machine is slow to start four
    while len(vp_processes(d, "v", "sleep 8")) < 4:
        assert time.monotonic() < deadline, vp_processes(d, "v", "sleep")
        time.sleep(0.05)
    if how == "ctrl-c":
        t.write("\x03")  # SIGINT to the command's foreground group, by the pty
    else:
        proc.send_signal(getattr(signal, how))
    status = proc.wait(timeout=10)
    assert status != 0
    wait_gone(d, "v", "sleep 8")
    # The supervisor of the interrupted exec is gone too (one remains: that of the ps).
    assert len(vp_processes(d, "v", "cell-exec")) == 1


def test_a_normal_exit_leaves_background_processes(daemon):
    d = daemon
    d.create_start("v")
    d.sh("v", "sleep 91 >/dev/null 2>&1 </dev/null & echo started")
    assert vp_processes(d, "v", "sleep 91")


def test_exec_usage_errors(daemon):
    d = daemon
    assert "unknown option '-x'" in d.fail("exec", "-x", "v", "--", "true", status=2)
    d.create_start("v")
    assert d.exec("v", "true").returncode == 0


def test_console_takes_the_callers_window_size(daemon, term):
    d = daemon
    d.create_start("v")
    t = term(d, "console", "v", rows=27, cols=91)
    t.read_until("Ctrl-]")
    t.write("stty size\n")
    t.read_until("27 91")
    t.resize(30, 77)
    t.write("stty size\n")
    t.read_until("30 77")
    t.write("\x1d")
    assert t.wait() == 0


def test_exec_t_with_piped_input_sees_its_end(daemon):
    d = daemon
    d.create_start("v")
    r = d.cell("exec", "-t", "v", "--", "sh", "-c", "cat; echo done-$((6*7))",
               input="one\ntwo\n", timeout=20)
    assert "one" in r.stdout and "two" in r.stdout and "done-42" in r.stdout, r


def test_exec_t_refuses_a_ptmx_that_is_not_the_vps_devpts(daemon):
    d = daemon
    d.create_start("v")
    # The VP's root covers its devpts with a tmpfs holding a FIFO named ptmx.
    d.sh("v", "mkdir -p /run/x && mount -t tmpfs t /dev/pts && mkfifo /dev/pts/ptmx")
    r = d.cell("exec", "-t", "v", "--", "true", check=False, timeout=20)
    assert r.returncode == 126 and "not the VP's devpts" in r.stderr, r
    # Its plain execs still work, and cellsd answers.
    assert d.exec("v", "true").returncode == 0
