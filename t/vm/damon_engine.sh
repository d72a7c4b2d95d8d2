#!/bin/bash
# vm-timeout: 300
# The damon engine, without any etmem module. On a kernel without DAMON's
# sysfs interface (6.1): upstream's damon configuration loads and
# project start fails naming the missing feature and the engines that work.
# With it (6.12, 7.2): a kdamond that etmemd did not create makes start
# refuse and stays untouched; DAMON_RECLAIM running makes start refuse
# naming it; DAMON_STAT (running by default on 7.2, its kdamond excludes
# all others) is paused while etmemd's kdamonds run and resumed after;
# then on 192 MiB cold + 32 MiB hot (zram swap)
# >= 90% of the cold pages leave RAM, >= 95% of the hot pages stay, every
# checksum verifies; project show has the DAMOS statistics and quotas
# (text and -j); a second process of the task's name becomes a target and
# leaves again when it exits; project stop and SIGTERM remove etmemd's
# kdamonds.
# scan_type=auto with a slide task: on 6.1 (no DAMON sysfs, no module)
# project start fails naming both; on 6.12 and 7.2 without the etmem
# modules it monitors through DAMON (a scheme made from loop, interval
# and T), says so in show and reclaims 64 MiB cold, keeping 8 MiB hot;
# with the modules loaded the next start picks the page-table scan and
# no kdamond runs.
. "$ETMEM_TOP/t/lib/vmtest.sh"
. "$ETMEM_TOP/t/helpers/daemon_lib.sh"

SOCK=damon
KD=/sys/kernel/mm/damon/admin/kdamonds
COLD_MIB=192
HOT_MIB=32
STAT=/sys/module/damon_stat/parameters/enabled
RECLAIM=/sys/module/damon_reclaim/parameters/enabled
no_etmem_module() { ! grep -q '^etmem' /proc/modules; }
# DAMON's sysfs files answer EBUSY while a request holds DAMON's lock
# (in 7.2 until the kdamond answers it): retry for up to 5 s.
kd_cat() {
	local i
	for i in $(seq 50); do
		cat "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$1"
}
# The etmemd log and project show, then the test ends: nothing after a
# kdamond that does not run is worth waiting for.
damon_die() {
	"$ETMEM" project show -n dp -s "$SOCK"
	cat "$WORK/etmemd-$SOCK.log"
	vt_die "$@"
}

# Upstream's damon example, key for key, plus the quota keys.
damon_conf() { # damon_conf NAME: type=name value=hotcold
	conf "$1" <<EOF
[project]
name=dp
scan_type=region
sample_interval=5000
aggr_interval=100000
update_interval=1000000
min_nr_regions=10
max_nr_regions=1000

[engine]
name=damon
project=dp
min_size=0
max_size=4294967295
min_acc=0
max_acc=0
min_age=10
max_age=4294967295
action=pageout
quota_bytes=2g
quota_reset_ms=1000

[task]
project=dp
engine=damon
name=background_damon
type=name
value=hotcold
EOF
}

