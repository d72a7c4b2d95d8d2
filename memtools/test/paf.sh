#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# paf against a provoked failure: asking one NUMA node for more 2 MiB huge
# pages than it has makes the kernel's order-9 allocations on that node
# fail. paf in each mode (all at once) must report them with order 9 and
# the same flag names the kernel's own trace output gives, and BPF's
# zone figures must match /proc/zoneinfo. Needs two nodes (the VM has
# them): on a one-node machine this would exhaust all memory.
. "$(dirname "$0")/lib.sh"
mt_need paf

nodes=(/sys/devices/system/node/node[0-9]*)
[ ${#nodes[@]} -ge 2 ] || mt_fail "needs two NUMA nodes to fail allocations on one safely"
node=${nodes[-1]##*node}
pool=/sys/devices/system/node/node$node/hugepages/hugepages-2048kB/nr_hugepages
[ -w "$pool" ] || mt_fail "no 2 MiB huge page pool for node $node"
node_kb=$(awk '/MemTotal/ { print $4 }' /sys/devices/system/node/node$node/meminfo)
want=$((node_kb / 2048 + 64))

trap 'echo 0 >"$pool"; mt_cleanup' EXIT
modes="$MT_BPF_MODES proc"
for mode in $modes; do
	timeout 600 "$MT_BIN/paf" -v -m "$mode" -j >"$MT_TMP/paf.$mode.json" 2>"$MT_TMP/paf.$mode.err" &
	MT_PIDS+=($!)
done
timeout 600 "$MT_BIN/paf" -v -p $$ >"$MT_TMP/paf.table" 2>"$MT_TMP/paf.table.err" &
MT_PIDS+=($!)
errs=("$MT_TMP/paf.table.err")
for mode in $modes; do errs+=("$MT_TMP/paf.$mode.err"); done
mt_wait_attached paf "${errs[@]}"
echo "asking node $node ($((node_kb >> 10)) MiB) for $want huge pages"
echo "$want" >"$pool"
got=$(cat "$pool")
echo "node $node got $got huge pages"
echo 0 >"$pool"
[ "$got" -lt "$want" ] || mt_fail "the node satisfied the request; nothing failed"
cp /proc/zoneinfo "$MT_TMP/zoneinfo"
sleep 1
for pid in "${MT_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null; done
for pid in "${MT_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
MT_PIDS=()

for mode in $modes; do
	mt_say "paf -m $mode"
	cat "$MT_TMP/paf.$mode.err"
	grep -q "^paf: mode $mode\$" "$MT_TMP/paf.$mode.err" || mt_fail "paf -m $mode ran in another mode"
done
python3 - "$MT_TMP" "$$" "$node" $modes <<'PY' || mt_fail "paf reports disagree with the kernel"
import json, sys
tmp, writer, node, modes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]

def zoneinfo(path):
    zones, cur = {}, None
    for line in open(path):
        w = line.split()
        if line.startswith("Node "):
            cur = zones.setdefault((int(w[1].rstrip(",")), w[3]), {})
        elif cur is not None and len(w) == 2 and w[1].isdigit():
            cur[w[0]] = int(w[1])
    return zones

ref = zoneinfo(f"{tmp}/zoneinfo")
flags, bad = {}, 0
for mode in modes:
    rows = [json.loads(l) for l in open(f"{tmp}/paf.{mode}.json")]
    fails = [r for r in rows if r["event"] == "failure" and r["pid"] == writer]
    summary = [r for r in rows if r["event"] == "summary"][-1]
    flags[mode] = sorted({r["gfp_flags"] for r in fails})
    print(f"  {mode}: {len(fails)} failures by the writer, summary {summary['failures']}, "
          f"orders {sorted({r['order'] for r in fails})}")
    for f in flags[mode]:
        print(f"    flags {f}")
    if not fails or any(r["order"] != 9 for r in fails):
        print("  BAD: expected order-9 failures by the writer"); bad += 1; continue
    if not all("__GFP_COMP" in f and "__GFP_THISNODE" in f for f in flags[mode]):
        print("  BAD: flags lack __GFP_COMP or __GFP_THISNODE"); bad += 1
    z = [z for z in fails[-1]["zones"] if z["node"] == node and z["present_pages"]]
    if not z:
        print(f"  BAD: no zone of node {node} in the report"); bad += 1
    for zone in z:
        r = ref[(node, zone["zone"])]
        print(f"    node{node} {zone['zone']}: min {zone['min_pages']} low {zone['low_pages']}"
              f" high {zone['high_pages']} present {zone['present_pages']} managed"
              f" {zone['managed_pages']} | zoneinfo min {r['min']} low {r['low']}"
              f" high {r['high']} present {r['present']} managed {r['managed']}")
        for key in ("present", "managed"):
            if zone[key + "_pages"] != r[key]:
                print(f"  BAD: {key} differs from /proc/zoneinfo"); bad += 1
        for key in ("min", "low", "high"):
            if abs(zone[key + "_pages"] - r[key]) > max(0.1 * r[key], 16):
                print(f"  BAD: {key} differs from /proc/zoneinfo"); bad += 1
# The kernel names the flags itself in the trace text (proc mode); the
# BPF modes decode the raw bits: both must give the same names.
for mode in modes:
    if flags[mode] != flags["proc"]:
        print(f"  BAD: {mode} decodes flags differently from the kernel"); bad += 1
sys.exit(1 if bad else 0)
PY

mt_say "paf -p \$\$ table output"
head -8 "$MT_TMP/paf.table"
tail -1 "$MT_TMP/paf.table"
grep -Eq "^[0-9:]+ +$$ .* 9 .*__GFP_THISNODE" "$MT_TMP/paf.table" || mt_fail "no table row for the writer"
grep -q "node$node" "$MT_TMP/paf.table" || mt_fail "no zone lines"
grep -q '^paf summary: [1-9][0-9]* failed allocations, order 9' "$MT_TMP/paf.table" || mt_fail "no summary at Ctrl-C"
echo "paf: all checks passed"
