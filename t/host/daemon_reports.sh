#!/bin/bash
# Reports of a running daemon on this host (no kernel modules, so every
# scan fails): the task shows "failing" with the reason over any note;
# `etmem metrics` and the file of `etmemd --metrics-file` pass
# `promtool check metrics`; the JSON of project show parses with a strict
# parser, carries format_version and the task's history, also with
# non-ASCII names; failure warnings are rate-limited; one info line a cycle.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

command -v promtool >/dev/null || { echo "FAIL: promtool missing (make deps installs prometheus)"; exit 1; }
SOCK=etmem-test-reports-$$
daemon_start "$SOCK" -l 1 --metrics-file "$WORK/etmem.prom" --metrics-interval 1 || exit 1

sleep 300 &
target=$!
OTHER_PIDS+=("$target")
# loop=1: the failed scan is the cycle's last, so cycles end (and count).
f=$(slide_conf 'prøject-ü' pid "$target" | sed 's/^loop=2$/loop=1/' | conf reports.conf)
"$ETMEM" obj add -f "$f" -s "$SOCK" >/dev/null || fail "obj add"
"$ETMEM" project start -n 'prøject-ü' -s "$SOCK" >/dev/null || fail "project start"

field() { # field KEY: of the only task, dots go deeper
	show_json "$SOCK" | python3 -c '
import json, sys
v = json.loads(sys.stdin.buffer.read().decode("utf-8", errors="strict"), strict=True)
v = v["projects"][0]["tasks"][0]
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}
for i in $(seq 40); do
	[ "$(field cycles)" -ge 3 ] 2>/dev/null && break
	sleep 0.25
done
state=$(field state)
[ "$state" = failing ] && pass "state failing without the modules" || fail "state '$state', want failing"
err=$(field error)
# The advice fits the kernel: install the modules, or, on a kernel that
# cannot load any (no /proc/modules, as on some CI hosts), that they
# cannot run there.
if [ -e /proc/modules ]; then cause="is etmem_scan loaded\? install the etmem-dkms package"
else cause="no module support in this kernel \\(no /proc/modules\\): the etmem modules cannot run here; engines damon and psi need none"; fi
grep -Eq "$cause" <<<"$err" && pass "error names the cause: $err" || fail "error: '$err', want '$cause'"
[ "$(field errors)" -ge 2 ] && pass "errors counted: $(field errors)" || fail "errors: $(field errors)"
out=$("$ETMEM" project show -s "$SOCK")
grep -q "state: failing" <<<"$out" && grep -q "error: scan of pid $target failed" <<<"$out" &&
	pass "text show says failing and why" || fail "text show: $out"

show_json "$SOCK" | python3 -c '
import json, sys
d = json.loads(sys.stdin.buffer.read().decode("utf-8", errors="strict"), strict=True)
assert d["format_version"] == 1, d
p = d["projects"][0]
assert p["name"] == "prøject-ü", p["name"]
t = p["tasks"][0]
for k in ("total", "bytes_kept_last_cycle", "bytes_gone_last_cycle", "errors",
          "cycle_ms_median", "cycle_ms_max"):
    assert k in t, k
assert "bytes_gone" in t["total"], t["total"]
assert set(t["total"]["bytes_kept"]) == {"accessed_again", "locked", "shared", "hugetlb",
    "unmarked", "unevictable", "no_swap", "swap_full", "reclaim_refused"}, t["total"]
' && pass "JSON: strict UTF-8, format_version, history, non-ASCII name" || fail "JSON checks"

"$ETMEM" metrics -s "$SOCK" >"$WORK/metrics.txt" || fail "etmem metrics"
if promtool check metrics <"$WORK/metrics.txt"; then
	pass "promtool check metrics: etmem metrics"
else
	fail "promtool check metrics: etmem metrics"
	cat "$WORK/metrics.txt"
fi
grep -q '^etmem_task_failing{project="prøject-ü",engine="slide",task="task1"} 1$' "$WORK/metrics.txt" &&
	pass "metrics: the task is failing" || fail "metrics: no failing sample"
grep -q '^etmem_task_gone_bytes_total{project="prøject-ü",engine="slide",task="task1"} 0$' "$WORK/metrics.txt" &&
	pass "metrics: bytes gone before the page-out" || fail "metrics: no gone bytes"
grep -q '^etmem_task_kept_bytes_total{.*reason="no_swap"} ' "$WORK/metrics.txt" &&
	pass "metrics: kept bytes by reason" || fail "metrics: no kept bytes by reason"
sleep 1.5
if [ -f "$WORK/etmem.prom" ] && promtool check metrics <"$WORK/etmem.prom"; then
	pass "promtool check metrics: --metrics-file"
else
	fail "--metrics-file $WORK/etmem.prom missing or invalid"
fi
grep -q '^etmem_task_cycles_total{project="prøject-ü".*} [1-9]' "$WORK/etmem.prom" &&
	pass "metrics file is refreshed (cycles counted)" || fail "metrics file not refreshed"
"$ETMEMD" -s x --metrics-interval 0 2>&1 | grep -q "not a number of seconds in 1..3600" &&
	pass "--metrics-interval 0 refused" || fail "--metrics-interval 0 accepted"

# A failing scan every cycle (a second or so): warnings are rate-limited.
log=$WORK/etmemd-$SOCK.log
nr=$(grep -c "warning.*scan of pid $target failed" "$log")
[ "$nr" = 1 ] && pass "one failure warning for $(field cycles) failing cycles" ||
	fail "$nr failure warnings logged"
grep -q "info\]: prøject-ü/task1: cycle 2: 1 process(es), 0 pages scanned" "$log" &&
	pass "one info line a cycle" || fail "no info line for cycle 2"

daemon_stop
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
