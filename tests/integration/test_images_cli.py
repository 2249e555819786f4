"""Images (build, list, import) and how `cell` finds its daemon."""

import os
import subprocess
import tarfile

from conftest import CELL


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
