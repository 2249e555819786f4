"""cells-modemsim itself (src/modemsim/): raw AT over its pty as the specs say a modem
answers, the carrier and forwarding service's rules, the control socket, and real gammu
(the host's) pointed straight at the pty."""

import os
import subprocess
import time

import pytest

from modemsim import AtPort, submit_pdu

TAG = "*772*"
FWD = "+15550102"
CALLER = "+15551234"
DEST = "+15559876"


@pytest.fixture
def sim(make_modemsim):
    return make_modemsim(forwards={FWD: TAG}, ring_interval=200)


@pytest.fixture
def port(sim):
    p = sim.port()
    assert p.cmd("ATE0")[-1] == "OK"
    yield p
    p.close()


def info(lines):
    """The information lines of an answer: not the echo, not the final result."""
    return [l for l in lines[:-1] if not l.upper().startswith("AT")]


def test_echo_is_on_at_power_up_and_results_follow_v_and_q(sim):
    p = sim.port()
    assert p.cmd("AT") == ["AT", "OK"]
    assert p.cmd("ATE0") == ["ATE0", "OK"]
    assert p.cmd("AT") == ["OK"]
    # Numeric results (ATV0): "0\r" for OK.
    p.write("ATV0\r")
    assert p.line() == "0"
    p.write("AT+CSQ\r")
    assert p.line() == "+CSQ: 20,99" and p.line() == "0"
    assert p.cmd("ATV1") == ["OK"]
    # ATZ restores the profile: echo on again.
    assert p.cmd("ATZ") == ["OK"]
    assert p.cmd("AT") == ["AT", "OK"]
    p.close()


PROBES = [
    # ModemManager's, oFono's and gammu's start probes, and what must come back.
    ("ATZ", []), ("ATE0", []), ("AT+CMEE=1", []), ("ATI", ["Cells", "Cells modem simulator"]),
    ("AT+GCAP", ["+GCAP: +CGSM"]), ("AT+CGMI", ["Cells"]), ("AT+CGMM", ["Cells modem simulator"]),
    ("AT+CGSN", ["353490069873319"]), ("AT+CIMI", ["001010123456789"]),
    ("AT+CPIN?", ["+CPIN: READY"]), ("AT+CFUN?", ["+CFUN: 1"]), ("AT+CREG=2", []),
    ("AT+CREG=2;+CREG?", ['+CREG: 2,1,"00C3","0000ABCD",7']), ("AT+CGREG?", ["+CGREG: 0,1"]),
    ("AT+CEREG?", ["+CEREG: 0,1"]), ("AT+COPS=3,2;+COPS?", ['+COPS: 0,2,"00101",7']),
    ("AT+CSQ", ["+CSQ: 20,99"]), ("AT+CNUM", ['+CNUM: ,"+15550100",145']),
    ("AT+CLIP=1", []), ("AT+CLIP=1;+CLIP?", ["+CLIP: 1,1"]), ("AT+CRC=1", []), ("AT+CCWA=1", []),
    ("AT+CNMI=2,1,0,0,0", []), ("AT+CNMI=2,1,0,0,0;+CNMI?", ["+CNMI: 2,1,0,0,0"]),
    ('AT+CSCS=?', ['+CSCS: ("GSM","IRA","UCS2")']), ('AT+CSCS="UCS2"', []),
    ('AT+CSCS="IRA"', []), ('AT+CSCS="GSM";+CSCS?', ['+CSCS: "GSM"']),
    ("AT+CMGF=?", ["+CMGF: (0)"]), ("AT+CMGF=0", []), ("AT+CSMS?", ["+CSMS: 0,1,1,1"]),
    ("AT+CPMS?", ['+CPMS: "SM",0,30,"SM",0,30,"SM",0,30']), ("AT+CSCA?", ['+CSCA: "+15550000",145']),
    ("AT+CHLD=?", ["+CHLD: (0,1,1x,2,2x)"]), ("AT+CLCC", []), ("AT+CGATT?", ["+CGATT: 1"]),
]


@pytest.mark.parametrize("line,want", PROBES, ids=[p[0] for p in PROBES])
def test_start_probes(port, line, want):
    got = port.cmd(line)
    assert got[-1] == "OK", got
    assert info(got)[:len(want)] == want


