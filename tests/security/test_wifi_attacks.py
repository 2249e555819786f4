"""A hostile VP against its Wi-Fi control socket (src/devices/wifi*.c): requests that
are not on the list or not in their shape, a value meant to inject a line into the real
wpa_supplicant's config, binary and over-long datagrams, a SCAN flood, a client that
never reads its events, and a client that points the daemon's answer at a host socket.
Each is refused or bounded; the real supplicant and the other VP are not touched.
wifiprobe.c is the client (static, in the VP); the supplicant is a real one, as in
tests/integration/test_wifi.py."""

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from attackers import make_vp
from test_wifi import WPA_CLI, WPA_SUPPLICANT, host_cli, networks_of, supplicant  # noqa: F401

pytestmark = pytest.mark.skipif(
    not WPA_CLI.exists() or not WPA_SUPPLICANT.exists(),
    reason="wpasupplicant is not installed (scripts/install-deps installs it)")


@pytest.fixture
def vps(make_daemon, supplicant, build_static):  # noqa: F811
    d = make_daemon(extra_args=["--wpa-ctrl", str(supplicant.path)])
    probe = build_static("wifiprobe.c")
    for name in ("a", "b"):
        make_vp(d, name, {"usr/bin/wifiprobe": probe})
    d.cell("switch", "a")
    return d, supplicant.path


def send(d, name, *payloads):
    r = d.exec(name, "wifiprobe", "send", *(p.hex() for p in payloads), timeout=60)
    return [bytes.fromhex(x) if x not in ("-", "!") else x for x in r.stdout.split()]


def send_n(d, name, n, payload):
    r = d.exec(name, "wifiprobe", "send", f"{n}*{payload.hex()}", timeout=60)
    return [bytes.fromhex(x) if x not in ("-", "!") else x for x in r.stdout.split()]


def stats(d):
    return json.loads(d.cell("stats", "--json").stdout)["daemon"]


def test_bad_requests_are_refused(vps):
    d, ctrl = vps
    assert send(d, "a", b"ADD_NETWORK") == [b"0\n"]
    before = host_cli(ctrl, "list_networks")
    refused_before = stats(d).get("wifi_refused", 0)
    bad = [
        b"TERMINATE", b"SET ap_scan 1", b"DRIVER x", b"LEVEL 0", b"REMOVE_NETWORK 0 1",
        b"GET_NETWORK 0", b"STATUS extra", b"PING\x00\xff", b"\xff\xfe\x00\x01",
        b"X" * 5000, b"SET_NETWORK 0 ssid \"" + b"a" * 4000 + b"\"",
        b'SET_NETWORK 0 ssid "a"\nnetwork={\nssid="evil"\n}',
        b'SET_NETWORK 0 ssid "a"b"', b'SET_NETWORK 0 identity "a\\"b"',
        b'SET_NETWORK 0 psk "12345678"\nkey_mgmt=NONE',
        b'SET_NETWORK 0 ca_cert "/etc/shadow"', b'SET_NETWORK 0 mode 2',
        b'SET_NETWORK 0 ssid', b'SET_NETWORK 0 ssid "x" extra"',
    ]
    answers = send(d, "a", *bad)
    assert answers == [b"FAIL\n"] * len(bad), answers
    assert stats(d)["wifi_refused"] >= refused_before + len(bad)
    # Nothing reached the real supplicant's networks but a's own (empty) one.
    assert host_cli(ctrl, "list_networks") == before
    for n in networks_of(ctrl):
        for var in ("ssid", "identity", "ca_cert"):
            r = subprocess.run([str(WPA_CLI), "-p", str(ctrl.parent), "-i", ctrl.name,
                                "get_network", n[0], var], capture_output=True, text=True)
            assert "evil" not in r.stdout and "shadow" not in r.stdout
    assert host_cli(ctrl, "ping").strip() == "PONG"
    assert send(d, "b", b"PING") == [b"PONG\n"]


