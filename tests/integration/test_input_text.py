"""Typing and swiping from the root (issue 10): `cell input text` types a string as a US
keyboard would, shift included; `cell input key` takes any character; `cell input swipe`
moves a finger over time without holding cellsd's loop; a VNC client's keysyms arrive as
the characters they are, whether or not the client holds shift. Readers are evprobe
(tests/integration/evprobe.c) inside VPs."""
import socket
import struct
import subprocess
import time

import pytest

import rfb
from conftest import CELL
from test_input import (EV_ABS, EV_KEY, EV_SYN, SYN_REPORT, ABS_MT_POSITION_X,  # noqa: F401
                        ABS_MT_POSITION_Y, ABS_MT_TRACKING_ID, BTN_TOUCH, Reader, add,
                        evprobe)

KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_CAPSLOCK = 42, 54, 58

# A US keyboard, written out here independently of src/common/keymap.c: the Linux key code
# of every printable ASCII character and whether it takes shift.
_ROWS = [("`1234567890-=", "~!@#$%^&*()_+", [41, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]),
         ("qwertyuiop[]\\", "QWERTYUIOP{}|", [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                                               43]),
         ("asdfghjkl;'", "ASDFGHJKL:\"", [30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40]),
         ("zxcvbnm,./", "ZXCVBNM<>?", [44, 45, 46, 47, 48, 49, 50, 51, 52, 53])]
US = {" ": (57, False), "\n": (28, False), "\t": (15, False)}
for plain, shifted, codes in _ROWS:
    for p, s, c in zip(plain, shifted, codes):
        US[p], US[s] = (c, False), (c, True)
assert len(US) == 95 + 2


def syn():
    return (EV_SYN, SYN_REPORT, 0)


def typed(text):
    """The events a typist's keyboard makes for TEXT: shift, key, key up, shift up."""
    out = []
    for ch in text:
        code, shift = US[ch]
        if shift:
            out += [(EV_KEY, KEY_LEFTSHIFT, 1), syn()]
        out += [(EV_KEY, code, 1), syn(), (EV_KEY, code, 0), syn()]
        if shift:
            out += [(EV_KEY, KEY_LEFTSHIFT, 0), syn()]
    return out


def keys_reader(d, name="v", ms=1500):
    return Reader(d, name, "read", "/dev/input/event1", ms)


@pytest.mark.parametrize("text", ["Hello, World!", "a:b@c", "x\ty\nz", "--x -y"])
def test_text_is_typed_with_shift(daemon, evprobe, text):  # noqa: F811
    d = daemon
    add(d, evprobe, "v")
    r = keys_reader(d)
    d.cell("input", "text", text)
    assert r.events() == typed(text)


def test_every_printable_character_is_typed(daemon, evprobe):  # noqa: F811
    """All 95 printable ASCII characters, in one text: nothing lost on the way (a reader's
    queue holds 64 events, this is 570), each with its own key and shift."""
    d = daemon
    add(d, evprobe, "v")
    text = "".join(chr(c) for c in range(0x20, 0x7f))
    r = keys_reader(d)
    t0 = time.monotonic()
    d.cell("input", "text", text)
    took = time.monotonic() - t0
    assert r.events() == typed(text)
    assert took < 5, f"95 characters took {took:.1f} s"


@pytest.mark.parametrize("key,want", [(":", ";:"), ("@", "2@"), ("A", "aA"), ("a", "aa"),
                                      ("{", "[{"), ('"', "'\""), ("~", "`~"), ("+", "=+"),
                                      ("-", "--"), ("?", "/?")])
def test_key_takes_any_character(daemon, evprobe, key, want):  # noqa: F811
    d = daemon
    add(d, evprobe, "v")
    r = keys_reader(d, ms=1000)
    d.cell("input", "key", key)
    assert r.events() == typed(want[1])


def test_key_names_and_chords_still_work(daemon, evprobe):  # noqa: F811
    d = daemon
    add(d, evprobe, "v")
    r = keys_reader(d, ms=1000)
    d.cell("input", "key", "semicolon")
    d.cell("input", "key", "shift+semicolon")
    d.cell("input", "key", "enter")
    assert r.events() == typed(";:\n")


def test_swipe_moves_a_finger_over_time(daemon, evprobe):  # noqa: F811
    d = daemon
    add(d, evprobe, "v")
    r = Reader(d, "v", "read", "/dev/input/event0", 1500)
    t0 = time.monotonic()
    d.cell("input", "swipe", 100, 200, 300, 1000, 300)
    took = time.monotonic() - t0
    got = r.events()
    ids = [e[2] for e in got if e[:2] == (EV_ABS, ABS_MT_TRACKING_ID)]
    assert len(ids) == 2 and ids[0] >= 0 and ids[1] == -1, got  # one contact, lifted
    xs = [e[2] for e in got if e[:2] == (EV_ABS, ABS_MT_POSITION_X)]
    ys = [e[2] for e in got if e[:2] == (EV_ABS, ABS_MT_POSITION_Y)]
    assert (xs[0], ys[0]) == (100, 200) and (xs[-1], ys[-1]) == (300, 1000), (xs, ys)
    assert len(ys) >= 10 and ys == sorted(ys), ys  # several moves, in order
    assert got.index((EV_KEY, BTN_TOUCH, 1)) < got.index((EV_KEY, BTN_TOUCH, 0))
    assert got[-1] == syn()
    assert 0.25 <= took < 3, f"a 300 ms swipe took {took:.2f} s"


