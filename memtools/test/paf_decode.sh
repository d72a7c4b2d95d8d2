#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# paf's own decoding of allocation flags against the kernel's: paf -a
# reports successful allocations too, so a short-lived workload gives
# hundreds of them. The BPF mode names the raw bits itself; the tracefs
# mode shows the names the kernel printed. Every name BPF gives must be
# one the kernel gave (unless BPF simply caught more allocations), and
# every name the kernel gave often (5% of the allocations or more) must
# be among BPF's.
. "$(dirname "$0")/lib.sh"
mt_need paf mt-workload

watchers=()
for mode in $MT_BPF_MODES proc; do
	timeout 300 "$MT_BIN/paf" -v -a -j -c mt-workload -m "$mode" \
		>"$MT_TMP/dec.$mode.json" 2>"$MT_TMP/dec.$mode.err" &
	watchers+=($!)
	MT_PIDS+=($!)
done
errs=()
for mode in $MT_BPF_MODES proc; do errs+=("$MT_TMP/dec.$mode.err"); done
mt_wait_attached paf "${errs[@]}"
mt_workload 8 4 1
kill "$MT_WORKLOAD"
wait "$MT_WORKLOAD" 2>/dev/null
sleep 1
# paf handles SIGINT (Ctrl-C) and exits normally with its summary.
for pid in "${watchers[@]}"; do kill -INT "$pid"; done
for pid in "${watchers[@]}"; do wait "$pid"; done

python3 - "$MT_TMP" $MT_BPF_MODES <<'PY' || mt_fail "paf decodes allocation flags differently from the kernel"
import collections, json, sys
tmp, bpf_modes = sys.argv[1], sys.argv[2:]

def names(mode):
    rows = [json.loads(l) for l in open(f"{tmp}/dec.{mode}.json") if l.startswith("{")]
    return collections.Counter(r["gfp_flags"] for r in rows if r["event"] == "alloc")

kernel = names("proc")
total = sum(kernel.values())
print(f"  kernel (tracefs) names, {total} allocations:")
for name, n in kernel.most_common():
    print(f"    {n:6} {name}")
bad = total < 100
for mode in bpf_modes:
    ours = names(mode)
    print(f"  {mode}: {sum(ours.values())} allocations, {len(ours)} distinct names")
    # Either side may catch an allocation the other missed at the edges
    # of the window; a name only BPF printed must be explained by that.
    unmatched = abs(sum(ours.values()) - total)
    for name, n in ours.items():
        if name not in kernel and n > unmatched:
            print(f"  BAD: {mode} printed {name!r} {n} times, which the kernel never did"); bad = True
    for name, n in kernel.items():
        if n >= 0.05 * total and name not in ours:
            print(f"  BAD: {mode} never printed {name!r} ({n} times in the kernel's text)"); bad = True
sys.exit(1 if bad else 0)
PY
echo "paf flag decoding: all checks passed"
