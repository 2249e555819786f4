"""Helpers of the security tests: the attack program put into VPs and run there. (A
module of its own name: in a pytest session with tests/integration, `conftest` may name
either directory's.)"""

from integration_conftest import create_vp_with


def make_vp(d, name, files, create_args=(), start=True):
    """`cell create NAME`, FILES ({path in the VP: bytes}) in its upper layer, no
    launcher, started unless not START."""
    create_vp_with(d, name, files, create_args, start=start)


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
