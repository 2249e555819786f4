"""Helpers of the security tests: the attack program put into VPs and run there. (A
module of its own name: in a pytest session with tests/integration, `conftest` may name
either directory's.)"""

import os

NO_LAUNCHER = b"#!/bin/sh\n# the test drives: no launcher\nexit 0\n"


def put_file(d, name, rel, data, mode=0o755):
    """Writes DATA at REL in the VP's upper layer, owned by its root (directories too)."""
    uid = d.vp_uid(d.vp(name)["id"])
    path = d.upper(name)
    for part in [""] + rel.split("/")[:-1]:
        path = path / part if part else path
        if not path.exists():
            path.mkdir(mode=0o755)
            os.chown(path, uid, uid)
    f = path / rel.split("/")[-1]
    f.write_bytes(data)
    os.chmod(f, mode)
    os.chown(f, uid, uid)


def make_vp(d, name, files, create_args=(), start=True):
    """`cell create NAME`, FILES ({path in the VP: bytes}) in its upper layer, no
    launcher, started unless not START."""
    d.cell("create", name, *create_args)
    for rel, data in files.items():
        put_file(d, name, rel, data)
    put_file(d, name, "etc/cells/rc.d/50-launcher", NO_LAUNCHER)
    if start:
        d.cell("start", name)


def add_attacker(d, name, attack, start=True):
    """Creates VP NAME with /usr/bin/attack and no launcher; starts it if START."""
    make_vp(d, name, {"usr/bin/attack": attack}, start=start)


def results(text):
    """NAME=RESULT lines -> {NAME: RESULT}."""
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


def attack(d, name, *args, timeout=30):
    """Runs `attack ARGS` in VP NAME: (exit status, {NAME: RESULT})."""
    r = d.exec(name, "attack", *map(str, args), check=False, timeout=timeout)
    return r.returncode, results(r.stdout)


def carries_on(d, *names):
    """The daemon answers and every VP of NAMES runs a command."""
    vps = d.list()
    for n in names:
        assert vps[n]["state"] == "running", vps[n]
        assert d.exec(n, "echo", "alive").stdout.strip() == "alive"
