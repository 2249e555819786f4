"""ModemManager and oFono as Debian ships them, unmodified, inside a VP of the debian
image, on its /dev/ttyM0: what they send at start (their probes, their set-up) gets
answers they accept, they show the VP's own number, and what they send reaches the
simulator's remote party with that number.

A VP runs no udevd and no system bus. Each test starts in the VP what a distribution's
init would: a system bus (dbus-daemon --system, Debian's own system.conf), then polkitd
for ModemManager (its D-Bus methods ask polkit; dbus-daemon cannot start polkitd by
activation in a VP: its setuid launch helper does not run there), then the daemon. Both
find the modem as on any machine, by enumerating udev's "tty" devices: the VP's /sys and
/run/udev show ttyM0 with the properties they select a modem by (docs/TELEPHONY.md,
"ModemManager and oFono in a VP").

Run with CELLS_TEST_DEBIAN=1 once the debian image is built in $CELLS_TEST_IMAGE_CACHE
(test_debian_image.py builds it); this file never builds it.
"""

import json
import re

from test_telephony import CALLER, WORK_NUMBER, wait_for
from test_telephony_debian import debphones, pytestmark  # noqa: F401 (the fixture, the skips)

VP = "dwork"  # the forwarded number: the proxy's work shows
BUS = "mkdir -p /run/dbus && dbus-daemon --system --fork"


def sh(d, script, timeout=60, check=True):
    r = d.sh(VP, script, check=False, timeout=timeout)
    if check:
        assert r.returncode == 0, f"in {VP}: {script}\n{r}"
    return r.stdout


def start(d, *daemon):
    """DAEMON left running in the VP's own session, its output in /run/NAME.log."""
    name = daemon[0].rsplit("/", 1)[-1]
    args = " ".join(daemon)
    sh(d, f"(setsid {args} </dev/null >/run/{name}.log 2>&1 &)")


def on_bus(d, name):
    out = sh(d, "dbus-send --system --print-reply --dest=org.freedesktop.DBus / "
             f"org.freedesktop.DBus.NameHasOwner string:{name}", check=False)
    return "boolean true" in out


def mmcli(d, *args):
    return json.loads(sh(d, "mmcli -J " + " ".join(f"'{a}'" for a in args)))


def mm_log(d):
    return sh(d, "cat /run/ModemManager.log", check=False)


