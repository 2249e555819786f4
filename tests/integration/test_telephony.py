"""The telephony device: VPs share one AT modem (the project's simulator, playing the
modem, the carrier and the forwarding service), each with its own number, through its
/dev/ttyM0. A small static program in each VP (atprobe.c) writes AT commands there and
reads what comes; the simulator's control socket plays the remote parties and tells
what they see.

Checked: a call for the background VP rings there only (RING and +CLIP with the original
caller), `cell events` names it; answering brings it to the front (--on-call ask); a
VP's outgoing call shows its own number to the callee; two VPs dialling at once: one
gets BUSY; an SMS reaches only its VP's store, which another VP cannot read; a stopped
VP's call is hung up by the modem. What a hostile VP could do is in
tests/security/test_telephony_attacks.py.
"""

import itertools
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import BUILD, LineReader, create_vp_with, wait_for

try:  # tests/security imports this file: its conftest has a fixture of that name
    from integration_conftest import build_static
except ImportError:
    from conftest import build_static

HERE = Path(__file__).resolve().parent
SIM_NUMBER = "+15550100"  # the SIM's: VP "home" owns it
WORK_NUMBER = "+15550102"  # at the forwarding service: VP "work"
ACCESS = "+15550999"
CALLER = "+15551234"

MODEMSIM = BUILD / "cells-modemsim"

pytestmark = pytest.mark.skipif(not MODEMSIM.exists(), reason=f"{MODEMSIM} is not built")


class Sim:
    """The conftest's simulator (make_modemsim), as these tests drive it."""

    def __init__(self, m):
        self.m = m
        self.link = m.link

    def control(self, obj):
        c = self.m.client()
        try:
            obj = dict(obj)
            reply = c(obj.pop("cmd"), **obj)
        finally:
            c.close()
        assert reply.get("ok"), f"{obj} -> {reply}"
        return reply

    def subscribe(self, at=False):
        return Events(self.m.client().subscribe(at=at))


class Events:
    """A subscribed control connection: the first event a predicate holds for."""

    def __init__(self, client):
        self.client = client

    def wait_for(self, pred, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.client.events):
                if pred(ev):
                    return self.client.events.pop(i)
            self.client.events.clear()
            msg = self.client._read(deadline)
            if msg is None:
                return None
            if pred(msg):
                return msg


@pytest.fixture(scope="module")
def atprobe(tmp_path_factory):
    return build_static(HERE / "atprobe.c", tmp_path_factory.mktemp("atprobe"))


@pytest.fixture(scope="module")
def evprobe(tmp_path_factory):
    return build_static(HERE / "evprobe.c", tmp_path_factory.mktemp("evprobe"), "-pthread")


@pytest.fixture
def phones(make_daemon, make_modemsim, atprobe, evprobe):
    """A daemon on the simulator's modem with VPs "home" (the SIM's number, started
    first: the foreground) and "work" (a forwarded number)."""
    sim = Sim(make_modemsim(number=SIM_NUMBER, access=ACCESS, ring_interval=500))
    d = make_daemon(extra_args=["--modem", str(sim.link), "--forward-access", ACCESS])
    files = {"bin/atprobe": atprobe, "bin/evprobe": evprobe}
    create_vp_with(d, "home", files, create_args=("--number", SIM_NUMBER))
    create_vp_with(d, "work", files, create_args=("--number", WORK_NUMBER))
    sim.control({"cmd": "forward", "number": WORK_NUMBER,
                 "tag": f"*77{d.vp('work')['id']}*"})
    wait_for(lambda: d.stats()["daemon"]["telephony"]["modem_up"], what="the modem set up")
    return d, sim


def at(d, vp, *cmds, check=True):
    """atprobe in VP with CMDS: what it read."""
    r = d.exec(vp, "atprobe", *cmds, check=False)
    if check:
        assert r.returncode == 0, f"atprobe in {vp}: {r}"
    return r.stdout


_logs = itertools.count()


def listen(d, vp, *args):
    """An atprobe in VP left running with ARGS (it ends by itself), its output in a file
    of its /root: the path of that file on the host."""
    # A new file each time: the upper layer is not to be changed under the VP's overlay.
    name = f"tty{next(_logs)}.log"
    log = d.upper(vp) / "root" / name
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in args)
    d.sh(vp, f"(atprobe {quoted} </dev/null >/root/{name} 2>&1 &)")
    wait_for(lambda: log.exists() and "OK" in log.read_text(errors="replace"),
             what=f"the listener in {vp}")
    return log


