#!/bin/bash
# vm-timeout: 240
# vm-kernels: 6.1 6.12
# (no etmem module: cgroup v2's memory.reclaim and PSI on both Debian 12
# kernels, as issue 14 asks)
# The psi engine, without any etmem module: a cgroup holding 192 MiB cold
# + 32 MiB hot (zram swap) shrinks to near limit_min_bytes while its
# memory pressure stays under the target; memory.reclaim never asked below
# the limit; no OOM kill; every checksum verifies. project show has per
# cgroup usage, pressure, step and bytes reclaimed (text and -j). A cgroup
# that appears under the glob is followed, one that goes is dropped.
# Without cgroup v2 (a mount namespace without it) start fails saying the
# engine needs cgroup v2; a cg_dir on a cgroup v1 hierarchy is refused.
. "$ETMEM_TOP/t/lib/vmtest.sh"
. "$ETMEM_TOP/t/helpers/daemon_lib.sh"

SOCK=psi
CG=/sys/fs/cgroup
COLD_MIB=192
HOT_MIB=32
LIMIT=$((96 << 20))
no_etmem_module() { ! grep -q '^etmem' /proc/modules; }

[ "$(stat -fc %T $CG)" = cgroup2fs ] || vt_die "no cgroup v2 at $CG"
[ -e /proc/pressure/memory ] || vt_die "no PSI in this kernel"
echo +memory >$CG/cgroup.subtree_control || vt_die "cannot enable the memory controller"
mkdir -p $CG/etmem-psi
echo +memory >$CG/etmem-psi/cgroup.subtree_control
mkdir -p $CG/etmem-psi/a
vt_zram_swap 1G

# The workload, in cgroup a.
sh -c "echo \$\$ >$CG/etmem-psi/a/cgroup.procs && exec '$helpers/hotcold' --cold-mib $COLD_MIB --hot-mib $HOT_MIB --interval-ms 500" \
	>"$WORK/hc.out" 2>&1 &
hc=$!
OTHER_PIDS+=("$hc")
vt_wait_line "$WORK/hc.out" '^ready'
echo "cgroup a holds $(cat $CG/etmem-psi/a/memory.current) bytes"

psi_conf() { # psi_conf NAME CG_DIR
	conf "$1" <<EOF
[project]
name=pp
scan_type=psi
interval=1

[engine]
name=psi
project=pp

[task]
project=pp
engine=psi
name=cgs
cg_dir=$2
pressure=0.1
limit_min_bytes=$LIMIT
EOF
}

# Without cgroup v2: a daemon in a mount namespace where it is unmounted.
f=$(psi_conf nov2.conf 'etmem-psi/*')
unshare -m sh -c "umount $CG && exec '$ETMEMD' -s psi-nov2 -l 1" >"$WORK/nov2.log" 2>&1 &
nov2=$!
OTHER_PIDS+=("$nov2")
for _ in $(seq 100); do "$ETMEM" project show -s psi-nov2 >/dev/null 2>&1 && break; sleep 0.1; done
"$ETMEM" obj add -f "$f" -s psi-nov2
out=$("$ETMEM" project start -n pp -s psi-nov2 2>&1)
echo "$out"
vt_check "without cgroup v2: start refused naming cgroup v2" \
	grep -q "no cgroup v2 hierarchy is mounted; the psi engine works with cgroup v2 only" <<<"$out"
kill -TERM "$nov2"; wait "$nov2"

daemon_start "$SOCK" -l 1 || vt_die "etmemd did not start"

# A cg_dir on a cgroup v1 hierarchy.
mkdir -p /tmp/v1 && mount -t cgroup -o none,name=etmemv1 etmemv1 /tmp/v1 && mkdir -p /tmp/v1/x
f=$(sed 's|^cg_dir=.*|cg_dir=/tmp/v1/x|; s/^name=pp/name=v1/; s/^project=pp/project=v1/' "$(psi_conf v1.tmp x)" | conf v1.conf)
vt_check "a cgroup v1 cg_dir loads" "$ETMEM" obj add -f "$f" -s "$SOCK"
out=$("$ETMEM" project start -n v1 -s "$SOCK" 2>&1)
echo "$out"
vt_check "a cgroup v1 cg_dir is refused at start" \
	grep -q "cg_dir '/tmp/v1/x' is not under the cgroup v2 mount $CG (cgroup v1 hierarchies are not supported)" <<<"$out"
