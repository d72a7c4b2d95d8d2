#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# pr against /proc/vmstat: a reader confined to a memory cgroup with a
# small limit forces a storm of reclaim passes; pr in each mode (all at
# once, over the same reclaim) with its default buffers must lose nothing
# and report the reclaimed pages the kernel counted in pgsteal_anon +
# pgsteal_file (within 2%: only the edges of the window differ). Over the
# same storm, pr with a 4 KiB ring (-b 4) in each mode must report the
# events it lost, and mark its totals incomplete where they come from
# the events (tracefs), while BPF's totals, counted in the kernel, stay
# complete and agree with /proc/vmstat.
. "$(dirname "$0")/lib.sh"
mt_need pr

LIMIT_MIB=16
CG=

cg_cleanup() {
	[ -n "$CG" ] && [ -d "$CG" ] && rmdir "$CG" 2>/dev/null
	mt_cleanup
}
trap cg_cleanup EXIT

# A cgroup (v2, or the v1 memory controller) limited to LIMIT_MIB.
make_cgroup() {
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		grep -qw memory /sys/fs/cgroup/cgroup.subtree_control ||
			echo +memory >/sys/fs/cgroup/cgroup.subtree_control ||
			mt_fail "cannot enable the memory controller"
		CG=/sys/fs/cgroup/memtools-pr-$$
		mkdir "$CG" || mt_fail "cannot create $CG"
		echo $((LIMIT_MIB << 20)) >"$CG/memory.max"
	elif [ -d /sys/fs/cgroup/memory ]; then
		CG=/sys/fs/cgroup/memory/memtools-pr-$$
		mkdir "$CG" || mt_fail "cannot create $CG"
		echo $((LIMIT_MIB << 20)) >"$CG/memory.limit_in_bytes"
	else
		mt_fail "no memory cgroup controller mounted"
	fi
	echo "cgroup $CG limited to $LIMIT_MIB MiB"
}

# A file whose pages are not in the page cache, on a real file system.
cold_file() {
	if [ -n "${ETMEM_IN_VM:-}" ]; then
		COLD=$MT_BIGFILE	# 9p from the host; the guest's /var/tmp is tmpfs
	else
		COLD=$MT_TMP/cold
		dd if=/dev/zero of="$COLD" bs=1M count=256 status=none && sync "$COLD" ||
			mt_fail "cannot write $COLD"
	fi
	dd if="$COLD" iflag=nocache count=0 status=none
	echo "reading $COLD ($(($(stat -c %s "$COLD") >> 20)) MiB) inside the cgroup"
}

pgsteal() {
	awk '$1 == "pgsteal_anon" || $1 == "pgsteal_file" { s += $2 } END { print s + 0 }' /proc/vmstat
}

make_cgroup
cold_file