# A process that holds a KVM VM descriptor (as QEMU does while it runs a
# guest): slide refuses it naming the damon engine. Needs KVM inside this
# VM (nested SVM under TCG); without it the detection is covered by
# t/unit/test_kvm only, and this says so.
kvm_check() {
	local out h
	modprobe kvm_amd 2>/dev/null || modprobe kvm_intel 2>/dev/null
	"$helpers/kvm_vm_holder" 32 >"$WORK/kvm.out" 2>&1 &
	h=$!
	OTHER_PIDS+=("$h")
	for _ in $(seq 50); do
		grep -q '^ready' "$WORK/kvm.out" && break
		kill -0 "$h" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^ready' "$WORK/kvm.out"; then
		echo "note: no KVM VM can be created in this guest ($(cat "$WORK/kvm.out")); KVM-guest refusal checked by t/unit/test_kvm only"
		return
	fi
	vt_load_etmem
	daemon_start kvm -l 1 || vt_die "etmemd did not start"
	f=$(slide_conf kvm pid "$h" | conf kvm.conf)
	"$ETMEM" obj add -f "$f" -s kvm
	"$ETMEM" project start -n kvm -s kvm
	for _ in $(seq 40); do
		show_json kvm kvm | grep -q 'runs a KVM guest' && break
		sleep 0.25
	done
	out=$("$ETMEM" project show -n kvm -s kvm)
	echo "$out"
	vt_check "slide refuses a process holding a KVM VM, naming damon" \
		grep -q "note: 1 process(es) refused, e.g. $h: runs a KVM guest (anon_inode:kvm-vm): a page-table scan cannot see guest accesses and all its RAM would look idle; the damon engine sees them" <<<"$out"
	vt_check "it is not scanned (processes, pages_scanned: $(show_json kvm kvm | python3 -c "import json,sys; t=json.load(sys.stdin)['projects'][0]['tasks'][0]; print(t['processes'], t['pages_scanned'])"))" \
		test "$(show_json kvm kvm | python3 -c "import json,sys; t=json.load(sys.stdin)['projects'][0]['tasks'][0]; print(t['processes'], t['pages_scanned'])")" = "0 0"
	daemon_stop
	# libetmemd_scan, as a third-party policy calls it.
	cat >"$WORK/kvmscan.c" <<'EOC'
#include <errno.h>
#include <stdio.h>
#include <etmem/etmemd_scan.h>
int main(int argc, char **argv)
{
	struct page_refs *refs = NULL;
	struct vmas none = { 0, NULL };
	struct vmas *v;
	int e;

	v = etmemd_get_vmas(argv[1], NULL, 0, false);
	e = errno;
	printf("get_vmas %s errno %d\n", v ? "list" : "NULL", v ? 0 : e);
	none.vma_cnt = 1;
	printf("get_page_refs %d\n", etmemd_get_page_refs(&none, argv[1], &refs, 0));
	printf("swap_out %lld\n", etmemd_swap_out(argv[1], NULL, 1, 0));
	return 0;
}
EOC
	gcc -Wall -Werror -I"$top/include" -o "$WORK/kvmscan" "$WORK/kvmscan.c" \
		-L"$top/build/lib" -letmemd_scan -Wl,-rpath,"$top/build/lib" || vt_die "cannot build kvmscan"
	out=$("$WORK/kvmscan" "$h")
	echo "$out"
	vt_check "libetmemd_scan refuses it with EOPNOTSUPP" \
		test "$(echo $out)" = "get_vmas NULL errno 95 get_page_refs -95 swap_out -95"
	kill -TERM "$h"; wait "$h"
	vt_unload_etmem
}
kvm_check

# scan_type=auto: a slide task on process PID (slide_conf's keys, plus a
# threshold that exercises the DAMOS watermarks and swap_threshold).
auto_conf() { # auto_conf PID
	conf auto.conf <<EOF
[project]
name=ap
scan_type=auto
loop=1
interval=1
sleep=1
sysmem_threshold=100

[engine]
name=slide
project=ap

[task]
project=ap
engine=slide
name=auto_task
type=pid
value=$1
T=1
max_threads=1
swap_threshold=1m
EOF
}
auto_field() { # auto_field EXPR: of the project ap as p, its task as t
	show_json auto ap | python3 -c "import json,sys; p=json.load(sys.stdin)['projects'][0]; t=p['tasks'][0]; print($1)"
}

# Without the modules and without DAMON: start fails naming both.
auto_refused() {
	local out rc
	daemon_start auto -l 1 || vt_die "etmemd did not start (auto)"
	"$ETMEM" obj add -f "$(auto_conf 1)" -s auto || vt_die "the auto project does not load"
	out=$("$ETMEM" project start -n ap -s auto 2>&1)
	rc=$?
	echo "$out"
	vt_check "auto: project start fails with neither the modules nor DAMON (exit $rc)" test "$rc" = 1
	vt_check "auto: the refusal names both missing features" \
		grep -q 'scan_type=auto needs the etmem modules or DAMON, and neither is here: etmem modules not loaded: generic netlink family "etmem" not found .*; and the kernel has no DAMON sysfs interface (/sys/kernel/mm/damon/admin is missing' <<<"$out"
	vt_check "auto: the project stays stopped, show keeps the reason" \
		test "$(auto_field "p['started'], repr(p['scan']), p['scan_reason'].startswith('etmem modules not loaded')")" = "False '' True"
	daemon_stop
}

