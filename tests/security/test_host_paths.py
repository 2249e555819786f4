"""Issue 11, item 8 (host paths): nothing a VP can read of its processes and mounts names a
host path: not its state or run directory (the overlay's layers), not the daemon's files
(cell-init, cellsd), not the repository it was built in."""

import subprocess
import time

import pytest

from conftest import ROOT

SCAN = r"""
for p in /proc/[0-9]* /proc/self /proc/thread-self; do
  for l in exe cwd root; do readlink $p/$l 2>/dev/null; done
  for f in maps environ mountinfo mounts cmdline; do
    cat $p/$f 2>/dev/null | tr '\0' '\n'
  done
  for t in $p/task/*; do cat $t/maps $t/mountinfo 2>/dev/null; done
done
true
"""


def leaks(d, text):
    markers = {str(d.base), str(d.state), str(d.run), str(ROOT), "/vps/"}
    return sorted({line for line in text.splitlines() for m in markers if m in line})


@pytest.mark.parametrize("disk", ["96M", "none"])
def test_a_vp_sees_no_host_path(make_daemon, disk):
    d = make_daemon()
    d.create_start("v", disk=disk)
    # Another exec in flight: its supervisor (a process of cellsd's) is in the VP too.
    other = subprocess.Popen([str(d.cell_bin), "--run", str(d.run), "exec", "v", "--",
                              "sleep", "30"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while "sleep" not in d.sh("v", "cat /proc/[0-9]*/comm 2>/dev/null; true").stdout:
            assert time.monotonic() < deadline, "the second exec did not start"
            time.sleep(0.05)
        seen = d.sh("v", SCAN).stdout
    finally:
        other.kill()
        other.wait()
    assert "overlay" in seen and "cell-init" in seen, seen[-2000:]
    assert not leaks(d, seen), leaks(d, seen)
    assert d.exec("v", "readlink", "/proc/1/exe").stdout == "/memfd:cell-init (deleted)\n"
    # The copy cell-init runs from is sealed: not even the VP's root changes it.
    r = d.sh("v", "echo x >> /proc/1/exe", check=False)
    assert r.returncode != 0
