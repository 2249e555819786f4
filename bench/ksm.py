#!/usr/bin/python3
"""KSM across VPs: N VPs running the same program use far less than N x one VP
(DESIGN.md §6 and §10).

    /usr/bin/python3 bench/ksm.py [--vps 8] [--mib 32] [--timeout 120] [--json FILE]

Every VP process is started with PR_SET_MEMORY_MERGE (cell-init and `cell exec` set it;
children and exec'd programs keep it), so KSM may merge any of their anonymous pages
without the programs asking (no madvise). This script turns the kernel's KSM scanner on
for its run (`/sys/kernel/mm/ksm/run` 1, `pages_to_scan` 5000, `sleep_millisecs` 10, and
cellsd --ksm-hard 10,5000,3600 so that cellsd, which drives the scanner itself, keeps that
pace) and puts the three values back when it ends.

One private cellsd (`--vnc none --web none`), the "minimal" image, --vps VPs, each running
its launcher and, through `cell exec`, `memhog MIB` (apps/memhog.c: MIB MiB whose pages
all differ from each other, but are the same in every VP, as the same program's data
would be). After every memhog holds its memory, the script waits until KSM has made two
full scans with no change in `pages_sharing`, then reads:
  - /sys/kernel/mm/ksm: pages_shared (KSM pages in use) and pages_sharing (the pages that
    point at them: memory saved), general_profit;
  - each memhog's /proc/PID/ksm_merging_pages;
  - the sum of the VPs' cgroup memory (`cell stats`), before and after merging.
The ratio reported: the memhogs' memory after merging / N x one memhog's.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellsbench as cb  # noqa: E402

KSM = "/sys/kernel/mm/ksm"
PAGE = os.sysconf("SC_PAGE_SIZE")


def ksm_read(name):
    with open(os.path.join(KSM, name)) as f:
        return int(f.read().split()[0])


def ksm_write(name, value):
    with open(os.path.join(KSM, name), "w") as f:
        f.write(str(value))


def vp_memory(d):
    return {vp["name"]: vp.get("memory_bytes", 0) for vp in d.stats()["vps"]}


def memhog_pids(uid_lo, uid_hi):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/status" % entry) as f:
                status = f.read()
        except OSError:
            continue
        name = status.split("\n", 1)[0].split()[-1]
        uid = int(status.split("\nUid:")[1].split()[0])
        if name == "memhog" and uid_lo <= uid < uid_hi:
            pids.append(int(entry))
    return pids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vps", type=int, default=8)
    ap.add_argument("--mib", type=int, default=32)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--runs", type=int, help="ignored (bench/run-all passes it)")
    ap.add_argument("--json")
    args = ap.parse_args()
    if not os.path.isdir(KSM):
        sys.exit("ksm: this kernel has no KSM (%s)" % KSM)
    cb.install_signal_handlers()
    info = cb.machine()
    saved = {k: ksm_read(k) for k in ("run", "pages_to_scan", "sleep_millisecs")}
    out = {"machine": info, "args": vars(args)}
    names = ["ksm%d" % i for i in range(args.vps)]
    try:
        with cb.Daemon("ksm", ["--vnc", "none", "--web", "none",
                               "--ksm-hard", "10,5000,3600"]) as d:
            out["identity"] = d.identity
            cb.log("building the minimal image ...")
            d.cell("image", "build")
            for n in names:
                d.cell("create", n)
                d.cell("start", n)
            ksm_write("pages_to_scan", 5000)
            ksm_write("sleep_millisecs", 10)
            ksm_write("run", 1)
            before_hog = sum(vp_memory(d).values())
            for n in names:
                d.cell("exec", n, "--", "sh", "-c",
                       "memhog %d > /tmp/memhog.log 2>&1 &" % args.mib)
            uid_lo = 1000000000
            cb.wait_until(lambda: len(memhog_pids(uid_lo, 1 << 32)) >= args.vps and all(
                "done" in d.cell("exec", n, "--", "cat", "/tmp/memhog.log").stdout
                for n in names), timeout=60, step=0.5, what="every memhog holding its memory")
            unmerged = sum(vp_memory(d).values())
            cb.log("%d memhogs of %d MiB hold their memory; waiting for KSM" % (
                args.vps, args.mib))
            t0 = time.monotonic()
            last, stable_scans, scans = -1, 0, ksm_read("full_scans")
            while time.monotonic() - t0 < args.timeout:
                time.sleep(0.5)
                if ksm_read("full_scans") < scans + 1:
                    continue
                scans = ksm_read("full_scans")
                sharing = ksm_read("pages_sharing")
                stable_scans = stable_scans + 1 if sharing == last else 0
                last = sharing
                if stable_scans >= 2:
                    break
            merge_s = time.monotonic() - t0
            pids = memhog_pids(uid_lo, 1 << 32)
            merging = []
            for pid in pids:
                try:
                    with open("/proc/%d/ksm_merging_pages" % pid) as f:
                        merging.append(int(f.read()))
                except OSError:
                    merging.append(None)
            out.update({
                "pages_shared": ksm_read("pages_shared"),
                "pages_sharing": ksm_read("pages_sharing"),
                "general_profit": ksm_read("general_profit"),
                "merge_seconds": merge_s, "memhog_merging_pages": merging,
                "vp_memory_before_memhog": before_hog, "vp_memory_unmerged": unmerged,
                "vp_memory_merged": sum(vp_memory(d).values()),
            })
            for n in names:
                d.cell("stop", n)
    finally:
        for k in ("pages_to_scan", "sleep_millisecs", "run"):
            ksm_write(k, saved[k])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f)

    mib = 1 << 20
    one = args.mib * mib
    hogs = args.vps * one
    saved_bytes = out["pages_sharing"] * PAGE
    cb.print_machine(info)
    print("cells: %s" % out.get("identity", ""))
    print("%d VPs, each running its launcher and memhog %d MiB; KSM settled in %.1f s "
          "(two full scans without change)" % (args.vps, args.mib, out["merge_seconds"]))
    print("KSM: pages_shared %d (%.1f MiB in use), pages_sharing %d (%.1f MiB saved), "
          "general_profit %.1f MiB" % (out["pages_shared"], out["pages_shared"] * PAGE / mib,
                                        out["pages_sharing"], saved_bytes / mib,
                                        out["general_profit"] / mib))
    print("memhogs' pages merged, per process (ksm_merging_pages): %s" % (
        ", ".join(str(m) for m in out["memhog_merging_pages"])))
    after = hogs - saved_bytes
    print("memhogs: %d x %d MiB = %.1f MiB without KSM; %.1f MiB after merging: ratio %.3f "
          "(1/N = %.3f)" % (args.vps, args.mib, hogs / mib, after / mib, after / hogs,
                            1 / args.vps))
    print("VPs' cgroup memory, sum: %.1f MiB before the memhogs, %.1f MiB with them, %.1f MiB "
          "after merging (a merged page stays charged to the cgroup that first had it)" % (
              out["vp_memory_before_memhog"] / mib, out["vp_memory_unmerged"] / mib,
              out["vp_memory_merged"] / mib))


if __name__ == "__main__":
    main()
