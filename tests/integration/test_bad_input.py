"""Bad input gets a clear error, and nothing is lost (issue 2, "What bad input gets")."""

import json
import os
import subprocess
import sys

import pytest

from conftest import Daemon, make_base, read_line, wait_pid_gone


def snapshot(d):
    """What must not change when a request is refused: the listing and the files."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(d.state / "vps"):
        for f in filenames:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                files[p] = fh.read()
        for dn in dirnames:
            files[os.path.join(dirpath, dn)] = "dir"
    vps = d.list()
    for vp in vps.values():
        vp.pop("pid", None)
    return vps, files


BAD_NAMES = ["../x", "", "x" * 33, "w\u00f6rk", "-x", "a/b", "..", ".", ".hidden", "a b",
             "a\nb", "\u00e9", "x;rm", "*"]


def test_invalid_vp_names_are_refused(daemon):
    d = daemon
    d.cell("create", "keep")
    before = snapshot(d)
    outside = set(os.listdir(d.state))
    for name in BAD_NAMES:
        # `--` so that names that look like options reach the daemon.
        err = d.fail("create", "--", name)
        assert "name" in err.lower(), f"unclear error for {name!r}: {err}"
        for cmd in ("start", "stop", "destroy", "switch"):
            d.fail(cmd, "--", name)
        d.fail("exec", "--", name, "--", "true", status=(1, 125))
    # The same through the raw protocol, where no option parser stands in the way.
    for name in BAD_NAMES + ["-x"]:
        for cmd in ("create", "start", "stop", "destroy", "switch"):
            reply = d.request({"cmd": cmd, "name": name})
            assert reply["ok"] is False and reply.get("error"), (cmd, name, reply)
    assert snapshot(d) == before
    assert set(os.listdir(d.state)) == outside, "something was created beside vps/"
    assert not (d.state / "x").exists() and not (d.state / "vps" / "..x").exists()
    # The limits themselves are fine: 32 characters, and the other allowed characters.
    d.cell("create", "x" * 32)
    d.cell("create", "Ab9_.-z")
    assert {"keep", "x" * 32, "Ab9_.-z"} == set(d.list())


def test_option_looking_name_is_a_usage_error(daemon):
    # Without `--`, `-x` is an unknown option: a usage error, nothing created.
    r = daemon.cell("create", "-x", check=False)
    assert r.returncode == 2, r
    assert r.stderr.strip()
    assert daemon.list() == {}


def test_names_that_climb_out_cannot_touch_other_state(daemon):
    d = daemon
    d.cell("create", "victim")
    before = snapshot(d)
    image_files = sorted(os.listdir(d.rootfs))
    for name in ("..", "../images", "../images/minimal", "../vps/victim", "victim/..",
                 "victim/../victim"):
        d.fail("destroy", "--force", "--", name)
        reply = d.request({"cmd": "destroy", "name": name, "force": True})
        assert reply["ok"] is False, (name, reply)
    assert snapshot(d) == before
    assert sorted(os.listdir(d.rootfs)) == image_files


def test_duplicate_name(daemon):
    d = daemon
    d.cell("create", "dup", "--memory", "128M")
    config = d.config_path("dup").read_bytes()
    before = snapshot(d)
    err = d.fail("create", "dup", "--memory", "64M")
    assert "dup" in err and "exist" in err.lower(), err
    assert d.config_path("dup").read_bytes() == config
    assert snapshot(d) == before
    assert d.vp("dup")["memory"] == 128 << 20
    # Also while it runs.
    d.cell("start", "dup")
    pid = d.vp("dup")["pid"]
    d.fail("create", "dup")
    assert d.vp("dup")["state"] == "running" and d.vp("dup")["pid"] == pid


def test_unknown_image(daemon):
    d = daemon
    before = snapshot(d)
    for image in ("nosuch", "../images/minimal", "minimal/..", "/", ""):
        err = d.fail("create", "v", "--image", image)
        assert "image" in err.lower(), err
    assert snapshot(d) == before
    assert not (d.state / "vps" / "v").exists()
    d.fail("image", "build", "nosuch")
    d.fail("image", "build", "../x")
    d.fail("image", "import", "../x", str(d.rootfs))
    d.fail("image", "import", "other", "/nonexistent/dir")
    listed = d.cell("image", "list").stdout
    assert "minimal" in listed and "nosuch" not in listed and "other" not in listed


def test_bad_option_values(daemon):
    d = daemon
    before = snapshot(d)
    for opts in (["--memory", "lots"], ["--memory", "-5M"], ["--memory", "12Q"],
                 ["--memory", "99999999999999999999999"], ["--pids", "-1"],
                 ["--pids", "many"], ["--cpu", "fast"], ["--uplink", "carrier/pigeon"],
                 ["--background", "sometimes"], ["--device", "display=maybe"],
                 ["--device", "toaster=shared"], ["--device", "display"],
                 ["--number", "12a"], ["--pids", "3"], ["--memory", "1k"]):
        d.fail("create", "v", *opts)
    assert snapshot(d) == before


def test_errors_stay_one_line_with_control_characters_in_input(daemon):
    """An error that quotes what the user typed must still be one line."""
    d = daemon
    before = snapshot(d)
    for opts in (["--number", "12\n34"], ["--uplink", "wlan\nx"], ["--image", "mini\nmal"],
                 ["--device", "display=shared\nx"], ["--memory", "1\n2"]):
        d.fail("create", "v", *opts)
    assert snapshot(d) == before


# Bad command lines: each is refused by `cell` itself (exit 2) with exactly this one line.
BAD_CLI = [
    (["frobnicate"], "unknown command 'frobnicate' (see cell help)"),
    (["--bogus", "list"], "unknown option '--bogus' (see cell help)"),
    (["--run"], "--run wants a directory (see cell help)"),
    (["list", "--run"], "--run wants a directory (see cell help)"),
    (["--run="], "--run wants a directory (see cell help)"),
    (["help", "nosuch"], "no command 'nosuch' (see cell help)"),
    (["help", "a", "b"], "help wants at most one COMMAND, not 2 arguments (see cell help help)"),
    (["create"], "create wants exactly one NAME (see cell help create)"),
    (["create", "a", "b"], "create wants exactly one NAME, not 2 arguments (see cell help create)"),
    (["create", "a", "--bogus"],
     "unknown option '--bogus', or a device's setting without its value (see cell help create)"),
    (["create", "x", "-x"], "unknown option '-x' (see cell help create)"),
    (["create", "a", "--memory"], "option '--memory' wants a value (see cell help create)"),
    (["create", "a", "--autostart=yes"],
     "unknown option '--autostart' (see cell help create)"),
    (["start"], "start wants exactly one NAME (see cell help start)"),
    (["start", "u", "extra"], "start wants exactly one NAME, not 2 arguments (see cell help start)"),
    (["start", "v", "--bogus"], "unknown option '--bogus' (see cell help start)"),
    (["start", "u", "--force"], "unknown option '--force' (see cell help start)"),
    (["stop", "u", "--timeout", "soon"],
     "--timeout wants 0..3600 seconds, not 'soon' (see cell help stop)"),
    (["stop", "u", "--timeout", "-1"],
     "--timeout wants 0..3600 seconds, not '-1' (see cell help stop)"),
    (["stop", "u", "--timeout"], "option '--timeout' wants a value (see cell help stop)"),
    (["stop", "u", "--force"], "unknown option '--force' (see cell help stop)"),
    (["destroy", "u", "--timeout", "3"], "unknown option '--timeout' (see cell help destroy)"),
    (["destroy"], "destroy wants exactly one NAME (see cell help destroy)"),
    (["switch"], "switch wants exactly one NAME (see cell help switch)"),
    (["switch", "u", "-f"], "unknown option '-f' (see cell help switch)"),
    (["list", "extra"], "list wants no argument but --json, not 1 argument (see cell help list)"),
    (["list", "--bogus"], "unknown option '--bogus' (see cell help list)"),
    (["active", "x"], "active wants no argument, not 1 argument (see cell help active)"),
    (["next", "x"], "next wants no argument, not 1 argument (see cell help next)"),
    (["prev", "--json"], "unknown option '--json' (see cell help prev)"),
    (["exec", "u"], "exec wants NAME -- CMD [ARG]... (see cell help exec)"),
    (["exec", "u", "--"], "exec wants a command after NAME -- (see cell help exec)"),
    (["exec", "-x", "u", "--", "true"], "unknown option '-x' (see cell help exec)"),
    (["console"], "console wants exactly one NAME (see cell help console)"),
    (["console", "u", "-x"], "unknown option '-x' (see cell help console)"),
    (["logs"], "logs wants exactly one NAME (see cell help logs)"),
    (["logs", "u", "v"], "logs wants exactly one NAME, not 2 arguments (see cell help logs)"),
    (["logs", "u", "--tail"], "unknown option '--tail' (see cell help logs)"),
    (["stats", "a", "b"], "stats wants at most one NAME, not 2 arguments (see cell help stats)"),
    (["stats", "--jsonx"], "unknown option '--jsonx' (see cell help stats)"),
    (["events", "x"], "events wants no argument, not 1 argument (see cell help events)"),
    (["screenshot"], "screenshot wants exactly one FILE.png (see cell help screenshot)"),
    (["screenshot", "a.png", "b.png"],
     "screenshot wants exactly one FILE.png, not 2 arguments (see cell help screenshot)"),
    (["image"], "image wants build, list, import or rm (see cell help image)"),
    (["image", "nosuch"],
     "image has no command 'nosuch': build, list, import or rm (see cell help image)"),
    (["image", "import"], "image import wants NAME and DIR|TARBALL (see cell help image)"),
    (["image", "import", "x"],
     "image import wants NAME and DIR|TARBALL, not 1 argument (see cell help image)"),
    (["image", "build", "a", "b"],
     "image build wants at most one NAME, not 2 arguments (see cell help image)"),
    (["image", "list", "x"], "image list wants no argument, not 1 argument (see cell help image)"),
    (["image", "rm"], "image rm wants exactly one NAME (see cell help image)"),
    (["image", "rm", "--force", "x"], "unknown option '--force' (see cell help image)"),
]


def test_cli_usage_errors_exit_2(daemon):
    d = daemon
    d.create_start("u")
    for args, line in BAD_CLI:
        r = d.cell(*args, check=False)
        assert r.returncode == 2, f"expected a usage error (2) for {args}: " + repr(r)
        assert r.stderr == f"cell: {line}\n", args
        assert r.stdout == "", args
    # None of them reached the daemon: the VP is untouched.
    assert d.vp("u")["state"] == "running"
    r = subprocess.run([str(d.argv()[0]), "--bogus"], capture_output=True, text=True)
    assert r.returncode != 0 and r.stderr.strip()


def test_start_running_stop_stopped_destroy_running(daemon, host_sleep):
    d = daemon
    d.cell("create", "v")
    err = d.fail("stop", "v")
    assert "not running" in err, err
    d.cell("start", "v")
    pid = d.vp("v")["pid"]
    err = d.fail("start", "v")
    assert "running" in err, err
    assert d.vp("v")["pid"] == pid
    d.sh("v", "echo data > /root/file")
    err = d.fail("destroy", "v")
    assert "running" in err and "force" in err, err
    assert d.vp("v")["state"] == "running" and d.vp("v")["pid"] == pid
    assert d.exec("v", "cat", "/root/file").stdout == "data\n"
    d.cell("stop", "v")
    err = d.fail("stop", "v")
    assert "not running" in err, err
    d.cell("start", "v")
    pid = d.vp("v")["pid"]
    d.cell("destroy", "v", "--force")
    assert "v" not in d.list()
    assert not (d.state / "vps" / "v").exists()
    assert not d.vp_cgroup_dirs("v")
    assert wait_pid_gone(pid), "init of a force-destroyed VP still runs"
    for cmd in ("start", "stop", "destroy"):
        err = d.fail(cmd, "v")
        assert "v" in err, err
    # The name can be used again, for a fresh VP without the old files.
    d.cell("create", "v")
    d.cell("start", "v")
    assert d.exec("v", "cat", "/root/file", check=False).returncode != 0


@pytest.mark.parametrize("damage", ["malformed", "truncated", "empty", "wrong-types",
                                    "not-object", "name-mismatch", "missing"])
def test_damaged_config_is_reported_not_lost(daemon, damage):
    d = daemon
    d.cell("create", "bad", "--memory", "96M")
    d.cell("create", "good", "--restart", "no")
    d.cell("start", "bad")
    d.sh("bad", "echo precious > /root/precious")
    d.cell("stop", "bad")
    d.cell("start", "good")
    d.sh("good", "echo fine > /root/fine")
    original = d.config_path("bad").read_bytes()
    good_config = d.config_path("good").read_bytes()
    d.stop()
    parsed = json.loads(original)
    if damage == "malformed":
        text = original.replace(b":", b"=", 1)
    elif damage == "truncated":
        text = original[: len(original) // 2]
    elif damage == "empty":
        text = b""
    elif damage == "wrong-types":
        parsed["memory"] = "a lot"
        parsed["id"] = "seven"
        text = json.dumps(parsed).encode()
    elif damage == "not-object":
        text = b"[1, 2, 3]\n"
    elif damage == "name-mismatch":
        parsed["name"] = "good"
        text = json.dumps(parsed).encode()
    else:
        text = None
    if text is None:
        d.config_path("bad").unlink()
    else:
        d.config_path("bad").write_bytes(text)
    d.start()
    vps = d.list()
    assert set(vps) == {"bad", "good"}, vps
    assert vps["bad"]["state"] == "broken", vps["bad"]
    reason = vps["bad"].get("error")
    assert reason and "config" in reason.lower(), f"unclear reason: {vps['bad']}"
    text_list = d.cell("list").stdout
    assert "broken" in text_list and "error" in text_list, text_list
    err = d.fail("start", "bad")
    assert "bad" in err and len(err) > len("cell: bad"), err
    assert d.vp("bad")["state"] == "broken"
    # Nothing of it was deleted or rewritten.
    if text is None:
        assert not d.config_path("bad").exists()
    else:
        assert d.config_path("bad").read_bytes() == text
    assert (d.upper("bad") / "root" / "precious").read_text() == "precious\n"
    # The other VP is fine.
    assert vps["good"]["state"] == "stopped" and "error" not in vps["good"]
    assert d.config_path("good").read_bytes() == good_config
    d.cell("start", "good")
    assert d.exec("good", "cat", "/root/fine").stdout == "fine\n"
    # A new VP does not take the broken one's name.
    d.fail("create", "bad")
    # Repaired, it comes back with its files.
    d.stop()
    d.config_path("bad").write_bytes(original)
    d.start()
    assert d.state_of("bad") == "stopped"
    d.cell("start", "bad")
    assert d.exec("bad", "cat", "/root/precious").stdout == "precious\n"
    assert d.vp("bad")["memory"] == 96 << 20


def test_raw_protocol_garbage(daemon):
    d = daemon
    d.create_start("v")
    with d.connect() as s:
        cases = [
            b"{not json\n",
            b"[1, 2]\n",
            b"42\n",
            b'"list"\n',
            b"null\n",
            b"{}\n",
            b'{"cmd": 5}\n',
            b'{"cmd": null}\n',
            b'{"cmd": "frobnicate"}\n',
            b'{"cmd": "' + b"z" * 5000 + b'"}\n',
            b'{"cmd": "create"}\n',
            b'{"cmd": "create", "name": 5}\n',
            b'{"cmd": "create", "name": ["a"]}\n',
            b'{"cmd": "create", "name": "n", "options": "big"}\n',
            b'{"cmd": "create", "name": "n", "options": {"memory": 5}}\n',
            b'{"cmd": "create", "name": "n", "devices": {"display": "none"}}\n',
            b'{"cmd": "create", "name": "a\\u0000b"}\n',
            b'{"cmd": "stop", "name": "v", "timeout": "soon"}\n',
            b'{"cmd": "stop", "name": "v", "timeout": -3}\n',
            b'{"cmd": "exec", "name": "v", "argv": [5]}\n',
            b'{"cmd": "exec", "name": "v", "argv": []}\n',
            b'{"cmd": "exec", "name": "v"}\n',
            b'{"cmd": "stats", "name": "nosuch"}\n',
            b'{"cmd": "switch", "name": "nosuch"}\n',
            b'{"cmd": "image.import", "name": "x"}\n',
            b"\xff\xfe\x00\x01garbage\n",
            b'{"cmd": "list"} trailing\n',
        ]
        for raw in cases:
            s.sendall(raw)
            reply = json.loads(read_line(s))
            assert not s.pending, f"more than one answer to {raw[:80]!r}: {reply} {s.pending!r}"
            assert reply.get("ok") is False, (raw[:80], reply)
            assert isinstance(reply.get("error"), str) and reply["error"], (raw[:80], reply)
            if raw.startswith(b'{"cmd": "z'):
                assert len(reply["error"]) < 1000, "the error echoes a huge command"
        # Still serving on the same connection.
        s.sendall(b'{"cmd": "list"}\n')
        reply = json.loads(read_line(s))
        assert reply["ok"] is True and [vp["name"] for vp in reply["vps"]] == ["v"]
        # Pipelined requests are all answered, in order.
        s.sendall(b'{"cmd": "ping"}\n' * 50)
        for _ in range(50):
            assert json.loads(read_line(s))["ok"] is True
    assert d.list().keys() == {"v"}
    assert d.vp("v")["state"] == "running"
    assert not (d.state / "vps" / "n").exists()


def test_over_long_request_line(daemon):
    d = daemon
    d.create_start("v")
    with d.connect(timeout=10) as s:
        payload = b'{"cmd": "list", "pad": "' + b"x" * (1 << 20) + b'"}\n'
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon may hang up before reading it all
        try:
            reply = json.loads(read_line(s))
            assert reply["ok"] is False and "long" in reply["error"], reply
        except (EOFError, ConnectionResetError):
            pass  # closing the connection is a fine answer too
    # A line that stops in the middle, and a client that goes away.
    s = d.connect()
    s.sendall(b'{"cmd": "li')
    s.close()
    d.connect().close()
    assert d.running
    assert d.vp("v")["state"] == "running"
    assert d.exec("v", "true").returncode == 0


def test_many_clients_at_once(daemon):
    d = daemon
    conns = [d.connect() for _ in range(100)]
    try:
        for s in conns:
            s.sendall(b'{"cmd": "ping"}\n')
        for s in conns:
            assert json.loads(read_line(s))["ok"] is True
    finally:
        for s in conns:
            s.close()
    assert d.cell("list").returncode == 0


NON_ROOT_CLIENT = r"""
import os, socket, sys
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("CONNECT-FAILED", e.errno)
    sys.exit(0)