# Without the modules DAMON monitors and reclaims; with them, the page scan.
auto_check() {
	local ha out st cold_res cold_pages reached start_s
	# The kdamond left by the etmemd killed above (7.2) is the operator's
	# to remove: etmemd counts it as foreign.
	if [ "$(kd_cat "$KD/nr_kdamonds")" != 0 ]; then
		echo 0 >"$KD/nr_kdamonds" || vt_die "cannot remove the leftover kdamonds"
	fi
	"$helpers/hotcold" --cold-mib 64 --hot-mib 8 --interval-ms 500 >"$WORK/ha.out" 2>&1 &
	ha=$!
	OTHER_PIDS+=("$ha")
	vt_wait_line "$WORK/ha.out" '^ready'
	daemon_start auto -l 1 || vt_die "etmemd did not start (auto)"
	"$ETMEM" obj add -f "$(auto_conf "$ha")" -s auto || vt_die "the auto project does not load"
	vt_check "auto: project start without the etmem modules" "$ETMEM" project start -n ap -s auto
	out=$("$ETMEM" project show -n ap -s auto)
	echo "$out"
	vt_check "auto: show says damon and why" \
		grep -q '^  scan: damon (etmem modules not loaded: generic netlink family "etmem" not found .*; DAMON.s sysfs interface is there); sleep and max_threads do not apply$' <<<"$out"
	vt_check "auto: show -j: scan damon, kdamond 0, the scheme made from loop=1 interval=1 T=1 sysmem_threshold=100" \
		test "$(auto_field "p['scan'], t['kdamond'], t['action'], t['min_acc'], t['max_acc'], t['min_age'], t['wmark_metric'], t['wmark_high']")" = "damon 0 pageout 0 0 10 free_mem_rate 1000"
	vt_check "auto: one kdamond of etmemd monitors pid $ha" \
		test "$(kd_cat "$KD/nr_kdamonds") $(kd_cat "$KD/0/state") $(kd_cat "$KD/0/contexts/0/targets/0/pid_target")" = "1 on $ha"
	# A deadline, not a speed check: kdamond shares the two vCPUs with
	# the workload under TCG, and a busy host once left 21% of the cold
	# set in RAM at 40 s (6.12, CI); the main section allows 120 s.
	start_s=$SECONDS
	reached=
	while [ $((SECONDS - start_s)) -lt 120 ]; do
		sleep 0.5
		st=$(grep '^status' "$WORK/ha.out" | tail -n1)
		cold_res=$(kv cold_resident "$st")
		cold_pages=$(kv cold_pages "$st")
		[ -n "$cold_res" ] || continue
		if [ $((cold_res * 10)) -le "$cold_pages" ]; then
			reached=$((SECONDS - start_s))
			break
		fi
	done
	"$ETMEM" project show -n ap -s auto
	if [ -n "$reached" ]; then
		vt_ok "auto on damon: 90% of cold pages out of RAM after ${reached} s ($cold_res of $cold_pages resident)"
	else
		vt_fail "auto on damon: cold pages resident: $cold_res of $cold_pages after $((SECONDS - start_s)) s"
	fi
	hot_wait auto_status
	vt_check "auto on damon: hot pages resident: $(kv hot_resident "$st") of $(kv hot_pages "$st") (>= 95%, after ${hot_s} s)" \
		test $(($(kv hot_resident "$st") * 100)) -ge $(($(kv hot_pages "$st") * 95))
	# DAMOS did it: its statistics show the pageout applied. They are not
	# compared with the 64 MiB that left RAM: on 6.12 they counted 23 MiB
	# of it by then (7.2: all of it), so they say "DAMOS acted", not how much.
	for _ in $(seq 20); do
		[ "$(auto_field "t['sz_applied']")" -gt 0 ] && break
		sleep 0.5
	done
	vt_check "auto on damon: DAMOS applied pageout ($(auto_field "t['nr_applied']") regions, $(auto_field "t['sz_applied']") bytes)" \
		test "$(auto_field "t['sz_applied']")" -gt 0 -a "$(auto_field "t['nr_applied']")" -gt 0
	vt_check "auto on damon: no etmem module loaded" no_etmem_module
	vt_check "auto: project stop" "$ETMEM" project stop -n ap -s auto
	vt_check "auto: project stop removes the kdamond" test "$(kd_cat "$KD/nr_kdamonds")" = 0
	vt_check "auto: stopped, show says the scan is chosen at start" \
		grep -q '^  scan: chosen at project start$' <<<"$("$ETMEM" project show -n ap -s auto)"

	vt_load_etmem
	vt_check "auto: project start with the etmem modules" "$ETMEM" project start -n ap -s auto
	for _ in $(seq 40); do
		[ "$(auto_field "t['cycles'] > 0 and t['pages_scanned'] > 0")" = True ] && break
		sleep 0.25
	done
	out=$("$ETMEM" project show -n ap -s auto)
	echo "$out"
	vt_check "auto: show says page and why" grep -q '^  scan: page (etmem modules loaded)$' <<<"$out"
	vt_check "auto on page: slide cycles scan the process, no kdamond ($(auto_field "p['scan'], t['cycles'], t['pages_scanned'], 'kdamond' in t") nr_kdamonds $(kd_cat "$KD/nr_kdamonds"))" \
		test "$(auto_field "p['scan'], t['cycles'] > 0, t['pages_scanned'] > 0, 'kdamond' in t") $(kd_cat "$KD/nr_kdamonds")" = "page True True False 0"
	"$ETMEM" project stop -n ap -s auto >/dev/null
	daemon_stop
	vt_unload_etmem
	kill -TERM "$ha"; wait "$ha"
	vt_check "auto: the workload verifies every checksum" grep -q '^verify ok' "$WORK/ha.out"
}

