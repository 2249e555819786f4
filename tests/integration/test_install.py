"""make install / uninstall: the installed binaries, man pages, systemd unit and bash
completion work from a DESTDIR, and the installed cellsd finds its lib dir by itself."""

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT, Daemon

VERSION = re.search(r"^VERSION\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)
PREFIX = "/usr"
# What make install must put under DESTDIR (more may come, like further apps).
EXPECTED = ["usr/bin/cell", "usr/sbin/cellsd", "usr/lib/cells/cell-init",
            "usr/lib/cells/cells-viewer",
            "usr/lib/cells/images/minimal/build", "usr/lib/cells/images/debian/build",
            "usr/lib/cells/images/debian/x-session", "usr/share/man/man1/cell.1",
            "usr/share/man/man8/cellsd.8", "usr/share/bash-completion/completions/cell",
            "usr/lib/systemd/system/cellsd.service"]
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")


def make(target, dest):
    r = subprocess.run(["make", "-s", "-C", str(ROOT), target, f"DESTDIR={dest}",
                        f"PREFIX={PREFIX}"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"make {target} failed:\n{r.stdout}\n{r.stderr}"


def files_under(top):
    return sorted(str(p.relative_to(top)) for p in Path(top).rglob("*") if not p.is_dir())


def new_dest():
    dest = Path(tempfile.mkdtemp(prefix="cells-install-", dir="/tmp"))
    os.chmod(dest, 0o755)
    return dest


@pytest.fixture(scope="module")
def dest():
    """A DESTDIR with Cells installed under PREFIX=/usr."""
    d = new_dest()
    try:
        make("install", d)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_versions_and_layout(dest):
    for f in EXPECTED:
        assert (dest / f).is_file(), f"{f} not installed: {files_under(dest)}"
    r = subprocess.run([dest / "usr/bin/cell", "--version"], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (0, f"cell {VERSION}\n")
    r = subprocess.run([dest / "usr/sbin/cellsd", "--version"], capture_output=True,
                       text=True)
    assert (r.returncode, r.stdout) == (0, f"cellsd {VERSION}\n")


@pytest.mark.parametrize("page,texts", [
    ("man1/cell.1", ["config NAME", "logs NAME [-f]", "exec [-t] NAME", "input text STRING",
                     "image rm NAME", "CELLS_RUN", "125", "cellsd(8)"]),
    ("man8/cellsd.8", ["--stop-timeout SECONDS", "--lib DIR", "cellsd.lock", "cell(1)"]),
])
def test_man_pages_render(dest, page, texts):
    r = subprocess.run(["man", "-l", dest / "usr/share/man" / page], capture_output=True,
                       text=True, env={**os.environ, "MANWIDTH": "80", "MANPAGER": "cat"})
    assert r.returncode == 0, r.stderr
    # groff hyphenates at the right margin; the texts looked for are short enough not to be.
    for text in texts + [f"Cells {VERSION}"]:
        assert text in r.stdout, f"{text!r} not in {page}:\n{r.stdout}"


def verify_unit(unit_text, tmp, dest):
    unit = tmp / "cellsd.service"
    unit.write_text(unit_text)
    return subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                          env={**os.environ, "MANPATH": str(dest / "usr/share/man")},
                          timeout=60)


def test_systemd_unit_verifies(dest, tmp_path):
    text = (dest / "usr/lib/systemd/system/cellsd.service").read_text()
    keys = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    assert keys["ExecStart"] == f"{PREFIX}/sbin/cellsd"
    assert keys["Type"] == "simple" and keys["Delegate"] == "yes"
    assert keys["KillMode"] in ("mixed", "process") and keys["KillSignal"] == "SIGTERM"
    assert int(keys["TimeoutStopSec"]) > 10  # cellsd's stop grace, all VPs in parallel
    assert "man:cellsd(8)" in keys["Documentation"]
    # The installed path exists only in DESTDIR: verify a copy that runs that binary.
    staged = text.replace(f"ExecStart={PREFIX}/sbin/cellsd",
                          f"ExecStart={dest}{PREFIX}/sbin/cellsd")
    r = verify_unit(staged, tmp_path, dest)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    # ...and verify does check: a unit whose binary is missing is refused.
    r = verify_unit(text.replace(f"ExecStart={PREFIX}/sbin/cellsd",
                                 f"ExecStart={dest}/nonexistent/cellsd"), tmp_path, dest)
    assert r.returncode != 0 and "nonexistent" in r.stderr


def complete(dest, *words, env=None):
    """COMPREPLY of the installed completion for the line WORDS (the last is the word being
    completed), in a real bash with bash-completion's helpers; and the seconds it took."""
    script = f"""
        source {BASH_COMPLETION}
        source {dest}/usr/share/bash-completion/completions/cell
        complete -p cell | grep -q -- '-F _cell' || exit 3
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}}
        _cell
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    start = time.monotonic()
    r = subprocess.run(["bash", "-c", script, "bash", str(dest / "usr/bin/cell"), *words],
                       capture_output=True, text=True, timeout=30,
                       env={**os.environ, **(env or {})})
    assert r.returncode == 0 and r.stderr == "", r
    return [w for w in r.stdout.split("\n") if w], time.monotonic() - start


@pytest.mark.skipif(not BASH_COMPLETION.exists(), reason="bash-completion is not installed")
def test_completion_without_daemon(dest, tmp_path):
    nowhere = ["--run", str(tmp_path / "nothing")]
    got, _ = complete(dest, *nowhere, "")
    assert {"create", "config", "exec", "logs", "image", "input", "help"} <= set(got)
    assert complete(dest, *nowhere, "st")[0] == ["start", "stop", "stats"]
    assert complete(dest, *nowhere, "create", "x", "--restart", "")[0] == \
        ["always", "unless-stopped", "no"]
    got, _ = complete(dest, *nowhere, "create", "x", "--device", "")
    assert "telephony=" in got and "binder=" in got
    assert complete(dest, *nowhere, "config", "x", "--device", "net=s")[0] in \
        (["shared"], ["net=shared"])
    assert complete(dest, *nowhere, "create", "x", "--me")[0] == ["--memory"]
    assert complete(dest, *nowhere, "image", "")[0] == ["build", "list", "import", "rm"]
    assert complete(dest, *nowhere, "image", "build", "")[0] == ["debian", "minimal"]
    assert complete(dest, *nowhere, "input", "")[0] == ["tap", "swipe", "key", "text"]
    # No daemon there: no names, no error, no wait.
    got, took = complete(dest, *nowhere, "start", "")
    assert got == [] and took < 5


def installed_daemon(dest):
    """A Daemon class that runs the installed cellsd without --lib and the installed cell."""

    class InstalledDaemon(Daemon):
        cell_bin = dest / "usr/bin/cell"

        def argv(self):
            argv = super().argv()
            i = argv.index("--lib")
            del argv[i:i + 2]
            argv[0] = str(dest / "usr/sbin/cellsd")
            return argv

    return InstalledDaemon


def test_installed_daemon_runs_a_vp(dest, make_daemon):
    # The image build needs the installed lib dir: cell-init, apps and the recipe.
    d = make_daemon(cls=installed_daemon(dest))
    assert "--lib" not in d.argv()
    lib = dest / "usr/lib/cells"
    assert (d.rootfs / "sbin/cell-init").read_bytes() == (lib / "cell-init").read_bytes()
    d.cell("create", "alpha", "--restart", "no")
    d.cell("create", "beta")
    d.cell("start", "alpha")
    d.exec("alpha", "true")
    assert d.exec("alpha", "sh", "-c", "exit 7", check=False).returncode == 7

    if not BASH_COMPLETION.exists():
        return
    run = ["--run", str(d.run)]
    assert complete(dest, *run, "config", "")[0] == ["alpha", "beta"]
    assert complete(dest, *run, "start", "")[0] == ["beta"]
    assert complete(dest, *run, "switch", "")[0] == ["alpha"]
    assert complete(dest, "exec", "-t", "a", env={"CELLS_RUN": str(d.run)})[0] == \
        ["alpha"]
    assert complete(dest, *run, "image", "rm", "")[0] == ["minimal"]
    assert complete(dest, *run, "image", "build", "")[0] == ["debian", "minimal"]
    assert complete(dest, *run, "create", "x", "--image", "m")[0] == ["minimal"]
    # --run after the verb counts too; without it, /run/cells is another daemon.
    assert complete(dest, "destroy", *run, "b")[0] == ["beta"]
    d.cell("stop", "alpha")


def test_uninstall_removes_what_install_put():
    d = new_dest()
    try:
        make("install", d)
        installed = files_under(d)
        assert set(EXPECTED) <= set(installed), installed
        make("uninstall", d)
        assert files_under(d) == [], "left by make uninstall"
        assert not (d / "usr/lib/cells").exists()
    finally:
        shutil.rmtree(d, ignore_errors=True)
