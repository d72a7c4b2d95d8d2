#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compare memtools output with the kernel's own files.

  compare.py procstat TOOL_JSON STATUS_FILE      within 5% or one page
  compare.py sysstat TOOL_JSON MEMINFO MEMINFO   total within 2% (or 1 MiB)
  compare.py sysvm TOOL_JSON VMSTAT VMSTAT       total within 2% (or 1 MiB)
  compare.py sysnode TOOL_JSON NODE MEMINFO MEMINFO   one node, same rules
System-wide files are read just before and just after the tool runs, and
the tool's figure is compared with the range the two readings span, since
other processes move these counters meanwhile.
The 1 MiB floor covers the tool's own footprint while it samples (its
binary and libraries are mapped, so Mapped grows by several hundred kB).
Prints each comparison; exits 1 when any figure is out of tolerance.
"""
import json
import sys

PROCSTAT = {"vsize_kb": "VmSize", "size_kb": "VmHWM", "rssanon_kb": "RssAnon",
            "rssfile_kb": "RssFile", "rssshmem_kb": "RssShmem",
            "vswap_kb": "VmSwap", "vdata_kb": "VmData", "vpte_kb": "VmPTE",
            "vstk_kb": "VmStk"}
SYSSTAT = {"active_kb": "Active", "inactive_kb": "Inactive",
           "anon_active_kb": "Active(anon)", "anon_inactive_kb": "Inactive(anon)",
           "file_active_kb": "Active(file)", "file_inactive_kb": "Inactive(file)",
           "unevictable_kb": "Unevictable", "dirty_kb": "Dirty",
           "writeback_kb": "Writeback", "anonpages_kb": "AnonPages",
           "mapped_kb": "Mapped", "shmem_kb": "Shmem",
           "kreclaimable_kb": "KReclaimable", "slab_kb": "Slab",
           "sreclaimable_kb": "SReclaimable", "sunreclaim_kb": "SUnreclaim",
           "nfs_unstable_kb": "NFS_Unstable", "writebacktmp_kb": "WritebackTmp",
           "anonhugepages_kb": "AnonHugePages",
           "shmemhugepages_kb": "ShmemHugePages"}

# /proc/vmstat counts pages, and huge pages in units of huge pages.
SYSVM = {"anon_active_kb": ("nr_active_anon", 1),
         "anon_inactive_kb": ("nr_inactive_anon", 1),
         "file_active_kb": ("nr_active_file", 1),
         "file_inactive_kb": ("nr_inactive_file", 1),
         "unevictable_kb": ("nr_unevictable", 1), "dirty_kb": ("nr_dirty", 1),
         "writeback_kb": ("nr_writeback", 1), "anonpages_kb": ("nr_anon_pages", 1),
         "mapped_kb": ("nr_mapped", 1), "shmem_kb": ("nr_shmem", 1),
         "sreclaimable_kb": ("nr_slab_reclaimable", 1),
         "sunreclaim_kb": ("nr_slab_unreclaimable", 1),
         "anonhugepages_kb": ("nr_anon_transparent_hugepages", 512),
         "shmemhugepages_kb": ("nr_shmem_hugepages", 512)}


def kv_file(path):
    out = {}
    for line in open(path):
        if ":" in line:
            key, rest = line.split(":", 1)
            if key.startswith("Node "):
                key = key.split(" ", 2)[2]
            words = rest.split()
            if words and words[0].isdigit():
                out[key.strip()] = int(words[0])
    return out


def last_json(path, want=None):
    rows = [json.loads(l) for l in open(path) if l.startswith("{")]
    if want:
        rows = [r for r in rows if all(r.get(k) == v for k, v in want.items())]
    if not rows:
        sys.exit(f"compare: no JSON rows in {path}")
    return rows[-1]


def check(pairs, rel, floor_kb):
    """pairs: (name, tool value, kernel value or (before, after))."""
    bad = 0
    for name, got, ref in pairs:
        lo, hi = (min(ref), max(ref)) if isinstance(ref, tuple) else (ref, ref)
        slack = max(rel * hi, floor_kb)
        ok = lo - slack <= got <= hi + slack
        bad += not ok
        near = lo if got < lo else hi if got > hi else got
        kernel = f"{lo}" if lo == hi else f"{lo}..{hi}"
        print(f"  {'ok ' if ok else 'BAD'} {name:18} tool={got:>10} kernel={kernel:>10}"
              f" diff={got - near:>+8} allowed={slack:.0f}")
    return bad


def vmstat_file(path):
    out = {}
    for line in open(path):
        key, val = line.split()
        out[key] = int(val)
    return out


def main(argv):
    kind = argv[1]
    if kind == "procstat":
        lost = [l for l in open(argv[2]) if '"event":"loss"' in l]
        if lost:
            sys.exit(f"compare: procstat lost snapshots: {lost[-1].strip()}")
        row, status = last_json(argv[2]), kv_file(argv[3])
        pairs = [(k, row[k], status.get(v, 0)) for k, v in PROCSTAT.items()]
        return check(pairs, 0.05, 4)
    if kind == "sysstat":
        row = last_json(argv[2], {"scope": "total"})
        a, b = kv_file(argv[3]), kv_file(argv[4])
        pairs = [(k, row[k], (a.get(v, 0), b.get(v, 0))) for k, v in SYSSTAT.items()]
        return check(pairs, 0.02, 1024)
    if kind == "sysvm":
        row = last_json(argv[2], {"scope": "total"})
        a, b = vmstat_file(argv[3]), vmstat_file(argv[4])
        page_kb = 4
        pairs = [(k, row[k], (a.get(v, 0) * mult * page_kb, b.get(v, 0) * mult * page_kb))
                 for k, (v, mult) in SYSVM.items()]
        return check(pairs, 0.02, 1024)
    if kind == "sysnode":
        row = last_json(argv[2], {"scope": "node" + argv[3]})
        a, b = kv_file(argv[4]), kv_file(argv[5])
        pairs = [(k, row[k], (a.get(v, 0), b.get(v, 0))) for k, v in SYSSTAT.items()]
        return check(pairs, 0.02, 1024)
    sys.exit(f"compare: unknown kind {kind}")


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv) else 0)