daemon_start "$SOCK" -l 1 || vt_die "etmemd did not start"
f=$(damon_conf damon.conf)
vt_check "upstream's damon configuration loads" "$ETMEM" obj add -f "$f" -s "$SOCK"

if [ ! -d /sys/kernel/mm/damon/admin ]; then
	out=$("$ETMEM" project start -n dp -s "$SOCK" 2>&1)
	rc=$?
	echo "$out"
	vt_check "project start fails without DAMON sysfs (exit $rc)" test "$rc" = 1
	vt_check "the refusal names the missing kernel feature" \
		grep -q "no DAMON sysfs interface (/sys/kernel/mm/damon/admin is missing; it needs CONFIG_DAMON_SYSFS" <<<"$out"
	vt_check "the refusal names the engines that work" \
		grep -q "engines that work without it: slide, cslide and thirdparty" <<<"$out"
	"$ETMEM" project show -s "$SOCK" | tee "$WORK/show"
	vt_check "show keeps the reason" grep -q "note: start failed: the running kernel has no DAMON" "$WORK/show"
	vt_check "no etmem module loaded" no_etmem_module
	daemon_stop
	auto_refused
	vt_done
fi

vt_zram_swap 1G
"$helpers/hotcold" --cold-mib $COLD_MIB --hot-mib $HOT_MIB --interval-ms 500 >"$WORK/hc.out" 2>&1 &
hc=$!
OTHER_PIDS+=("$hc")
vt_wait_line "$WORK/hc.out" '^ready'

# A kdamond etmemd did not create: refused, and left as it was.
echo 1 >"$KD/nr_kdamonds"
echo 1 >"$KD/0/contexts/nr_contexts"
echo paddr >"$KD/0/contexts/0/operations"
out=$("$ETMEM" project start -n dp -s "$SOCK" 2>&1)
echo "$out"
vt_check "start refused beside a foreign kdamond" \
	grep -q "DAMON already has 1 kdamond(s) that etmemd did not create" <<<"$out"
