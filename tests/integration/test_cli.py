"""The command line's everyday surface: versions, help, global options, logs, rc notes
and stats (issue 10)."""

import json
import os
import re
import subprocess

import pytest

from conftest import CELL, CELLSD, LineReader, ROOT, wait_for

VERBS = ["image", "create", "config", "start", "stop", "destroy", "list", "switch", "next",
         "prev", "active", "exec", "console", "logs", "stats", "viewer", "events", "screenshot",
         "input", "device", "help"]


def run(*argv, env=None):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=30, env=env)


def makefile_version():
    m = re.search(r"^VERSION\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    return m.group(1)


def test_versions():
    version = makefile_version()
    r = run(CELL, "--version")
    assert (r.returncode, r.stdout, r.stderr) == (0, f"cell {version}\n", "")
    r = run(CELLSD, "--version")
    assert (r.returncode, r.stdout, r.stderr) == (0, f"cellsd {version}\n", "")


def test_help_of_every_verb():
    overview = run(CELL, "--help")
    assert overview.returncode == 0 and overview.stderr == ""
    assert run(CELL, "help").stdout == overview.stdout
    listed = re.findall(r"^  cell (\S+)", overview.stdout, re.M)
    assert listed == VERBS, listed
    for verb in VERBS:
        r = run(CELL, "help", verb)
        assert r.returncode == 0 and r.stderr == "", r
        assert r.stdout.startswith(f"usage: cell {verb}"), r.stdout
        # Synopsis, a blank line, what it does.
        assert len(r.stdout.split("\n\n")[1].strip()) > 10, r.stdout
        # The same from VERB --help, wherever --help stands.
        assert run(CELL, verb, "--help").stdout == r.stdout, verb
        assert run(CELL, verb, "x", "-h").stdout == r.stdout, verb
    # The options each verb's help must name (create's and config's in full).
    for verb, words in {
            "create": ["--image", "--device", "--memory", "--pids", "--cpu", "--restart",
                       "--autostart", "unless-stopped"],
            "config": ["--memory", "--pids", "--cpu", "--restart", "--device", "--image",
                       "--json", "--KEY VALUE", "cell device"],
            "logs": ["-f"], "exec": ["-t", "--"], "stop": ["--timeout"],
            "destroy": ["--force"], "list": ["--json"], "stats": ["--json"],
            "input": ["tap", "swipe", "key", "text"],
            "image": ["build", "list", "import", "rm"]}.items():
        text = run(CELL, "help", verb).stdout
        for w in words:
            assert w in text, (verb, w, text)
    r = run(CELL, "help", "nosuch")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == "cell: no command 'nosuch' (see cell help)\n"
    # No verb at all: the overview, as a usage error.
    r = run(CELL)
    assert r.returncode == 2 and r.stderr == overview.stdout


def test_cellsd_help_names_every_option_with_its_default():
    r = run(CELLSD, "--help")
    assert r.returncode == 0 and r.stderr == "", r
    main_c = (ROOT / "src" / "cellsd" / "main.c").read_text()
    table = main_c[main_c.index("static const struct option own[]"):]
    table = table[:table.index("};")]
    options = re.findall(r'\{"([a-z-]+)",', table)
    # ... and the devices' own (cellsd parses none of them itself).
    for device in (ROOT / "src" / "devices").glob("*.c"):
        for t in re.findall(r"struct vdev_option \w+\[\] = \{(.*?)\n\};", device.read_text(),
                            re.S):
            options += re.findall(r'\{"([a-z-]+)",', t)
    assert "input" in options and "switch-keys" in options, options
    assert len(options) >= 13 and "version" in options, options
    # Every option on its own help line; every one that takes a value says its default.
    for opt in options:
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith(f"  --{opt}")]
        assert lines, f"--{opt} has no line of its own in cellsd --help"
    text = r.stdout.split("\n  --")[1:]
    for block in text:
        name = block.split()[0]
        if name in ("help,", "version", "verbose,"):
            continue
        assert "default" in block, f"--{name} says no default:\n{block}"


