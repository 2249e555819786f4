"""Isolation between two running VPs and the host (issue 2, "Tests")."""

import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import UID_RANGE, ns_of, pid_alive, proc_status


@pytest.fixture
def two(daemon):
    daemon.create_start("alpha", "beta")
    return daemon


def host_pids_by_cmdline(needle):
    out = []
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open(f"/proc/{e}/cmdline", "rb") as f:
                    if f.read().replace(b"\0", b" ").strip() == needle.encode():
                        out.append(int(e))
            except OSError:
                pass
    return out


def background(d, vp, cmd):
    """Starts CMD in the background inside VP (detached from the exec's pipes)."""
    d.sh(vp, f"{cmd} >/dev/null 2>&1 </dev/null &")


def wait_host_pid(needle, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = host_pids_by_cmdline(needle)
        if pids:
            return pids[0]
        time.sleep(0.05)
    raise AssertionError(f"no process '{needle}' seen on the host")


def test_each_vp_sees_only_its_own_processes(two, host_sleep):
    d = two
    host = host_sleep(313)
    background(d, "alpha", "sleep 4141")
    background(d, "beta", "sleep 4242")
    for vp, mine, theirs in (("alpha", "4141", "4242"), ("beta", "4242", "4141")):
        assert d.exec(vp, "cat", "/proc/1/comm").stdout.strip() == "cell-init"
        assert d.exec(vp, "cat", "/proc/1/cmdline").stdout.split("\0")[0].endswith(
            "cell-init")
        cmdlines = d.sh(vp, "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; "
                            "echo; done").stdout
        assert f"sleep {mine}" in cmdlines
        assert f"sleep {theirs}" not in cmdlines, f"{vp} sees the other VP's process"
        assert "sleep 313" not in cmdlines, f"{vp} sees a host process"
        assert "cellsd" not in cmdlines, f"{vp} sees cellsd"
        pids = [int(p) for p in d.sh(vp, "ls /proc | grep -E '^[0-9]+$'").stdout.split()]
        assert 1 in pids and len(pids) < 20, pids
        assert host.pid not in pids or host.pid < 20
        ps = d.exec(vp, "ps").stdout
        assert re.search(r"^\s*1\s+\S+\s+.*cell-init", ps, re.M), ps
    # Different pid namespaces, none of them the host's.
    a, b = d.vp("alpha")["pid"], d.vp("beta")["pid"]
    for kind in ("pid", "mnt", "uts", "ipc", "net", "user", "cgroup", "time"):
        na, nb, nh = ns_of(a, kind), ns_of(b, kind), ns_of(os.getpid(), kind)
        assert na and nb and na != nb and na != nh and nb != nh, (kind, na, nb, nh)


def test_exec_runs_in_the_vps_namespaces_and_cgroup(two):
    d = two
    background(d, "alpha", "sleep 4343")
    pid = wait_host_pid("sleep 4343")
    init = d.vp("alpha")["pid"]
    for kind in ("pid", "mnt", "uts", "ipc", "net", "user", "cgroup", "time"):
        assert ns_of(pid, kind) == ns_of(init, kind), kind
    cg = open(f"/proc/{pid}/cgroup").read()
    for ctrl in ("memory", "pids", "freezer"):
        assert re.search(rf"\b{ctrl}\b[^:]*:/{d.cgroup_parent}/alpha\s*$", cg, re.M), cg
    st = proc_status(pid)
    assert st["NoNewPrivs"] == "1", st
    assert st["Seccomp"] == "2", st
    assert int(st["CapBnd"], 16) != int(proc_status(os.getpid())["CapBnd"], 16)


def test_hostnames(two):
    d = two
    host = socket.gethostname()
    assert d.exec("alpha", "hostname").stdout.strip() == "alpha"
    assert d.exec("beta", "cat", "/proc/sys/kernel/hostname").stdout.strip() == "beta"
    # A VP may rename itself; nobody else sees it.
    d.exec("alpha", "hostname", "renamed", check=False)
    assert socket.gethostname() == host
    assert open("/proc/sys/kernel/hostname").read().strip() == host
    assert d.exec("beta", "hostname").stdout.strip() == "beta"


def test_each_vp_has_its_own_files(two):
    d = two
    d.sh("alpha", "echo secret-alpha > /root/only-alpha; echo data > /data/a.txt; "
                  "echo changed > /etc/hostname; rm /etc/os-release")
    # Absent in the other VP ...
    for path in ("/root/only-alpha", "/data/a.txt"):
        assert d.exec("beta", "cat", path, check=False).returncode != 0, path
    assert d.exec("beta", "cat", "/etc/hostname").stdout == "beta\n"
    assert d.exec("beta", "cat", "/etc/os-release").returncode == 0
    # ... and in the base image ...
    assert not (d.rootfs / "root" / "only-alpha").exists()
    assert not (d.rootfs / "data" / "a.txt").exists()
    assert (d.rootfs / "etc" / "hostname").read_text() == "localhost\n"
    assert (d.rootfs / "etc" / "os-release").exists()
    # ... and present in alpha's upper layer, owned by alpha's host uid.
    alpha_uid = d.vp_uid(d.vp("alpha")["id"])
    f = d.upper("alpha") / "root" / "only-alpha"
    assert f.read_text() == "secret-alpha\n"
    assert os.stat(f).st_uid == alpha_uid and os.stat(f).st_gid == alpha_uid
    assert (d.upper("alpha") / "etc" / "hostname").read_text() == "changed\n"
    assert not (d.upper("beta") / "root" / "only-alpha").exists()
    # alpha still sees its own changes.
    assert d.exec("alpha", "cat", "/root/only-alpha").stdout == "secret-alpha\n"
    assert d.exec("alpha", "cat", "/etc/os-release", check=False).returncode != 0


def test_the_image_is_seen_root_owned(two):
    d = two
    out = d.exec("alpha", "ls", "-ln", "/bin/busybox", "/etc/passwd").stdout
    for line in out.splitlines():
        assert line.split()[2:4] == ["0", "0"], out
    assert os.stat(d.rootfs / "bin" / "busybox").st_uid == 0


def test_root_inside_is_not_root_outside(two):
    d = two
    for vp in ("alpha", "beta"):
        vp_uid = d.vp_uid(d.vp(vp)["id"])
        init = d.vp(vp)["pid"]
        for kind in ("uid_map", "gid_map"):
            # Seen from the host, the VP's 65536 ids are the host's vp_uid onwards.
            with open(f"/proc/{init}/{kind}") as f:
                fields = f.read().split()
            assert fields == ["0", str(vp_uid), str(UID_RANGE)], (vp, kind, fields)
            # Seen from inside, the VP runs in a nested user namespace mapped one to one
            # onto the outer one (which is what locks its mounts): no more ids than that.
            fields = d.exec(vp, "cat", f"/proc/self/{kind}").stdout.split()
            assert fields == ["0", "0", str(UID_RANGE)], (vp, kind, fields)
        assert d.exec(vp, "id", "-u").stdout.strip() == "0"
        uids = proc_status(init)["Uid"].split()
        assert uids == [str(vp_uid)] * 4, (vp, uids)
    a, b = (d.vp_uid(d.vp(n)["id"]) for n in ("alpha", "beta"))
    assert abs(a - b) >= UID_RANGE, "two VPs share host uids"
    # A process started by exec runs as the VP's uid on the host, too.
    background(d, "beta", "sleep 4444")
    pid = wait_host_pid("sleep 4444")
    assert proc_status(pid)["Uid"].split() == [str(b)] * 4


def test_host_root_only_file_stays_unreadable(daemon):
    """A file owned by host root, mode 0600, placed in a VP's own upper layer: the VP's
    root cannot read, change or take it."""
    d = daemon
    d.cell("create", "v")
    upper = d.upper("v")
    upper.mkdir(parents=True, exist_ok=True)
    secret = upper / "host-secret"
    secret.write_text("top secret\n")
    os.chown(secret, 0, 0)
    os.chmod(secret, 0o600)
    d.cell("start", "v")
    r = d.exec("v", "cat", "/host-secret", check=False)
    assert r.returncode != 0 and "top secret" not in r.stdout, r
    owner = d.exec("v", "stat", "-c", "%u", "/host-secret").stdout.strip()
    assert owner == "65534", f"host root shows as uid {owner} inside"
    for cmd in ("chmod 644 /host-secret", "chown 0 /host-secret",
                "echo x >> /host-secret", "cp /host-secret /tmp/x"):
        r = d.sh("v", cmd, check=False)
        assert r.returncode != 0, f"`{cmd}` worked on a host-root file: {r}"
    st = os.stat(secret)
    assert (st.st_uid, st.st_mode & 0o777) == (0, 0o600)
    assert secret.read_text() == "top secret\n"


def test_proc_and_sys_are_read_only(two):
    d = two
    for path in ("/proc/sys/kernel/hostname", "/proc/sys/vm/overcommit_ratio",
                 "/sys/kernel/mm/ksm/run"):
        r = d.sh("alpha", f"cat {path} > /tmp/v && cat /tmp/v > {path}", check=False)
        assert r.returncode != 0, f"{path} writable in a VP"
    r = d.sh("alpha", "touch /sys/x /proc/x", check=False)
    assert r.returncode != 0


def test_proc_cannot_be_made_writable(two):
    """/proc and /sys read-only means the VP's root cannot flip them to read-write."""
    d = two
    r = d.sh("alpha", "mount -o remount,rw /proc 2>&1; mount -o remount,rw /sys 2>&1; "
                      "grep -E ' /(proc|sys) ' /proc/self/mountinfo", check=False)
    for line in r.stdout.splitlines():
        if re.search(r" /(proc|sys) ", line):
            opts = line.split()[5].split(",")
            assert "ro" in opts, f"made read-write from inside the VP: {line}"
    r = d.sh("alpha", "mkdir -p /tmp/p && mount -t proc proc /tmp/p && "
                      "grep ' /tmp/p ' /proc/self/mountinfo", check=False)
    if r.returncode == 0:
        opts = r.stdout.split()[5].split(",")
        assert "ro" in opts, f"a fresh read-write proc could be mounted: {r.stdout}"
    # What covers /dev cannot be taken away to reveal what is under it.
    r = d.sh("alpha", "umount /dev/null", check=False)
    assert r.returncode != 0, "umount /dev/null succeeded inside the VP"


def test_host_sysctls_stay_unwritable(two):
    """Whatever the VP does with its mounts, a host-wide sysctl stays out of reach. The
    value written is the current one, so a failure of this test changes nothing."""
    d = two
    value = open("/proc/sys/vm/overcommit_ratio").read().strip()
    r = d.sh("alpha", "mkdir -p /tmp/p; mount -o remount,rw /proc 2>/dev/null; "
                      "mount -t proc proc /tmp/p 2>/dev/null; "
                      f"echo {value} > /proc/sys/vm/overcommit_ratio && echo W1; "
                      f"echo {value} > /tmp/p/sys/vm/overcommit_ratio && echo W2; true",
             check=False)
    assert "W1" not in r.stdout and "W2" not in r.stdout, r


def test_mknod_of_devices_fails(two):
    d = two
    for spec in ("c 1 3", "b 8 0", "c 10 200", "b 7 0"):
        r = d.sh("alpha", f"mknod /tmp/dev-x {spec}", check=False)
        assert r.returncode != 0, f"mknod {spec} worked"
        assert d.sh("alpha", "test -e /tmp/dev-x", check=False).returncode != 0
        r = d.sh("alpha", f"mknod /root/dev-y {spec}", check=False)
        assert r.returncode != 0, f"mknod {spec} on the overlay worked"
    assert not (d.upper("alpha") / "root" / "dev-y").exists()
    # Not a blanket refusal of mknod: a FIFO is fine.
    assert d.sh("alpha", "mknod /tmp/fifo p && test -p /tmp/fifo").returncode == 0


def test_mounting_block_devices_fails(two):
    d = two
    mkfs = shutil.which("mkfs.ext4")
    if mkfs:
        img = d.base / "ext4.img"
        with open(img, "wb") as f:
            f.truncate(8 << 20)
        subprocess.run([mkfs, "-q", "-F", str(img)], check=True, capture_output=True)
        # Give it to alpha, as if alpha had made it.
        d.cell("stop", "alpha")
        target = d.upper("alpha") / "disk.img"
        shutil.copy(img, target)
        uid = d.vp_uid(d.vp("alpha")["id"])
        os.chown(target, uid, uid)
        d.cell("start", "alpha")
    cmds = ["mount -t ext4 /dev/zero /tmp/m", "mount /dev/vda /tmp/m",
            "mount -t ext4 /dev/vda /tmp/m", "mount -t ext4 /dev/sda /tmp/m"]
    if mkfs:
        cmds += ["mount -t ext4 /disk.img /tmp/m", "mount -o loop /disk.img /tmp/m",
                 "losetup -f /disk.img"]
    for cmd in cmds:
        r = d.sh("alpha", f"mkdir -p /tmp/m; {cmd}", check=False)
        assert r.returncode != 0, f"`{cmd}` worked inside a VP"
        mounted = d.sh("alpha", "grep ' /tmp/m ' /proc/self/mountinfo", check=False)
        assert mounted.stdout == "", mounted.stdout
    # No loop or block device is even there.
    r = d.sh("alpha", "ls /dev/loop* /dev/loop-control /dev/vda /dev/sda 2>/dev/null",
             check=False)
    assert r.stdout.strip() == ""
    listing = d.exec("alpha", "ls", "-A", "/dev").stdout.split()
    allowed = {"null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm",
               "console", "fd", "stdin", "stdout", "stderr", "core", "mqueue",
               "fb0",  # the VP's virtual display: a regular file of cellsd's
               "input",  # its touchscreen and keys: a FUSE file system of cellsd's
               "tty0", "tty1"}  # its VT: ptys of a devpts instance of its own
    assert set(listing) <= allowed, set(listing) - allowed
    # Mounting as such is allowed (the image's rc mounts tmpfs): only devices are refused.
    assert d.sh("alpha", "mkdir -p /tmp/t && mount -t tmpfs t /tmp/t").returncode == 0


def test_signals_cannot_reach_outside(two, host_sleep):
    d = two
    host = host_sleep(300)
    beta_init = d.vp("beta")["pid"]
    alpha_init = d.vp("alpha")["pid"]
    background(d, "beta", "sleep 4545")
    beta_sleep = wait_host_pid("sleep 4545")
    cellsd = d.proc.pid
    for pid in (host.pid, beta_init, cellsd, os.getpid()):
        r = d.sh("alpha", f"kill -9 {pid}", check=False)
        assert r.returncode != 0, f"kill -9 {pid} from inside a VP worked"
    d.sh("alpha", "kill -9 -1; true", check=False)
    time.sleep(0.3)
    assert host.poll() is None, "a host process was killed from inside a VP"
    assert d.running, "cellsd was killed from inside a VP"
    assert pid_alive(beta_init) and pid_alive(beta_sleep), "beta was hit by alpha's kill -1"
    assert d.vp("beta")["state"] == "running"
    assert d.exec("beta", "true").returncode == 0
    # alpha's own init survives its kill -1 too.
    assert d.vp("alpha")["state"] == "running" and d.vp("alpha")["pid"] == alpha_init
    assert d.exec("alpha", "true").returncode == 0


def test_control_socket_not_reachable_from_inside(two):
    d = two
    for path in (d.run, d.sock, d.state, d.base):
        r = d.sh("alpha", f"ls {path}", check=False)
        assert r.returncode != 0, f"{path} is visible inside a VP: {r.stdout}"
    r = d.sh("alpha", f"test -S {d.sock} || test -e {d.sock}", check=False)
    assert r.returncode != 0
    # No other way to a cellsd socket either: none among the VP's unix sockets.
    r = d.sh("alpha", "cat /proc/net/unix", check=False)
    assert "cellsd" not in r.stdout