vt_check "the foreign kdamond is untouched" \
	test "$(cat "$KD/nr_kdamonds") $(cat "$KD/0/contexts/0/operations")" = "1 paddr"
"$ETMEM" project stop -n dp -s "$SOCK"
echo 0 >"$KD/nr_kdamonds"

# DAMON_STAT: on by default on 7.2, absent on 6.12.
stat_was=$(cat "$STAT" 2>/dev/null || echo absent)
echo "DAMON_STAT enabled: $stat_was"

# DAMON_RECLAIM acts on memory: etmemd refuses to start beside it.
if [ -e "$RECLAIM" ]; then
	[ "$stat_was" = Y ] && echo N >"$STAT"
	echo Y >"$RECLAIM" || vt_die "cannot enable DAMON_RECLAIM"
	out=$("$ETMEM" project start -n dp -s "$SOCK" 2>&1)
	echo "$out"
	vt_check "start refused beside DAMON_RECLAIM, naming it" \
		grep -q "DAMON_RECLAIM runs ($RECLAIM is Y) and DAMON runs no other kdamond beside it; etmemd leaves it alone: write N there" <<<"$out"
	vt_check "DAMON_RECLAIM left running, no kdamond of etmemd" \
		test "$(cat "$RECLAIM") $(cat "$KD/nr_kdamonds")" = "Y 0"
	"$ETMEM" project stop -n dp -s "$SOCK"
	echo N >"$RECLAIM"
	[ "$stat_was" = Y ] && echo Y >"$STAT"
	vt_check "DAMON_STAT as it was ($stat_was)" test "$(cat "$STAT" 2>/dev/null || echo absent)" = "$stat_was"
fi

vt_check "project start" "$ETMEM" project start -n dp -s "$SOCK"
for _ in $(seq 100); do
	[ "$(kd_cat "$KD/nr_kdamonds") $(kd_cat "$KD/0/state")" = "1 on" ] && break
	sleep 0.1
done
[ "$(kd_cat "$KD/nr_kdamonds") $(kd_cat "$KD/0/state")" = "1 on" ] ||
	damon_die "etmemd created one kdamond, running (nr_kdamonds $(kd_cat "$KD/nr_kdamonds"), state $(kd_cat "$KD/0/state"))"
vt_ok "etmemd created one kdamond, running"
if [ "$stat_was" = Y ]; then
	vt_check "DAMON_STAT paused while etmemd's kdamond runs" test "$(cat "$STAT")" = N
	vt_check "the log says so" grep -q "DAMON_STAT paused (N written to $STAT): DAMON runs no other kdamond beside it" "$WORK/etmemd-$SOCK.log"
fi

field() { # field NAME: of the task of project dp
	show_json "$SOCK" dp | python3 -c "import json,sys; print(json.load(sys.stdin)['projects'][0]['tasks'][0]['$1'])"
}
last_status() { grep '^status' "$WORK/hc.out" | tail -n1; }
auto_status() { grep '^status' "$WORK/ha.out" | tail -n1; }
kv() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$2"; }

start_s=$SECONDS
reached=
i=0
while [ $((SECONDS - start_s)) -lt 120 ]; do
	sleep 0.5
	i=$((i + 1))
	st=$(last_status)
	[ $((i % 20)) = 0 ] && echo "$((SECONDS - start_s)) s: $st"
	[ "$(kd_cat "$KD/0/state")" = on ] || damon_die "the kdamond stopped: $st"
	cold_res=$(kv cold_resident "$st")
	cold_pages=$(kv cold_pages "$st")
	[ -n "$cold_res" ] || continue
	if [ $((cold_res * 10)) -le "$cold_pages" ]; then
		reached=$((SECONDS - start_s))
		break
	fi
done
"$ETMEM" project show -n dp -s "$SOCK"
echo "workload: $st; VmSwap $(vt_status_kb "$hc" VmSwap) kB"
if [ -n "$reached" ]; then
	vt_ok "90% of cold pages out of RAM after ${reached} s ($cold_res of $cold_pages resident)"
