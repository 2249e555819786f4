"""The Wi-Fi configuration proxy: in two VPs, Debian's unmodified wpa_cli (the host's
binary and its shared libraries, put in each VP's upper layer) talks to the VP's
/run/wpa_supplicant/wlan0, which cellsd serves against a real wpa_supplicant
(`-Dwired` on a veth in a network namespace of the test's own: the control plane is
what is tested, no radio).

Checked: status and events in both VPs; a network added in the foreground VP reaches
the real supplicant (wpa_cli on the host against its real socket shows it); one added
in the background VP is kept and applied when that VP comes to the front, replacing the
other's; neither VP sees the other's networks or secrets; what a hostile VP could do is
in tests/security/test_wifi_attacks.py.
"""

import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import create_vp_with, put_file, wait_for

WPA_CLI = Path("/usr/sbin/wpa_cli")
WPA_SUPPLICANT = Path("/usr/sbin/wpa_supplicant")

pytestmark = pytest.mark.skipif(
    not WPA_CLI.exists() or not WPA_SUPPLICANT.exists(),
    reason="wpasupplicant is not installed (scripts/install-deps installs it)")


class Supplicant:
    """A real wpa_supplicant on a veth of a network namespace of its own."""

    def __init__(self, tmp, ns):
        self.ns = ns
        self.path = tmp / "ctrl" / "wv0"  # its control socket
        self.conf = tmp / "wpa.conf"
        self.conf.write_text(f"ctrl_interface={self.path.parent}\nap_scan=0\n")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, str(WPA_SUPPLICANT),
                                      "-Dwired", "-i", "wv0", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.path.exists(), what="wpa_supplicant's socket")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        wait_for(lambda: not self.path.exists(), what="wpa_supplicant gone")


@pytest.fixture
def supplicant():
    ns = "cwifi-" + uuid.uuid4().hex[:8]
    tmp = Path(tempfile.mkdtemp(prefix="cells-wifi-"))
    sup = Supplicant(tmp, ns)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "add", "wv0", "type", "veth", "peer", "name",
                        "wv1"], check=True)
        for dev in ("wv0", "wv1"):
            subprocess.run(["ip", "-n", ns, "link", "set", dev, "up"], check=True)
        sup.start()
        yield sup
    finally:
        sup.stop()
        subprocess.run(["ip", "netns", "del", ns])
        shutil.rmtree(tmp, ignore_errors=True)


def host_cli(ctrl, *args):
    """wpa_cli on the host against the real supplicant."""
    r = subprocess.run([str(WPA_CLI), "-p", str(ctrl.parent), "-i", ctrl.name, *args],
                       capture_output=True, text=True, timeout=15)
    assert r.returncode == 0, r
    return r.stdout


