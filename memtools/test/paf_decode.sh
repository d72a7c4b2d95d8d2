#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# paf's own decoding of allocation flags against the kernel's: paf -a
# reports successful allocations too, so a short-lived workload gives
# hundreds of them. The BPF mode names the raw bits itself; the tracefs
# mode shows the names the kernel printed. Every name BPF gives must be
# one the kernel gave (unless BPF simply caught more allocations), and
# every name the kernel gave often (5% of the allocations or more) must
# be among BPF's. The same allocations are watched through a 4 KiB ring
# (-b 4) in one BPF mode and in tracefs: the default rings must lose
# nothing, the small ones must count what they lost (BPF: its lines plus
# its lost events are the default instance's lines, exactly).
. "$(dirname "$0")/lib.sh"
mt_need paf mt-workload

watchers=()
errs=()
small_pids=()
small_bpf=${MT_BPF_MODES%% *}
for run in $MT_BPF_MODES proc "small-$small_bpf" small-proc; do
	mode=${run#small-}
	size=; [ "$run" != "$mode" ] && size="-b 4"
	# shellcheck disable=SC2086 # no -b, or "-b 4"
	timeout 300 "$MT_BIN/paf" -v -a -j -c mt-workload -m "$mode" $size \
		>"$MT_TMP/dec.$run.json" 2>"$MT_TMP/dec.$run.err" &
	watchers+=($!)
	MT_PIDS+=($!)
	[ "$run" != "$mode" ] && small_pids+=($!)
	errs+=("$MT_TMP/dec.$run.err")
done
mt_wait_attached paf "${errs[@]}"
# The small rings' readers are stopped while the workload allocates, so
# that their rings fill up whatever the machine's speed.
mt_signal STOP "${small_pids[@]}"
mt_workload 8 4 1
kill "$MT_WORKLOAD"
wait "$MT_WORKLOAD" 2>/dev/null
mt_signal CONT "${small_pids[@]}"
sleep 1
# paf handles SIGINT (Ctrl-C) and exits normally with its summary.
for pid in "${watchers[@]}"; do kill -INT "$pid"; done
for pid in "${watchers[@]}"; do wait "$pid"; done

python3 - "$MT_TMP" "$small_bpf" $MT_BPF_MODES <<'PY' || mt_fail "paf lost events or did not count them"
import json, sys
tmp, small_bpf, bpf_modes = sys.argv[1], sys.argv[2], sys.argv[3:]

def load(run):
    rows = [json.loads(l) for l in open(f"{tmp}/dec.{run}.json") if l.startswith("{")]
    return [r for r in rows if r["event"] == "alloc"], [r for r in rows if r["event"] == "summary"][-1]

bad = False
for run in bpf_modes + ["proc", "small-" + small_bpf, "small-proc"]:
    lines, s = load(run)
    print(f"  paf {run}: {len(lines)} allocation lines, lost_events={s['lost_events']}"
          f" recursion_misses={s['recursion_misses']} complete={s['complete']}")
    # The default ring must not overflow. Runs the kernel skipped
    # (recursion: an allocation while a BPF program runs on that CPU, seen
    # on 7.2) are not the ring's to prevent: they must be reported, and
    # the totals called incomplete exactly when there are some.
    if not run.startswith("small-") and (s["lost_events"] or s["complete"] != (s["recursion_misses"] == 0)):
        print(f"  BAD: the default ring of {run} lost events, or 'complete' disagrees with the counts"); bad = True
small_lines, small = load("small-" + small_bpf)
big_lines, big = load(small_bpf)
want = len(big_lines)
# Skipped runs differ between the two readers: they bound the difference.
slack = small["recursion_misses"] + big["recursion_misses"]
if not small["lost_events"] or abs(len(small_lines) + small["lost_events"] - want) > slack:
    print(f"  BAD: small {small_bpf} ring: {len(small_lines)} lines + {small['lost_events']} lost"
          f" != {want} allocations (+-{slack} skipped runs)"); bad = True
small = load("small-proc")[1]
if not small["lost_events"] or small["complete"]:
    print("  BAD: the small tracefs ring did not report its loss as incomplete totals"); bad = True
sys.exit(1 if bad else 0)
PY

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
