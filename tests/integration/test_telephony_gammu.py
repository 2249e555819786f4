"""Software nobody here wrote on a VP's /dev/ttyM0: Debian's unmodified gammu (the host's
binary and its shared libraries, put in each busybox VP's upper layer, as test_wifi.py
does with wpa_cli), connection "at", against the telephony device and the project's
modem simulator behind it.

Checked, in the VP "work" whose number lives at the forwarding service: identify,
getsecuritystatus, networkinfo; sendsms reaches the remote party from work's number;
getallsms lists what a remote party sent to work's number, and the owner VP "home" does
not see it; dialvoice rings the remote party with work's number as caller ID; an
incoming call answered and hung up with answercall and cancelcall (one gammu, batch).
"""

import re
import subprocess
from pathlib import Path

import pytest

from conftest import create_vp_with
from test_telephony import ACCESS, CALLER, MODEMSIM, SIM_NUMBER, WORK_NUMBER, Sim, events, wait_for

GAMMU = Path("/usr/bin/gammu")

pytestmark = [
    pytest.mark.skipif(not GAMMU.exists(), reason="gammu is not installed"),
    pytest.mark.skipif(not MODEMSIM.exists(), reason=f"{MODEMSIM} is not built"),
]


def gammu_files():
    """gammu, what it loads, its configuration, and a batch for the call."""
    files = {"usr/bin/gammu": GAMMU,
             "etc/gammurc": b"[gammu]\ndevice = /dev/ttyM0\nconnection = at\n",
             "etc/calls.batch": b"answercall\ncancelcall\n"}
    out = subprocess.run(["ldd", str(GAMMU)], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        m = re.search(r"(/\S+)\s+\(0x", line)
        if m:  # copied whole, symlinks followed
            files[m.group(1).lstrip("/")] = Path(m.group(1))
    return files


def gammu(d, vp, *args):
    r = d.exec(vp, "gammu", "-c", "/etc/gammurc", *args, check=False, timeout=90)
    assert r.returncode == 0, f"gammu {' '.join(args)} in {vp}: {r}"
    return r.stdout


def test_gammu_in_a_vp(make_daemon, make_modemsim):
    sim = Sim(make_modemsim(number=SIM_NUMBER, access=ACCESS, ring_interval=500))
    d = make_daemon(extra_args=["--modem", str(sim.link), "--forward-access", ACCESS])
    files = gammu_files()
    create_vp_with(d, "home", files, create_args=("--number", SIM_NUMBER))
    create_vp_with(d, "work", files, create_args=("--number", WORK_NUMBER))
    sim.control({"cmd": "forward", "number": WORK_NUMBER,
                 "tag": f"*77{d.vp('work')['id']}*"})
    wait_for(lambda: d.stats()["daemon"]["telephony"]["modem_up"], what="the modem set up")
    sub = sim.subscribe()
    ev, reader = events(d)
    try:
        run(d, sim, sub, reader)
    finally:
        ev.terminate()
        ev.wait()


def run(d, sim, sub, reader):

    out = gammu(d, "work", "identify")
    assert re.search(r"IMEI\s+: \d{15}", out) and "Manufacturer" in out, out
    assert "Nothing to enter" in gammu(d, "work", "getsecuritystatus")
    out = gammu(d, "work", "networkinfo")
    assert "Network state        : home network" in out, out

    gammu(d, "work", "sendsms", "TEXT", "+15559876", "-text", "hello from work")
    e = sub.wait_for(lambda o: o.get("event") == "sms", timeout=10)
    assert e and e["from"] == WORK_NUMBER and e["to"] == "+15559876", e
    assert e["text"] == "hello from work", e

    sim.control({"cmd": "sms", "from": CALLER, "to": WORK_NUMBER, "text": "hi work"})
    wait_for(lambda: "hi work" in gammu(d, "work", "getallsms"), what="the SMS in work")
    out = gammu(d, "work", "getallsms")
    assert f'Remote number        : "{CALLER}"' in out, out
    assert "hi work" not in gammu(d, "home", "getallsms")

    gammu(d, "work", "dialvoice", "+15559876")
    e = sub.wait_for(lambda o: o.get("event") == "ringing", timeout=10)
    assert e and e["from"] == WORK_NUMBER and e["to"] == "+15559876", e
    e = sub.wait_for(lambda o: o.get("event") == "hangup", timeout=10)
    assert e, "dialvoice's call did not end with gammu"
    e = reader.wait_for(lambda o: o.get("event") == "call-ended", timeout=10)
    assert e and e["vp"] == "work" and e["reason"] == "tty-closed", e

    call = sim.control({"cmd": "call", "from": CALLER, "to": WORK_NUMBER})["call"]
    e = reader.wait_for(lambda o: o.get("event") == "call-incoming", timeout=10)
    assert e and e["vp"] == "work" and e["from"] == CALLER, e
    gammu(d, "work", "batch", "/etc/calls.batch")
    e = sub.wait_for(lambda o: o.get("event") == "answered", timeout=10)
    assert e and e["call"] == call, e
    e = sub.wait_for(lambda o: o.get("event") == "hangup", timeout=10)
    assert e and e["by"] == "modem", e
    # cancelcall hung it up, not gammu's exit.
    e = reader.wait_for(lambda o: o.get("event") == "call-ended", timeout=10)
    assert e and e["vp"] == "work" and e["reason"] == "hangup", e