else
	vt_fail "cold pages resident: $cold_res of $cold_pages after $((SECONDS - start_s)) s"
fi
# DAMOS may take hot pages that share a region with cold ones, or that
# the hot thread did not reach for min_age while kdamond's page-out held
# the CPUs (seen on 7.2 under TCG: 6692 of 8192 resident 2 s after); the
# hot thread reads them back at once. What must hold is that the hot set
# is in RAM, not that no hot page ever left: up to 10 s for 95%.
hot_wait() { # hot_wait STATUS_FN: sets st, hot_res, hot_pages, hot_s
	local t0=$SECONDS
	while :; do
		sleep 1
		st=$($1)
		hot_res=$(kv hot_resident "$st"); hot_pages=$(kv hot_pages "$st")
		hot_s=$((SECONDS - t0))
		[ $((hot_res * 100)) -ge $((hot_pages * 95)) ] && return 0
		[ "$hot_s" -ge 10 ] && return 1
	done
}
hot_wait last_status
vt_check "hot pages resident: $hot_res of $hot_pages (>= 95%, after ${hot_s} s)" \
	test $((hot_res * 100)) -ge $((hot_pages * 95))
vt_check "no etmem module loaded" no_etmem_module

sleep 2	# one more check of the task: fresh statistics
show_json "$SOCK" dp >"$WORK/show.json"
"$ETMEM" project show -n dp -s "$SOCK" >"$WORK/show.txt"
cat "$WORK/show.txt"
# What etmemd shows is DAMON's own count, never more: at most what DAMON's
# sysfs says after it (the statistics only grow; etmemd refreshes them each
# cycle). Not compared with what left RAM: 6.12 counted 116 of the 182 MiB
# that had left in one run (7.2: all of it), so it says "DAMOS acted".
applied=$(field sz_applied)
kd_applied=$(kd_cat "$KD/0/contexts/0/schemes/0/stats/sz_applied")
vt_check "show -j: sz_applied $applied > 0, at most DAMON's own count after it ($kd_applied)" \
	test "$applied" -gt 0 -a "$applied" -le "$kd_applied"
vt_check "show -j: nr_tried >= nr_applied > 0" \
	python3 -c "import json; t=json.load(open('$WORK/show.json'))['projects'][0]['tasks'][0]; assert t['nr_tried'] >= t['nr_applied'] > 0 and t['sz_tried'] >= t['sz_applied']; assert t['action'] == 'pageout' and t['quota_bytes'] == 2 << 30 and t['quota_reset_ms'] == 1000 and 'qt_exceeds' in t and t['state'] == 'monitoring', t"
vt_check "show text: DAMOS statistics and quotas" \
	grep -q "kdamond=0 action=pageout quota: 0 ms, 2147483648 bytes per 1000 ms; DAMOS tried [0-9]* regions ([0-9]* bytes), applied [0-9]* ([0-9]* bytes), quota exceeded [0-9]* times" "$WORK/show.txt"

# type=name: a second process becomes a target, and leaves.
"$helpers/hotcold" --cold-mib 8 --hot-mib 1 --interval-ms 1000 >"$WORK/hc2.out" 2>&1 &
hc2=$!
OTHER_PIDS+=("$hc2")
vt_wait_line "$WORK/hc2.out" '^ready'
targets() { kd_cat "$KD/0/contexts/0/targets/nr_targets"; }
for _ in $(seq 40); do [ "$(targets)" = 2 ] && break; sleep 0.25; done
vt_check "a new process of the name is a target (nr_targets $(targets), pids $(cat "$KD"/0/contexts/0/targets/*/pid_target | tr '\n' ' '))" \
	test "$(targets) $(field processes)" = "2 2"
kill -TERM "$hc2"; wait "$hc2"
for _ in $(seq 40); do [ "$(targets)" = 1 ] && break; sleep 0.25; done
vt_check "an exited process is no target (nr_targets $(targets))" test "$(targets) $(kd_cat "$KD/0/state")" = "1 on"

