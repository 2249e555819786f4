"""A hostile VP on its /dev/ttyM0 (DESIGN.md §5 telephony; SECURITY.md "Telephony"):
garbage, binary and NUL bytes, lines longer than any modem takes, a half command and a
closed tty, a flood of ATD, SMS PDUs whose length lies, a +CMGS never ended, forged
forwarding tags, and another VP's call and messages. Each gets an error in that VP only;
cellsd, the modem and the other VP go on (the other VP still talks to the modem, dials
and receives).

The daemon, the simulator and the VPs ("home" owns the SIM's number, "work" is the
attacker with a forwarded one) are test_telephony.py's fixtures.
"""

import pytest

from test_telephony import (CALLER, MODEMSIM, SIM_NUMBER, at, atprobe, evprobe,  # noqa: F401
                            listen, phones, wait_for)

pytestmark = pytest.mark.skipif(not MODEMSIM.exists(), reason=f"{MODEMSIM} is not built")


def still_fine(d, sim):
    """cellsd runs, the modem answers home, home can call out and hang up."""
    assert d.running, "cellsd died"
    assert d.stats()["daemon"]["telephony"]["modem_up"]
    out = at(d, "home", "ATE0", "AT+CSQ", "AT+CNUM")
    assert "+CSQ:" in out and SIM_NUMBER in out, out
    sub = sim.subscribe()
    out = at(d, "home", "ATE0", "ATD+15557777;", "ATH")
    assert out.count("OK") == 3, out
    e = sub.wait_for(lambda o: o.get("event") == "ringing", timeout=5)
    assert e and e["from"] == SIM_NUMBER and e["to"] == "+15557777", e


def test_garbage_binary_nul_and_long_lines(phones):
    d, sim = phones
    # 2 MB of random bytes (NULs, ESC, Ctrl-Z, CRs among them), then an ESC and a CR that
    # leave a +CMGS prompt the garbage may have opened.
    d.sh("work", "head -c 2000000 /dev/urandom >/dev/ttyM0; printf '\\033\\r' >/dev/ttyM0",
         timeout=120)
    # 100 000 characters on one line; NULs inside a command.
    d.sh("work", "printf 'AT%0100000d\\r' 0 >/dev/ttyM0; printf 'AT\\0\\0+CSQ\\r' >/dev/ttyM0")
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT")
    assert out.rstrip().endswith("OK"), out
    out = at(d, "work", "ATE0", "AT" + "A" * 600, check=False)
    assert "ERROR" in out, out
    still_fine(d, sim)


def test_refused_modem_changes(phones):
    d, sim = phones
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CFUN=0", check=False)
    assert out.rstrip().endswith("+CME ERROR: 3"), out
    out = at(d, "work", "ATE0", "AT+CMEE=1", 'AT+CPIN="0000"', check=False)
    assert out.rstrip().endswith("+CME ERROR: 3"), out
    out = at(d, "work", "ATE0", "AT+CMEE=1", 'AT+COPS=1,2,"00101"', check=False)
    assert out.rstrip().endswith("+CME ERROR: 3"), out
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CGATT=0", check=False)
    assert out.rstrip().endswith("+CME ERROR: 3"), out
    still_fine(d, sim)


def test_half_command_then_closed_tty(phones):
    d, sim = phones
    d.sh("work", "printf 'AT+CLC' >/dev/ttyM0")
    # The half line went with the close: "AT" alone now, not "AT+CLCAT".
    out = at(d, "work", "ATE0", "AT")
    assert out.rstrip().endswith("OK") and "ERROR" not in out, out
    still_fine(d, sim)


def test_atd_flood(phones):
    d, sim = phones
    sub = sim.subscribe()
    # 500 dials in one write burst, the tty held open meanwhile.
    log = listen(d, "work", "ATE0", "-t", "8")
    d.sh("work", "(i=0; while [ $i -lt 500 ]; do printf 'ATD+15559876;\\r'; i=$((i+1)); "
                 "done; sleep 3) >/dev/ttyM0")
    # One call reached the modem; the rest were answered in the VP.
    e = sub.wait_for(lambda o: o.get("event") == "ringing", timeout=10)
    assert e and e["from"] != SIM_NUMBER, e
    # home meanwhile: BUSY (the modem has work's call), never a hang.
    out = at(d, "home", "ATE0", "ATD+15557777;", check=False)
    assert out.rstrip().splitlines()[-1] in ("BUSY", "OK"), out
    wait_for(lambda: "no call" in d.cell("device", "telephony", "calls").stdout, timeout=20,
             what="work's call to end with its tty")
    assert log.exists()
    still_fine(d, sim)


