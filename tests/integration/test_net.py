"""The net device with real peers: two network namespaces play the uplinks "wifi-net" and
"cell-net", each with an HTTP server answering its own name and a dnsmasq answering the
name web.test with its own address; busybox's wget in the VPs is the client."""
import ipaddress
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import create_vp_with
from test_foreground_events import start_events

POOL = "10.213.0.0/16"


def host_get(url, timeout=2):
    """URL's body from the host (stripped), or None."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode().strip()
    except OSError:
        return None


def sh(*cmd, check=True):
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd}: {r.returncode}\n{r.stdout}{r.stderr}")
    return r


class UplinkNet:
    """A namespace NS behind the host's veth IFACE: 10.251.N.1 and fd00:251:N::1 here,
    10.251.N.2 and fd00:251:N::2 there, serving HTTP on both (its name, and a 1 MiB file)
    and DNS (web.test -> 10.251.N.2). It has no route back to the VPs' pools."""

    def __init__(self, ns, iface, n, base):
        self.ns, self.iface, self.n = ns, iface, n
        self.host = f"10.251.{n}.1"
        self.peer = f"10.251.{n}.2"
        self.host6 = f"fd00:251:{n}::1"
        self.peer6 = f"fd00:251:{n}::2"
        self.dir = Path(base) / ns
        self.procs = []

    def setup(self):
        ns, iface = self.ns, self.iface
        # What a run killed before its teardown left (a make check stopped with ^C).
        sh("ip", "link", "del", iface, check=False)
        sh("ip", "netns", "del", ns, check=False)
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", iface, "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "addr", "add", f"{self.host}/24", "dev", iface)
        sh("ip", "addr", "add", f"{self.host6}/64", "dev", iface, "nodad")
        sh("ip", "link", "set", iface, "up")
        self.ns_sh(f"ip addr add {self.peer}/24 dev eth0 && "
                   f"ip addr add {self.peer6}/64 dev eth0 nodad && ip link set eth0 up && "
                   "ip link set lo up")
        (self.dir / "www").mkdir(parents=True)
        (self.dir / "www" / "index.html").write_text(ns + "\n")
        (self.dir / "www" / "big").write_bytes(os.urandom(1 << 20))
        for addr in (self.peer, self.peer6):
            self.spawn("python3", "-m", "http.server", "80", "--bind", addr, "--directory",
                       str(self.dir / "www"))
        self.spawn("dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv",
                   "--no-hosts", "--bind-interfaces", f"--listen-address={self.peer}",
                   f"--address=/web.test/{self.peer}", f"--pid-file={self.dir}/dnsmasq.pid")
        self.wait_serving()

    def ns_sh(self, script):
        return sh("ip", "netns", "exec", self.ns, "sh", "-c", script)

    def spawn(self, *cmd):
        self.procs.append(subprocess.Popen(["ip", "netns", "exec", self.ns, *cmd],
                                           stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL,
                                           start_new_session=True))

    def wait_serving(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = host_get(f"http://{self.peer}/")
            r6 = host_get(f"http://[{self.peer6}]/")
            d = sh("busybox", "nslookup", "-type=a", "web.test", self.peer, check=False)
            if r == self.ns and r6 == self.ns and f"Address: {self.peer}" in d.stdout:
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.ns} does not serve")

    def set_link(self, up):
        sh("ip", "link", "set", self.iface, "up" if up else "down")

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        sh("ip", "link", "del", self.iface, check=False)
        sh("ip", "netns", "del", self.ns, check=False)


@pytest.fixture
def uplinks():
    base = tempfile.mkdtemp(prefix="cells-net-")
    made = []
    try:
        for args in (("wifi-net", "tuw0", 1), ("cell-net", "tuc0", 2)):
            made.append(UplinkNet(*args, base))
            made[-1].setup()
        yield {"wlan": made[0], "cell": made[1]}
    finally:
        for u in made:
            u.close()
        shutil.rmtree(base, ignore_errors=True)


def kernel_leftovers():
    """What the net device may leave on the host: cv<digits> links, its rules, tables and
    nftables table."""
    out = {}
    links = [l for l in sh("ip", "-o", "link").stdout.splitlines()
             if re.match(r"^\d+: cv\d+[@:]", l)]
    if links:
        out["links"] = links
    for fam in ("-4", "-6"):
        rules = [l for l in sh("ip", fam, "rule").stdout.splitlines()
                 if l.startswith("9000:") or l.startswith("8999:")]
        if rules:
            out[f"rules {fam}"] = rules
        routes = sh("ip", fam, "route", "show", "table", "all").stdout.splitlines()
        ours = [l for l in routes if re.search(r"table 84404\d", l)]
        if ours:
            out[f"routes {fam}"] = ours
    if sh("nft", "list", "table", "inet", "cells", check=False).returncode == 0:
        out["nft"] = "table inet cells"
    return out