def events(d):
    """`cell events`, sure to be subscribed (an event of ours came through)."""
    p = subprocess.Popen([str(d.cell_bin), "--run", str(d.run), "events"],
                         stdout=subprocess.PIPE, text=True)
    reader = LineReader(p)
    for i in range(20):
        d.cell("create", f"evprobe{i}")
        seen = reader.wait_for(lambda e, i=i: e.get("vp") == f"evprobe{i}", timeout=0.5 + i * 0.2)
        d.cell("destroy", f"evprobe{i}")
        if seen:
            return p, reader
    p.kill()
    p.wait()
    raise AssertionError("`cell events` showed no event")


def test_background_call_rings_only_its_vp(phones):
    d, sim = phones
    assert d.vp("home")["foreground"] is True
    ev, reader = events(d)
    try:
        work = listen(d, "work", "AT+CLIP=1", "-u", "+CLIP:", "-t", "20")
        home = listen(d, "home", "AT+CLIP=1", "-t", "20")
        call = sim.control({"cmd": "call", "from": CALLER, "to": WORK_NUMBER})["call"]
        wait_for(lambda: f'+CLIP: "{CALLER}",145' in work.read_text(), what="work's +CLIP")
        assert "RING" in work.read_text()
        e = reader.wait_for(lambda o: o.get("event") == "call-incoming", timeout=5)
        assert e and e["vp"] == "work" and e["from"] == CALLER and e["background"] is True, e
        assert "RING" not in home.read_text() and "CLIP:" not in home.read_text()
        sim.control({"cmd": "hangup", "call": call})
        e = reader.wait_for(lambda o: o.get("event") == "call-ended", timeout=5)
        assert e and e["vp"] == "work", e
    finally:
        ev.terminate()
        ev.wait()


def test_a_call_thaws_a_frozen_background_vp_before_it_rings(phones):
    from test_power import frozen, thawed
    d, sim = phones
    log = listen(d, "work", "AT+CLIP=1", "-u", "+CLIP:", "-t", "30")
    d.cell("config", "work", "--background", "freeze")
    wait_for(lambda: frozen(d, "work"), 10, "work frozen in the background")
    call = sim.control({"cmd": "call", "from": CALLER, "to": WORK_NUMBER})["call"]
    # Only a running listener can write what it read: the VP was thawed for the call.
    wait_for(lambda: f'+CLIP: "{CALLER}",145' in log.read_text(), what="work's +CLIP")
    assert "RING" in log.read_text()
    assert thawed(d, "work")
    sim.control({"cmd": "hangup", "call": call})


def test_answering_in_the_background_brings_the_vp_forward(phones):
    d, sim = phones
    ev, reader = events(d)
    try:
        log = listen(d, "work", "AT+CLIP=1", "-u", "+CLIP:", "-t", "20")
        sim.control({"cmd": "call", "from": CALLER, "to": WORK_NUMBER})
        wait_for(lambda: "+CLIP:" in log.read_text(), what="the ring")
        # The bar says so meanwhile (the root's view): `cell device telephony calls`.
        out = d.cell("device", "telephony", "calls").stdout
        assert "work" in out and "incoming" in out and CALLER in out, out
        log2 = listen(d, "work", "ATA", "AT+CLCC", "-t", "1")
        text = wait_for(lambda: "+CLCC:" in log2.read_text() and log2.read_text(),
                        what="work's +CLCC")
        assert "\nOK\n" in text and f'+CLCC: 1,1,0,0,0,"{CALLER}",145' in text, text
        e = reader.wait_for(lambda o: o.get("event") == "switch", timeout=5)
        assert e and e["to"] == "work", e
        assert d.vp("work")["foreground"] is True
    finally:
        ev.terminate()
        ev.wait()


KEY_PHONE = 169