try:
    s.sendall(b'{"cmd": "create", "name": "intruder"}\n{"cmd": "list"}\n')
except OSError:
    pass
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError as e:
    print("RECV-ERROR", e.errno)
print("DATA", data.decode(errors="replace").replace("\n", "|"))
"""


def test_socket_mode_and_non_root_peer(daemon):
    d = daemon
    st = os.stat(d.sock)
    assert oct(st.st_mode & 0o777) == oct(0o600) and st.st_uid == 0
    # As it is, nobody cannot even connect.
    r = subprocess.run([sys.executable, "-c", NON_ROOT_CLIENT, str(d.sock)],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    assert "CONNECT-FAILED" in r.stdout, r.stdout
    # Opened up by mistake: the daemon still refuses a peer that is not root.
    os.chmod(d.sock, 0o666)
    try:
        r = subprocess.run([sys.executable, "-c", NON_ROOT_CLIENT, str(d.sock)],
                           capture_output=True, text=True, timeout=20)
    finally:
        os.chmod(d.sock, 0o600)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "CONNECT-FAILED" not in out, out
    assert '"ok": true' not in out.replace('"ok":true', '"ok": true'), out
    data = out.split("DATA ", 1)[1] if "DATA " in out else ""
    for line in filter(None, (x.strip() for x in data.split("|"))):
        assert json.loads(line)["ok"] is False, out
    assert "intruder" not in d.list()
    assert not (d.state / "vps" / "intruder").exists()
    # The daemon keeps serving root.
    assert d.request({"cmd": "ping"})["ok"] is True


def test_second_daemon_on_same_dirs_is_refused(daemon):
    d = daemon
    d.create_start("v")
    r = subprocess.run(d.argv(), capture_output=True, text=True, timeout=20)
    assert r.returncode != 0, "a second cellsd ran on the same directories"
    assert r.stderr.strip()
    assert d.running
    assert d.request({"cmd": "ping"})["ok"] is True
    assert d.vp("v")["state"] == "running"
    assert d.exec("v", "true").returncode == 0


def test_daemon_refuses_unsearchable_run_parent():
    base = make_base()
    try:
        os.chmod(base, 0o700)
        d = Daemon(base)
        with pytest.raises(AssertionError) as e:
            d.start(timeout=10)
        assert "searchable" in str(e.value) or "o+x" in str(e.value), str(e.value)
        assert not d.running
    finally:
        if d.running:
            d.kill9()
        os.chmod(base, 0o755)
        import shutil
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def small_tmpfs():
    """A 48 MiB tmpfs mounted outside any daemon's directories; unmounted after."""
    point = make_base()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m,mode=0755", "cells-test",
                    str(point)], check=True)
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)
        os.rmdir(point)