@pytest.fixture
def netd(make_daemon, uplinks):
    args = ["--uplink", f"wlan=tuw0,gw={uplinks['wlan'].peer},gw6={uplinks['wlan'].peer6}",
            "--uplink", f"cell=tuc0,gw={uplinks['cell'].peer},gw6={uplinks['cell'].peer6}"]
    d = make_daemon(extra_args=args)
    yield d
    d.stop()
    assert kernel_leftovers() == {}


def vp_addr(d, name):
    vid = d.vp(name)["id"]
    return str(ipaddress.ip_network(POOL)[vid * 4 + 2])


def host_addr(d, name):
    vid = d.vp(name)["id"]
    return str(ipaddress.ip_network(POOL)[vid * 4 + 1])


def vp_addr6(d, name):
    return f"fd00:ce11:5::{d.vp(name)['id'] * 256 + 2:x}"


def host_addr6(d, name):
    return f"fd00:ce11:5::{d.vp(name)['id'] * 256 + 1:x}"


def make_vp(d, name, *args):
    create_vp_with(d, name, {}, create_args=args)


def fetch(d, name, url="http://web.test/", timeout=3, check=True):
    # (busybox's wget -T crashes: timeout bounds it instead)
    r = d.cell("exec", name, "--", "timeout", str(timeout), "wget", "-q", "-O", "-", url,
               check=False, timeout=timeout * 3 + 10)
    if check:
        assert r.returncode == 0, r
    return r


def test_each_vp_leaves_by_its_own_uplink(netd):
    d = netd
    make_vp(d, "a", "--uplink", "wlan")
    make_vp(d, "b", "--uplink", "cell")
    # eth0 with its addresses and a resolver, set up by the daemon.
    ip = d.exec("a", "ip", "addr", "show", "eth0").stdout
    assert vp_addr(d, "a") + "/30" in ip, ip
    assert "fd00:ce11:5::" in ip, ip
    assert d.exec("a", "cat", "/etc/resolv.conf").stdout.strip() == \
        f"nameserver {host_addr(d, 'a')}"
    # Both at once, each through its own uplink, names resolved there too.
    pa = subprocess.Popen([str(d.cell_bin), "--run", str(d.run), "exec", "a", "--", "timeout",
                           "5", "wget", "-q", "-O", "-", "http://web.test/"],
                          stdout=subprocess.PIPE, text=True)
    rb = fetch(d, "b", timeout=5)
    out_a, _ = pa.communicate(timeout=30)
    assert out_a.strip() == "wifi-net"
    assert rb.stdout.strip() == "cell-net"


def test_uplink_switch_is_live(netd):
    d = netd
    make_vp(d, "a", "--uplink", "wlan")
    assert fetch(d, "a").stdout.strip() == "wifi-net"
    d.cell("config", "a", "--uplink", "cell")
    assert fetch(d, "a").stdout.strip() == "cell-net"
    d.cell("config", "a", "--uplink", "wlan")
    assert fetch(d, "a").stdout.strip() == "wifi-net"


def test_uplink_down_fails_without_leaking(netd, uplinks):
    d = netd
    make_vp(d, "a", "--uplink", "wlan")
    assert fetch(d, "a").stdout.strip() == "wifi-net"
    p, ev = start_events(d)
    try:
        uplinks["wlan"].set_link(False)
        assert ev.wait_for(lambda e: e.get("event") == "uplink-down" and
                           e.get("uplink") == "wlan" and "a" in e.get("vps", []),
                           timeout=5), ev.seen
        before = d.stats()["daemon"]["net"]["a"]["cell"]
        # Neither the name nor the address of the other uplink's server is reached.
        assert fetch(d, "a", check=False).returncode != 0
        assert fetch(d, "a", url=f"http://{uplinks['cell'].peer}/",
                     check=False).returncode != 0
        after = d.stats()["daemon"]["net"]["a"]["cell"]
        assert after["packets_out"] == before["packets_out"], (before, after)
        uplinks["wlan"].set_link(True)
        assert ev.wait_for(lambda e: e.get("event") == "uplink-up" and
                           e.get("uplink") == "wlan", timeout=5), ev.seen
        assert fetch(d, "a").stdout.strip() == "wifi-net"
    finally:
        p.kill()
        p.wait()


