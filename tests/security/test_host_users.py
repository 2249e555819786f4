"""What an unprivileged host user reaches of a VP (issue 11, item 9): nothing under the
daemon's run and state directories, even after the VP opened its own files to everyone
(chmod 0666 of its /dev/fb0, its /dev/console, files in its upper layer)."""

import os
import subprocess
import sys

from attackers import add_attacker, carries_on

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]

# Run as nobody: the paths (one a line on stdin) it could open, one a line.
OPENER = r"""
import os, sys
for p in sys.stdin.read().splitlines():
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        continue
    os.close(fd)
    print(p)
"""


def every_path(*roots):
    out = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            out.append(dirpath)
            out.extend(os.path.join(dirpath, f) for f in filenames)
    return out


def opened_by_nobody(paths):
    r = subprocess.run(NOBODY + [sys.executable, "-c", OPENER], input="\n".join(paths),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_host_user_reaches_no_file_of_a_vp(daemon, attack_exe):
    d = daemon
    add_attacker(d, "open", attack_exe)
    add_attacker(d, "other", attack_exe)
    # The VP opens its own files to everyone.
    d.sh("open", "chmod 0666 /dev/fb0 /dev/console && echo secret > /root/secret && "
                 "chmod 0666 /root/secret && chmod 0777 /root /")
    console = os.readlink(f"/proc/{d.vp('open')['pid']}/fd/0")
    assert os.stat(console).st_mode & 0o777 == 0o666, console
    fb = [p for p in every_path(d.run) if p.endswith(".display/fb0")]
    assert len(fb) == 2, fb
    mode = os.stat(fb[0]).st_mode & 0o777
    assert 0o666 in {os.stat(p).st_mode & 0o777 for p in fb}, mode
    # Nobody reaches none of them: only the way to the run directory's own files.
    paths = every_path(d.run, d.state) + [console]
    assert any(p.endswith("/root/secret") for p in paths)
    opened = opened_by_nobody(paths)
    allowed = {str(d.run), str(d.run / "dev"), str(d.run / "vps"), str(d.run / "cellsd.pid")}
    # lxcfs's mount (RUN/lxcfs, bound file by file into VPs by their roots, so searchable)
    # answers every reader from its own cgroups: nobody gets the host's view, as from
    # /proc and /sys/fs/cgroup, and nothing of a VP (checked below with meminfo).
    lxcfs = str(d.run / "lxcfs")
    shared = {p for p in opened if p == lxcfs or p.startswith(lxcfs + "/")}
    assert set(opened) - shared <= allowed, sorted(set(opened) - shared - allowed)
    if shared:
        r = subprocess.run(NOBODY + ["cat", f"{lxcfs}/proc/meminfo"], capture_output=True,
                           text=True, timeout=10)
        total = [line for line in r.stdout.splitlines() if line.startswith("MemTotal:")]
        with open("/proc/meminfo") as f:
            host = [line for line in f if line.startswith("MemTotal:")]
        assert total and total[0].split() == host[0].split(), (total, host)
    carries_on(d, "open", "other")
