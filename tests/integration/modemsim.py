"""Driving cells-modemsim (src/modemsim/, docs/TELEPHONY.md) from Python: the program, its
control socket, and an AT port over any tty (the simulator's pty, or a VP's /dev/ttyM0
seen from the host). Standard library only: the benchmarks import it too."""

import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import termios
import time
import tty
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEMSIM = ROOT / "build" / "cells-modemsim"

# Final result codes (V.250 §5.7.2, TS 27.007 §9.2, TS 27.005 §3.2.5).
FINAL = ("OK", "ERROR", "NO CARRIER", "BUSY", "NO ANSWER", "CONNECT", "NO DIALTONE")


def is_final(line):
    """A final result, or +CMGS's prompt (the end of what its command line gives)."""
    return line in FINAL or line == "> " or line.startswith(("+CME ERROR:", "+CMS ERROR:"))


GSM7 = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")


def _semi_octets(digits):
    digits += "F" if len(digits) % 2 else ""
    return "".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2))


def submit_pdu(dest, text, mr=0):
    """An SMS-SUBMIT as +CMGS takes it (no SMSC, GSM 7-bit default alphabet only):
    (hex, TPDU length). Written from TS 23.040 apart from src/common/sms_pdu.c, so that a
    test checks one against the other."""
    intl = dest.startswith("+")
    digits = dest.lstrip("+")
    septets = [GSM7.index(c) for c in text]
    bits = 0
    nbits = 0
    ud = bytearray()
    for s in septets:
        bits |= s << nbits
        nbits += 7
        while nbits >= 8:
            ud.append(bits & 0xFF)
            bits >>= 8
            nbits -= 8
    if nbits:
        ud.append(bits & 0xFF)
    tpdu = ("11%02X%02X%s%s0000AA%02X" % (mr, len(digits), "91" if intl else "81",
                                          _semi_octets(digits), len(septets))) + ud.hex().upper()
    return "00" + tpdu, len(tpdu) // 2


class AtPort:
    """A raw tty that speaks AT. Lines come back without CR/LF; "> " (the +CMGS prompt)
    comes back as a line of its own."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        attrs = termios.tcgetattr(self.fd)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        self.buf = b""

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        while data:
            select.select([], [self.fd], [], 5)
            n = os.write(self.fd, data)
            data = data[n:]

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.fd], [], [], left)
        if not r:
            return False
        try:
            self.buf += os.read(self.fd, 65536)
        except BlockingIOError:
            pass
        return True

    def line(self, timeout=5.0):
        """The next non-empty line, or None at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self.buf = self.buf.lstrip(b"\r\n")
            if self.buf.startswith(b"> "):
                self.buf = self.buf[2:]
                return "> "
            ends = [i for i in (self.buf.find(b"\r"), self.buf.find(b"\n")) if i > 0]
            if ends:
                i = min(ends)
                out, self.buf = self.buf[:i], self.buf[i + 1:]
                return out.decode(errors="replace")
            if not self._fill(deadline):
                return None

    def expect(self, want, timeout=5.0):
        """Lines until one equal to WANT (or for which WANT(line) is true): all read."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            l = self.line(max(0.0, deadline - time.monotonic()))
            if l is None:
                raise TimeoutError(f"no {want!r} in {seen!r}")
            seen.append(l)
            if (want(l) if callable(want) else l == want):
                return seen

    def cmd(self, line, timeout=5.0):
        """Send LINE (CR added); the lines up to and with its final result. Echoed lines
        (the simulator starts with echo on) and URCs are in the list too."""
        self.write(line + "\r")
        return self.expect(is_final, timeout)

    def drain(self, quiet=0.2):
        """Everything that arrives until QUIET seconds pass without any."""
        out = []
        while True:
            l = self.line(quiet)
            if l is None:
                return out
            out.append(l)


class Control:
    """A client of the control socket. Replies carry "ok"; events (after subscribe())
    carry "event" and are kept apart until wait_event() asks for them."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(path))
        self.buf = b""
        self.events = []

    def close(self):
        self.sock.close()

    def _read(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                raise EOFError("the control socket closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def __call__(self, cmd, timeout=5.0, **kw):
        """Run CMD with arguments KW (frm= stands for "from"): the reply (a dict with
        "ok")."""
        if "frm" in kw:
            kw["from"] = kw.pop("frm")
        self.sock.sendall((json.dumps({"cmd": cmd, **kw}) + "\n").encode())
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read(deadline)
            if msg is None:
                raise TimeoutError(f"no answer to {cmd}")
            if "event" in msg:
                self.events.append(msg)
            else:
                return msg

    def subscribe(self, at=True):
        """Events from now on; AT=False: all but "at" (every command line the modem
        reads, which a client that reads its events only now and then must not get)."""
        assert self("subscribe", at=at)["ok"]
        return self

    def wait_event(self, event, timeout=5.0, **match):
        """The first event named EVENT whose fields include MATCH (kept ones first)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("event") == event and all(ev.get(k) == v for k, v in match.items()):
                    return self.events.pop(i)
            msg = self._read(deadline)
            if msg is None:
                raise TimeoutError(f"no event {event} {match} in {self.events[-10:]}")
            self.events.append(msg)


class ModemSim:
    """cells-modemsim running on a private directory: .pty (the slave), .link (a symlink
    to it, what cellsd --modem is given), .control (the socket's path), .number."""

    def __init__(self, number="+15550100", access="+15550999", gateway=None, forwards=None,
                 ring_interval=3000, echo_off=False, args=(), directory=None):
        self.dir = Path(directory or tempfile.mkdtemp(prefix="cells-modemsim-"))
        self.own_dir = directory is None
        self.number = number
        self.access = access
        self.link = self.dir / "modem"
        self.control = self.dir / "control"
        cmd = [str(MODEMSIM), "--number", number, "--link", str(self.link),
               "--control", str(self.control), "--ring-interval", str(ring_interval)]
        if access:
            cmd += ["--access", access]
        if gateway:
            cmd += ["--sms-gateway", gateway]
        for num, tag in (forwards or {}).items():
            cmd += ["--forward", f"{num}={tag}"]
        if echo_off:
            cmd.append("--echo-off")
        cmd += list(args)
        self.log_path = self.dir / "modemsim.log"
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=open(self.log_path, "wb"), text=True)
        first = self.proc.stdout.readline().split()
        if len(first) != 2 or first[0] != "pty":
            self.stop()
            raise RuntimeError(f"cells-modemsim did not start: {self.log()}")
        self.pty = first[1]

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def client(self):
        return Control(self.control)

    def port(self):
        return AtPort(self.link)

    def stop(self):
        """SIGTERM, wait; the exit status (a hung simulator is killed: None)."""
        status = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                status = self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            status = self.proc.returncode
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return status
