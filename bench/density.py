"""Density: how many running VPs one machine holds, and what each one after the first costs.

    /usr/bin/python3 bench/density.py [--image debian|minimal] [--image-dir DIR]
        [--vps 20] [--ksm off,on,fast] [--settle 90] [--json FILE]

One private cellsd per KSM mode: off (cellsd --ksm off, and the host's scanner stopped for
the run: run 0, which unmerges nothing, put back after), on (cellsd's own tuning, DESIGN.md
§6: 100 ms / 500 pages per 20 running VPs for 70 s after each start, then 1500 ms / 100),
fast (--ksm-hard 10,5000,600: what the scanner can do when it may use a CPU). It starts --vps VPs of the image one after the other
(`cell start` returns once the VP's init runs; its time is "start time of the Nth VP"),
then waits --settle seconds (cellsd's own KSM tuning: 70 s of hard scanning after the last
start, then gentle) and measures:

  - host memory in use, MemTotal - MemAvailable from /proc/meminfo, before any VP, after
    the first VP (plus --settle-first seconds) and after the last (plus --settle);
  - the sum of the VPs' memory cgroups (what they are charged; KSM-merged pages are charged
    once), the pages KSM merged (cell stats: ksm_merging_pages summed) and what the
    kernel says KSM saves (pages_sharing, the pages that share another: 4 KiB each);
  - cellsd's CPU time over the run and its RSS at the end, and ksmd's CPU time (the
    kernel's scanner: what merging costs).

The page cache is written back and dropped before the first start, so that the first VP
reads its image from disk and is charged for its pages, as on a phone just booted; the
others find them cached. The cost of one more VP is (used(N) - used(1)) / (N - 1), against
used(1) - used(0) for the first, and the same for the sum of the VPs' cgroups, also split
by kind (anon, shmem, file, kernel: memory_kinds). The issue's target (with KSM): each VP after the first <= 25 % of the first.

--image debian imports the Debian X11 image (Xorg, matchbox, xterm: the rc starts them)
from --image-dir, a rootfs built by `cell image build debian` (default: the test cache,
/var/cache/cells-test/state/images/debian/rootfs); --image minimal builds the busybox
image, a fallback that the report labels as such.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402

DEFAULT_DEBIAN = "/var/cache/cells-test/state/images/debian/rootfs"


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0])
    return out


def host_used_kb():
    m = meminfo()
    return m["MemTotal"] - m["MemAvailable"]


def vps_memory(d):
    vps = d.stats()["vps"]
    return (sum(v.get("memory_bytes", 0) for v in vps) // 1024,
            sum(v.get("ksm_merging_pages", 0) for v in vps))


def cold_page_cache():
    """Write back and drop the page cache: the image's files are then read from disk by
    the first VP and charged to it, as on a phone just booted (the import's own writes
    would otherwise stay cached, charged to cellsd)."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def memory_kinds(d, names):
    """KiB summed over the VPs' memory cgroups: anon (what KSM may merge), shmem (tmpfs,
    the framebuffer), file (the image's pages: charged to the VP that read them first),
    kernel (page tables, slab, stacks)."""
    out = {"anon": 0, "shmem": 0, "file": 0, "kernel": 0}
    for n in names:
        v1 = os.path.join("/sys/fs/cgroup/memory", d.cgroup_parent, n)
        v2 = os.path.join("/sys/fs/cgroup", d.cgroup_parent, n)
        if os.path.exists(os.path.join(v1, "memory.stat")):
            st = read_stat(os.path.join(v1, "memory.stat"))
            kmem = int(open(os.path.join(v1, "memory.kmem.usage_in_bytes")).read())
            out["anon"] += st["total_rss"] // 1024
            out["shmem"] += st["total_shmem"] // 1024
            out["file"] += (st["total_cache"] - st["total_shmem"]) // 1024
            out["kernel"] += kmem // 1024
        elif os.path.exists(os.path.join(v2, "memory.stat")):
            st = read_stat(os.path.join(v2, "memory.stat"))
            out["anon"] += st["anon"] // 1024
            out["shmem"] += st["shmem"] // 1024
            out["file"] += (st["file"] - st["shmem"]) // 1024
            out["kernel"] += st.get("kernel", 0) // 1024
    return out


