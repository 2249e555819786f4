#!/usr/bin/python3
"""The net device: a VP's path to an uplink against the host's own, and what the network
costs a VP's start.

    /usr/bin/python3 bench/net.py [--runs N] [--seconds S] [--pings N] [--json FILE]

An uplink namespace (a veth, 10.252.1.1 here, 10.252.1.2 there) runs `iperf3 -s` and a
UDP echo server. The same clients run twice per round, in a shuffled order: on the host,
and in a VP's network namespace (nsenter --net of its init: the VP's eth0, its veth, the
net device's policy routing, nftables chains, counters and masquerade); the program is
the host's in both, so only the path differs.
  - iperf3 TCP, S seconds: Gbit/s received.
  - UDP round trips of 64 bytes, N each: median and p90 in microseconds.
VP start: `cell start` until it returns, a VP with the net device against one with
--device net=none, alternating, the VP stopped (untimed) between runs.
Many (--many N, default 50): N VPs started one after the other, once with --device
net=none and once with the net device: each start's time, cellsd's RSS with all of them
running, and with the network the kernel objects made (rules in the nftables table,
routing rules, veths).
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402

NS, IFACE, HOST, PEER = "bench-up", "tub0", "10.252.1.1", "10.252.1.2"
ECHO_PORT = 7777

ECHO_SERVER = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{PEER}", {ECHO_PORT}))
while True:
    data, addr = s.recvfrom(2048)
    s.sendto(data, addr)
"""

ECHO_CLIENT = f"""
import json, socket, sys, time
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.connect(("{PEER}", {ECHO_PORT}))
out = []
for i in range(n + 50):
    t = time.perf_counter_ns()
    s.send(b"x" * 64)
    s.recv(2048)
    if i >= 50:
        out.append((time.perf_counter_ns() - t) / 1000)
print(json.dumps(out))
"""


def sh(*cmd):
    subprocess.run(list(cmd), check=True, capture_output=True)