HTTPD = b"#!/bin/sh\nmkdir -p /www && echo \"in-$CELL_NAME\" >/www/index.html\n" \
    b"exec httpd -f -p 8080 -h /www\n"


def test_vps_are_isolated_and_the_root_reaches_them(netd, uplinks):
    d = netd
    for name in ("a", "b"):
        create_vp_with(d, name, {"etc/cells/rc.d/50-launcher": HTTPD}, launcher=True,
                       create_args=("--uplink", "wlan"))
    a, b = vp_addr(d, "a"), vp_addr(d, "b")
    # The root reaches both: ping, and their servers.
    for name, addr in (("a", a), ("b", b)):
        sh("busybox", "ping", "-c", "1", "-W", "2", addr)
        deadline = time.monotonic() + 10
        while True:
            r = host_get(f"http://{addr}:8080/")
            if r == f"in-{name}" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert r == f"in-{name}", r
    # The uplink's network routes the pool back to the host (a LAN router that knows it):
    # isolation must not rest on routing alone. Nobody there reaches a VP's server...
    uplinks["wlan"].ns_sh(f"ip route add {POOL} via {uplinks['wlan'].host}")
    r = sh("ip", "netns", "exec", "wifi-net", "timeout", "2", "busybox", "wget", "-q", "-O",
           "-", f"http://{b}:8080/", check=False)
    assert r.returncode != 0 and "in-b" not in r.stdout, r
    # ...and a reaches neither b (ping, TCP) nor a port of the host.
    assert d.exec("a", "ping", "-c", "1", "-W", "2", b, check=False).returncode != 0
    assert fetch(d, "a", url=f"http://{b}:8080/", timeout=2, check=False).returncode != 0
    host = subprocess.Popen(["python3", "-m", "http.server", "18081", "--bind", "0.0.0.0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while host_get("http://127.0.0.1:18081/") is None:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        for target in (host_addr(d, "a"), uplinks["wlan"].host):
            assert fetch(d, "a", url=f"http://{target}:18081/", timeout=2,
                         check=False).returncode != 0, target
    finally:
        host.kill()
        host.wait()
    # But the VP still reaches the world.
    assert fetch(d, "a").stdout.strip() == "wifi-net"
    # A published port reaches a's server from the uplink's side.
    d.cell("config", "a", "--publish", "18080:8080")
    r = uplinks["wlan"].ns_sh(f"timeout 3 busybox wget -q -O - http://{uplinks['wlan'].host}:18080/")
    assert r.stdout.strip() == "in-a"
    # And from the host itself, at its loopback address too.
    assert host_get("http://127.0.0.1:18080/") == "in-a"
    assert host_get(f"http://{uplinks['cell'].host}:18080/") == "in-a"
    d.cell("config", "a", "--publish", "")
    r = sh("ip", "netns", "exec", "wifi-net", "timeout", "2", "busybox", "wget", "-q", "-O",
           "-", f"http://{uplinks['wlan'].host}:18080/", check=False)
    assert r.returncode != 0
    assert host_get("http://127.0.0.1:18080/", timeout=1) is None


def test_counters_match_and_a_cap_stops_traffic(netd):
    d = netd
    make_vp(d, "a", "--uplink", "wlan", "--data-limit", "cell=300K")
    got = d.exec("a", "sh", "-c", "wget -q -O - http://web.test/big | wc -c").stdout
    assert int(got) == 1 << 20
    st = d.stats()["daemon"]["net"]["a"]
    moved = st["wlan"]["bytes_in"]
    assert 0.95 * (1 << 20) <= moved <= 1.05 * (1 << 20), st
    assert st["wlan"]["packets_out"] > 0 and st["cell"]["bytes_in"] == 0, st
    # The VP's own entry has the same counters: `cell stats a`.
    own = d.stats("a")["vps"][0]["net"]
    assert 0.95 * (1 << 20) <= own["wlan"]["bytes_in"] <= 1.05 * (1 << 20), own
    assert own["wlan"]["current"] and not own["cell"]["current"], own
    assert own["cell"]["limit"] == 300 * 1024 and not own["cell"]["capped"], own
    # On cell, capped at 300 KiB: the 1 MiB file does not come, an event says why.
    p, ev = start_events(d)
    try:
        d.cell("config", "a", "--uplink", "cell")
        r = d.exec("a", "sh", "-c", "timeout 5 wget -q -O - http://web.test/big | wc -c",
                   check=False, timeout=40)
        assert int(r.stdout or 0) < 400 * 1024, r
        assert ev.wait_for(lambda e: e.get("event") == "data-limit" and
                           e.get("vp") == "a" and e.get("uplink") == "cell",
                           timeout=5), ev.seen
        st = d.stats()["daemon"]["net"]["a"]["cell"]
        assert st["used"] >= 300 * 1024 and st["limit"] == 300 * 1024, st
        assert d.stats("a")["vps"][0]["net"]["cell"]["capped"]
        text = d.cell("stats", "a").stdout
        assert re.search(r"^  net\.cell\.capped +yes$", text, re.M), text
        assert re.search(r"^  net\.wlan\.bytes_in +\d+$", text, re.M), text
        # Raised live past what it used: the traffic flows again, the count kept.
        d.cell("config", "a", "--data-limit", "cell=5M")
        assert fetch(d, "a").stdout.strip() == "cell-net"
        st2 = d.stats()["daemon"]["net"]["a"]["cell"]
        assert st2["used"] > st["used"] and st2["limit"] == 5 << 20, (st, st2)
        # Still fine on wlan.
        d.cell("config", "a", "--uplink", "wlan")
        assert fetch(d, "a").stdout.strip() == "wifi-net"
    finally:
        p.kill()
        p.wait()


def test_nothing_survives_a_stop_or_a_kill(netd):
    d = netd
    make_vp(d, "a", "--uplink", "wlan")
    assert fetch(d, "a").stdout.strip() == "wifi-net"
    d.cell("stop", "a")
    left = kernel_leftovers()
    assert not left.get("links") and not left.get("rules -4"), left
    d.cell("start", "a")
    assert fetch(d, "a").stdout.strip() == "wifi-net"
    d.kill9()
    d.force_clean()
    # Its VP's death took the veth; its rules and routes stay for the next daemon.
    left = kernel_leftovers()
    assert left.get("rules -4") and left.get("routes -4"), left
    # The next daemon cleans them up, and starts a again (it was running).
    d.start()
    d.wait_state("a", "running")
    assert fetch(d, "a").stdout.strip() == "wifi-net", d.log()
    d.cell("stop", "a")
    left = kernel_leftovers()
    assert not left.get("links") and not left.get("rules -4") and \
        not left.get("rules -6"), left


def test_net_settings_are_checked(netd):
    d = netd
    d.fail("create", "x", "--publish", "80")
    d.fail("create", "x", "--publish", "0:80")
    d.fail("create", "x", "--data-limit", "cell=lots")
    d.fail("create", "x", "--uplink", "no/such")
    d.cell("create", "x", "--uplink", "nosuch")
    err = d.fail("start", "x")
    assert "nosuch" in err


def test_tun_device_makes_the_vps_own_interface(netd, tmp_path):
    d = netd
    # (built here: tests/security's conftest has a fixture of the same name as
    # conftest.build_static, and both directories may be collected in one session)
    sh("gcc", "-O2", "-Wall", "-static", "-o", str(tmp_path / "tunprobe"),
       str(Path(__file__).with_name("tunprobe.c")))
    probe = (tmp_path / "tunprobe").read_bytes()
    create_vp_with(d, "v", {"usr/bin/tunprobe": probe},
                   create_args=("--device", "tun=shared", "--uplink", "wlan"))
    create_vp_with(d, "w", {"usr/bin/tunprobe": probe}, create_args=("--uplink", "wlan"))
    # Without the right there is no /dev/net/tun.
    r = d.exec("w", "tunprobe", "tun7", check=False)
    assert r.returncode != 0
    r = d.exec("v", "tunprobe", "tun7")
    assert r.stdout.startswith("index "), r
    # The interface is the VP's: in its namespace, not the host's nor another VP's.
    assert "tun7" in d.exec("v", "cat", "/proc/net/dev").stdout
    assert "tun7" not in Path("/proc/net/dev").read_text()
    assert "tun7" not in d.exec("w", "cat", "/proc/net/dev").stdout


def test_ipv6_leaves_by_the_uplink_and_is_isolated(netd, uplinks):
    d = netd
    create_vp_with(d, "a", {"etc/cells/rc.d/50-launcher": HTTPD}, launcher=True,
                   create_args=("--uplink", "wlan"))
    create_vp_with(d, "b", {"etc/cells/rc.d/50-launcher": HTTPD}, launcher=True,
                   create_args=("--uplink", "cell"))
    wlan, cell = uplinks["wlan"], uplinks["cell"]
    # Each VP's IPv6 reaches its own uplink's server, NAT'd there (the uplinks have no
    # route back to the pool), and not the other uplink's.
    assert fetch(d, "a", url=f"http://[{wlan.peer6}]/").stdout.strip() == "wifi-net"
    assert fetch(d, "b", url=f"http://[{cell.peer6}]/").stdout.strip() == "cell-net"
    assert fetch(d, "a", url=f"http://[{cell.peer6}]/", timeout=2,
                 check=False).returncode != 0
    st = d.stats("a")["vps"][0]["net"]["wlan"]
    assert st["packets_out"] > 0 and st["bytes_in"] > 0, st
    # Switched live, its IPv6 follows.
    d.cell("config", "a", "--uplink", "cell")
    assert fetch(d, "a", url=f"http://[{cell.peer6}]/").stdout.strip() == "cell-net"
    d.cell("config", "a", "--uplink", "wlan")
    # The root reaches b's server at its IPv6 address; a reaches neither b nor a port of
    # the host, even with the uplink's network routing the pool back.
    wlan.ns_sh(f"ip -6 route add fd00:ce11:5::/64 via {wlan.host6}")
    b6 = vp_addr6(d, "b")
    deadline = time.monotonic() + 10
    while host_get(f"http://[{b6}]:8080/") != "in-b":
        assert time.monotonic() < deadline, "b's server does not answer the root on IPv6"
        time.sleep(0.1)
    assert d.exec("a", "ping", "-6", "-c", "1", "-W", "2", b6, check=False).returncode != 0
    assert fetch(d, "a", url=f"http://[{b6}]:8080/", timeout=2, check=False).returncode != 0
    r = sh("ip", "netns", "exec", "wifi-net", "timeout", "2", "busybox", "wget", "-q", "-O",
           "-", f"http://[{b6}]:8080/", check=False)
    assert r.returncode != 0 and "in-b" not in r.stdout, r
    host = subprocess.Popen(["python3", "-m", "http.server", "18083", "--bind", "::"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while host_get("http://[::1]:18083/") is None:
            assert time.monotonic() < deadline + 10
            time.sleep(0.1)
        for target in (host_addr6(d, "a"), wlan.host6):
            assert fetch(d, "a", url=f"http://[{target}]:18083/", timeout=2,
                         check=False).returncode != 0, target
    finally:
        host.kill()
        host.wait()
    assert fetch(d, "a", url=f"http://[{wlan.peer6}]/").stdout.strip() == "wifi-net"


def test_a_vp_cannot_send_ipv6_from_an_address_not_its_own(netd, uplinks):
    d = netd
    create_vp_with(d, "a", {}, create_args=("--uplink", "wlan"))
    up = uplinks["wlan"]
    # The uplink's side counts what reaches it from the host (the masquerade's source).
    up.ns_sh("nft add table ip6 seen && "
             "nft add chain ip6 seen input '{ type filter hook input priority 0; }' && "
             f"nft add rule ip6 seen input ip6 saddr {up.host6} counter")

    def counted():
        rules = up.ns_sh("nft list chain ip6 seen input").stdout
        return int(rules.split("packets ")[1].split()[0])

    assert fetch(d, "a", url=f"http://[{up.peer6}]/").stdout.strip() == "wifi-net"
    before = counted()
    assert before > 0
    # From another address of the pool (b's-to-be, the gateway's) nothing leaves.
    gw = host_addr6(d, "a")
    for fake in ("fd00:ce11:5::9902", "fd00:ce11:5::1"):
        # (busybox's ip has no nodad: its duplicate address detection is waited for)
        d.sh("a", f"ip -6 addr add {fake}/128 dev eth0 && "
                  "while ip -6 addr show dev eth0 | grep -q tentative; do sleep 0.1; done && "
                  f"ip -6 route replace {up.peer6}/128 via {gw} src {fake}")
        assert fetch(d, "a", url=f"http://[{up.peer6}]/", timeout=2,
                     check=False).returncode != 0
        assert counted() == before