def read_stat(path):
    with open(path) as f:
        return {k: int(v) for k, v in (line.split() for line in f)}


KSM_MODES = {"off": ["--ksm", "off"], "on": ["--ksm", "on"],
             "fast": ["--ksm", "on", "--ksm-hard", "10,5000,600"]}


def ksm_knob(name):
    try:
        with open("/sys/kernel/mm/ksm/" + name) as f:
            return int(f.read())
    except OSError:
        return 0


def ksm_sharing():
    return ksm_knob("pages_sharing")


def ksmd_pid():
    """The kernel's KSM thread, or None."""
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/comm" % name) as f:
                    if f.read().strip() == "ksmd":
                        return int(name)
            except OSError:
                pass
    return None


def set_ksm_run(value):
    with open("/sys/kernel/mm/ksm/run", "w") as f:
        f.write(value)


def run_mode(args, ksm):
    """One mode's run; "off" stops the host's scanner for it (another daemon or an earlier
    run may have left it on) and puts it back after."""
    if ksm != "off":
        return measure_mode(args, ksm)
    saved = str(ksm_knob("run"))
    set_ksm_run("0")
    try:
        return measure_mode(args, ksm)
    finally:
        set_ksm_run(saved)


def measure_mode(args, ksm):
    out = {"ksm": ksm, "starts_s": []}
    extra = ["--vnc", "none", "--web", "none"] + KSM_MODES[ksm]
    with cb.Daemon("density", extra) as d:
        if args.image == "debian":
            cb.log("importing the debian image from %s ..." % args.image_dir)
            d.cell("image", "import", "debian", args.image_dir)
        else:
            d.cell("image", "build")
        names = ["d%d" % i for i in range(args.vps)]
        for n in names:
            d.cell("create", n, "--image", args.image, "--disk", "none")
        cpu0 = cb.cpu_seconds(d.pid)
        ksmd = ksmd_pid()
        ksmd0 = cb.cpu_seconds(ksmd) if ksmd else 0.0
        cold_page_cache()
        out["used_kb_0"] = host_used_kb()
        for i, n in enumerate(names):
            t = time.monotonic()
            d.cell("start", n)
            out["starts_s"].append(time.monotonic() - t)
            if i == 0:
                time.sleep(args.settle_first)
                out["used_kb_1"] = host_used_kb()
                out["vps_kb_1"], out["merging_1"] = vps_memory(d)
                out["kinds_1"] = memory_kinds(d, names[:1])
            if (i + 1) % 10 == 0:
                cb.log("%s: %d VPs running, host used %d MiB" % (
                    ksm, i + 1, host_used_kb() // 1024))
        cb.log("%s: all %d running; settling %d s" % (ksm, args.vps, args.settle))
        time.sleep(args.settle)
        st = d.stats()
        running = sum(1 for v in st["vps"] if v["state"] == "running")
        out["running"] = running
        out["used_kb_n"] = host_used_kb()
        out["vps_kb_n"], out["merging_n"] = vps_memory(d)
        out["kinds_n"] = memory_kinds(d, names)
        out["ksm_saved_kb"] = ksm_sharing() * 4
        out["ksm_run_end"] = ksm_knob("run")
        out["cellsd_cpu_s"] = cb.cpu_seconds(d.pid) - cpu0
        out["ksmd_cpu_s"] = cb.cpu_seconds(ksmd) - ksmd0 if ksmd else None
        out["cellsd_rss_kb"] = st["daemon"]["rss_kb"]
        out["ksm_phase"] = st["daemon"].get("ksm_phase")
        first = out["used_kb_1"] - out["used_kb_0"]
        more = (out["used_kb_n"] - out["used_kb_1"]) / max(1, args.vps - 1)
        out["first_vp_kb"] = first
        out["per_more_vp_kb"] = more
        out["ratio"] = more / first if first > 0 else None
        vfirst = out["vps_kb_1"]
        vmore = (out["vps_kb_n"] - out["vps_kb_1"]) / max(1, args.vps - 1)
        out["cgroup_first_vp_kb"] = vfirst
        out["cgroup_per_more_vp_kb"] = vmore
        out["cgroup_ratio"] = vmore / vfirst if vfirst > 0 else None
        for n in names:
            d.cell("stop", n, "--timeout", "2", check=False)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", choices=("debian", "minimal"), default="debian")
    ap.add_argument("--image-dir", default=DEFAULT_DEBIAN)
    ap.add_argument("--vps", type=int, default=20)
    ap.add_argument("--ksm", default="off,on,fast", help="modes, comma-separated")
    ap.add_argument("--settle", type=float, default=90)
    ap.add_argument("--settle-first", type=float, default=10)
    ap.add_argument("--runs", type=int, help="ignored (bench/run-all passes it)")
    ap.add_argument("--json")
    args = ap.parse_args()
    cb.check_binaries()
    cb.install_signal_handlers()
    if args.image == "debian" and not os.path.isdir(args.image_dir):
        sys.exit("density: no debian rootfs at %s (--image minimal is the fallback)"
                 % args.image_dir)
    result = {"machine": cb.machine(), "args": vars(args), "modes": []}
    for ksm in args.ksm.split(","):
        if ksm not in KSM_MODES:
            sys.exit("density: --ksm takes %s" % ",".join(KSM_MODES))
    for ksm in args.ksm.split(","):
        result["modes"].append(run_mode(args, ksm))
    label = "debian X11" if args.image == "debian" else "minimal busybox (fallback)"
    rows = []
    for m in result["modes"]:
        s = sorted(m["starts_s"])
        rows.append([
            m["ksm"], "%d/%d" % (m["running"], args.vps),
            "%.0f" % (m["first_vp_kb"] / 1024), "%.1f" % (m["per_more_vp_kb"] / 1024),
            "%.0f%%" % (100 * m["ratio"]) if m["ratio"] is not None else "-",
            "%.0f" % (m["cgroup_first_vp_kb"] / 1024),
            "%.1f" % (m["cgroup_per_more_vp_kb"] / 1024),
            "%.0f%%" % (100 * m["cgroup_ratio"]) if m["cgroup_ratio"] is not None else "-",
            "%d" % m["ksm_run_end"],
            "%d" % m["merging_n"], "%.0f" % (m["ksm_saved_kb"] / 1024),
            "%.2f / %.2f / %.2f" % (m["starts_s"][0], s[len(s) // 2], m["starts_s"][-1]),
            "%.1f" % m["cellsd_cpu_s"], "%d" % (m["cellsd_rss_kb"] // 1024),
            "-" if m["ksmd_cpu_s"] is None else "%.0f" % m["ksmd_cpu_s"]])
    cb.table("density, %d VPs of the %s image" % (args.vps, label),
             ["ksm", "running", "1st MiB", "+1 MiB", "+1/1st", "cg 1st", "cg +1",
              "cg +1/1st", "ksm run", "merged pg", "saved MiB", "start 1st/med/Nth s",
              "cellsd cpu s", "cellsd rss MiB", "ksmd cpu s"], rows)
    kinds = ("anon", "shmem", "file", "kernel")
    rows = []
    for m in result["modes"]:
        first = m["kinds_1"]
        more = {k: (m["kinds_n"][k] - first[k]) / max(1, args.vps - 1) for k in kinds}
        rows.append([m["ksm"]] + ["%.1f / %.1f" % (first[k] / 1024, more[k] / 1024)
                                  for k in kinds])
    cb.table("where the memory goes: the first VP / each further one, MiB",
             ["ksm"] + list(kinds), rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