def test_errors_are_the_modems(port):
    assert port.cmd("AT+NOSUCH")[-1] == "ERROR"
    assert port.cmd("AT+CMEE=1")[-1] == "OK"
    assert port.cmd("AT+CHLD=1")[-1] == "+CME ERROR: 3"  # no call
    assert port.cmd("AT+CMGR=1")[-1] == "+CMS ERROR: 321"  # empty slot
    assert port.cmd("AT+CPMS=\"ME\"")[-1] == "+CMS ERROR: 302"
    assert port.cmd("AT+CMEE=2;+CHLD=1")[-1] == "+CME ERROR: operation not allowed"


def test_bad_input_gets_errors_and_the_modem_goes_on(port):
    assert port.cmd("garbage")[-1] == "ERROR"
    assert port.cmd("AT" + "E" * 600)[-1] == "ERROR"          # longer than a modem takes
    assert port.cmd("AT+CSQ" + " " * 100 + "\x00\x01")[-1] == "ERROR"
    port.write(bytes(range(256)) * 4 + b"\r")
    port.drain()
    assert port.cmd('AT+CSCS="GSM')[-1] == "ERROR"            # an unterminated string
    assert port.cmd("AT+CMGS=23;+CSQ")[-1] == "+CMS ERROR: 302"  # +CMGS must end a line
    # A PDU of the wrong length, one of odd hex, one that never ends (ESC cancels).
    assert port.cmd("AT+CMGS=22") == ["> "]
    port.write("0011000B916407281553F80000AA0AE8329BFD4697D9EC37\x1a")
    assert port.expect(lambda l: l.startswith("+CMS"))[-1] == "+CMS ERROR: 304"
    assert port.cmd("AT+CMGS=23") == ["> "]
    port.write("0011000B916407281553F80000AA0AE8329BFD4697D9EC3\x1a")
    assert port.expect(lambda l: l.startswith("+CMS"))[-1] == "+CMS ERROR: 304"
    assert port.cmd("AT+CMGS=23") == ["> "]
    port.write("00" * 2000)
    port.write("\x1b")
    assert port.expect("OK")
    assert port.cmd("AT+CSQ") == ["+CSQ: 20,99", "OK"]


def test_the_line_survives_its_user_closing_it(sim):
    for _ in range(3):
        p = sim.port()
        p.write("AT+CSQ\r")
        p.close()
    p = sim.port()
    p.drain()  # what the line held for whoever opened it next, as a serial line does
    assert p.cmd("AT+CGMI")[-2:] == ["Cells", "OK"]
    p.close()


def test_incoming_call_for_a_forwarded_number_rings_with_the_tag(sim, port):
    ctl = sim.client().subscribe()
    assert port.cmd("AT+CLIP=1;+CRC=1")[-1] == "OK"
    call = ctl("call", frm=CALLER, to=FWD)
    assert call["ok"]
    # RING repeats (every 200 ms here), each followed by +CLIP with the tag.
    for _ in range(2):
        assert port.line() == "+CRING: VOICE"
        assert port.line() == f'+CLIP: "{TAG}{CALLER}",129'
    port.drain(0.05)
    assert port.cmd("ATA")[-1] == "OK"
    ctl.wait_event("answered", call=call["call"], by="modem")
    assert info(port.cmd("AT+CLCC")) == [f'+CLCC: 1,1,0,0,0,"{TAG}{CALLER}",129']
    assert ctl("hangup", call=call["call"])["ok"]
    assert port.line() == "NO CARRIER"
    ctl.wait_event("hangup", call=call["call"], by="remote")
    assert info(port.cmd("AT+CLCC")) == []


def test_incoming_call_for_the_sim_and_for_no_one(sim, port):
    ctl = sim.client()
    assert port.cmd("AT+CLIP=1")[-1] == "OK"
    call = ctl("call", frm=CALLER, to=sim.number)
    assert port.line() == "RING"
    assert port.line() == f'+CLIP: "{CALLER}",145'
    ctl("hangup", call=call["call"])
    assert port.expect("NO CARRIER")
    assert not ctl("call", frm=CALLER, to="+15550777")["ok"]


