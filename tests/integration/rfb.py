"""A minimal RFB 3.8 client for the tests (security None, shared, Raw encoding only)."""

import socket
import struct

XRES, YRES = 720, 1280  # cellsd's default mode


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError(f"VNC server closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def connect(port):
    """Handshake up to ServerInit; returns the socket."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert s.recv(12).startswith(b"RFB ")
    s.sendall(b"RFB 003.008\n")
    n = s.recv(1)[0]
    types = s.recv(n)
    assert 1 in types, types
    s.sendall(b"\x01")
    assert s.recv(4) == b"\0\0\0\0"
    s.sendall(b"\x01")
    head = read_exact(s, 24)
    name_len = struct.unpack(">I", head[20:24])[0]
    read_exact(s, name_len)
    return s


def request(s, incremental=True):
    """FramebufferUpdateRequest for the whole screen."""
    s.sendall(struct.pack(">BBHHHH", 3, 1 if incremental else 0, 0, 0, XRES, YRES))


def read_update(s):
    """The next FramebufferUpdate: [(x, y, w, h, pixels as XRGB bytes)], Raw rectangles."""
    kind, nrects = struct.unpack(">BxH", read_exact(s, 4))
    assert kind == 0, f"message type {kind}, not a FramebufferUpdate"
    rects = []
    for _ in range(nrects):
        x, y, w, h, enc = struct.unpack(">HHHHi", read_exact(s, 12))
        assert enc == 0, f"encoding {enc}, not Raw"
        rects.append((x, y, w, h, read_exact(s, w * h * 4)))
    return rects


def pixel(rects, px, py):
    """The colour (0xRRGGBB) at (PX, PY) in an update's rectangles, or None."""
    for x, y, w, h, data in rects:
        if x <= px < x + w and y <= py < y + h:
            i = ((py - y) * w + (px - x)) * 4
            return int.from_bytes(data[i:i + 4], "little") & 0xFFFFFF
    return None