def test_run_option_anywhere(daemon):
    d = daemon
    d.cell("create", "v")
    env = {k: v for k, v in os.environ.items() if k != "CELLS_RUN"}
    env["CELLS_RUN"] = "/nonexistent"
    for argv in (["list", "--run", d.run], ["--run", d.run, "list"], [f"--run={d.run}", "list"],
                 ["list", f"--run={d.run}", "--json"]):
        r = run(CELL, *argv, env=env)
        assert r.returncode == 0 and "v" in r.stdout, (argv, r)
    # After exec's "--", --run is the command's: `echo` prints it.
    d.cell("start", "v")
    r = run(CELL, "exec", "v", "--run", d.run, "--", "echo", "--run", "x", env=env)
    assert r.returncode == 0 and r.stdout == "--run x\n", r


def console_say(d, name, text):
    d.sh(name, f"echo '{text}' > /dev/console")


def test_logs_of_a_running_and_a_stopped_vp(daemon):
    d = daemon
    d.create_start("v")
    console_say(d, "v", "marker-one")
    # What rc printed at boot may come after the marker on a loaded machine.
    wait_for(lambda: {"marker-one", "rc: "} <= set(
        w for w in ("marker-one", "rc: ") if w in d.cell("logs", "v").stdout),
        what="marker-one and rc's output in the log")
    d.cell("stop", "v")
    # The log of the last run, after the stop and after a restart of cellsd.
    assert "marker-one" in d.cell("logs", "v").stdout
    d.stop()
    d.start()
    assert "marker-one" in d.cell("logs", "v").stdout
    # A new run, a new log.
    d.cell("start", "v")
    wait_for(lambda: "rc: " in d.cell("logs", "v").stdout, what="rc in the new log")
    assert "marker-one" not in d.cell("logs", "v").stdout
    err = d.fail("logs", "nosuch")
    assert err == "cell: no VP named nosuch", err
    # The CLI never reads the log itself: the daemon hands it over.
    d.cell("create", "never")
    assert d.cell("logs", "never").stdout == ""