"$ETMEM" project stop -n v1 -s "$SOCK" >/dev/null
"$ETMEM" obj del -f "$f" -s "$SOCK"
rmdir /tmp/v1/x; umount /tmp/v1

f=$(psi_conf psi.conf 'etmem-psi/*')
vt_check "obj add" "$ETMEM" obj add -f "$f" -s "$SOCK"
vt_check "project start" "$ETMEM" project start -n pp -s "$SOCK"

cgj() { # cgj EXPR: python expression over the first cgroup c and task t
	show_json "$SOCK" pp | python3 -c "import json,sys; t=json.load(sys.stdin)['projects'][0]['tasks'][0]; c=t['cgroups'][0] if t['cgroups'] else {}; print($1)"
}
start_s=$SECONDS
min_usage=
reached=
for i in $(seq 150); do
	sleep 0.5
	usage=$(cat $CG/etmem-psi/a/memory.current)
	[ -z "$min_usage" ] || [ "$usage" -lt "$min_usage" ] && min_usage=$usage
	[ $((i % 10)) = 0 ] && echo "$((SECONDS - start_s)) s: usage $usage, $(cgj "c.get('pressure'), c.get('step'), c.get('note')")"
	if [ "$usage" -le $((LIMIT + (32 << 20))) ]; then
		reached=$((SECONDS - start_s))
		break
	fi
done
"$ETMEM" project show -n pp -s "$SOCK" | tee "$WORK/show.txt"
if [ -n "$reached" ]; then
	vt_ok "cgroup a shrank to $usage bytes (limit_min_bytes $LIMIT + 32 MiB) in $reached s"
else
	vt_fail "cgroup a still holds $usage bytes after 75 s"
fi
vt_check "show text: per cgroup usage, pressure, step, reclaimed" \
	grep -q "cgroup $CG/etmem-psi/a: usage [0-9]* bytes, pressure [0-9.]*, step [0-9]* bytes, reclaimed [0-9]* bytes" "$WORK/show.txt"
rec=$(cgj "c['reclaimed']")
vt_check "show -j: $rec bytes reclaimed from cgroup a (>= 80 MiB)" test "$rec" -ge $((80 << 20))
vt_check "show -j: task total equals the cgroup's ($(cgj "t['bytes_reclaimed'], t['bytes_paged_out']"))" \
	test "$(cgj "t['bytes_reclaimed'] == t['bytes_paged_out'] == c['reclaimed']")" = True
sleep 3
usage=$(cat $CG/etmem-psi/a/memory.current)
echo "after 3 s more: usage $usage, $(cgj "c['step'], c['note']")"
vt_check "pressure under the target at the limit ($(cgj "c['pressure']"))" \
	test "$(cgj "0 <= c['pressure'] < 0.1")" = True
vt_check "never reclaimed far below limit_min_bytes (usage $usage, lowest $min_usage)" \
	test "$usage" -ge $((LIMIT - (16 << 20)))

# Cgroups come and go under the glob.
mkdir $CG/etmem-psi/b
for _ in $(seq 20); do [ "$(cgj "len(t['cgroups'])")" = 2 ] && break; sleep 0.25; done
vt_check "a new cgroup under the glob is followed" test "$(cgj "sorted(x['path'] for x in t['cgroups'])")" = "['$CG/etmem-psi/a', '$CG/etmem-psi/b']"
rmdir $CG/etmem-psi/b
for _ in $(seq 20); do [ "$(cgj "len(t['cgroups'])")" = 1 ] && break; sleep 0.25; done
vt_check "a removed cgroup is dropped" test "$(cgj "len(t['cgroups'])")" = 1

vt_check "project stop" "$ETMEM" project stop -n pp -s "$SOCK"
vt_check "no OOM kill in the cgroup" grep -q '^oom_kill 0$' $CG/etmem-psi/a/memory.events
kill -TERM "$hc"; wait "$hc"
tail -n 2 "$WORK/hc.out"
vt_check "workload verifies every checksum" grep -q '^verify ok' "$WORK/hc.out"
vt_check "no etmem module loaded" no_etmem_module
daemon_stop
rmdir $CG/etmem-psi/a $CG/etmem-psi
vt_done
