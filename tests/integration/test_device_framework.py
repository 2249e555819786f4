"""What the device framework gives every device (DESIGN.md §4), seen from outside: the
devices listed from the registry with their rights, settings and commands (`cell
device`); a device's own command (the VT's `show`); a device's events in `cell events`;
a VP's config holding each device's part, with the parts of devices this cellsd lacks
kept as they were stored."""

import json

import test_vt
from test_foreground_events import start_events
from test_vt import add_vp, background, run as vtrun, wait_log

vtprobe = test_vt.vtprobe  # the fixture, for this module's tests


def test_cell_device_lists_the_registry(daemon):
    text = daemon.cell("device").stdout
    for name in ("display", "input", "vt"):
        assert f"{name}" in text and "a new VP's right: shared" in text, text
    assert "cell device vt show VP" in text, text
    assert "--number NUM" in text and "cell device telephony accept" in text, text
    # Nothing the registry lacks.
    assert "audio" not in text and "binder" not in text, text


def test_device_command_shows_a_vts_state(daemon, vtprobe):
    d = daemon
    add_vp(d, vtprobe, "a")
    add_vp(d, vtprobe, "b")
    shown = d.cell("device", "vt", "show", "a").stdout
    assert "active    yes" in shown and "kd mode   text" in shown, shown
    assert "vt mode   auto" in shown, shown
    assert "active    no" in d.cell("device", "vt", "show", "b").stdout
    background(d, "b", "process noack", "vt.log")
    wait_log(d, "b", "vt.log", r"^ready")
    shown = d.cell("device", "vt", "show", "b").stdout
    assert "kd mode   graphics" in shown and "vt mode   process" in shown, shown
    # Errors name what is wrong; nothing else changes.
    assert "no device 'toaster'" in d.fail("device", "toaster", "show", "a")
    assert "has no command 'frob'" in d.fail("device", "vt", "frob")
    assert "VP ghost is not running" in d.fail("device", "vt", "show", "ghost")
    assert "one VP name" in d.fail("device", "vt", "show", "a", "b")
    d.fail("device", "vt", status=2)
    assert vtrun(d, "a", "state")["active"] == "1"


def test_a_devices_event_reaches_cell_events(daemon, vtprobe):
    d = daemon
    add_vp(d, vtprobe, "a")
    add_vp(d, vtprobe, "b")
    background(d, "a", "process noack", "vt.log")
    wait_log(d, "a", "vt.log", r"^ready")
    p, ev = start_events(d)
    try:
        d.cell("switch", "b")
        # The owner never acknowledges: at the deadline the VT says so, as an event.
        assert ev.wait_for(lambda e: e.get("event") == "vt-release-late" and
                           e.get("device") == "vt" and e.get("vp") == "a", timeout=5), ev.seen
    finally:
        p.kill()
        p.wait()


def test_version_3_config_keeps_what_no_device_here_takes(daemon):
    """A config of version 3 held number, uplink and background for devices yet to come,
    and rights for them: they are kept, stored under those devices, and the VP runs."""
    d = daemon
    d.cell("create", "old")
    d.stop()
    path = d.config_path("old")
    cfg = json.loads(path.read_text())
    cfg["version"] = 3
    cfg["devices"] = {k: v["access"] for k, v in cfg["devices"].items()}
    # What version 3 listed: every device of DESIGN.md §5.
    cfg["devices"].update(telephony="exclusive", net="shared", wifi="shared", power="shared",
                          audio="none", gpu="none", binder="none")
    cfg.update(number="+4930123456", uplink="cell", background="run")
    path.write_text(json.dumps(cfg))
    d.start()
    vp = json.loads(d.cell("config", "old", "--json").stdout)
    assert vp["devices"]["telephony"] == {"access": "exclusive", "number": "+4930123456",
                                          "on-call": "ask"}, vp
    # (net is a device here: its other settings at their initial values)
    assert vp["devices"]["net"] == {"access": "shared", "uplink": "cell", "publish": "",
                                    "data-limit": ""}, vp
    assert vp["devices"]["power"] == {"access": "shared", "background": "run",
                                      "throttle": "10"}, vp
    d.cell("start", "old")
    assert d.exec("old", "true").returncode == 0
    # Saved as version 4 at the next change, still with them.
    d.cell("config", "old", "--pids", "300")
    stored = json.loads(path.read_text())
    assert stored["version"] == 4 and "number" not in stored
    assert stored["devices"]["telephony"]["number"] == "+4930123456"
    # A setting no device of this cellsd has is refused, naming it.
    assert "unknown option '--ringtone'" in d.fail("config", "old", "--ringtone", "bells")