def test_outgoing_call_through_the_access_number_shows_the_forwarded_number(sim, port):
    ctl = sim.client().subscribe()
    assert port.cmd(f"ATD{sim.access}{TAG}{DEST};") == ["OK"]
    ev = ctl.wait_event("ringing")
    assert (ev["from"], ev["to"]) == (FWD, DEST)
    assert info(port.cmd("AT+CLCC")) == [f'+CLCC: 1,0,3,0,0,"{sim.access}{TAG}{DEST}",145']
    assert port.cmd("AT+COLP=1")[-1] == "OK"
    ctl("answer", call=ev["call"])
    assert port.line() == f'+COLP: "{DEST}",145'
    assert info(port.cmd("AT+CLCC"))[0].startswith("+CLCC: 1,0,0,")
    assert port.cmd("AT+VTS=1")[-1] == "OK"
    assert ctl.wait_event("dtmf")["tones"] == "1"
    assert port.cmd("ATH")[-1] == "OK"
    ctl.wait_event("hangup", call=ev["call"], by="modem")
    # Dialled straight: the SIM's own number is shown.
    assert port.cmd(f"ATD{DEST};") == ["OK"]
    ev = ctl.wait_event("ringing")
    assert (ev["from"], ev["to"]) == (sim.number, DEST)
    assert port.cmd("AT+CHUP")[-1] == "OK"
    # The access number with a tag nobody has: the network refuses.
    assert port.cmd(f"ATD{sim.access}*779*{DEST};")[-1] == "NO CARRIER"
    # A data call: no data service.
    assert port.cmd(f"ATD{DEST}")[-1] == "NO CARRIER"


def test_busy_party_and_one_call_at_a_time(sim, port):
    ctl = sim.client().subscribe()
    assert ctl("party", number=DEST, on_call="busy")["ok"]
    assert port.cmd(f"ATD{DEST};") == ["OK"]
    assert port.line() == "BUSY"
    ctl.wait_event("hangup", by="busy")
    assert ctl("party", number=DEST, on_call="answer")["ok"]
    assert port.cmd("AT+CMEE=1")[-1] == "OK"
    assert port.cmd(f"ATD{DEST};") == ["OK"]
    ctl.wait_event("answered", by="remote")
    assert port.cmd("ATD+15550001;")[-1] == "+CME ERROR: 3"
    assert port.cmd("ATH")[-1] == "OK"


def test_waiting_call_hold_and_swap(sim, port):
    ctl = sim.client().subscribe()
    assert port.cmd("AT+CCWA=1;+CLIP=1")[-1] == "OK"
    first = ctl("call", frm=CALLER, to=sim.number)["call"]
    port.expect("RING")
    assert port.cmd("ATA")[-1] == "OK"
    second = ctl("call", frm="+15554321", to=FWD)["call"]
    assert port.expect(lambda l: l.startswith("+CCWA"))[-1] == f'+CCWA: "{TAG}+15554321",129,1'
    # A third caller finds the line busy.
    assert ctl("call", frm="+15550003", to=sim.number) == {"ok": False, "error": "busy"}
    assert info(port.cmd("AT+CLCC")) == [f'+CLCC: 1,1,0,0,0,"{CALLER}",145',
                                         f'+CLCC: 2,1,5,0,0,"{TAG}+15554321",129']
    # Hold the first, take the second; then end the second: the first comes back.
    assert port.cmd("AT+CHLD=2")[-1] == "OK"
    ctl.wait_event("answered", call=second, by="modem")
    assert [l[:12] for l in info(port.cmd("AT+CLCC"))] == ["+CLCC: 1,1,1", "+CLCC: 2,1,0"]
    assert port.cmd("AT+CHLD=1")[-1] == "OK"
    ctl.wait_event("hangup", call=second, by="modem")
    assert [l[:12] for l in info(port.cmd("AT+CLCC"))] == ["+CLCC: 1,1,0"]
    # A waiting call left alone rings.
    third = ctl("call", frm="+15550003", to=sim.number)["call"]
    port.expect(lambda l: l.startswith("+CCWA"))
    assert port.cmd("ATH")[-1] == "OK"
    ctl.wait_event("hangup", call=first, by="modem")
    port.expect("RING")
    ctl("hangup", call=third)