def test_the_accept_key_answers_a_background_call(phones):
    """The system's accept key (`cellsd --accept-key`, KEY_PHONE by default) answers the
    call ringing in the background VP and brings that VP forward (--on-call ask); neither
    VP's keyboard ever hears the key, with a call ringing or without."""
    from test_input import Reader

    d, sim = phones
    ev, reader = events(d)
    try:
        # Each reader ends at its 4th event: the "a" typed into its VP at the end.
        keys = {vp: Reader(d, vp, "read", "/dev/input/event1", 20000, 4)
                for vp in ("home", "work")}
        # No call: nothing happens, and the key is the root's all the same.
        d.cell("input", "key", "phone")
        assert d.vp("home")["foreground"] is True
        log = listen(d, "work", "AT+CLIP=1", "-u", "+CLIP:", "-t", "20")
        sim.control({"cmd": "call", "from": CALLER, "to": WORK_NUMBER})
        wait_for(lambda: "+CLIP:" in log.read_text(), what="the ring")
        d.cell("input", "key", "phone")
        e = reader.wait_for(lambda o: o.get("event") == "call-answered", timeout=5)
        assert e and e["vp"] == "work" and e["from"] == CALLER, e
        e = reader.wait_for(lambda o: o.get("event") == "switch", timeout=5)
        assert e and e["to"] == "work", e
        assert d.vp("work")["foreground"] is True
        clcc = at(d, "work", "AT+CLCC")
        assert f'+CLCC: 1,1,0,0,0,"{CALLER}",145' in clcc, clcc
        d.cell("input", "key", "a")
        d.cell("switch", "home")
        d.cell("input", "key", "a")
        for vp, r in keys.items():
            got = r.events()
            assert got == [(1, 30, 1), (0, 0, 0), (1, 30, 0), (0, 0, 0)], (vp, got)
        assert d.stats()["daemon"]["system_keys"] == 2
    finally:
        ev.terminate()
        ev.wait()


def test_outgoing_call_shows_the_vps_number(phones):
    d, sim = phones
    sub = sim.subscribe()
    out = at(d, "work", "ATE0", "ATD+15559876;")
    assert out.rstrip().endswith("OK"), out
    e = sub.wait_for(lambda o: o.get("event") == "ringing", timeout=5)
    assert e and e["from"] == WORK_NUMBER and e["to"] == "+15559876", e
    # atprobe closed its tty: the call ended with it.
    e = sub.wait_for(lambda o: o.get("event") == "hangup", timeout=5)
    assert e and e["by"] == "modem", e
    out = at(d, "home", "ATE0", "ATD+15559877;")
    e = sub.wait_for(lambda o: o.get("event") == "ringing", timeout=5)
    assert e and e["from"] == SIM_NUMBER and e["to"] == "+15559877", e