def test_a_long_swipe_does_not_hold_cellsd(daemon, evprobe):  # noqa: F811
    d = daemon
    add(d, evprobe, "v")
    swipe = subprocess.Popen([str(CELL), "--run", str(d.run), "input", "swipe", "10", "10",
                              "700", "1200", "3000"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        assert swipe.poll() is None, swipe.communicate()
        t0 = time.monotonic()
        d.cell("list")
        d.cell("input", "tap", 5, 5)
        assert time.monotonic() - t0 < 1, "cellsd did not answer during a swipe"
        assert swipe.wait(timeout=10) == 0, swipe.communicate()
    finally:
        if swipe.poll() is None:
            swipe.kill()
            swipe.wait()


def test_interrupted_text_stops_and_the_next_one_types(daemon, evprobe):  # noqa: F811
    """A `cell input text` that is killed stops typing (it would go on for 16 s), and the
    text after it is typed whole."""
    d = daemon
    add(d, evprobe, "v")
    long = subprocess.Popen([str(CELL), "--run", str(d.run), "input", "text", "q" * 2000],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    long.kill()
    long.wait()
    time.sleep(0.1)
    r = keys_reader(d, ms=800)
    t0 = time.monotonic()
    d.cell("input", "text", "Ok")
    assert time.monotonic() - t0 < 2
    assert r.events() == typed("Ok")


def test_text_after_text_waits_its_turn(daemon, evprobe):  # noqa: F811
    d = daemon
    add(d, evprobe, "v")
    r = keys_reader(d)
    first = subprocess.Popen([str(CELL), "--run", str(d.run), "input", "text", "AbCd" * 25])
    time.sleep(0.2)
    d.cell("input", "text", "Ef!")
    assert first.wait(timeout=10) == 0
    assert r.events() == typed("AbCd" * 25 + "Ef!")


def test_a_switch_stops_the_text(daemon, evprobe):  # noqa: F811
    """The rest of a text never goes to the VP that comes to the foreground."""
    d = daemon
    add(d, evprobe, "v")
    add(d, evprobe, "w")
    d.cell("switch", "v")
    other = keys_reader(d, "w", ms=1500)
    text = subprocess.Popen([str(CELL), "--run", str(d.run), "input", "text", "z" * 300],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.4)
    d.cell("switch", "w")
    out, err = text.communicate(timeout=10)
    assert text.returncode == 1 and "foreground VP changed" in err, (text.returncode, err)
    assert err.count("\n") == 1 and "of 300 characters" in err, err
    assert other.events() == []


@pytest.mark.parametrize("args,words", [
    (["text", "caf\u00e9"], ["U+00E9", "\u00e9"]),
    (["text", "bell\x07"], ["control character 0x07"]),
    (["text", "x" * 4097], ["too long", "4097", "4096"]),
    (["text", "a\x1b[2J"], ["0x1b"]),
    (["text", "\u4e2d"], ["U+4E2D"]),
    (["key", "\u00e9"], ["unknown key"]),
    (["swipe", "-1", "5", "10", "10"], ["0..719"]),
    (["swipe", "5", "5", "10", "1252"], ["0..1251"]),  # the VP's screen, below the bar
    (["swipe", "5", "5", "10", "10", "10001"], ["0..10000 ms"]),
    (["swipe", "5", "5", "10", "10", "-5"], ["0..10000 ms"]),
])
def test_bad_input_is_one_line_and_types_nothing(daemon, evprobe, args, words):  # noqa: F811
    d = daemon
    add(d, evprobe, "v")
    r = keys_reader(d, ms=600)
    t = Reader(d, "v", "read", "/dev/input/event0", 600)
    err = d.fail("input", *args)
    for w in words:
        assert w in err, err
    assert r.events() == [] and t.events() == []


def test_bad_input_usage(daemon):
    d = daemon
    d.fail("input", "text", status=2)
    d.fail("input", "text", "a", "b", status=2)
    d.fail("input", "swipe", "1", "2", "3", status=2)
    d.fail("input", "swipe", "1", "2", "3", "x", status=2)
    r = subprocess.run([bytes(CELL), b"--run", bytes(d.run), b"input", b"text", b"\xff\xfe"],
                       capture_output=True)
    assert r.returncode == 2 and b"UTF-8" in r.stderr, r


def test_hostile_requests(daemon, evprobe):  # noqa: F811
    """The raw protocol: wrong types, two verbs at once, a NUL inside the text (JSON can
    say \\u0000), huge numbers: each an error, and cellsd serves on."""
    d = daemon
    add(d, evprobe, "v")
    for req in ({"cmd": "input", "text": 5}, {"cmd": "input", "text": ["a"]},
                {"cmd": "input", "text": "a", "key": "b"},
                {"cmd": "input", "swipe": [1, 2, 3]}, {"cmd": "input", "swipe": "1 2 3 4"},
                {"cmd": "input", "swipe": [1, 2, 3, 4, 5, 6]},
                {"cmd": "input", "swipe": [1, 2, 3, 2 ** 40]}):
        got = d.request(req)
        assert got["ok"] is False and got["error"], (req, got)
    got = d.request(b'{"cmd": "input", "text": "a\\u0000b"}\n')
    assert got["ok"] is False, got
    r = keys_reader(d, ms=800)
    d.cell("input", "text", "ok")
    assert r.events() == typed("ok")


# ---------------------------------------------------------------------------------------
# A VNC client's keysyms.

XK_SHIFT_L, XK_CAPS_LOCK = 0xffe1, 0xffe5


def key_event(keysym, down):
    return struct.pack(">BBxxI", 4, 1 if down else 0, keysym)


def press(s, *keysyms):
    """Each keysym pressed and released in turn."""
    s.sendall(b"".join(key_event(k, True) + key_event(k, False) for k in keysyms))


def test_vnc_keysyms_arrive_as_their_characters(make_daemon, evprobe):  # noqa: F811
    port = rfb.free_port()
    d = make_daemon(extra_args=["--vnc", f"127.0.0.1:{port}"])
    add(d, evprobe, "v")
    s = rfb.connect_to(d, port)
    try:
        # Without shift, as virtual keyboards and paste send them: shift around the press.
        r = keys_reader(d)
        press(s, *map(ord, "Hi!"))
        got = r.events()
        want = []
        for ch in "Hi!":
            code, shift = US[ch]
            if shift:
                want += [(EV_KEY, KEY_LEFTSHIFT, 1), syn(), (EV_KEY, code, 1), syn(),
                         (EV_KEY, KEY_LEFTSHIFT, 0), syn(), (EV_KEY, code, 0), syn()]
            else:
                want += [(EV_KEY, code, 1), syn(), (EV_KEY, code, 0), syn()]
        assert got == want

        # A real keyboard: shift held by the client, '@' and 'A' sent: no second shift,
        # none left down.
        r = keys_reader(d)
        s.sendall(key_event(XK_SHIFT_L, True))
        press(s, ord("@"), ord("A"))
        s.sendall(key_event(XK_SHIFT_L, False))
        assert r.events() == [(EV_KEY, KEY_LEFTSHIFT, 1), syn(),
                              (EV_KEY, 3, 1), syn(), (EV_KEY, 3, 0), syn(),
                              (EV_KEY, 30, 1), syn(), (EV_KEY, 30, 0), syn(),
                              (EV_KEY, KEY_LEFTSHIFT, 0), syn()]

        # Shift held and a lower-case letter (the client's caps lock): the letter as sent,
        # shift lifted around it and held again after. Caps Lock itself stays with the
        # client.
        r = keys_reader(d)
        press(s, XK_CAPS_LOCK)
        s.sendall(key_event(XK_SHIFT_L, True))
        press(s, ord("b"))
        s.sendall(key_event(XK_SHIFT_L, False))
        assert r.events() == [(EV_KEY, KEY_LEFTSHIFT, 1), syn(),
                              (EV_KEY, KEY_LEFTSHIFT, 0), syn(), (EV_KEY, 48, 1), syn(),
                              (EV_KEY, KEY_LEFTSHIFT, 1), syn(), (EV_KEY, 48, 0), syn(),
                              (EV_KEY, KEY_LEFTSHIFT, 0), syn()]

        # A client's autorepeat of '!': repeats, each with shift.
        r = keys_reader(d)
        s.sendall(key_event(ord("!"), True) * 2 + key_event(ord("!"), False))
        assert r.events() == [(EV_KEY, KEY_LEFTSHIFT, 1), syn(), (EV_KEY, 2, 1), syn(),
                              (EV_KEY, KEY_LEFTSHIFT, 0), syn(),
                              (EV_KEY, KEY_LEFTSHIFT, 1), syn(), (EV_KEY, 2, 2), syn(),
                              (EV_KEY, KEY_LEFTSHIFT, 0), syn(), (EV_KEY, 2, 0), syn()]
        info = d.exec("v", "evprobe", "info", "/dev/input/event1").stdout
        assert "keys_down 0" in info, info
    finally:
        s.close()