def test_logs_follow_until_the_vp_stops(daemon):
    d = daemon
    d.create_start("v")
    console_say(d, "v", "before-follow")
    wait_for(lambda: "before-follow" in d.cell("logs", "v").stdout, what="before-follow")
    p = subprocess.Popen([str(CELL), "--run", str(d.run), "logs", "-f", "v"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = LineReader(p)
        seen = []

        def saw(word):
            def pred():
                while not lines.lines.empty():
                    seen.append(lines.lines.get())
                return any(word in s for s in seen)
            return pred

        wait_for(saw("before-follow"), what="the old log in logs -f")
        console_say(d, "v", "after-follow")
        wait_for(saw("after-follow"), what="new output in logs -f")
        # Each line once: the log up to the request, then the pipe.
        assert sum("after-follow" in s for s in seen) == 1, seen
        assert sum("before-follow" in s for s in seen) == 1, seen
        d.cell("stop", "v")
        assert p.wait(timeout=10) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
    # A stopped VP: -f prints the log and ends.
    r = d.cell("logs", "-f", "v", timeout=10)
    assert "after-follow" in r.stdout


def test_logs_follower_that_goes_away_is_forgotten(daemon):
    d = daemon
    d.create_start("v")
    # More followers than the daemon keeps, each gone at once: the slots come back.
    for _ in range(12):
        p = subprocess.Popen([str(CELL), "--run", str(d.run), "logs", "-f", "v"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for(lambda: p.stdout.read(1), what="output of logs -f")
        p.kill()
        p.wait()
    console_say(d, "v", "still-here")
    wait_for(lambda: "still-here" in d.cell("logs", "v").stdout, what="still-here")
    assert d.vp("v")["state"] == "running"


def test_log_is_bounded(daemon):
    d = daemon
    d.create_start("v")
    # 3 MiB through the console: the log keeps between 1 and 2 MiB, the newest part.
    d.sh("v", "yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwx"
         " | head -c 3145728 > /dev/console; echo end-of-flood > /dev/console", timeout=60)
    out = wait_for(lambda: "end-of-flood" in (o := d.cell("logs", "v").stdout) and o,
                   what="end-of-flood", timeout=30)
    assert (1 << 20) <= len(out) <= (2 << 20), len(out)
    files = sorted(p.name for p in (d.state / "vps" / "v").iterdir() if "console" in p.name)
    assert files == ["console.log", "console.log.1"], files
    for f in files:
        assert (d.state / "vps" / "v" / f).stat().st_size <= 1 << 20


def make_image(d, name, rc_script):
    """An image like minimal whose /etc/cells/rc is RC_SCRIPT (None: not executable)."""
    src = d.base / f"img-{name}"
    subprocess.run(["cp", "-a", str(d.rootfs), str(src)], check=True)
    rc = src / "etc" / "cells" / "rc"
    if rc_script is None:
        rc.chmod(0o644)
    else:
        rc.write_text(rc_script)
        rc.chmod(0o755)
    d.cell("image", "import", name, str(src), timeout=120)


def test_rc_status_is_a_note_in_list_and_stats(daemon):
    d = daemon
    make_image(d, "noexec", None)
    make_image(d, "fails", "#!/bin/sh\necho failing on purpose\nexit 3\n")
    d.cell("create", "a", "--image", "noexec")
    d.cell("create", "b", "--image", "fails")
    d.create_start("ok")
    d.cell("start", "a")
    d.cell("start", "b")
    wait_for(lambda: d.vp("a").get("note") == "rc exited 127", what="a's note")
    wait_for(lambda: d.vp("b").get("note") == "rc exited 3", what="b's note")
    assert "note" not in d.vp("ok")
    # The VP itself lives on.
    assert d.vp("a")["state"] == "running"
    listing = d.cell("list").stdout.splitlines()
    assert listing[0].split()[-1] == "NOTE", listing
    row = {ln.split()[0]: ln for ln in listing[1:]}
    assert row["a"].endswith(" rc exited 127"), row
    assert row["b"].endswith(" rc exited 3"), row
    assert d.stats("a")["vps"][0]["note"] == "rc exited 127"
    assert "rc exited 3" in d.cell("stats", "b").stdout
    assert "failing on purpose" in d.cell("logs", "b").stdout
    # A stop (rc ended by the stop) adds no note; a new run starts without one.
    d.cell("stop", "ok")
    assert "note" not in d.vp("ok")
    d.cell("stop", "b")
    d.cell("start", "b")
    wait_for(lambda: d.vp("b").get("note") == "rc exited 3", what="b's note again")


def test_stats_text_shows_every_json_field(daemon):
    d = daemon
    d.create_start("v", memory="256M")
    d.cell("create", "idle")
    stats = d.stats()
    text = d.cell("stats").stdout
    daemon_part, _, vps_part = text.partition("\nVP ")
    assert stats["daemon"], stats
    for key, value in stats["daemon"].items():
        assert re.search(rf"^  {key} +\S", daemon_part, re.M), (key, text)
    for must in ("device_calls", "vnc_clients", "vnc_bytes_sent"):
        assert must in stats["daemon"], stats
    blocks = {b.split("\n", 1)[0]: b for b in ("VP " + vps_part).split("\nVP ")}
    blocks = {k.removeprefix("VP "): v for k, v in blocks.items()}
    assert set(blocks) == {"v", "idle"}, blocks
    for vp in stats["vps"]:
        for key, value in vp.items():
            if key == "name":
                continue
            m = re.search(rf"^  {key} +(.*)$", blocks[vp["name"]], re.M)
            assert m, (key, blocks[vp["name"]])
            if isinstance(value, str):
                assert m.group(1) == value
            elif isinstance(value, int) and not isinstance(value, bool) and key != "pid":
                assert m.group(1).split()[0].isdigit()
    v = next(vp for vp in stats["vps"] if vp["name"] == "v")
    assert v["memory_limit_bytes"] == 256 << 20
    assert re.search(r"^  memory_limit_bytes +268435456 \(256\.0 MiB\)$", blocks["v"], re.M)