def test_two_vps_dialling_at_once_one_gets_busy(phones):
    d, sim = phones
    outs = {}

    def dial(vp, number):
        outs[vp] = at(d, vp, "ATE0", f"ATD{number};", "-t", "4", check=False)

    threads = [threading.Thread(target=dial, args=("home", "+15559876")),
               threading.Thread(target=dial, args=("work", "+15559877"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # ATE0's echo and OK, then the dial's result.
    results = sorted([line for line in o.splitlines() if line][2] for o in outs.values())
    assert results == ["BUSY", "OK"], outs


def test_sms_reaches_only_its_vps_store(phones):
    d, sim = phones
    sub = sim.subscribe()
    sim.control({"cmd": "sms", "from": CALLER, "to": WORK_NUMBER, "text": "hello work"})
    wait_for(lambda: "hello work" in at(d, "work", "ATE0", "AT+CMGF=1", 'AT+CMGL="ALL"'),
             what="the SMS in work's store")
    out = at(d, "work", "ATE0", "AT+CMGF=1", "AT+CMGR=1")
    assert f'"{CALLER}"' in out and "hello work" in out, out
    home = at(d, "home", "ATE0", "AT+CMEE=1", "AT+CMGF=1", 'AT+CMGL="ALL"', "AT+CMGR=1",
              "AT+CPMS?")
    assert "hello work" not in home and "+CMS ERROR: 321" in home, home
    assert '+CPMS: "SM",0,' in home, home
    # home deletes "its" 1: work's message stays.
    at(d, "home", "ATE0", "AT+CMGD=1,4")
    assert "hello work" in at(d, "work", "ATE0", "AT+CMGF=1", "AT+CMGR=1")
    # And back: the callee sees work's number.
    out = at(d, "work", "ATE0", "AT+CMGF=1", f'AT+CMGS="{CALLER}"', "hi back")
    assert "+CMGS:" in out, out
    e = sub.wait_for(lambda o: o.get("event") == "sms", timeout=5)
    assert e and e["from"] == WORK_NUMBER and e["to"] == CALLER and e["text"] == "hi back", e


def test_a_stopped_vps_call_is_hung_up(phones):
    d, sim = phones
    sub = sim.subscribe()
    listen(d, "work", "ATE0", "ATD+15559876;", "-t", "60")
    e = sub.wait_for(lambda o: o.get("event") == "ringing", timeout=5)
    assert e and e["from"] == WORK_NUMBER, e
    d.cell("stop", "work")
    e = sub.wait_for(lambda o: o.get("event") == "hangup", timeout=10)
    assert e and e["by"] == "modem", e
    assert "no call" in d.cell("device", "telephony", "calls").stdout


def test_a_vp_stopped_while_its_call_rings(phones):
    """The call is hung up, the bar cleared from teardown (under the core's lock), the
    daemon goes on."""
    d, sim = phones
    sub = sim.subscribe()
    ev, reader = events(d)
    try:
        sim.control({"cmd": "call", "from": CALLER, "to": WORK_NUMBER})
        e = reader.wait_for(lambda o: o.get("event") == "call-incoming", timeout=10)
        assert e and e["vp"] == "work", e
        d.cell("stop", "work")
        e = sub.wait_for(lambda o: o.get("event") == "hangup", timeout=10)
        assert e and e["by"] == "modem", e
        assert "no call" in d.cell("device", "telephony", "calls").stdout
        assert "OK" in at(d, "home", "AT")
    finally:
        ev.terminate()
        ev.wait()


def test_the_modem_going_away_and_coming_back(make_daemon, atprobe, tmp_path):
    """cellsd opens the modem's line again when it comes back (its set-up anew); the VPs'
    ttys stay and work again. (Simulators of its own: the fixture's may not stop.)"""
    from modemsim import ModemSim

    link = tmp_path / "modem"
    sims = [ModemSim(number=SIM_NUMBER, access=ACCESS)]
    try:
        os.symlink(sims[0].pty, link)
        d = make_daemon(extra_args=["--modem", str(link), "--forward-access", ACCESS])
        create_vp_with(d, "home", {"bin/atprobe": atprobe}, create_args=("--number", SIM_NUMBER))
        wait_for(lambda: d.stats()["daemon"]["telephony"]["modem_up"], what="the modem set up")
        ev, reader = events(d)
        try:
            sims[0].stop()
            assert reader.wait_for(lambda o: o.get("event") == "modem-down", timeout=10)
            out = at(d, "home", "ATE0", "AT+CMEE=1", "AT+CSQ", check=False)
            assert "+CME ERROR: 30" in out, out
            sims.append(ModemSim(number=SIM_NUMBER, access=ACCESS))
            link.unlink()
            os.symlink(sims[1].pty, link)
            assert reader.wait_for(lambda o: o.get("event") == "modem-up", timeout=15)
            assert "+CSQ:" in at(d, "home", "ATE0", "AT+CSQ")
        finally:
            ev.terminate()
            ev.wait()
    finally:
        for sim in sims:
            sim.stop()


def test_a_second_call_for_a_vp_in_one_waits(phones):
    """work is in a call: a call for work arrives there as +CCWA (the original caller); a
    call for home meanwhile is rejected (the modem is busy with work's), and home sees
    nothing of either."""
    d, sim = phones
    sub = sim.subscribe()
    log = listen(d, "work", "ATE0", "AT+CCWA=1", "ATD+15559876;", "-t", "10")
    e = sub.wait_for(lambda o: o.get("event") == "ringing", timeout=10)
    sim.control({"cmd": "answer", "call": e["call"]})
    home = listen(d, "home", "ATE0", "AT+CLIP=1", "AT+CCWA=1", "-t", "8")
    # For home, free but the modem is not: rejected, home hears nothing.
    sim.control({"cmd": "call", "from": "+15554321", "to": SIM_NUMBER})
    wait_for(lambda: d.stats()["daemon"]["telephony"]["calls_refused"] >= 1,
             what="home's call refused")
    e = sub.wait_for(lambda o: o.get("event") == "hangup" and o.get("by") == "modem",
                     timeout=10)
    assert e and e["call"] != 1, e  # home's, not work's
    assert "NO CARRIER" not in log.read_text()
    # For work, in the call: waiting there.
    sim.control({"cmd": "call", "from": CALLER, "to": WORK_NUMBER})
    wait_for(lambda: f'+CCWA: "{CALLER}",145,1' in log.read_text(), what="work's +CCWA")
    out = wait_for(lambda: (lambda o: "active" in o and o)(
        d.cell("device", "telephony", "calls").stdout), what="the calls' states")
    assert "waiting" in out and CALLER in out, out
    text = home.read_text()
    assert "RING" not in text and "+CCWA" not in text and "+CLIP:" not in text, text


def test_the_modem_port_is_in_the_vps_sys_and_udev_data(phones):
    """ModemManager and oFono find a modem by enumerating udev's "tty" devices: ttyM0 is
    one, with its node's numbers and the properties they select it by."""
    d, _ = phones
    node = d.sh("work", "stat -c '%t %T' /dev/ttyM0").stdout.split()
    major, minor = (int(x, 16) for x in node)
    assert d.sh("work", "readlink /sys/class/tty/ttyM0").stdout.strip() == \
        "../../devices/virtual/tty/ttyM0"
    assert d.sh("work", "cat /sys/class/tty/ttyM0/dev").stdout.strip() == f"{major}:{minor}"
    assert d.sh("work", "readlink /sys/dev/char/%d:%d" % (major, minor)).stdout.strip() == \
        "../../devices/virtual/tty/ttyM0"
    data = d.sh("work", f"cat /run/udev/data/c{major}:{minor}").stdout.split()
    for prop in ("E:ID_MM_CANDIDATE=1", "E:ID_MM_DEVICE_PROCESS=1",
                 "E:ID_MM_PORT_TYPE_AT_PRIMARY=1", "E:OFONO_DRIVER=cinterion"):
        assert prop in data, data


def ucs2(text):
    """TEXT as the UCS2 character set writes it: hex of its UTF-16BE units."""
    return text.encode("utf-16-be").hex().upper()


def test_text_mode_sms_in_ucs2(phones):
    """+CSCS="UCS2" in text mode: the number and text of +CMGS, and those +CMGR, +CMGL and
    +CMT show, are hex of UCS-2 for that VP; back in GSM it reads them plain."""
    d, sim = phones
    sub = sim.subscribe()
    text = "Gr\u00fc\u00dfe \u260e \U0001f600"  # Latin-1, a BMP symbol, a surrogate pair
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CMGF=1", 'AT+CSCS="UCS2"',
             f'AT+CMGS="{ucs2(CALLER)}"', ucs2(text))
    assert "+CMGS:" in out, out
    e = sub.wait_for(lambda o: o.get("event") == "sms", timeout=5)
    assert e and e["from"] == WORK_NUMBER and e["to"] == CALLER and e["text"] == text, e
    # Not hex: a bad text, nothing sent.
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CMGF=1", 'AT+CSCS="UCS2"',
             f'AT+CMGS="{CALLER}"', "plain")
    assert "+CMS ERROR: 305" in out, out

    incoming = "h\u00e9llo \u260e"
    sim.control({"cmd": "sms", "from": CALLER, "to": WORK_NUMBER, "text": incoming})
    wait_for(lambda: "+CMGL: 1," in at(d, "work", "ATE0", "AT+CMGF=0", "AT+CMGL=4"),
             what="the SMS in work's store")
    out = at(d, "work", "ATE0", "AT+CMGF=1", 'AT+CSCS="UCS2"', "AT+CMGR=1",
             'AT+CMGL="ALL"')
    assert f'"{ucs2(CALLER)}"' in out and ucs2(incoming) in out.split(), out
    assert out.count(ucs2(incoming)) == 2, out  # +CMGR's and +CMGL's
    out = at(d, "work", "ATE0", "AT+CMGF=1", 'AT+CSCS="GSM"', "AT+CMGR=1")
    assert f'"{CALLER}"' in out and "\nh..llo ...\n" in out, out  # atprobe: bytes > 127 as '.'

    # Routed to the VP (+CNMI mt 2): +CMT in its character set.
    log = listen(d, "work", "ATE0", "AT+CMGF=1", 'AT+CSCS="UCS2"', "AT+CNMI=2,2",
                 "-u", "+CMT:", "-t", "20")
    sim.control({"cmd": "sms", "from": CALLER, "to": WORK_NUMBER, "text": "\u260e ok"})
    wait_for(lambda: ucs2("\u260e ok") in log.read_text(), what="work's +CMT")
    assert f'+CMT: "{ucs2(CALLER)}",,' in log.read_text(), log.read_text()
