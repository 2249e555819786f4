#!/usr/bin/python3
"""Telephony: the AT round trip and call set-up, straight on the modem simulator and
(once the telephony device gives a VP its /dev/ttyM0) through cellsd's proxy.

    /usr/bin/python3 bench/telephony.py [--runs N] [--json FILE]
        [--proxy-tty PATH --control PATH]

- **AT round trip**: `AT\\r` written, until `OK` is read (echo off), N times back to back.
- **Call set-up**: `ATD+15559876;\\r` written, until the simulator's control socket
  reports the remote party "ringing"; then `ATH` and the hang-up are waited for, untimed.

Without --proxy-tty a private cells-modemsim is started and only the "direct" column is
measured. The proxy's side is measure(tty_path, control): give --proxy-tty a VP's
/dev/ttyM0 as the host sees it (e.g. /proc/PID/root/dev/ttyM0 of a process in the VP)
and --control the control socket of the simulator that cellsd was started on (cellsd
--modem LINK): the same measurements run there too, and the table gets both columns.
"""

import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
import cellsbench as cb  # noqa: E402
from modemsim import AtPort, Control, ModemSim  # noqa: E402

DEST = "+15559876"


def at_round_trip(port, runs):
    """Microseconds per AT -> OK, RUNS of them."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        port.write(b"AT\r")
        port.expect("OK")
        out.append((time.perf_counter_ns() - t0) / 1e3)
    return out


def call_setup(port, ctl, runs):
    """Microseconds from ATD written to the remote party ringing, RUNS calls."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        port.write(f"ATD{DEST};\r".encode())
        ev = ctl.wait_event("ringing", to=DEST)
        out.append((time.perf_counter_ns() - t0) / 1e3)
        port.expect("OK")
        port.write(b"ATH\r")
        port.expect("OK")
        ctl.wait_event("hangup", call=ev["call"])
    return out


def measure(tty_path, control, runs):
    """Both measurements on the AT port TTY_PATH, the remote side read on the simulator's
    control socket CONTROL: {"at_rtt_us": [...], "call_setup_us": [...]}."""
    port = AtPort(tty_path)
    ctl = Control(control).subscribe(at=False)
    try:
        port.write(b"ATE0\r")
        port.expect("OK")
        port.drain(0.1)
        at_round_trip(port, min(50, runs))  # warm-up, not counted
        res = {"at_rtt_us": at_round_trip(port, runs),
               "call_setup_us": call_setup(port, ctl, max(1, runs // 5))}
    finally:
        ctl.close()
        port.close()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--json")
    ap.add_argument("--proxy-tty")
    ap.add_argument("--control")
    args = ap.parse_args()
    if bool(args.proxy_tty) != bool(args.control):
        ap.error("--proxy-tty and --control go together")
    cb.install_signal_handlers()
    info = cb.machine()
    results = {"machine": info, "runs": args.runs}
    # The direct column on a private simulator of the same build: the one cellsd runs on
    # has its line taken by cellsd.
    sim = ModemSim()
    try:
        results["direct"] = measure(sim.link, sim.control, args.runs)
    finally:
        sim.stop()
    if args.proxy_tty:
        results["proxy"] = measure(args.proxy_tty, args.control, args.runs)
    cb.print_machine(info)
    cols = ["direct"] + (["proxy"] if "proxy" in results else [])
    header = ["µs (median / p90 / max)"] + cols + (["added (median)"] if len(cols) == 2 else [])
    rows = []
    for key, name in (("at_rtt_us", "AT -> OK"), ("call_setup_us", "ATD -> remote ringing")):
        row = [name]
        sums = [cb.summary(results[c][key]) for c in cols]
        for s in sums:
            row.append("%s / %s / %s" % (cb.fmt(s["median"], 0), cb.fmt(s["p90"], 0),
                                         cb.fmt(s["max"], 0)))
        if len(sums) == 2:
            row.append(cb.fmt(sums[1]["median"] - sums[0]["median"], 0))
        rows.append(row)
    cb.table("Telephony (n = %d AT, %d calls)" % (args.runs, max(1, args.runs // 5)), header,
             rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