def test_modemmanager_takes_the_vps_modem(debphones):
    d, sim = debphones
    sub = sim.subscribe()
    sh(d, BUS)
    start(d, "/usr/lib/polkit-1/polkitd", "--no-debug")
    wait_for(lambda: on_bus(d, "org.freedesktop.PolicyKit1"), what="polkitd on the bus")
    start(d, "ModemManager", "--debug")
    wait_for(lambda: on_bus(d, "org.freedesktop.ModemManager1"), timeout=30,
             what="ModemManager on the bus")
    # Its own scan finds ttyM0, probes it and makes a modem of it.
    try:
        wait_for(lambda: mmcli(d, "-L")["modem-list"], timeout=60, what="a modem")
    except AssertionError as e:
        raise AssertionError(f"{e}: ModemManager's log:\n{mm_log(d)[-6000:]}") from None
    m = mmcli(d, "-m", "0")["modem"]
    assert m["generic"]["own-numbers"] == [WORK_NUMBER], m
    assert m["generic"]["primary-port"] == "ttyM0", m
    assert m["generic"]["plugin"] == "generic", m
    assert re.fullmatch(r"\d{15}", m["3gpp"]["imei"]), m

    sh(d, "mmcli -m 0 --enable", timeout=90)
    m = wait_for(lambda: (lambda m: m["generic"]["state"] == "registered" and m)(
        mmcli(d, "-m", "0")["modem"]), timeout=30, what="registration")
    assert m["3gpp"]["registration-state"] == "home", m
    assert m["3gpp"]["operator-code"] == "00101", m

    # An SMS it sends: the remote party gets it from the VP's number.
    made = sh(d, "mmcli -m 0 --messaging-create-sms=\"text='from modemmanager',"
              "number='+15559876'\"")
    path = re.search(r"/org/freedesktop/ModemManager1/SMS/\d+", made).group(0)
    sh(d, f"mmcli -s {path} --send", timeout=60)
    e = sub.wait_for(lambda o: o.get("event") == "sms", timeout=10)
    assert e and e["from"] == WORK_NUMBER and e["to"] == "+15559876", e
    assert e["text"] == "from modemmanager", e

    # One for the VP's number: ModemManager reads it in (+CMTI, +CMGR).
    sim.control({"cmd": "sms", "from": CALLER, "to": WORK_NUMBER, "text": "to modemmanager"})

    def received():
        for p in mmcli(d, "-m", "0", "--messaging-list-sms")["modem.messaging.sms"]:
            s = mmcli(d, "-s", p)["sms"]
            if s["properties"]["pdu-type"] == "deliver":
                return s
        return None
    s = wait_for(received, timeout=20, what="the received SMS")
    assert s["content"]["number"] == CALLER and s["content"]["text"] == "to modemmanager", s

    # A call it places: the callee sees the VP's number.
    made = sh(d, "mmcli -m 0 --voice-create-call='number=+15559876'")
    call = re.search(r"/org/freedesktop/ModemManager1/Call/\d+", made).group(0)
    sh(d, f"mmcli -o {call} --start", timeout=60)
    e = sub.wait_for(lambda o: o.get("event") == "ringing", timeout=10)
    assert e and e["from"] == WORK_NUMBER and e["to"] == "+15559876", e
    sh(d, f"mmcli -o {call} --hangup", timeout=60)
    e = sub.wait_for(lambda o: o.get("event") == "hangup", timeout=10)
    assert e and e["by"] == "modem", e

    # A call for the VP's number: ModemManager shows it ringing from the original caller
    # (RING/+CRING and +CLIP, the tag stripped), answers it, and sees the remote hang up.
    incoming = sim.control({"cmd": "call", "from": CALLER, "to": WORK_NUMBER})["call"]

    def ringing():
        for p in mmcli(d, "-m", "0", "--voice-list-calls")["modem.voice.call"]:
            c = mmcli(d, "-o", p)["call"]["properties"]
            if c["direction"] == "incoming" and c["state"] == "ringing-in":
                return p, c
        return None
    path, c = wait_for(ringing, timeout=20, what="the incoming call in ModemManager")
    assert c["number"] == CALLER, c
    sh(d, f"mmcli -o {path} --accept", timeout=60)
    e = sub.wait_for(lambda o: o.get("event") == "answered", timeout=10)
    assert e and e["call"] == incoming and e["by"] == "modem", e
    sim.control({"cmd": "hangup", "call": incoming})
    wait_for(lambda: mmcli(d, "-o", path)["call"]["properties"]["state"] == "terminated",
             timeout=20, what="the call terminated in ModemManager")


def ofono(d, path, method, *args):
    return sh(d, f"dbus-send --system --print-reply --dest=org.ofono {path} {method} "
              + " ".join(args))


def props(text):
    """The string and boolean values of a dbus-send dictionary print, by key."""
    out = {}
    for key, kind, value in re.findall(
            r'string "(\w+)"\s+variant\s+(string|boolean|array \[)\s*("[^"]*"|\w+)?', text):
        out[key] = value.strip('"') if kind != "array [" else None
    return out


