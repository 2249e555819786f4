"""Issue 11, item 9 (first half): a VP that made a tree deeper than PATH_MAX is destroyed
all the same, its files gone (a plain upper directory: the remover walks it)."""

import pytest

DEPTH = 5000
STEP = 1000


@pytest.mark.parametrize("disk", ["none", "96M"])
def test_a_deep_tree_does_not_stop_destroy(make_daemon, disk):
    d = make_daemon()
    d.create_start("deep", disk=disk)
    # Built bottom up, STEP levels at a time, each path shorter than PATH_MAX; at the
    # bottom a file and a symlink to / (not to be followed).
    step = "/".join(["d"] * STEP)
    d.sh("deep", "cd /root && mkdir t && echo x > t/f && ln -s / t/up && "
                 f"for i in $(seq {DEPTH // STEP}); do mkdir -p n/{step} && mv t n/{step}/t && "
                 "mv n t || exit 1; done", timeout=300)
    if disk == "none":
        # Deeper than PATH_MAX on the host too.
        assert len(str(d.upper("deep"))) + 2 * DEPTH > 4096
    d.cell("stop", "deep")
    d.cell("destroy", "deep", timeout=120)
    assert not (d.state / "vps" / "deep").exists()
    assert "deep" not in d.list()
    assert d.rootfs.is_dir() and (d.rootfs / "bin").exists()
