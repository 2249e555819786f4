"""The VNC sink as a client sees it: damage tracking (a screen that does not change sends
nothing, however long the client waits) and the slower compare of a quiet screen (10 Hz
after a quarter of a second without a change, to spare the CPU), which still shows a
change within a few ticks."""

import socket
import time

import pytest

import rfb
from test_display import create_vp_with, probe, tools  # noqa: F401 (fixture)

MIDDLE = (rfb.XRES // 2, rfb.YRES // 2)


def test_idle_sends_nothing_and_a_change_after_quiet_arrives(make_daemon, tools):  # noqa: F811
    port = rfb.free_port()
    d = make_daemon(extra_args=["--vnc", f"127.0.0.1:{port}"])
    create_vp_with(d, "v", {"usr/bin/fbprobe": tools.probe})  # no launcher: nothing moves
    probe(d, "v", "fill", "both", "204080")
    s = rfb.connect(port)
    try:
        s.settimeout(5)
        rfb.request(s, incremental=False)
        assert rfb.pixel(rfb.read_update(s), *MIDDLE) == 0x204080
        rfb.request(s)  # incremental: answered when something changes
        s.settimeout(1.5)
        with pytest.raises(socket.timeout):
            s.recv(1)
        s.settimeout(5)
        probe(d, "v", "fill", "0", "a0c020")  # page 0 is the one shown
        drawn = time.monotonic()
        rects = rfb.read_update(s)
        late = time.monotonic() - drawn
        assert rfb.pixel(rects, *MIDDLE) == 0xA0C020, rects[:1]
        # At most one 10 Hz tick after the drawing (which ended before `cell exec` did).
        assert late < 0.5, f"the change reached the client {late:.3f} s after it was drawn"
    finally:
        s.close()