def test_sms_from_the_modem_and_through_the_gateway(sim, port):
    ctl = sim.client().subscribe()
    # The well-known "hellohello" PDU, straight.
    assert port.cmd("AT+CMGS=23") == ["> "]
    port.write("0011000B916407281553F80000AA0AE8329BFD4697D9EC37\x1a")
    got = port.expect("OK")
    assert got[0].startswith("+CMGS: ")
    ev = ctl.wait_event("sms")
    assert (ev["from"], ev["to"], ev["text"]) == (sim.number, "+46708251358", "hellohello")
    # Through the gateway: "<tag><dest> <text>" reaches DEST from the forwarded number.
    pdu, length = submit_pdu(sim.access, f"{TAG}{DEST} hello there")
    assert port.cmd(f"AT+CMGS={length}") == ["> "]
    port.write(pdu + "\x1a")
    port.expect("OK")
    ev = ctl.wait_event("sms")
    assert (ev["from"], ev["to"], ev["text"]) == (FWD, DEST, "hello there")
    sent = ctl("state")["sent"]
    assert sent[-1] == {"from": FWD, "to": DEST, "text": "hello there"}


def test_sms_to_the_modem_stored_and_routed(sim, port):
    ctl = sim.client()
    assert port.cmd("AT+CNMI=2,1,0,0,0")[-1] == "OK"
    assert ctl("sms", frm=CALLER, to=FWD, text="hellohello")["index"] == 1
    assert port.line() == '+CMTI: "SM",1'
    got = info(port.cmd("AT+CMGR=1"))
    assert got[0].startswith("+CMGR: 0,,")
    # The originator: "*772*+15551234" as type 145, digits *772*15551234.
    assert "0D917A271A551532F4" in got[1] and got[1].endswith("0AE8329BFD4697D9EC37")
    assert info(port.cmd("AT+CMGL=0")) == []            # read now
    assert len(info(port.cmd("AT+CMGL=4"))) == 2
    assert port.cmd("AT+CMGD=1")[-1] == "OK"
    assert port.cmd("AT+CMGR=1")[-1] == "+CMS ERROR: 321"
    # Routed (+CMT), acknowledged once with +CSMS=1.
    assert port.cmd("AT+CSMS=1;+CNMI=2,2,0,0,0")[-1] == "OK"
    ctl("sms", frm=CALLER, to=sim.number, text="routed")
    assert port.line().startswith("+CMT: ,")
    assert port.line().startswith("0591")  # the PDU, SMSC +15550000 first
    # Before the acknowledgement a second one is stored instead.
    ctl("sms", frm=CALLER, to=sim.number, text="second")
    assert port.line().startswith('+CMTI: "SM",')
    assert port.cmd("AT+CNMA")[-1] == "OK"
    assert port.cmd("AT+CNMA")[-1] == "+CMS ERROR: 340"
    # Too long for one message.
    assert not ctl("sms", frm=CALLER, to=sim.number, text="x" * 161)["ok"]


def test_urcs_wait_for_a_command_line_to_end(sim, port):
    """TS 27.007 4.1: a URC never splits a command line's echo or answer. The sleep
    leaves the simulator time to do what it must not (send +CMTI in the middle)."""
    ctl = sim.client()
    assert port.cmd("AT+CNMI=2,1")[-1] == "OK"
    port.write("AT+CS")                 # half a command line
    ctl("sms", frm=CALLER, to=sim.number, text="hi")
    time.sleep(0.2)
    port.write("Q\r")
    assert [port.line(), port.line(), port.line()] == ["+CSQ: 20,99", "OK", '+CMTI: "SM",1']