vt_check "project stop" "$ETMEM" project stop -n dp -s "$SOCK"
vt_check "project stop removes etmemd's kdamond" test "$(kd_cat "$KD/nr_kdamonds")" = 0
[ "$stat_was" = Y ] && vt_check "DAMON_STAT resumed after project stop" test "$(cat "$STAT")" = Y
kill -TERM "$hc"; wait "$hc"
tail -n 2 "$WORK/hc.out"
vt_check "workload verifies every checksum" grep -q '^verify ok' "$WORK/hc.out"

# Two tasks, two kdamonds: the second grows the set (etmemd stops, grows
# and restarts its own); deleting a task frees its kdamond for reuse.
"$helpers/hotcold" --cold-mib 16 --hot-mib 4 --interval-ms 1000 >"$WORK/hc3.out" 2>&1 &
hc3=$!
OTHER_PIDS+=("$hc3")
vt_wait_line "$WORK/hc3.out" '^ready'
vt_check "project start again" "$ETMEM" project start -n dp -s "$SOCK"
vt_check "kdamond back" test "$(kd_cat "$KD/nr_kdamonds") $(kd_cat "$KD/0/state")" = "1 on"
f2=$(printf '[task]\nproject=dp\nengine=damon\nname=second\ntype=pid\nvalue=%s\n' "$hc3" | conf second.conf)
vt_check "a second task in the started project" "$ETMEM" obj add -f "$f2" -s "$SOCK"
vt_check "two kdamonds, both on" \
	test "$(kd_cat "$KD/nr_kdamonds") $(kd_cat "$KD/0/state") $(kd_cat "$KD/1/state")" = "2 on on"
vt_check "the second kdamond monitors pid $hc3" test "$(kd_cat "$KD/1/contexts/0/targets/0/pid_target")" = "$hc3"
vt_check "delete the second task" "$ETMEM" obj del -f "$f2" -s "$SOCK"
vt_check "its kdamond is off, the first runs on" \
	test "$(kd_cat "$KD/nr_kdamonds") $(kd_cat "$KD/0/state") $(kd_cat "$KD/1/state")" = "2 on off"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"
vt_check "etmemd exits 0 on SIGTERM" test $? = 0
vt_check "SIGTERM removes etmemd's kdamonds" test "$(kd_cat "$KD/nr_kdamonds")" = 0
[ "$stat_was" = Y ] && vt_check "DAMON_STAT resumed after SIGTERM" test "$(cat "$STAT")" = Y
# An etmemd killed while DAMON_STAT is paused: the next etmemd resumes it
# (the operator stopped the orphaned kdamond, which DAMON keeps running).
if [ "$stat_was" = Y ]; then
	daemon_start "$SOCK" -l 1 || vt_die "etmemd did not start again"
	"$ETMEM" obj add -f "$f" -s "$SOCK" >/dev/null
	"$ETMEM" project start -n dp -s "$SOCK" >/dev/null
	for _ in $(seq 50); do [ "$(cat "$STAT")" = N ] && break; sleep 0.2; done
	vt_check "DAMON_STAT paused again, the pause recorded" \
		test "$(cat "$STAT") $(cat /run/etmem/.damon-stat.paused 2>/dev/null)" = "N $DAEMON_PID"
	kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
	for s in "$KD"/*/state; do echo off >"$s" 2>/dev/null; done
	vt_check "after kill -9 DAMON_STAT stays paused" test "$(cat "$STAT")" = N
	daemon_start "$SOCK" -l 1 || vt_die "etmemd did not start after kill -9"
	vt_check "the next etmemd resumed DAMON_STAT" test "$(cat "$STAT")" = Y
	vt_check "and says so" grep -q "DAMON_STAT was left paused by an earlier etmemd" "$WORK/etmemd-$SOCK.log"
	kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"
fi
kill -TERM "$hc3"; wait "$hc3"
vt_check "the small workload verifies every checksum" grep -q '^verify ok' "$WORK/hc3.out"
vt_check "no etmem module loaded" no_etmem_module
auto_check
vt_done