def test_sms_pdu_with_lying_lengths(phones):
    d, sim = phones
    sub = sim.subscribe()
    # A valid SUBMIT to +15559876 ("hi"): 15 octets after the SMSC byte.
    pdu = "0011000B915155959867F60000AA02E834"
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CMGF=0", "AT+CMGS=10", pdu, check=False)
    assert "+CMS ERROR: 304" in out, out
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CMGS=15", pdu + "0", check=False)
    assert "+CMS ERROR: 304" in out, out
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CMGS=200", check=False)
    assert "+CMS ERROR: 304" in out, out
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CMGS=15", "ZZ" * 16, check=False)
    assert "+CMS ERROR: 304" in out, out
    # Too long a body: refused at the Ctrl-Z.
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CMGS=15", "00" * 300, check=False)
    assert "+CMS ERROR: 304" in out, out
    assert sub.wait_for(lambda o: o.get("event") == "sms", timeout=1) is None
    still_fine(d, sim)


def test_cmgs_never_ended(phones):
    d, sim = phones
    sub = sim.subscribe()
    d.sh("work", "((printf 'AT+CMGF=1\\rAT+CMGS=\"+15559876\"\\rhello'; sleep 15) "
                 ">/dev/ttyM0 &)")
    # home's SMS goes out meanwhile: nothing waits on work's prompt.
    out = at(d, "home", "ATE0", "AT+CMGF=1", f'AT+CMGS="{CALLER}"', "from home")
    assert "+CMGS:" in out, out
    e = sub.wait_for(lambda o: o.get("event") == "sms", timeout=5)
    assert e and e["from"] == SIM_NUMBER and e["text"] == "from home", e
    still_fine(d, sim)


def test_forged_tags(phones):
    d, sim = phones
    sub = sim.subscribe()
    home_id = d.vp("home")["id"]
    for number in (f"*77{home_id}*+15559876", "+15550999*771*+15559876", "+15550999"):
        out = at(d, "work", "ATE0", "AT+CMEE=1", f"ATD{number};", check=False)
        assert out.rstrip().endswith("+CME ERROR: 3"), (number, out)
        out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CMGF=1", f'AT+CMGS="{number}"', "x",
                 check=False)
        assert "+CMS ERROR: 302" in out, (number, out)
    # The owner may not forge either.
    out = at(d, "home", "ATE0", "AT+CMEE=1", "ATD*772*+15559876;", check=False)
    assert out.rstrip().endswith("+CME ERROR: 3"), out
    assert sub.wait_for(lambda o: o.get("event") in ("ringing", "sms"), timeout=1) is None
    still_fine(d, sim)


def test_another_vps_call_and_messages(phones):
    d, sim = phones
    sub = sim.subscribe()
    # A call and an SMS for home (the SIM's number, untagged).
    sim.control({"cmd": "sms", "from": CALLER, "to": SIM_NUMBER, "text": "for home only"})
    wait_for(lambda: "for home only" in at(d, "home", "ATE0", "AT+CMGF=1", "AT+CMGR=1"),
             what="home's SMS")
    call = sim.control({"cmd": "call", "from": CALLER, "to": SIM_NUMBER})["call"]
    wait_for(lambda: "home" in d.cell("device", "telephony", "calls").stdout,
             what="the call ringing for home")
    out = at(d, "work", "ATE0", "AT+CMEE=1", "ATA", check=False)
    assert out.rstrip().endswith("+CME ERROR: 3"), out
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CLCC", "ATH", "AT+CHUP", check=False)
    assert "+CLCC:" not in out and out.count("OK") == 5, out
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CHLD=1", check=False)
    assert out.rstrip().endswith("+CME ERROR: 3"), out
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+VTS=1", check=False)
    assert out.rstrip().endswith("+CME ERROR: 3"), out
    # Still ringing for home, untouched.
    assert "incoming" in d.cell("device", "telephony", "calls").stdout
    assert sub.wait_for(lambda o: o.get("event") in ("answered", "hangup"), timeout=1) is None
    # Its messages: not listed, read or deleted from work.
    out = at(d, "work", "ATE0", "AT+CMEE=1", "AT+CMGF=1", 'AT+CMGL="ALL"', "AT+CMGR=1",
             "AT+CMGD=1,4", check=False)
    assert "for home only" not in out and "+CMS ERROR: 321" in out, out
    assert "for home only" in at(d, "home", "ATE0", "AT+CMGF=1", "AT+CMGR=1")
    sim.control({"cmd": "hangup", "call": call})
    wait_for(lambda: "no call" in d.cell("device", "telephony", "calls").stdout,
             what="the call gone")
    still_fine(d, sim)