modes="$MT_BPF_MODES proc"
# name:options of each instance; "small" ones get a 4 KiB ring.
runs=()
for mode in $modes; do runs+=("$mode:-m $mode" "small-$mode:-m $mode -b 4"); done
errs=()
small_pids=()
for run in "${runs[@]}"; do
	name=${run%%:*}
	# shellcheck disable=SC2086 # the options are words
	timeout 900 "$MT_BIN/pr" -v ${run#*:} -j >"$MT_TMP/pr.$name.json" 2>"$MT_TMP/pr.$name.err" &
	MT_PIDS+=($!)
	[ "$name" != "${name#small-}" ] && small_pids+=($!)
	errs+=("$MT_TMP/pr.$name.err")
done
timeout 900 "$MT_BIN/pr" -v -c cat >"$MT_TMP/pr.table" 2>"$MT_TMP/pr.table.err" &
MT_PIDS+=($!)
errs+=("$MT_TMP/pr.table.err")
mt_wait_attached pr "${errs[@]}"
# The small rings' readers are stopped during the storm (the VM's slow
# file system makes no storm): their rings fill up whatever the rate.
mt_signal STOP "${small_pids[@]}"
before=$(pgsteal)
sh -c "echo \$\$ >$CG/cgroup.procs && exec cat $COLD" >/dev/null || mt_fail "the reader failed"
sleep 1
after=$(pgsteal)
mt_signal CONT "${small_pids[@]}"
# Every instance must still be running here, or its totals miss the end.
for pid in "${MT_PIDS[@]}"; do
	kill -INT "$pid" || mt_fail "a pr instance ($pid) ended before the reclaim did"
done
for pid in "${MT_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
MT_PIDS=()
delta=$((after - before))
echo "/proc/vmstat: pgsteal_anon + pgsteal_file grew by $delta pages"
[ "$delta" -gt 1000 ] || mt_fail "the cgroup limit caused too little reclaim ($delta pages)"

for run in "${runs[@]}"; do
	name=${run%%:*}
	mode=${name#small-}
	mt_say "pr ${run#*:}"
	cat "$MT_TMP/pr.$name.err"
	grep -q "^pr: mode $mode\$" "$MT_TMP/pr.$name.err" || mt_fail "pr -m $mode ran in another mode"
	python3 - "$MT_TMP/pr.$name.json" "$delta" "$name" <<'PY' || mt_fail "pr ${run#*:}: wrong totals or loss report"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
delta, name = int(sys.argv[2]), sys.argv[3]
small, tracefs = name.startswith("small-"), name.endswith("proc")
summary = [r for r in rows if r["event"] == "summary"][-1]
passes = [r for r in rows if r["event"] == "shrink"]
limit = [r for r in rows if r["event"] in ("memcg", "direct")]
per_pass = sum(r["nr_reclaimed"] for r in passes)
lost, missed, complete = summary["lost_events"], summary["recursion_misses"], summary["complete"]
print(f"  passes={summary['passes']} lines={len(passes)} reclaimed={summary['nr_reclaimed']}"
      f" (sum of lines {per_pass}) vmstat={delta} memcg/direct reclaims={len(limit)}"
      f" avg={summary['memcg_avg_us']}us max={summary['memcg_max_us']}us"
      f" lost_events={lost} recursion_misses={missed} complete={complete}")
bad = []
def need(ok, why):
    if not ok:
        bad.append(why)
need(all(r["latency_us"] >= 0 for r in limit), "a negative latency")
need(complete == (missed == 0 and (lost == 0 or not tracefs)), "'complete' disagrees with the counts")
if complete:
    need(abs(summary["nr_reclaimed"] - delta) <= 0.02 * delta,
         "complete totals more than 2% away from /proc/vmstat")
if not small:
    # The default buffers hold the whole storm. Runs the kernel skipped
    # (BPF recursion) are not theirs to prevent; they make the totals
    # incomplete, checked above.
    need(lost == 0, "the default buffers lost events")
    need(summary["passes"] > 0 and len(limit) > 0, "no passes or no limit reclaims")
    need(len(passes) == summary["passes"] and per_pass == summary["nr_reclaimed"],
         "the lines do not add up to the summary")
else:
    need(lost > 0, "a 4 KiB ring lost nothing: the loss is not counted")
    if not tracefs:
        # Every event is either a line or counted as lost.
        events = summary["passes"] + summary["memcg"] + summary["direct"]
        need(len(passes) + len(limit) + lost == events,
             f"lines {len(passes) + len(limit)} + lost {lost} != events {events}")
    else:
        need(not complete and summary["nr_reclaimed"] < delta,
             "tracefs totals with lost events are not marked incomplete")
for why in bad:
    print(f"  BAD: {why}")
sys.exit(1 if bad else 0)
PY
done

mt_say "pr -c cat, table output"
head -5 "$MT_TMP/pr.table"
tail -1 "$MT_TMP/pr.table"
grep -Eq '^[0-9:]+ +[0-9]+ cat +shrink ' "$MT_TMP/pr.table" || mt_fail "no shrink lines for cat"
grep -Eq '^[0-9:]+ +[0-9]+ cat +(memcg|direct) ' "$MT_TMP/pr.table" || mt_fail "no reclaim latency lines for cat"
grep -v '^pr summary' "$MT_TMP/pr.table" | grep -v ' cat ' | grep -qv 'TIME' && mt_fail "-c cat let other tasks through"
grep -q '^pr summary: [1-9].*; nothing lost$' "$MT_TMP/pr.table" || mt_fail "no summary saying nothing was lost at Ctrl-C"
echo "pr: all checks passed"