def test_a_scan_flood_is_rate_limited(vps):
    d, ctrl = vps
    answers = send_n(d, "a", 20, b"SCAN")
    assert answers.count(b"FAIL-BUSY\n") >= 19, answers
    # b's own SCAN is not held by a's flood.
    assert send(d, "b", b"SCAN")[0] != b"FAIL-BUSY\n"
    assert host_cli(ctrl, "ping").strip() == "PONG"


def test_a_request_flood_is_bounded(vps):
    d, ctrl = vps
    r = d.exec("a", "wifiprobe", "flood", "300", b"PING".hex(), timeout=60)
    answered = int(r.stdout.strip())
    # 50 a second with a burst of 50: the rest are dropped unanswered.
    assert 50 <= answered < 300, answered
    assert stats(d)["wifi_refused"] >= 300 - answered - 10
    assert send(d, "b", b"PING") == [b"PONG\n"]


def seen(d):
    """Every datagram the daemon took, answered or refused."""
    st = stats(d)
    return st["wifi_requests"] + st["wifi_refused"]


def test_the_daemon_never_answers_itself(vps):
    """A VP binds its control socket over its client's name, and over the daemon's own
    name of the socket (made in the VP): an answer to itself would be answered again, for
    ever."""
    d, ctrl = vps
    sock = next(Path(d.run).glob("**/a.wifi/wlan0"))
    start = seen(d)
    r = d.exec("a", "wifiprobe", "loop", str(sock), check=False)
    assert r.stdout.strip() == "sent", r
    # Nothing goes round: the requests the daemon counts stop growing at once.
    time.sleep(0.2)
    before = seen(d)
    time.sleep(1)
    assert seen(d) == before, (before, seen(d))
    # The PING alone: its answer was never sent (to the daemon's own socket).
    assert before - start == 1, (start, before)
    assert send(d, "a", b"PING") == [b"PONG\n"]
    assert send(d, "b", b"PING") == [b"PONG\n"]


def test_a_client_that_never_reads_is_dropped(vps):
    d, ctrl = vps
    deaf = subprocess.Popen([str(d.cell_bin), "--run", str(d.run), "exec", "a", "--",
                             "wifiprobe", "deaf", "120"], stdout=subprocess.PIPE, text=True)
    try:
        assert deaf.stdout.readline().strip() == "attached"
        # Events it never reads: the supplicant connects and disconnects, again and again.
        host_cli(ctrl, "add_network")
        host_cli(ctrl, "set_network", "0", "ssid", '"flood"')
        host_cli(ctrl, "set_network", "0", "key_mgmt", "NONE")
        deadline = time.monotonic() + 120
        while stats(d).get("wifi_events_dropped", 0) == 0:
            assert time.monotonic() < deadline, stats(d)
            for _ in range(5):
                host_cli(ctrl, "disable_network", "0")
                host_cli(ctrl, "enable_network", "0")
        # It is detached, or the VP's socket made anew: what is dropped stays bounded,
        # and the VP's other clients (and b) are answered.
        for _ in range(40):
            host_cli(ctrl, "disable_network", "0")
            host_cli(ctrl, "enable_network", "0")
        st = stats(d)
        assert st["wifi_events_dropped"] <= 32 and st["wifi_socket_resets"] <= 1, st
        assert send(d, "a", b"PING") == [b"PONG\n"]
        assert send(d, "b", b"PING") == [b"PONG\n"]
    finally:
        deaf.kill()
        deaf.wait()


def test_an_answer_goes_only_to_a_socket_of_the_vp(vps, tmp_path):
    """The client's socket replaced by a symlink to a host socket: resolved in the
    daemon's namespace, the answer would land there."""
    d, ctrl = vps
    tmp_path.chmod(0o755)
    host = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    host.bind(str(tmp_path / "host.sock"))
    host.settimeout(1)
    try:
        r = d.exec("a", "wifiprobe", "symlink", str(tmp_path / "host.sock"))
        assert r.stdout.strip() == "no-answer", r.stdout
        with pytest.raises(socket.timeout):
            host.recv(100)
    finally:
        host.close()