class Uplink:
    def __init__(self):
        self.procs = []

    def __enter__(self):
        sh("ip", "netns", "add", NS)
        sh("ip", "link", "add", IFACE, "type", "veth", "peer", "name", "eth0", "netns", NS)
        sh("ip", "addr", "add", HOST + "/24", "dev", IFACE)
        sh("ip", "link", "set", IFACE, "up")
        sh("ip", "netns", "exec", NS, "sh", "-c",
           f"ip addr add {PEER}/24 dev eth0 && ip link set eth0 up && ip link set lo up")
        for cmd in (["iperf3", "-s", "-B", PEER], ["python3", "-c", ECHO_SERVER]):
            self.procs.append(subprocess.Popen(["ip", "netns", "exec", NS] + cmd,
                                               stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
        cb.wait_until(lambda: subprocess.run(
            ["ip", "netns", "exec", NS, "ss", "-ltn", f"src {PEER}:5201"],
            capture_output=True, text=True).stdout.count("LISTEN") > 0, what="iperf3 -s")
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()
        subprocess.run(["ip", "link", "del", IFACE], capture_output=True)
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)


def iperf(prefix, seconds):
    r = subprocess.run(prefix + ["iperf3", "-c", PEER, "-t", str(seconds), "-J"],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9


def rtts(prefix, n):
    r = subprocess.run(prefix + ["python3", "-c", ECHO_CLIENT, str(n)], capture_output=True,
                       text=True, check=True)
    return json.loads(r.stdout)


def start_times(d, runs):
    out = {"net": [], "no net": []}
    for _, order in cb.rounds(runs, list(out)):
        for which in order:
            name = "bnet" if which == "net" else "bnonet"
            t = time.perf_counter_ns()
            d.cell("start", name)
            out[which].append((time.perf_counter_ns() - t) / 1e6)
            d.cell("stop", name)
    return out


def count_objects():
    table = subprocess.run(["nft", "-a", "list", "table", "inet", "cells"],
                           capture_output=True, text=True).stdout
    rules = subprocess.run(["ip", "rule"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    return {"nft rules": sum(1 for l in table.splitlines()
                             if "# handle" in l and "chain " not in l and "{" not in l),
            "ip rules": sum(1 for l in rules.splitlines() if l.startswith("9000:")),
            "veths": sum(1 for l in links.splitlines() if re.match(r"^\d+: cv\d+@", l))}


def many(d, n):
    out = {}
    for which in ("no net", "net"):
        names = [f"m{'n' if which == 'net' else 'x'}{i}" for i in range(n)]
        for name in names:
            d.cell("create", name, *(["--device", "net=none"] if which == "no net" else []))
        times = []
        for name in names:
            t = time.perf_counter_ns()
            d.cell("start", name)
            times.append((time.perf_counter_ns() - t) / 1e6)
        out[which] = {"start_ms": cb.summary(times),
                      "cellsd_rss_kb": cb.read_status(d.pid)["VmRSS"]}
        if which == "net":
            out[which].update(count_objects())
        for name in names:
            d.cell("stop", name)
            d.cell("destroy", name)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--pings", type=int, default=2000)
    ap.add_argument("--many", type=int, default=50)
    ap.add_argument("--skip-paths", action="store_true", help="only the start and many parts")
    ap.add_argument("--json")
    args = ap.parse_args()
    cb.install_signal_handlers()
    info = cb.machine()
    result = {"machine": info}
    with Uplink(), cb.Daemon("net", args=["--uplink", f"up={IFACE},gw={PEER}", "--vnc",
                                          "none", "--web", "none", "--default-disk",
                                          "none"]) as d:
        d.cell("image", "build")
        d.cell("create", "bnet")
        d.cell("create", "bnonet", "--device", "net=none")
        d.cell("start", "bnet")
        pid = d.json("list", "--json")
        pid = next(v["pid"] for v in pid if v["name"] == "bnet")
        contenders = {"host": [], "VP": ["nsenter", f"--net=/proc/{pid}/ns/net"]}
        gbit = {k: [] for k in contenders}
        lat = {k: [] for k in contenders}
        for _, order in cb.rounds(0 if args.skip_paths else args.runs, list(contenders)):
            for k in order:
                gbit[k].append(iperf(contenders[k], args.seconds))
                lat[k] += rtts(contenders[k], args.pings)
        d.cell("stop", "bnet")
        starts = start_times(d, args.runs * 4)
        crowd = many(d, args.many) if args.many else {}
    cb.print_machine(info)
    rows = []
    for k in [] if args.skip_paths else contenders:
        g, l = cb.summary(gbit[k]), cb.summary(lat[k])
        rows.append([k, cb.fmt(g["median"]), cb.fmt(g["min"]), cb.fmt(l["median"], 1),
                     cb.fmt(l["p90"], 1)])
        result[k] = {"gbit": g, "rtt_us": l}
    cb.table(f"iperf3 TCP ({args.runs} x {args.seconds} s) and UDP round trips "
             f"({args.runs} x {args.pings})",
             ["path to the uplink ns", "Gbit/s med", "min", "RTT us med", "p90"], rows)
    rows = []
    for k, v in starts.items():
        s = cb.summary(v)
        rows.append([k, str(s["n"]), cb.fmt(s["median"], 1), cb.fmt(s["p90"], 1)])
        result["start " + k] = s
    cb.table("cell start, ms", ["VP", "n", "median", "p90"], rows)
    rows = []
    for k, v in crowd.items():
        rows.append([k, cb.fmt(v["start_ms"]["median"], 1), cb.fmt(v["start_ms"]["p90"], 1),
                     cb.fmt(v["start_ms"]["max"], 1), str(v["cellsd_rss_kb"]),
                     str(v.get("nft rules", "-")), str(v.get("ip rules", "-")),
                     str(v.get("veths", "-"))])
    if rows:
        result["many"] = crowd
        cb.table(f"{args.many} VPs started one after another",
                 ["VPs", "start ms med", "p90", "max", "cellsd RSS kB", "nft rules",
                  "ip rules", "veths"], rows)
    if not args.skip_paths:
        ratio = result["VP"]["gbit"]["median"] / result["host"]["gbit"]["median"]
        added = result["VP"]["rtt_us"]["median"] - result["host"]["rtt_us"]["median"]
        print(f"VP/host throughput {ratio:.3f}; added RTT {added:.1f} us (median)")
    print(f"start with/without net "
          f"{result['start net']['median'] / result['start no net']['median']:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
