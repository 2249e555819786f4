"""gammu as Debian ships it, inside VPs of the debian image (it is one of the image's
packages), on their /dev/ttyM0: the same proof as test_telephony_gammu.py with the
image's own binary and libraries instead of the host's copied in.

Run with CELLS_TEST_DEBIAN=1 once the debian image is built in $CELLS_TEST_IMAGE_CACHE
(test_debian_image.py builds it); this file never builds it.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import Daemon, make_base
from test_telephony import ACCESS, CALLER, MODEMSIM, SIM_NUMBER, WORK_NUMBER, Sim, wait_for

CACHE = Path(os.environ.get("CELLS_TEST_IMAGE_CACHE") or "/var/cache/cells-test")
GAMMURC = "[gammu]\ndevice = /dev/ttyM0\nconnection = at\n"

pytestmark = [
    pytest.mark.skipif(not os.environ.get("CELLS_TEST_DEBIAN"),
                       reason="CELLS_TEST_DEBIAN=1 runs it (on a built debian image)"),
    pytest.mark.skipif(not MODEMSIM.exists(), reason=f"{MODEMSIM} is not built"),
]


@pytest.fixture
def debphones(make_modemsim):
    """A daemon on the image cache's state, with --modem, and two debian VPs."""
    rc = CACHE / "state" / "images" / "debian" / "rootfs" / "etc" / "cells" / "rc"
    if not rc.exists():
        pytest.skip(f"no debian image in {CACHE} (test_debian_image.py builds it)")
    sim = Sim(make_modemsim(number=SIM_NUMBER, access=ACCESS, ring_interval=500))
    d = Daemon(make_base(), state=CACHE / "state",
               extra_args=["--modem", str(sim.link), "--forward-access", ACCESS])
    made = []
    try:
        d.start()
        for name, number in (("dhome", SIM_NUMBER), ("dwork", WORK_NUMBER)):
            if name in d.list():
                d.cell("destroy", name, "--force", timeout=60)
            d.cell("create", name, "--image", "debian", "--number", number)
            made.append(name)
            d.cell("start", name, timeout=60)
        sim.control({"cmd": "forward", "number": WORK_NUMBER,
                     "tag": f"*77{d.vp('dwork')['id']}*"})
        wait_for(lambda: d.stats()["daemon"]["telephony"]["modem_up"],
                 what="the modem set up")
        yield d, sim
    finally:
        for name in made:
            d.cell("destroy", name, "--force", timeout=60, check=False)
        d.stop()
        d.force_clean()
        shutil.rmtree(d.base, ignore_errors=True)


def gammu(d, vp, *args):
    r = d.exec(vp, "sh", "-c", f"printf '{GAMMURC}' >/root/.gammurc && gammu "
               + " ".join(f"'{a}'" for a in args), check=False, timeout=90)
    assert r.returncode == 0, f"gammu {' '.join(args)} in {vp}: {r}"
    return r.stdout


def test_debians_gammu(debphones):
    d, sim = debphones
    sub = sim.subscribe()
    out = gammu(d, "dwork", "identify")
    assert re.search(r"IMEI\s+: \d{15}", out), out
    assert "Nothing to enter" in gammu(d, "dwork", "getsecuritystatus")
    assert "home network" in gammu(d, "dwork", "networkinfo")
    gammu(d, "dwork", "sendsms", "TEXT", "+15559876", "-text", "from debian")
    e = sub.wait_for(lambda o: o.get("event") == "sms", timeout=10)
    assert e and e["from"] == WORK_NUMBER and e["text"] == "from debian", e
    sim.control({"cmd": "sms", "from": CALLER, "to": WORK_NUMBER, "text": "to debian"})
    wait_for(lambda: "to debian" in gammu(d, "dwork", "getallsms"), what="the SMS")
    assert "to debian" not in gammu(d, "dhome", "getallsms")
    gammu(d, "dwork", "dialvoice", "+15559876")
    e = sub.wait_for(lambda o: o.get("event") == "ringing", timeout=10)
    assert e and e["from"] == WORK_NUMBER, e