def wpa_cli_files():
    """wpa_cli and what it loads, for a VP's upper layer."""
    files = {"usr/sbin/wpa_cli": WPA_CLI}
    out = subprocess.run(["ldd", str(WPA_CLI)], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        m = re.search(r"(/\S+)\s+\(0x", line)
        if m:  # copied whole, symlinks followed
            files[m.group(1).lstrip("/")] = Path(m.group(1))
    return files


def vp_cli(d, name, *args, check=True):
    """wpa_cli in VP NAME against its /run/wpa_supplicant/wlan0: its output."""
    r = d.exec(name, "wpa_cli", "-p", "/run/wpa_supplicant", "-i", "wlan0", *args, check=check)
    return r.stdout


def start_monitor(d, name):
    """An interactive wpa_cli in VP NAME printing events into its /root/events.log."""
    d.sh(name, "(sleep 600 | wpa_cli -p /run/wpa_supplicant -i wlan0 >/root/events.log 2>&1) "
               "</dev/null >/dev/null 2>&1 &")
    log = d.upper(name) / "root" / "events.log"
    wait_for(lambda: log.exists() and "Interactive mode" in log.read_text(errors="replace"),
             what=f"wpa_cli's monitor in {name}")
    return log


def networks_of(ctrl):
    out = host_cli(ctrl, "list_networks").splitlines()
    return [line.split("\t") for line in out[1:] if "\t" in line]


@pytest.fixture
def two_vps(make_daemon, supplicant):
    d = make_daemon(extra_args=["--wpa-ctrl", str(supplicant.path)])
    files = wpa_cli_files()
    for name in ("a", "b"):
        create_vp_with(d, name, {}, start=False)
        for rel, src in files.items():
            put_file(d, name, rel, src)
        d.cell("start", name)
    d.cell("switch", "a")
    return d, supplicant.path


def test_status_networks_and_switch(two_vps):
    d, ctrl = two_vps
    log_a, log_b = start_monitor(d, "a"), start_monitor(d, "b")

    # Both read the real supplicant's status.
    for name in ("a", "b"):
        assert "wpa_state=" in vp_cli(d, name, "status")
        assert vp_cli(d, name, "ping").strip() == "PONG"

    # The foreground VP's network reaches the real supplicant.
    assert vp_cli(d, "a", "add_network").strip() == "0"
    assert vp_cli(d, "a", "set_network", "0", "ssid", '"net-of-a"').strip() == "OK"
    assert vp_cli(d, "a", "set_network", "0", "key_mgmt", "NONE").strip() == "OK"
    assert vp_cli(d, "a", "set_network", "0", "psk", '"secret-of-a"').strip() == "OK"
    assert vp_cli(d, "a", "enable_network", "0").strip() == "OK"
    wait_for(lambda: any(n[1] == "net-of-a" for n in networks_of(ctrl)),
             what="a's network in the real supplicant")
    wait_for(lambda: "wpa_state=COMPLETED" in host_cli(ctrl, "status"), what="connected")
    st = vp_cli(d, "a", "status")
    assert "ssid=net-of-a" in st and "id=0" in st, st

    # Events in both VPs; b is not told which network of the supplicant it is.
    wait_for(lambda: "CTRL-EVENT-CONNECTED" in log_a.read_text(errors="replace"),
             what="CONNECTED in a")
    wait_for(lambda: "CTRL-EVENT-CONNECTED" in log_b.read_text(errors="replace"),
             what="CONNECTED in b")
    assert "id=0 " in log_a.read_text(errors="replace")
    assert "id=0 " not in log_b.read_text(errors="replace")
    assert "id=-1" in log_b.read_text(errors="replace")
    st_b = vp_cli(d, "b", "status")
    assert not re.search(r"^id=(?!-1$)", st_b, re.M) and "id=-1" in st_b, st_b

    # The background VP's network is kept, not applied.
    assert vp_cli(d, "b", "add_network").strip() == "0"
    assert vp_cli(d, "b", "set_network", "0", "ssid", '"net-of-b"').strip() == "OK"
    assert vp_cli(d, "b", "set_network", "0", "key_mgmt", "WPA-PSK").strip() == "OK"
    assert vp_cli(d, "b", "set_network", "0", "psk", '"secret-of-b"').strip() == "OK"
    assert vp_cli(d, "b", "enable_network", "0").strip() == "OK"
    assert vp_cli(d, "b", "save_config").strip() == "OK"
    time.sleep(0.3)  # nothing is to happen: give it the chance to go wrong
    assert [n[1] for n in networks_of(ctrl)] == ["net-of-a"]

    # Neither sees the other's networks or secrets.
    assert "net-of-a" not in vp_cli(d, "b", "list_networks")
    assert "net-of-b" not in vp_cli(d, "a", "list_networks")
    assert vp_cli(d, "b", "get_network", "0", "psk").strip() == "*"
    assert vp_cli(d, "a", "get_network", "0", "ssid").strip() == '"net-of-a"'
    assert vp_cli(d, "b", "get_network", "0", "ssid").strip() == '"net-of-b"'
    assert "secret-of-b" not in vp_cli(d, "a", "get_network", "0", "psk")

    # b comes to the front: its network replaces a's in the real supplicant.
    d.cell("switch", "b")
    wait_for(lambda: [n[1] for n in networks_of(ctrl)] == ["net-of-b"],
             what="b's network alone in the real supplicant")
    real = networks_of(ctrl)[0][0]
    assert host_cli(ctrl, "get_network", real, "key_mgmt").strip() == "WPA-PSK"
    wait_for(lambda: "CTRL-EVENT-DISCONNECTED" in log_a.read_text(errors="replace"),
             what="DISCONNECTED in a")
    # a's list is its own still, and comes back with it.
    assert "net-of-a" in vp_cli(d, "a", "list_networks")
    d.cell("switch", "a")
    wait_for(lambda: [n[1] for n in networks_of(ctrl)] == ["net-of-a"],
             what="a's network back in the real supplicant")

    # The daemon stops: no VP's network stays in the real supplicant (two, whose
    # removals are queued one behind the other).
    assert vp_cli(d, "a", "add_network").strip() == "1"
    assert vp_cli(d, "a", "set_network", "1", "ssid", '"second-of-a"').strip() == "OK"
    wait_for(lambda: len(networks_of(ctrl)) == 2, what="a's two networks")
    assert d.stop() == 0
    wait_for(lambda: networks_of(ctrl) == [], what="the supplicant without a's network")


def test_saved_networks_survive_a_restart(two_vps):
    d, ctrl = two_vps
    assert vp_cli(d, "b", "add_network").strip() == "0"
    assert vp_cli(d, "b", "set_network", "0", "ssid", '"kept"').strip() == "OK"
    assert vp_cli(d, "b", "save_config").strip() == "OK"
    d.cell("stop", "b")
    d.cell("start", "b")
    assert "kept" in vp_cli(d, "b", "list_networks")
    assert "kept" not in vp_cli(d, "a", "list_networks")


def test_a_restarted_supplicant_gets_the_foreground_networks_again(two_vps, supplicant):
    d, ctrl = two_vps
    assert vp_cli(d, "a", "add_network").strip() == "0"
    assert vp_cli(d, "a", "set_network", "0", "ssid", '"back-again"').strip() == "OK"
    assert vp_cli(d, "a", "set_network", "0", "key_mgmt", "NONE").strip() == "OK"
    assert vp_cli(d, "a", "enable_network", "0").strip() == "OK"
    wait_for(lambda: [n[1] for n in networks_of(ctrl)] == ["back-again"],
             what="a's network in the real supplicant")
    supplicant.stop()
    assert vp_cli(d, "a", "status", check=False).strip() in ("FAIL", "")
    supplicant.start()  # with its own (empty) config: a's network is gone from it
    wait_for(lambda: [n[1] for n in networks_of(ctrl)] == ["back-again"],
             what="a's network applied again")
    wait_for(lambda: "wpa_state=COMPLETED" in vp_cli(d, "a", "status"), what="connected")


def test_a_killed_daemon_leaves_nothing_in_the_supplicant(two_vps):
    d, ctrl = two_vps
    assert vp_cli(d, "a", "add_network").strip() == "0"
    assert vp_cli(d, "a", "set_network", "0", "ssid", '"survivor"').strip() == "OK"
    assert vp_cli(d, "a", "set_network", "0", "id_str", '"mine"').strip() == "OK"
    assert vp_cli(d, "a", "save_config").strip() == "OK"
    wait_for(lambda: [n[1] for n in networks_of(ctrl)] == ["survivor"],
             what="a's network in the real supplicant")
    pid = d.proc.pid
    # libwpa-client's sockets are in the daemon's run directory, not /tmp, where a
    # killed daemon's would stay (it unlinks them only when it closes them).
    assert list(Path("/tmp").glob(f"wpa_ctrl_{pid}-*")) == []
    assert len(list((d.run / "wifi").glob(f"wpa_ctrl_{pid}-*"))) == 2
    d.kill9()
    assert list(Path("/tmp").glob(f"wpa_ctrl_{pid}-*")) == []
    assert len(list((d.run / "wifi").glob(f"wpa_ctrl_{pid}-*"))) == 2
    assert [n[1] for n in networks_of(ctrl)] == ["survivor"]  # left behind
    d.start()  # its VPs start again, a in the foreground
    # The new daemon removed the old one's sockets.
    assert list((d.run / "wifi").glob(f"wpa_ctrl_{pid}-*")) == []
    wait_for(lambda: d.list()["a"]["state"] == "running", what="a running again")
    # The one left behind is removed, a's applied again: one, not two.
    wait_for(lambda: [n[1] for n in networks_of(ctrl)] == ["survivor"]
             and networks_of(ctrl)[0][0] != "0", what="the old network replaced")
    time.sleep(0.5)
    assert [n[1] for n in networks_of(ctrl)] == ["survivor"]
    # The VP's own id_str is its store's; the supplicant has the daemon's mark.
    assert vp_cli(d, "a", "get_network", "0", "id_str").strip() == '"mine"'


def test_without_a_supplicant_or_the_right(make_daemon):
    """No --wpa-ctrl: the socket is there, reads FAIL, networks are still kept. A VP
    created with wifi=none has no socket."""
    d = make_daemon()
    files = wpa_cli_files()
    create_vp_with(d, "a", {}, start=False)
    create_vp_with(d, "n", {}, create_args=("--device", "wifi=none"), start=False)
    for rel, src in files.items():
        put_file(d, "a", rel, src)
    d.cell("start", "a")
    d.cell("start", "n")
    assert vp_cli(d, "a", "ping").strip() == "PONG"
    assert vp_cli(d, "a", "status", check=False).strip() == "FAIL"
    assert vp_cli(d, "a", "add_network").strip() == "0"
    assert vp_cli(d, "a", "set_network", "0", "ssid", '"offline"').strip() == "OK"
    assert "offline" in vp_cli(d, "a", "list_networks")
    r = d.sh("n", "ls /run/wpa_supplicant", check=False)
    assert r.returncode != 0, r


def test_the_foreground_vps_networks_rank_above_the_roots(two_vps):
    """The supplicant prefers, among networks in range, those of higher priority: the
    foreground VP's go in at 1000 + their own, the root's own are left as they are."""
    d, ctrl = two_vps
    root = host_cli(ctrl, "add_network").strip()
    for var, value in (("ssid", '"roots"'), ("priority", "5")):
        assert host_cli(ctrl, "set_network", root, var, value).strip() == "OK"

    def real_priority(ssid, want):
        def check():
            ids = [n[0] for n in networks_of(ctrl) if n[1] == ssid]
            return ids and host_cli(ctrl, "get_network", ids[0], "priority").strip() == want
        wait_for(check, what=f"{ssid} at priority {want} in the supplicant")

    assert vp_cli(d, "a", "add_network").strip() == "0"
    assert vp_cli(d, "a", "set_network", "0", "ssid", '"mine"').strip() == "OK"
    real_priority("mine", "1000")
    assert vp_cli(d, "a", "set_network", "0", "priority", "7").strip() == "OK"
    real_priority("mine", "1007")
    # The VP reads its own value; the root's network is untouched.
    assert vp_cli(d, "a", "get_network", "0", "priority").strip() == "7"
    assert host_cli(ctrl, "get_network", root, "priority").strip() == "5"
    # b's network, set in the background, is raised when b comes to the front.
    assert vp_cli(d, "b", "add_network").strip() == "0"
    assert vp_cli(d, "b", "set_network", "0", "ssid", '"theirs"').strip() == "OK"
    assert vp_cli(d, "b", "set_network", "0", "priority", "2").strip() == "OK"
    d.cell("switch", "b")
    real_priority("theirs", "1002")
    assert host_cli(ctrl, "get_network", root, "priority").strip() == "5"
    host_cli(ctrl, "remove_network", root)
