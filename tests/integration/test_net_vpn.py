"""A VP's own VPN with real software: the host's openvpn (its binary and libraries put in
a busybox VP with /dev/net/tun) as a client of an openvpn server in the uplink namespace
wifi-net, with a static key made here. A server there answers with the address a request
came from: through the tunnel it is the VP's tunnel address, not the uplink's NAT."""
import re
import subprocess
from pathlib import Path

import pytest

from conftest import create_vp_with, put_file, wait_for
from test_net import fetch, host_get, netd, sh, uplinks  # noqa: F401 (fixtures)

OPENVPN = Path("/usr/sbin/openvpn")
pytestmark = pytest.mark.skipif(
    not OPENVPN.exists(), reason="openvpn is not installed (scripts/install-deps installs it)")
BEHIND = "10.251.1.3"  # another address of wifi-net's, served by WHOAMI
WHOAMI = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_GET(self):
        with open(sys.argv[1], "a") as log:
            log.write(self.client_address[0] + "\\n")
        body = (self.client_address[0] + "\\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("0.0.0.0", 8000), H).serve_forever()
"""


def openvpn_files():
    """openvpn and what it loads, for a VP's upper layer."""
    files = {"usr/sbin/openvpn": OPENVPN}
    out = subprocess.run(["ldd", str(OPENVPN)], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        m = re.search(r"(/\S+)\s+\(0x", line)
        if m:
            files[m.group(1).lstrip("/")] = Path(m.group(1))
    return files


def tun_rx(net):
    """Packets the server's tun0 has received."""
    r = net.ns_sh("cat /sys/class/net/tun0/statistics/rx_packets")
    return int(r.stdout)


def test_openvpn_in_a_vp_carries_its_traffic(netd, uplinks, tmp_path):
    d, wlan = netd, uplinks["wlan"]
    key = tmp_path / "vpn.key"
    sh("openvpn", "--genkey", "secret", str(key))
    common = ["--dev", "tun0", "--proto", "udp", "--cipher", "AES-256-CBC", "--disable-dco",
              "--verb", "3"]
    # The server side: the VPN's endpoint at wifi-net's address, a host "behind" it.
    wlan.ns_sh(f"ip addr add {BEHIND}/24 dev eth0")
    (tmp_path / "whoami.py").write_text(WHOAMI)
    seen = tmp_path / "seen"  # who the server behind answered, a line each
    wlan.spawn("python3", str(tmp_path / "whoami.py"), str(seen))
    wait_for(lambda: host_get(f"http://{BEHIND}:8000/") == wlan.host, 20, "whoami server")
    server_log = tmp_path / "server.log"
    wlan.spawn("openvpn", *common, "--local", wlan.peer, "--lport", "1194", "--ifconfig",
               "10.8.0.1", "10.8.0.2", "--secret", str(key), "0", "--log", str(server_log))
    server = wlan.procs[-1]
    wait_for(lambda: server_log.exists() and "link local (bound)" in server_log.read_text(),
             20, "openvpn server")

    create_vp_with(d, "v", {}, create_args=("--device", "tun=shared", "--uplink", "wlan"),
                   start=False)
    for rel, src in openvpn_files().items():
        put_file(d, "v", rel, src)
    put_file(d, "v", "etc/vpn.key", key.read_bytes(), mode=0o600)
    d.cell("start", "v")
    url = f"http://{BEHIND}:8000/"
    # Without the VPN the request leaves by the uplink, NAT'd to the host's address there.
    assert fetch(d, "v", url=url).stdout.strip() == wlan.host

    # The VP's own openvpn, its routes sending everything through the tunnel.
    d.sh("v", f"openvpn {' '.join(common)} --remote {wlan.peer} 1194 --nobind "
              "--ifconfig 10.8.0.2 10.8.0.1 --secret /etc/vpn.key 1 --redirect-gateway def1 "
              "--daemon --log /root/vpn.log --writepid /root/vpn.pid")
    log = d.upper("v") / "root" / "vpn.log"
    wait_for(lambda: log.exists() and "Initialization Sequence Completed" in log.read_text(),
             20, "openvpn client in the VP")
    routes = d.exec("v", "ip", "route").stdout
    assert "0.0.0.0/1 via 10.8.0.1 dev tun0" in routes, routes
    # tun0 is the VP's, not the host's.
    assert "tun0" not in Path("/proc/net/dev").read_text()
    before = tun_rx(wlan)
    assert fetch(d, "v", url=url).stdout.strip() == "10.8.0.2"
    assert tun_rx(wlan) > before
    # The tunnel's far end gone, nothing leaves outside it: the same server, reachable by
    # the uplink a moment ago, is not reached.
    server.kill()
    server.wait()
    answered = seen.read_text()
    r = fetch(d, "v", url=url, timeout=3, check=False)
    assert r.returncode != 0 and wlan.host not in r.stdout, r
    assert seen.read_text() == answered
    entry = d.stats("v")["vps"][0]
    assert "net" in entry, (entry, d.log())
    d.sh("v", "kill $(cat /root/vpn.pid)")
