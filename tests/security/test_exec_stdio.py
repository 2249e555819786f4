"""Issue 11, item 5: `cell exec` gives the VP no descriptor of the caller's. The command's
stdio are pipes cellsd made (or, with -t, a pty of the VP's), relayed by cell until the
command ends; what it leaves behind cannot keep the admin's terminal, read what is typed
next or change its modes."""

import fcntl
import json
import os
import socket
import subprocess
import termios
import time

from cells_integration_conftest import CELL, cgroup_pids, read_line, wait_for

# Left behind by the command: waits for the test's go (a FIFO), then shows what its stdin
# and stdout (kept as fd 4) are and reads its stdin, where the admin's typing would come.
LEFTOVER = ("exec 3<&0; "
            "(exec 4>&1; read x </tmp/go; ls -l /proc/self/fd/0 /proc/self/fd/4 >/tmp/fds 2>&1; "
            "cat >/tmp/typed; echo done >/tmp/done) <&3 3<&- & echo started")
TYPED = "typed-by-the-admin"


def holders(d, ident):
    """Processes in the daemon's cgroups (VPs and exec helpers) holding the file IDENT
    (st_dev, st_ino) open: [(pid, fd)]."""
    found = []
    for pid in cgroup_pids(d.cgroup_parent):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == ident:
                found.append((pid, int(fd)))
    return found


def ident(path_or_fd):
    st = os.stat(path_or_fd)
    return st.st_dev, st.st_ino


def vp_file(d, name, path):
    return d.exec(name, "cat", path, check=False).stdout


def test_a_leftover_process_does_not_keep_the_admins_terminal(daemon):
    d = daemon
    d.create_start("v")
    d.exec("v", "mkfifo", "/tmp/go")
    # `cell exec` on a terminal of the host, its controlling terminal, as an admin runs it.
    master, slave = os.openpty()
    tty = ident(slave)
    try:
        proc = subprocess.Popen(
            [str(CELL), "--run", str(d.run), "exec", "v", "--", "sh", "-c", LEFTOVER],
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        out = b""
        os.set_blocking(master, False)
        deadline = time.monotonic() + 20
        while True:
            assert time.monotonic() < deadline, f"cell exec did not return: {out!r}"
            done = proc.poll() is not None
            try:
                out += os.read(master, 4096)
                continue
            except BlockingIOError:
                if done:
                    break
                time.sleep(0.02)
        assert proc.returncode == 0 and b"started" in out, (proc.returncode, out)

        # cell exec has returned; the leftover runs on. Nothing of the VP's holds the
        # host's terminal.
        assert not holders(d, tty), f"VP processes hold the host pty: {holders(d, tty)}"

        # The leftover looks at its stdio, then reads its stdin while the admin types.
        d.sh("v", "echo go >/tmp/go")
        fds = wait_for(lambda: vp_file(d, "v", "/tmp/fds"), what="/tmp/fds")
        os.write(master, (TYPED + "\n").encode())
        wait_for(lambda: vp_file(d, "v", "/tmp/done") or TYPED in vp_file(d, "v", "/tmp/typed"),
                 what="end of the leftover or what it read")
        assert TYPED not in vp_file(d, "v", "/tmp/typed"), "the VP read the admin's typing"
        lines = fds.splitlines()
        assert len(lines) == 2 and all("pipe:" in l for l in lines), fds
    finally:
        os.close(master)
        os.close(slave)


def test_no_descriptor_of_the_caller_enters_the_vp(daemon, tmp_path):
    """cell's stdin and stdout are host files and it has a host file open as fd 5: the
    command sees pipes on 0, 1 and 2, nothing on 5, and still gets the data through."""
    d = daemon
    d.create_start("v")
    marker = tmp_path / "marker"
    marker.write_text("host data\n")
    out = tmp_path / "out"
    script = "ls -l /proc/$$/fd; cat"
    with open(marker) as stdin, open(out, "w") as stdout:
        # fd 5 opened by a shell that then becomes cell.
        r = subprocess.run(["sh", "-c", 'exec "$0" "$@" 5<"$MARKER"', str(CELL), "--run",
                            str(d.run), "exec", "v", "--", "sh", "-c", script],
                           stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, timeout=30,
                           env=dict(os.environ, MARKER=str(marker)))
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "host data" in text, text
    links = {l.split()[-3]: l.split()[-1] for l in text.splitlines() if " -> " in l}
    assert all(links.get(n, "").startswith("pipe:") for n in ("0", "1", "2")), text
    assert "5" not in links, text


def test_descriptors_sent_with_a_request_stay_out_of_the_vp(daemon, tmp_path):
    """A client that sends descriptors with its exec request (as older ones sent their
    stdio): none reaches the command or the process cellsd runs in the VP for it."""
    d = daemon
    d.create_start("v")
    marker = tmp_path / "marker"
    marker.write_text("host data\n")
    req = {"cmd": "exec", "name": "v", "argv": ["sleep", "37"]}
    with open(marker) as f, d.connect(timeout=10) as s:
        socket.send_fds(s, [(json.dumps(req) + "\n").encode()], [f.fileno()] * 3)
        answer = json.loads(read_line(s))
        assert answer.get("ok"), answer
        wait_for(lambda: "sleep\x0037" in "".join(
            _cmdline(p) for p in cgroup_pids(d.cgroup_parent)), what="command")
        assert not holders(d, ident(marker)), \
            f"VP processes hold the client's file: {holders(d, ident(marker))}"
    # The connection closed: the exec ends, and everything it started.
    wait_for(lambda: "sleep\x0037" not in "".join(
        _cmdline(p) for p in cgroup_pids(d.cgroup_parent)), what="end of the command")


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline") as f:
            return f.read()
    except OSError:
        return ""