def test_disk_full_while_writing_a_config(make_daemon, small_tmpfs):
    d = make_daemon(state=small_tmpfs / "state")
    try:
        d.cell("create", "first", "--memory", "80M", "--pids", "300")
        d.cell("start", "first")
        d.sh("first", "echo kept > /root/kept")
        d.cell("stop", "first")
        config = d.config_path("first").read_bytes()
        before = d.vp("first")
        # Fill the file system to the last block.
        filler = small_tmpfs / "filler"
        r = subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"],
                           capture_output=True, text=True)
        assert "No space left" in r.stderr, r.stderr
        # Also use up what the last partial block left.
        try:
            with open(small_tmpfs / "filler2", "wb") as f:
                while True:
                    f.write(b"\0" * 512)
                    f.flush()
        except OSError:
            pass
        err = d.fail("create", "second", "--memory", "64M")
        assert "space" in err.lower() or "ENOSPC" in err, f"unclear error: {err}"
        assert set(d.list()) == {"first"}
        assert not (d.state / "vps" / "second").exists(), "half-made VP left behind"
        leftovers = [n for n in os.listdir(d.state / "vps" / "first")
                     if n not in ("config.json", "upper", "work", "console.log", "devices")]
        assert not leftovers, f"temp files left: {leftovers}"
        assert d.config_path("first").read_bytes() == config
        # After a restart (still full), the first VP is loaded as it was.
        d.stop()
        d.start()
        after = d.vp("first")
        assert after["state"] == "stopped" and "error" not in after, after
        assert after == before
        assert d.config_path("first").read_bytes() == config
        # With space again, everything works.
        os.unlink(filler)
        if (small_tmpfs / "filler2").exists():
            os.unlink(small_tmpfs / "filler2")
        d.cell("start", "first")
        assert d.exec("first", "cat", "/root/kept").stdout == "kept\n"
        d.cell("create", "second")
        assert set(d.list()) == {"first", "second"}
    finally:
        d.stop()


