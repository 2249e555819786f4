"""A VP looks like a machine of its own: its name in /etc/hostname and /etc/hosts, in any
image, and fresh tmpfs mounts on /run and /tmp unless the image says otherwise."""

import shutil


def mounts_of(d, name):
    """mount point -> file system type, inside the VP (the last mount on a point wins)."""
    out = {}
    for line in d.exec(name, "cat", "/proc/self/mountinfo").stdout.splitlines():
        fields = line.split()
        sep = fields.index("-")
        out[fields[4]] = fields[sep + 1]
    return out


def import_image(d, name, edit):
    """An image made of the minimal one's files, changed by EDIT(root)."""
    src = d.base / f"img-{name}"
    shutil.copytree(d.rootfs, src, symlinks=True)
    edit(src)
    d.cell("image", "import", name, src)
    shutil.rmtree(src)


def test_hostname_and_hosts_in_the_minimal_image(daemon):
    d = daemon
    d.create_start("phone1")
    assert d.exec("phone1", "hostname").stdout.strip() == "phone1"
    assert d.exec("phone1", "cat", "/etc/hostname").stdout == "phone1\n"
    hosts = d.exec("phone1", "cat", "/etc/hosts").stdout
    assert "127.0.1.1\tphone1\n" in hosts and "localhost" in hosts, hosts
    # The name resolves through /etc/hosts (busybox's ping asks the resolver).
    r = d.exec("phone1", "ping", "-c", "1", "-W", "1", "phone1", check=False)
    assert "127.0.1.1" in r.stdout, r


def test_an_image_copied_from_a_host_gets_the_vp_name(daemon):
    d = daemon

    def like_a_host(root):
        (root / "etc" / "hostname").write_text("vm\n")
        (root / "etc" / "hosts").write_text(
            "127.0.0.1\tlocalhost\n127.0.1.1\tvm.example.org vm\n"
            "# The following lines are desirable for IPv6 capable hosts\n"
            "::1     localhost ip6-localhost ip6-loopback\n10.1.2.3 printer\n")

    import_image(d, "hostlike", like_a_host)
    d.create_start("work", image="hostlike")
    assert d.exec("work", "cat", "/etc/hostname").stdout == "work\n"
    hosts = d.exec("work", "cat", "/etc/hosts").stdout
    assert "127.0.1.1\twork\n" in hosts and " vm" not in hosts, hosts
    # The rest of the file is kept, localhost lines not doubled.
    assert "10.1.2.3 printer" in hosts and hosts.count("127.0.0.1") == 1, hosts
    # The shared image is untouched: the files are the VP's own (its upper layer).
    assert (d.state / "images" / "hostlike" / "rootfs" / "etc" / "hostname").read_text() == "vm\n"
    assert (d.upper("work") / "etc" / "hostname").read_text() == "work\n"


def test_the_vp_may_edit_its_hosts(daemon):
    d = daemon
    d.create_start("edit")
    d.sh("edit", "echo '10.9.9.9 nas' >> /etc/hosts")
    d.cell("stop", "edit")
    d.cell("start", "edit")
    hosts = d.exec("edit", "cat", "/etc/hosts").stdout
    assert "10.9.9.9 nas" in hosts and hosts.count("127.0.1.1") == 1, hosts


def test_hostile_etc_files_do_not_stop_a_start(daemon):
    d = daemon
    d.create_start("odd")
    d.sh("odd", "rm -f /etc/hosts /etc/hostname; ln -s /nonexistent/x /etc/hosts; "
                "mkdir /etc/hostname")
    d.cell("stop", "odd")
    d.cell("start", "odd")
    assert d.exec("odd", "hostname").stdout.strip() == "odd"


def test_run_and_tmp_are_fresh_tmpfs(daemon):
    d = daemon
    d.create_start("t")
    mounts = mounts_of(d, "t")
    assert mounts.get("/run") == "tmpfs" and mounts.get("/tmp") == "tmpfs", mounts
    assert d.exec("t", "stat", "-c", "%a", "/tmp").stdout.strip() == "1777"
    assert d.exec("t", "stat", "-c", "%a", "/run").stdout.strip() == "755"
    d.sh("t", "echo a > /tmp/scratch; echo b > /run/pidfile")
    d.cell("stop", "t")
    d.cell("start", "t")
    r = d.exec("t", "ls", "/tmp/scratch", "/run/pidfile", check=False)
    assert r.returncode != 0, "files in /tmp or /run survived a restart"
    # Nothing of it reached the VP's disk.
    assert not (d.upper("t") / "tmp" / "scratch").exists()


def test_the_image_can_keep_its_own_run_and_tmp(daemon):
    d = daemon

    def keep_run(root):
        (root / "etc" / "cells" / "tmpfs").write_text("/tmp\n")

    def no_tmpfs(root):
        (root / "etc" / "cells" / "tmpfs").write_text("")

    def tmp_is_a_link(root):
        shutil.rmtree(root / "tmp", ignore_errors=True)
        (root / "var" / "tmp").mkdir(parents=True, exist_ok=True)
        (root / "tmp").symlink_to("var/tmp")

    import_image(d, "keeprun", keep_run)
    import_image(d, "notmpfs", no_tmpfs)
    import_image(d, "tmplink", tmp_is_a_link)
    d.create_start("a", image="keeprun")
    d.create_start("b", image="notmpfs")
    d.create_start("c", image="tmplink")
    ma, mb, mc = mounts_of(d, "a"), mounts_of(d, "b"), mounts_of(d, "c")
    assert ma.get("/tmp") == "tmpfs" and "/run" not in ma, ma
    assert "/tmp" not in mb and "/run" not in mb, mb
    assert "/tmp" not in mc and mc.get("/run") == "tmpfs", mc
    # /run on the VP's disk: it persists, as the image asked.
    d.sh("a", "echo kept > /run/state")
    d.cell("stop", "a")
    d.cell("start", "a")
    assert d.exec("a", "cat", "/run/state").stdout == "kept\n"
