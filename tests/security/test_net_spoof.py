"""A VP's root owns its network namespace: it may change eth0's addresses and routes. The
net device's rules key on the interface a packet comes in on, so taking another VP's or
the host end's address, or routing elsewhere, reaches nothing more (SECURITY.md, "The
network")."""
import subprocess
import time

from test_net import HTTPD, fetch, host_addr, host_get, netd, uplinks, vp_addr  # noqa: F401

from cells_integration import create_vp_with


def test_a_vp_that_takes_other_addresses_reaches_nothing_more(netd, uplinks):  # noqa: F811
    d = netd
    for name in ("a", "b"):
        create_vp_with(d, name, {"etc/cells/rc.d/50-launcher": HTTPD}, launcher=True,
                       create_args=("--uplink", "wlan"))
    a, b = vp_addr(d, "a"), vp_addr(d, "b")
    # The uplink's network routes the pool back to the host: only the rules isolate.
    uplinks["wlan"].ns_sh(f"ip route add 10.213.0.0/16 via {uplinks['wlan'].host}")
    deadline = time.monotonic() + 10
    while host_get(f"http://{b}:8080/") != "in-b":
        assert time.monotonic() < deadline, "b's server does not answer the root"
        time.sleep(0.1)
    host = subprocess.Popen(["python3", "-m", "http.server", "18082", "--bind", "0.0.0.0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while host_get("http://127.0.0.1:18082/") is None:
            assert time.monotonic() < deadline + 10
            time.sleep(0.1)
        # a takes b's address, then b's gateway's, as extra addresses, and sends from
        # them through its gateway.
        gw = host_addr(d, "a")
        for fake in (b, host_addr(d, "b")):
            d.sh("a", f"ip addr add {fake}/32 dev eth0 && "
                      f"ip route replace {b}/32 via {gw} src {fake} && "
                      f"ip route replace {uplinks['wlan'].host}/32 via {gw} src {fake} && "
                      f"ip route replace {gw}/32 dev eth0 src {fake}")
            for url in (f"http://{b}:8080/", f"http://{host_addr(d, 'a')}:18082/",
                        f"http://{uplinks['wlan'].host}:18082/"):
                r = fetch(d, "a", url=url, timeout=2, check=False)
                assert r.returncode != 0 or "in-b" not in r.stdout, (fake, url, r)
                assert "Directory listing" not in r.stdout, (fake, url, r)
        # Nor does a reach the other uplink's network by naming it.
        d.sh("a", f"ip route replace {uplinks['cell'].peer}/32 dev eth0")
        r = fetch(d, "a", url=f"http://{uplinks['cell'].peer}/", timeout=2, check=False)
        assert r.returncode != 0, r
    finally:
        host.kill()
        host.wait()
    # Put back as it was, a still works through its own uplink, and b too.
    d.cell("stop", "a")
    d.cell("start", "a")
    assert fetch(d, "a").stdout.strip() == "wifi-net"
    assert fetch(d, "b").stdout.strip() == "wifi-net"




def test_a_vp_cannot_send_from_an_address_not_its_own(netd, uplinks):  # noqa: F811
    d = netd
    create_vp_with(d, "a", {}, create_args=("--uplink", "wlan"))
    up = uplinks["wlan"]
    # The uplink's side counts what reaches it from the host and from the spoofed address.
    up.ns_sh("nft add table ip seen && "
             "nft add chain ip seen input '{ type filter hook input priority 0; }' && "
             f"nft add rule ip seen input ip saddr {up.host} counter && "
             "nft add rule ip seen input ip saddr 192.0.2.7 counter")

    def counted(addr):
        rules = up.ns_sh("nft list chain ip seen input").stdout
        line = next(l for l in rules.splitlines() if f"saddr {addr}" in l)
        return int(line.split("packets ")[1].split()[0])

    assert fetch(d, "a").stdout.strip() == "wifi-net"
    assert counted(up.host) > 0
    # From an address of its root's choosing, nothing leaves.
    gw = host_addr(d, "a")
    d.sh("a", f"ip addr add 192.0.2.7/32 dev eth0 && "
              f"ip route replace {up.peer}/32 via {gw} src 192.0.2.7")
    assert fetch(d, "a", url=f"http://{up.peer}/", timeout=2, check=False).returncode != 0
    assert counted("192.0.2.7") == 0