def test_broken_vp_keeps_its_id(daemon):
    """A VP whose config cannot be read keeps its uid range: a new VP must not get the
    same id (it would run as the same host uids, owning the broken VP's files), and the
    repaired VP must come back."""
    d = daemon
    d.cell("create", "bad")
    d.cell("start", "bad")
    d.sh("bad", "echo precious > /root/precious")
    d.cell("stop", "bad")
    original = d.config_path("bad").read_bytes()
    bad_id = json.loads(original)["id"]
    d.stop()
    d.config_path("bad").write_bytes(original[:10])
    d.start()
    assert d.state_of("bad") == "broken"
    d.cell("create", "third", "--restart", "no")
    third_id = d.vp("third")["id"]
    assert third_id != bad_id, \
        f"new VP third got id {third_id}, the id of the broken VP bad (same host uids)"
    d.cell("start", "third")
    assert d.exec("third", "cat", "/root/precious", check=False).returncode != 0
    d.stop()
    d.config_path("bad").write_bytes(original)
    d.start()
    vps = d.list()
    assert vps["bad"]["state"] == "stopped", vps["bad"]
    assert vps["third"]["state"] == "stopped", vps["third"]
    d.cell("start", "bad")
    assert d.exec("bad", "cat", "/root/precious").stdout == "precious\n"
