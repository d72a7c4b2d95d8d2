#!/bin/bash
# vm-timeout: 600
# vm-kernels: newest
# The README demo (make demo): in a VM, a workload with 448 MiB of cold
# data and 64 MiB of hot data; etmemd with the shipped slide configuration
# (pointed at the workload) pages the cold part out to zram swap; the
# workload then checks that none of its data changed.
. "$ETMEM_TOP/t/lib/vmtest.sh"
. "$ETMEM_TOP/t/helpers/daemon_lib.sh"

step() { printf '\n== %s\n' "$*"; }
mem_line() { # mem_line LABEL PID
	printf '%-8s workload RSS %4d MiB, swap %4d MiB | system swap used %4d MiB\n' "$1" \
		$(( $(vt_status_kb "$2" VmRSS) / 1024 )) $(( $(vt_status_kb "$2" VmSwap) / 1024 )) \
		$(free -m | awk '/^Swap:/ { print $3 }')
}

step "load the etmem modules, swap on 1 GiB of zram"
vt_load_etmem
vt_zram_swap 1G
swapon --show

step "start the workload: 448 MiB written once (cold), 64 MiB read nonstop (hot)"
"$helpers/hotcold" --cold-mib 448 --hot-mib 64 --interval-ms 1000 >"$WORK/hc.out" 2>&1 &
hc=$!
OTHER_PIDS+=("$hc")
for _ in $(seq 600); do grep -q '^ready' "$WORK/hc.out" && break; sleep 0.1; done
grep '^ready' "$WORK/hc.out" || vt_die "workload did not start"
before_rss=$(vt_status_kb "$hc" VmRSS)
mem_line before "$hc"

step "etmemd -l 1 -s demo"
daemon_start demo -l 1 || vt_die "etmemd did not start"

step "etc/etmem/slide_conf.yaml, pointed at the workload"
cp "$TOP/etc/etmem/slide_conf.yaml" "$WORK/slide_conf.yaml"
sed -i -e 's/^value=mysql/value=hotcold/' -e 's/^loop=1/loop=2/' \
	-e 's/^sysmem_threshold=50/sysmem_threshold=100/' \
	-e 's/^swap_threshold=10g/swap_threshold=100m/' -e 's/^swap_flag=yes/swap_flag=no/' \
	"$WORK/slide_conf.yaml"
chmod 600 "$WORK/slide_conf.yaml"
diff -u "$TOP/etc/etmem/slide_conf.yaml" "$WORK/slide_conf.yaml" | tail -n +3

step "etmem obj add / project start"
"$ETMEM" obj add -f "$WORK/slide_conf.yaml" -s demo || vt_die "obj add"
"$ETMEM" project start -n test -s demo || vt_die "project start"

step "wait while slide scans and pages out"
for i in $(seq 60); do
	sleep 2
	mem_line "t=$((i * 2))s" "$hc"
	[ $(( $(vt_status_kb "$hc" VmSwap) / 1024 )) -ge 440 ] && break
done

step "etmem project show -n test -s demo"
"$ETMEM" project show -n test -s demo

step "stop, delete, and let the workload check its data"
"$ETMEM" project stop -n test -s demo
"$ETMEM" obj del -f "$WORK/slide_conf.yaml" -s demo
mem_line after "$hc"
after_rss=$(vt_status_kb "$hc" VmRSS)
kill -TERM "$hc"
wait "$hc"
grep -E '^(final|verify)' "$WORK/hc.out"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"

step "result"
printf 'workload RSS %d MiB -> %d MiB\n' $((before_rss / 1024)) $((after_rss / 1024))
vt_check "cold memory reclaimed (RSS fell by at least 400 MiB)" test $((before_rss - after_rss)) -ge $((400 * 1024))
vt_check "the workload's data is intact" grep -q '^verify ok' "$WORK/hc.out"
vt_unload_etmem
vt_done
