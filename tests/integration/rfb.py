"""A minimal RFB 3.8 client for the tests (security None over cellsd's unix socket, VNC
authentication over TCP; shared, Raw encoding only)."""

import json
import socket
import struct
import subprocess

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

XRES, YRES = 720, 1280  # the output, cellsd's default --display: the VNC framebuffer
BAR = 28  # the root's status bar, its top rows
VP_YRES = YRES - BAR  # a VP's mode: the screen below the bar


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


def viewer_info(d):
    """`cell viewer --json` of daemon D: the sockets, the VNC password, the web token."""
    return json.loads(d.cell("viewer", "--json").stdout)


def vnc_response(password, challenge):
    """RFB's VNC authentication: the challenge DES-encrypted with the password as the key,
    each key byte's bits reversed (as every VNC implementation does)."""
    key = bytes(int(f"{b:08b}"[::-1], 2)
                for b in password.encode("latin-1")[:8].ljust(8, b"\0"))
    enc = Cipher(algorithms.TripleDES(key * 3), modes.ECB()).encryptor()
    return enc.update(challenge) + enc.finalize()


def vnc_passwd_file(password):
    """The password as vncpasswd stores it (DES with VNC's fixed key), for vncsnapshot's
    -passwd FILE."""
    fixed = bytes([23, 82, 107, 6, 35, 78, 88, 7])
    return vnc_response(fixed.decode("latin-1"), password.encode()[:8].ljust(8, b"\0"))


def connect(port, password=None, path=None):
    """Handshake up to ServerInit over TCP PORT (with PASSWORD: VNC authentication) or the
    unix socket PATH (no authentication); returns the socket."""
    if path:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(path)
    else:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert read_exact(s, 12).startswith(b"RFB ")
    s.sendall(b"RFB 003.008\n")
    n = read_exact(s, 1)[0]
    if n == 0:
        why = read_exact(s, struct.unpack(">I", read_exact(s, 4))[0])
        raise ConnectionRefusedError(why.decode())
    types = read_exact(s, n)
    if password is None:
        assert 1 in types, types
        s.sendall(b"\x01")
    else:
        assert 2 in types, types
        s.sendall(b"\x02")
        s.sendall(vnc_response(password, read_exact(s, 16)))
    result = read_exact(s, 4)
    if result != b"\0\0\0\0":
        raise PermissionError(f"VNC authentication failed: {s.recv(256)!r}")
    s.sendall(b"\x01")
    head = read_exact(s, 24)
    name_len = struct.unpack(">I", head[20:24])[0]
    read_exact(s, name_len)
    return s


def connect_to(d, port=None):
    """An authenticated client of daemon D the way a user connects: over TCP PORT with the
    password `cell viewer` shows, or without PORT over the unix socket."""
    info = viewer_info(d)
    if port:
        return connect(port, info["vnc_password"])
    return connect(None, path=info["vnc_unix"])


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
