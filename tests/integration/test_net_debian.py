"""A new user's first try at the network in a Debian VP: curl fetches an uplink's HTTP
server by name, and apt-get update reads a repository there by name, with nothing set up
in the VP (its eth0, routes and /etc/resolv.conf are the daemon's). The uplink is
test_net.py's wifi-net namespace (its dnsmasq answers web.test).

Needs the debian image that test_debian_image.py builds and keeps in its CACHE
(CELLS_TEST_DEBIAN=1, $CELLS_TEST_IMAGE_CACHE): skipped where it is not built."""
import email.utils
import gzip
import hashlib
import os
import shutil

import pytest

from conftest import Daemon, make_base
from test_debian_image import CACHE, destroy_all, recipe_stamp
from test_net import kernel_leftovers, uplinks  # noqa: F401 (a fixture)

RELEASE = """Origin: cells-test
Label: cells-test
Suite: stable
Codename: cells
Architectures: amd64
Components: main
Description: an empty repository of the test's uplink
"""


@pytest.fixture
def debnet(uplinks):  # noqa: F811
    if not os.environ.get("CELLS_TEST_DEBIAN"):
        pytest.skip("CELLS_TEST_DEBIAN=1 runs it (it needs the debian image)")
    stamp = CACHE / "debian.stamp"
    rootfs = CACHE / "state" / "images" / "debian" / "rootfs"
    if not (rootfs / "etc" / "cells" / "rc").exists() or not stamp.exists() or \
            stamp.read_text() != recipe_stamp():
        pytest.skip(f"no debian image built in {CACHE}: test_debian_image.py builds it")
    wlan = uplinks["wlan"]
    d = Daemon(make_base(), state=CACHE / "state",
               extra_args=["--uplink", f"wlan=tuw0,gw={wlan.peer},gw6={wlan.peer6}"])
    try:
        d.start()
        destroy_all(d)  # what an interrupted run left
        yield d, wlan
    finally:
        if d.running:
            destroy_all(d)
            d.stop()
        left = d.leftovers()
        d.force_clean()
        shutil.rmtree(d.base, ignore_errors=True)
        assert not left, left
        assert kernel_leftovers() == {}


def test_curl_and_apt_reach_the_uplink_by_name(debnet):
    d, wlan = debnet
    # An empty flat repository on the uplink's server, as a mirror would serve one.
    repo = wlan.dir / "www" / "debian"
    repo.mkdir()
    files = {"Packages": b"", "Packages.gz": gzip.compress(b""), "Translation-en": b""}
    for name, data in files.items():
        (repo / name).write_bytes(data)
    sums = "".join(f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}\n"
                   for name, data in files.items())
    (repo / "Release").write_text(RELEASE + f"Date: {email.utils.formatdate(usegmt=True)}\n"
                                  f"SHA256:\n{sums}")
    d.cell("create", "deb", "--image", "debian", "--device", "display=none", "--uplink",
           "wlan")
    d.cell("start", "deb")
    r = d.exec("deb", "curl", "-sS", "--max-time", "10", "http://web.test/", check=False)
    assert r.returncode == 0 and r.stdout.strip() == "wifi-net", r
    # Its IPv6 too, by address (dnsmasq here answers web.test with IPv4 only).
    r = d.exec("deb", "curl", "-sS", "--max-time", "10", f"http://[{wlan.peer6}]/",
               check=False)
    assert r.returncode == 0 and r.stdout.strip() == "wifi-net", r
    # apt-get update as a new user would run it, against that repository only.
    d.exec("deb", "sh", "-c", "echo 'deb [trusted=yes] http://web.test/debian ./' "
                              ">/etc/apt/sources.list.d/uplink.list && "
                              "rm -f /etc/apt/sources.list /etc/apt/sources.list.d/debian.sources")
    r = d.exec("deb", "apt-get", "update", check=False, timeout=120)
    assert r.returncode == 0, r
    assert "http://web.test/debian ./ Release" in r.stdout, r
    assert "Err:" not in r.stdout and "W: " not in r.stderr, r
