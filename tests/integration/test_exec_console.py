"""`cell exec` and `cell console`."""

import random

import pytest


@pytest.fixture
def vp(daemon):
    daemon.create_start("v")
    return daemon


def test_exit_status_passthrough(vp):
    d = vp
    assert d.sh("v", "exit 7", check=False).returncode == 7
    assert d.sh("v", "exit 0").returncode == 0
    assert d.exec("v", "false", check=False).returncode == 1
    assert d.sh("v", "exit 255", check=False).returncode == 255
    assert d.sh("v", "kill -9 $$", check=False).returncode == 137
    assert d.sh("v", "kill -TERM $$", check=False).returncode == 143


def test_command_not_found(vp):
    d = vp
    r = d.exec("v", "no-such-command", check=False)
    assert r.returncode == 127, r
    assert "no-such-command" in r.stderr, r
    r = d.exec("v", "/etc/passwd", check=False)  # not executable
    assert r.returncode in (126, 127), r


def test_stdio_passthrough(vp):
    d = vp
    r = d.exec("v", "cat", input="hello\nworld\n")
    assert r.stdout == "hello\nworld\n"
    r = d.sh("v", "echo out; echo err >&2")
    assert r.stdout == "out\n" and r.stderr == "err\n"
    blob = bytes(random.getrandbits(8) for _ in range(1 << 20))
    r = d.exec("v", "wc", "-c", input=blob)
    assert r.stdout.split()[0] == b"1048576"
    r = d.exec("v", "cat", input=blob)
    assert r.stdout == blob
    r = d.exec("v", "sh", "-c", "read x; echo got $x", input="line\n")
    assert r.stdout == "got line\n"
    # Arguments arrive as they were, spaces and quotes included.
    r = d.exec("v", "printf", "[%s]", "a b", "'c'", '"d"', "")
    assert r.stdout == "[a b]['c'][\"d\"][]"


def test_exec_runs_as_root_of_the_vp(vp):
    d = vp
    assert d.exec("v", "id", "-u").stdout.strip() == "0"
    assert d.exec("v", "hostname").stdout.strip() == "v"
    assert d.exec("v", "cat", "/proc/1/comm").stdout.strip() == "cell-init"


def test_exec_errors(vp):
    d = vp
    d.cell("create", "off")
    err = d.fail("exec", "off", "--", "true", status=(1, 125))
    assert "running" in err, err
    d.fail("exec", "nosuch", "--", "true", status=(1, 125))


def test_console_round_trip(vp):
    d = vp
    n = random.randrange(10000, 99999)
    r = d.cell("console", "v", input=f"echo marker-$(({n}+1))\n", timeout=20)
    assert r.returncode == 0, r
    assert f"marker-{n + 1}" in r.stdout, r.stdout
    # Twice: the console is there for the next client, too.
    r = d.cell("console", "v", input="hostname\n", timeout=20)
    assert "v" in r.stdout.split(), r.stdout


def test_console_errors(vp):
    d = vp
    d.cell("create", "off")
    d.fail("console", "off")
    d.fail("console", "nosuch")


def test_stats(vp):
    d = vp
    d.cell("create", "off")
    st = d.stats()
    assert st["daemon"]["vps"] == 2 and st["daemon"]["running"] == 1
    by = {v["name"]: v for v in st["vps"]}
    assert by["v"]["state"] == "running" and by["v"]["pids"] >= 1
    assert by["v"]["memory_bytes"] > 0
    assert by["off"]["state"] == "stopped"
    one = d.stats("v")["vps"]
    assert [x["name"] for x in one] == ["v"]
    d.fail("stats", "nosuch")
    assert "v" in d.cell("stats").stdout
