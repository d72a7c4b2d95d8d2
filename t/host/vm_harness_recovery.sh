#!/bin/bash
# A guest that dies mid-list fails the test it died in and its boot, and
# the tests it never began run in a new boot instead of each failing as
# "not run" (CI once lost 13 tests of a 6.12 boot that way); a death by
# QEMU's own fault (t/vm-run's emu_fault) runs its test once more, a
# death by a real int3 does not; a guest that hangs where its own timeout
# cannot end the test is killed by the host's watchdog. Boots the oldest
# kernel seven times with seven trivial tests from t/harness/. Then the
# benchmarks' instruction clock (ETMEM_VM_ICOUNT): bad values refused, one
# boot on it.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. t/lib/kernels.sh
k=$(etmem_kernels | tr " " "\n" | head -n1)
[ -n "$k" ] || { echo "not ok - no kernel to boot (t/lib/kernels.sh; make deps installs them)"; exit 1; }
rm -f build/vm-logs/boot-"$k"-stopped*.log
fails=0
check() { # check DESCRIPTION COMMAND...
	local d=$1; shift
	if "$@"; then echo "ok - $d"; else echo "not ok - $d"; fails=$((fails + 1)); fi
}
rm -f build/vm-logs/emufault-"$k"-emufault.log
# The emulator's stall, for stalls.sh: QEMU stopped (SIGSTOP) the first
# time the test asks, and let go once the watchdog has killed it.
log=build/vm-logs/boot-$k.log
rm -f "$log"	# an earlier run's console may hold the line
(
	while :; do
		if tr -d '\r' 2>/dev/null <"$log" | grep -aq '^# harness: stop the emulator now' &&
			pkill -STOP -f "^qemu-system-x86_64 .*etmem_tests=build/vm/list-$k"; then
			exit 0
		fi
		sleep 0.2
	done
) &
stopper=$!
out=$(t/vm-run -k "$k" t/harness/before.sh t/harness/hangs.sh t/harness/stalls.sh t/harness/dies.sh \
	t/harness/emufault.sh t/harness/int3real.sh t/harness/after.sh 2>&1)
rc=$?
kill "$stopper" 2>/dev/null
echo "$out"
check "vm-run fails (exit $rc)" [ "$rc" != 0 ]
check "the test before the death passed" grep -q "^PASS vm t/harness/before.sh \[$k\]" <<<"$out"
check "the test the guest died in failed, saying so" \
	grep -q "^FAIL vm t/harness/dies.sh \[$k\] (the guest stopped during the test" <<<"$out"
check "the boot failed, its console kept" \
	grep -q "^FAIL vm boot \[$k\] (the guest did not finish its list, .*boot-$k-stopped1.log)" <<<"$out"
check "the stopped boot's console is there" test -s "build/vm-logs/boot-$k-stopped1.log"
check "a new boot was announced" grep -q "a new boot for the 3 tests it did not begin" <<<"$out"
# QEMU's fault (an unclaimed int3 in patched kernel text): one more run.
check "a death by an unclaimed int3 gets its test one more run" \
	grep -q "the guest died of an unclaimed int3 .* during t/harness/emufault.sh: it runs once more in a new boot" <<<"$out"
check "its first console is kept" test -s "build/vm-logs/emufault-$k-emufault.log"
check "the same death again fails the test" \
	grep -q "^FAIL vm t/harness/emufault.sh \[$k\] (the guest stopped during the test" <<<"$out"
check "one more run only, for each of emufault.sh and stalls.sh" [ "$(grep -c "runs once more" <<<"$out")" = 2 ]
check "the new boot says so" grep -q "a new boot for t/harness/emufault.sh once more and the 2 tests after it" <<<"$out"
check "an int3 still in memory (0xcc) fails its test at once" \
	grep -q "^FAIL vm t/harness/int3real.sh \[$k\] (the guest stopped during the test" <<<"$out"
# A guest that hangs where its own timeout cannot help: the host's
# watchdog ends the boot after the test's timeout and the grace, having
# asked the guest for its stacks, and the rest runs in a new boot.
check "a hung guest fails its test, saying so" \
	grep -q "^FAIL vm t/harness/hangs.sh \[$k\] (the guest hung: t/harness/hangs.sh ran for [0-9]*s with no new marker on the console (allowed 41s), killed by the host; it answered SysRq" <<<"$out"
check "its blocked tasks are on its console" \
	grep -aq "Show Blocked State" "build/vm-logs/hangs-$k.log"
check "a new boot after the hang" \
	grep -q "the guest stopped during or after t/harness/hangs.sh: a new boot for the 5 tests it did not begin" <<<"$out"
# The emulator stalled (nothing answers, not even SysRq): once more.
check "a stalled emulator gets its test one more run" \
	grep -q "the guest hung: t/harness/stalls.sh ran for [0-9]*s .*it did not answer SysRq, during t/harness/stalls.sh: .* it runs once more in a new boot" <<<"$out"
check "which then passes" grep -q "^PASS vm t/harness/stalls.sh \[$k\]" <<<"$out"
check "the test after the deaths ran and passed" grep -q "^PASS vm t/harness/after.sh \[$k\]" <<<"$out"
check "nothing reported as not run" bash -c '! grep -q "not run" <<<"$1"' _ "$out"

# The instruction clock for benchmarks (ETMEM_VM_ICOUNT): bad shifts are
# refused before anything boots, a good one boots and the guest knows it.
for bad in x 11 -1 "1,sleep=off"; do
	err=$(ETMEM_VM_ICOUNT=$bad t/vm-run -k "$k" t/harness/icount.sh 2>&1)
	rc=$?
	check "ETMEM_VM_ICOUNT='$bad' is refused (exit $rc): $err" \
		bash -c '[ "$1" = 2 ] && grep -q "ETMEM_VM_ICOUNT is a shift from 0 to 10" <<<"$2"' _ "$rc" "$err"
done
# Its 300 s sleep is idle time, which the instruction clock skips: the
# whole boot stays well under the sleep in host seconds. (The PASS line's
# time is the guest's here, so the host's is taken around vm-run; the
# tests of make check never wait for another VM.)
t0=$(date +%s)
out=$(ETMEM_VM_ICOUNT=3 t/vm-run -k "$k" t/harness/icount.sh 2>&1)
wall=$(($(date +%s) - t0))
echo "$out"
check "a boot on the instruction clock passes its test" grep -q "^PASS vm t/harness/icount.sh \[$k\]" <<<"$out"
check "the guest's 300 s sleep took the host less than 200 s, boot included (${wall} s)" \
	[ "$wall" -lt 200 ]
[ "$fails" = 0 ]
