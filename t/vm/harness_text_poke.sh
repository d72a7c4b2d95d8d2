#!/bin/bash
# vm-timeout: 300
# vm-kernels: 6.12
# The harness's guest survives the kernel live-patching its own text while
# both vCPUs run it: sched_switch's and sched_wakeup's static keys flip for
# 20 s while every CPU context-switches through the patched sites. QEMU
# 7.2 with a thread per vCPU dies of "Oops: int3" here within seconds
# (t/vm-run chooses the TCG threading that does not); any test that
# attaches BPF, enables a tracepoint or creates the first memcg does the
# same once, and the harness must not lose a boot's tests to it. 20 s is
# several times what 7.2 survived: this test is for that kind of fault,
# not a stress test of QEMU. QEMU 10 has it too, far more rarely: a CI
# boot stopped here (console not kept), and a local run of CI's command
# on 2026-12-07 died here of "Oops: int3" in __schedule(), the patching
# task itself running the int3 after the patch was done.
# t/vm-run runs a test whose guest died of that once more in a new boot
# (emu_fault), and the rest of the list gets a new boot.
. "$ETMEM_TOP/t/lib/vmtest.sh"

ev=/sys/kernel/tracing/events/sched
[ -w "$ev/sched_switch/enable" ] || vt_die "no tracefs sched events at $ev"
for c in 0 1; do
	taskset -c "$c" bash -c 'while :; do :; done' &
	OTHER_PIDS+=($!)
	taskset -c "$c" bash -c 'while :; do sleep 0.001; done' &
	OTHER_PIDS+=($!)
done
end=$((SECONDS + 20)) flips=0
while [ $SECONDS -lt $end ]; do
	for e in sched_switch sched_wakeup; do
		echo 1 >"$ev/$e/enable" && echo 0 >"$ev/$e/enable" || vt_die "flipping $e failed"
	done
	flips=$((flips + 1))
done
[ "$flips" -ge 10 ] && vt_ok "the guest lived through $flips rounds of static-key flips" ||
	vt_fail "only $flips rounds of flips in 20 s"
vt_done
