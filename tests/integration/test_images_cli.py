"""Images (build, list, import, rm) and how `cell` finds its daemon."""

import json
import os
import subprocess
import tarfile
import time

from conftest import CELL, read_line


def test_image_build_list_and_rebuild(daemon):
    d = daemon
    out = d.cell("image", "list").stdout
    assert "minimal" in out
    assert (d.rootfs / "sbin" / "cell-init").exists()
    assert (d.rootfs / "usr" / "bin" / "memhog").exists()
    # A rebuild while a VP uses the image: the VP keeps running, and still works after.
    d.create_start("v")
    r = d.cell("image", "build", check=False, timeout=120)
    if r.returncode != 0:
        assert r.stderr.startswith("cell: "), r
    assert d.vp("v")["state"] == "running"
    assert d.exec("v", "true").returncode == 0
    d.cell("stop", "v")
    d.cell("start", "v")
    assert d.exec("v", "hostname").stdout.strip() == "v"


def test_image_import_dir_and_tarball(daemon):
    d = daemon
    src = d.base / "fromdir"
    subprocess.run(["cp", "-a", str(d.rootfs), str(src)], check=True)
    (src / "etc" / "imported").write_text("from a directory\n")
    d.cell("image", "import", "fromdir", str(src), timeout=120)
    tarball = d.base / "root.tar.gz"
    (src / "etc" / "imported").write_text("from a tarball\n")
    with tarfile.open(tarball, "w:gz") as t:
        t.add(src, arcname=".")
    d.cell("image", "import", "fromtar", str(tarball), timeout=120)
    listed = d.cell("image", "list").stdout
    assert "fromdir" in listed and "fromtar" in listed
    d.cell("create", "x", "--image", "fromdir")
    d.cell("create", "y", "--image", "fromtar")
    d.cell("start", "x")
    d.cell("start", "y")
    assert d.exec("x", "cat", "/etc/imported").stdout == "from a directory\n"
    assert d.exec("y", "cat", "/etc/imported").stdout == "from a tarball\n"
    assert d.exec("y", "cat", "/proc/1/comm").stdout.strip() == "cell-init"
    # The same name twice is refused, and the old image is kept.
    d.fail("image", "import", "fromdir", str(tarball))
    assert d.exec("x", "cat", "/etc/imported").stdout == "from a directory\n"


def test_cells_run_env_and_missing_daemon(daemon, tmp_path):
    d = daemon
    d.cell("create", "v")
    env = dict(os.environ, CELLS_RUN=str(d.run))
    r = subprocess.run([str(CELL), "list"], capture_output=True, text=True, env=env,
                       timeout=10)
    assert r.returncode == 0 and "v" in r.stdout, r
    env["CELLS_RUN"] = str(tmp_path)
    r = subprocess.run([str(CELL), "list"], capture_output=True, text=True, env=env,
                       timeout=10)
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cell: "), r.stderr
    r = subprocess.run([str(CELL), "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "usage" in r.stdout


def test_image_rm(daemon):
    d = daemon
    src = d.base / "copy"
    subprocess.run(["cp", "-a", str(d.rootfs), str(src)], check=True)
    d.cell("image", "import", "spare", str(src), timeout=120)
    d.cell("create", "user1", "--image", "spare")
    d.create_start("user2", image="spare")
    # In use, running or not: refused, naming every user; nothing removed.
    err = d.fail("image", "rm", "spare")
    assert err == "cell: image spare is used by VPs user1, user2", err
    d.cell("stop", "user2")
    assert d.fail("image", "rm", "spare") == err
    d.cell("destroy", "user2")
    assert d.fail("image", "rm", "spare") == "cell: image spare is used by VP user1"
    assert (d.state / "images" / "spare" / "rootfs" / "sbin" / "cell-init").exists()
    d.cell("destroy", "user1")
    r = d.cell("image", "rm", "spare")
    assert r.stdout == "image spare removed\n", r
    assert not (d.state / "images" / "spare").exists()
    # Its files go in the background, and all of them.
    deadline = time.monotonic() + 10
    while list((d.state / "images").glob(".spare*")):
        assert time.monotonic() < deadline, os.listdir(d.state / "images")
        time.sleep(0.02)
    assert "spare" not in d.cell("image", "list").stdout
    # Unknown, invalid.
    assert d.fail("image", "rm", "spare") == "cell: no image named spare"
    assert d.fail("image", "rm", "../vps") == "cell: invalid image name '../vps'"
    assert (d.state / "vps").is_dir()
    assert "minimal" in d.cell("image", "list").stdout


def test_image_rm_while_it_is_built(daemon):
    d = daemon
    with d.connect(timeout=120) as s:
        s.sendall(b'{"cmd": "image.build", "name": "minimal"}\n')
        # The build has begun once its temporary directory is there.
        deadline = time.monotonic() + 10
        while not list((d.state / "images").glob(".minimal.new-*")):
            assert time.monotonic() < deadline, "the build did not begin"
            time.sleep(0.01)
        err = d.fail("image", "rm", "minimal")
        assert err == "cell: image minimal is being built: try again when it is done", err
        assert json.loads(read_line(s))["ok"] is True
    d.cell("image", "rm", "minimal")
    assert "minimal" not in d.cell("image", "list").stdout


def test_unknown_recipe_names_the_known_ones(daemon):
    # The recipes are those of the lib dir (build/images), listed in name order.
    err = daemon.fail("image", "build", "nosuch")
    assert err == "cell: no recipe for image 'nosuch' (known: debian, minimal)", err
