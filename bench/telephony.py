#!/usr/bin/python3
"""Telephony: the AT round trip and call set-up, straight on the modem simulator and
(once the telephony device gives a VP its /dev/ttyM0) through cellsd's proxy.

    /usr/bin/python3 bench/telephony.py [--runs N] [--json FILE] [--cells]
        [--proxy-tty PATH --control PATH] [--sms N]

- **AT round trip**: `AT\\r` written, until `OK` is read (echo off), N times back to back.
- **Call set-up**: `ATD+15559876;\\r` written, until the simulator's control socket
  reports the remote party "ringing"; then `ATH` and the hang-up are waited for, untimed.

Without --proxy-tty a private cells-modemsim is started and only the "direct" column is
measured. The proxy's side is measure(tty_path, control): give --proxy-tty a VP's
/dev/ttyM0 as the host sees it (e.g. /proc/PID/root/dev/ttyM0 of a process in the VP)
and --control the control socket of the simulator that cellsd was started on (cellsd
--modem LINK): the same measurements run there too, and the table gets both columns.

--cells does that itself: a private cellsd on a second simulator, a VP "bench" that owns
the SIM's number (so that its dial string is the direct one's), and its /dev/ttyM0 opened
on the host at the pty's own path (RUN/dev/bench/bench.tel/0, the VP's node's source:
the same pty and proxy, without the VP's mount namespace around the open). Then
**SMS to 10 VPs**: 10 VPs with forwarded numbers; the simulator's remote parties send N
(--sms, default 300) messages round-robin, at most 10 not yet stored at any time; timed
from the first sent to the last found in its VP's store (a file in
STATE/vps/NAME/devices/telephony/), each checked to be in its own VP's store only.
"""

import argparse
import glob
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


SIM = "+15550100"
ACCESS = "+15550999"


def cells_proxy(runs, sms):
    """A private cellsd on a simulator: the proxy's measurements, and SMS per second."""
    sim = ModemSim(number=SIM, access=ACCESS)
    try:
        with cb.Daemon("telephony", args=["--modem", str(sim.link), "--forward-access", ACCESS,
                                          "--vnc", "none", "--web", "none",
                                          "--default-disk", "none"]) as d:
            d.cell("image", "build")
            d.cell("create", "bench", "--number", SIM)
            d.cell("start", "bench")
            cb.wait_until(lambda: d.stats()["daemon"]["telephony"]["modem_up"], timeout=10,
                          what="the modem set up")
            tty = os.path.join(d.run, "dev", "bench", "bench.tel", "0")
            if not os.path.exists(tty):
                tty = glob.glob(os.path.join(d.run, "dev", "**", "bench.tel", "0"),
                                recursive=True)[0]
            res = measure(tty, sim.control, runs)
            res["sms"] = sms_rate(d, sim, sms)
            return res
    finally:
        sim.stop()


def sms_rate(d, sim, total, nvps=10, window=10):
    """Messages per second from the remote parties to NVPS VPs' stores."""
    ctl = Control(sim.control)
    names = ["sms%d" % i for i in range(nvps)]
    numbers = {}
    for i, name in enumerate(names):
        numbers[name] = "+1555030%02d" % i
        d.cell("create", name, "--number", numbers[name])
        d.cell("start", name)
        vid = next(v["id"] for v in d.json("list", "--json") if v["name"] == name)
        assert ctl("forward", number=numbers[name], tag="*77%d*" % vid)["ok"]

    def stored(name):
        return len(glob.glob(os.path.join(d.state, "vps", name, "devices", "telephony",
                                          "*.sms")))

    def count():
        return sum(stored(n) for n in names)

    sent = 0
    t0 = time.perf_counter()
    while sent < total:
        if sent - count() >= window:
            time.sleep(0.001)
            continue
        name = names[sent % nvps]
        assert ctl("sms", frm="+15551234", to=numbers[name], text="bench %d" % sent)["ok"]
        sent += 1
    cb.wait_until(lambda: count() >= total, timeout=60, step=0.001, what="every SMS stored")
    took = time.perf_counter() - t0
    ctl.close()
    per_vp = {n: stored(n) for n in names}
    assert all(v == total // nvps for v in per_vp.values()), per_vp
    return {"messages": total, "vps": nvps, "seconds": took, "per_second": total / took}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--json")
    ap.add_argument("--proxy-tty")
    ap.add_argument("--control")
    ap.add_argument("--cells", action="store_true")
    ap.add_argument("--sms", type=int, default=300)
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
    elif args.cells:
        results["proxy"] = cells_proxy(args.runs, args.sms)
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
    if "sms" in results.get("proxy", {}):
        r = results["proxy"]["sms"]
        cb.table("SMS to %d VPs" % r["vps"], ["messages", "seconds", "per second"],
                 [[str(r["messages"]), cb.fmt(r["seconds"], 2), cb.fmt(r["per_second"], 0)]])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