def test_ofono_takes_the_vps_modem(debphones):
    d, sim = debphones
    sub = sim.subscribe()
    sh(d, BUS)
    start(d, "ofonod", "-n", "-d")
    wait_for(lambda: on_bus(d, "org.ofono"), timeout=30, what="ofonod on the bus")
    modems = wait_for(lambda: re.findall(r'object path "(/\w+)"',
                                         ofono(d, "/", "org.ofono.Manager.GetModems")),
                      timeout=30, what="oFono's modem")
    assert len(modems) == 1, modems
    m = modems[0]
    info = ofono(d, m, "org.ofono.Modem.GetProperties")
    assert '"/sys/devices/virtual/tty/ttyM0"' in info, info
    ofono(d, m, "org.ofono.Modem.SetProperty", "string:Powered", "variant:boolean:true")
    # Powered: its SIM is read (+CPIN?, +CIMI, EF_MSISDN); online: +CFUN=1.
    wait_for(lambda: "org.ofono.SimManager" in ofono(d, m, "org.ofono.Modem.GetProperties"),
             timeout=30, what="the SIM manager")
    def sim_props():
        text = ofono(d, m, "org.ofono.SimManager.GetProperties")
        return WORK_NUMBER in text and text
    sim_props = wait_for(sim_props, timeout=30, what="SubscriberNumbers")
    assert re.search(r'"SubscriberNumbers"\s+variant\s+array \[\s+string "\+15550102"\s+\]',
                     sim_props), sim_props
    ofono(d, m, "org.ofono.Modem.SetProperty", "string:Online", "variant:boolean:true")
    p = wait_for(lambda: (lambda p: p.get("Online") == "true" and p)(
        props(ofono(d, m, "org.ofono.Modem.GetProperties"))), timeout=30, what="online")
    assert p["Powered"] == "true" and p["Manufacturer"] == "Cells", p
    reg = wait_for(lambda: (lambda p: p.get("Status") == "registered" and p)(
        props(ofono(d, m, "org.ofono.NetworkRegistration.GetProperties"))),
        timeout=30, what="registration")
    assert reg["MobileCountryCode"] == "001" and reg["Name"] == "Cells", reg

    wait_for(lambda: "org.ofono.MessageManager" in ofono(d, m, "org.ofono.Modem.GetProperties"),
             timeout=30, what="the message manager")
    ofono(d, m, "org.ofono.MessageManager.SendMessage", "string:+15559876",
          "string:'from ofono'")
    e = sub.wait_for(lambda o: o.get("event") == "sms", timeout=10)
    assert e and e["from"] == WORK_NUMBER and e["to"] == "+15559876", e
    assert e["text"] == "from ofono", e

    # One for the VP's number: oFono takes it (+CMT, then +CNMA) and signals it.
    start(d, "dbus-monitor", "--system",
          "\"type='signal',interface='org.ofono.MessageManager',member='IncomingMessage'\"")
    wait_for(lambda: "NameAcquired" in sh(d, "cat /run/dbus-monitor.log"), timeout=20,
             what="dbus-monitor listening")
    sim.control({"cmd": "sms", "from": CALLER, "to": WORK_NUMBER, "text": "to ofono"})
    got = wait_for(lambda: (lambda t: "member=IncomingMessage" in t and t)(
        sh(d, "cat /run/dbus-monitor.log")), timeout=20, what="oFono's IncomingMessage")
    assert re.search(r'string "to ofono"', got) and re.search(
        r'"Sender"\s+variant\s+string "' + re.escape(CALLER) + '"', got), got

    ofono(d, m, "org.ofono.VoiceCallManager.Dial", "string:+15559876", "string:")
    e = sub.wait_for(lambda o: o.get("event") == "ringing", timeout=10)
    assert e and e["from"] == WORK_NUMBER and e["to"] == "+15559876", e
    ofono(d, m, "org.ofono.VoiceCallManager.HangupAll")
    e = sub.wait_for(lambda o: o.get("event") == "hangup", timeout=10)
    assert e and e["by"] == "modem", e

    # A call for the VP's number rings in oFono from the original caller; it answers.
    incoming = sim.control({"cmd": "call", "from": CALLER, "to": WORK_NUMBER})["call"]
    calls = wait_for(lambda: (lambda t: '"incoming"' in t and t)(
        ofono(d, m, "org.ofono.VoiceCallManager.GetCalls")), timeout=20,
        what="the incoming call in oFono")
    assert re.search(r'"LineIdentification"\s+variant\s+string "' + re.escape(CALLER) + '"',
                     calls), calls
    path = re.search(r'object path "(/\w+/voicecall\d+)"', calls).group(1)
    ofono(d, path, "org.ofono.VoiceCall.Answer")
    e = sub.wait_for(lambda o: o.get("event") == "answered", timeout=10)
    assert e and e["call"] == incoming and e["by"] == "modem", e
    sim.control({"cmd": "hangup", "call": incoming})
    wait_for(lambda: "voicecall" not in ofono(d, m, "org.ofono.VoiceCallManager.GetCalls"),
             timeout=20, what="the call gone from oFono")