def gammu(sim, tmp_path, *args, timeout=30):
    rc = tmp_path / "gammurc"
    rc.write_text(f"[gammu]\ndevice = {sim.link}\nconnection = at\n")
    return subprocess.run(["gammu", "-c", str(rc), *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.skipif(not os.path.exists("/usr/bin/gammu"), reason="gammu is not installed")
def test_real_gammu_accepts_the_modem(sim, tmp_path):
    ctl = sim.client().subscribe()
    r = gammu(sim, tmp_path, "identify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "353490069873319" in r.stdout and "001010123456789" in r.stdout
    r = gammu(sim, tmp_path, "getsecuritystatus")
    assert r.returncode == 0 and "Nothing to enter" in r.stdout, r.stdout + r.stderr
    r = gammu(sim, tmp_path, "networkinfo")
    assert r.returncode == 0 and "home network" in r.stdout, r.stdout + r.stderr
    r = gammu(sim, tmp_path, "sendsms", "TEXT", DEST, "-text", "from gammu")
    assert r.returncode == 0, r.stdout + r.stderr
    ev = ctl.wait_event("sms")
    assert (ev["from"], ev["to"], ev["text"]) == (sim.number, DEST, "from gammu")
    ctl("sms", frm=CALLER, to=sim.number, text="to gammu")
    r = gammu(sim, tmp_path, "getallsms")
    assert r.returncode == 0 and "to gammu" in r.stdout and CALLER in r.stdout, r.stdout
    r = gammu(sim, tmp_path, "dialvoice", DEST)
    assert r.returncode == 0, r.stdout + r.stderr
    ev = ctl.wait_event("ringing")
    assert (ev["from"], ev["to"]) == (sim.number, DEST)
    r = gammu(sim, tmp_path, "cancelcall")
    assert r.returncode == 0, r.stdout + r.stderr
    ctl.wait_event("hangup", call=ev["call"], by="modem")
    call = ctl("call", frm=CALLER, to=sim.number)["call"]
    r = gammu(sim, tmp_path, "answercall")
    assert r.returncode == 0, r.stdout + r.stderr
    ctl.wait_event("answered", call=call, by="modem")
    r = gammu(sim, tmp_path, "cancelcall")
    assert r.returncode == 0, r.stdout + r.stderr
    ctl.wait_event("hangup", call=call, by="modem")


def test_control_socket_refuses_what_is_not_a_command(sim, port):
    import socket
    ctl = sim.client()
    assert ctl("nosuch") == {"ok": False, "error": 'unknown command "nosuch"'}
    assert not ctl("call", frm="", to=sim.number)["ok"]
    assert not ctl("call", frm=CALLER, to="x" * 100)["ok"]
    assert not ctl("forward", number="+1555", tag="*7+7*")["ok"]
    assert not ctl("party", number=DEST, on_call="sing")["ok"]
    assert not ctl("answer", call=12345)["ok"]
    raw = socket.socket(socket.AF_UNIX)
    raw.connect(str(sim.control))
    raw.sendall(b"[1,2]\nnot json\n")
    f = raw.makefile("rb")
    assert b'"not a JSON object"' in f.readline() and b'"not a JSON object"' in f.readline()
    # A line longer than the client's buffer: that client is dropped, the others go on.
    try:
        raw.sendall(b"x" * 10000)
        assert f.readline() == b""
    except ConnectionResetError:
        pass  # closed with the rest unread: a reset
    raw.close()
    assert ctl("state")["ok"]
    assert port.cmd("AT")[-1] == "OK"


def test_chld_with_an_index(sim, port):
    ctl = sim.client()
    first = ctl("call", frm=CALLER, to=sim.number)["call"]
    port.expect("RING")
    assert port.cmd("ATA")[-1] == "OK"
    ctl("call", frm="+15554321", to=sim.number)
    assert port.cmd("AT+CHLD=2")[-1] == "OK"        # 1 held, 2 active
    assert port.cmd("AT+CHLD=21")[-1] == "OK"       # 1 alone active: 2 held
    assert [l[:12] for l in info(port.cmd("AT+CLCC"))] == ["+CLCC: 1,1,0", "+CLCC: 2,1,1"]
    assert port.cmd("AT+CMEE=1;+CHLD=13")[-1] == "+CME ERROR: 21"
    assert port.cmd("AT+CHLD=12")[-1] == "OK"       # release 2
    assert [l[:12] for l in info(port.cmd("AT+CLCC"))] == ["+CLCC: 1,1,0"]
    assert port.cmd("AT+CHLD=x")[-1] == "+CME ERROR: 50"
    ctl("hangup", call=first)
    port.expect("NO CARRIER")
