# SPDX-License-Identifier: GPL-2.0
# Shared by the memtools checks; sourced, runs on the host or in the VM.
# Each check prints what it compares and exits non-zero on the first
# disagreement, so that a failure names the tool, mode and figure.

MT_TOP=${ETMEM_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MT_BIN=$MT_TOP/build/memtools
MT_CMP=$MT_TOP/memtools/test/compare.py
MT_TMP=$(mktemp -d /tmp/memtools-test.XXXXXX)
MT_PIDS=()
# A large file the workload maps; it must live on a real file system (ext4
# on the host, 9p in the VM), not tmpfs, or its pages count as shmem.
MT_BIGFILE=${MT_BIGFILE:-/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1}

mt_cleanup() {
	local pid
	for pid in "${MT_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$MT_TMP"
}
trap mt_cleanup EXIT

mt_fail() {
	echo "FAIL: $*"
	exit 1
}

mt_say() {
	echo "== $*"
}

mt_need() {
	local tool
	for tool; do
		[ -x "$MT_BIN/$tool" ] || mt_fail "$MT_BIN/$tool is not built (make user)"
	done
}

# The BPF modes this kernel should run; every kernel we test (6.1, 6.12,
# the host's 6.18) has BTF and allows tp_btf and raw_tp as root.
MT_BPF_MODES="tp_btf raw_tp"

# mt_signal SIG PID...: sends SIG to the tool each `timeout PID` runs
# (SIGSTOP and SIGCONT would stop timeout itself, not the tool).
mt_signal() {
	local sig=$1 pid child
	shift
	for pid; do
		child=$(ps -o pid= --ppid "$pid") && [ -n "$child" ] ||
			mt_fail "no tool under timeout $pid"
		kill -"$sig" $child || mt_fail "cannot send $sig to $child"
	done
}

# mt_workload ANON_MIB FILE_MIB SHMEM_MIB: starts the workload and waits
# until it has touched its memory; its pid is in MT_WORKLOAD.
mt_workload() {
	local fifo=$MT_TMP/workload.out line
	"$MT_BIN/mt-workload" "$1" "$MT_BIGFILE" "$2" "$3" >"$fifo" 2>&1 &
	MT_WORKLOAD=$!
	MT_PIDS+=("$MT_WORKLOAD")
	for _ in $(seq 1 600); do
		grep -q ready "$fifo" && return 0
		kill -0 "$MT_WORKLOAD" 2>/dev/null || break
		sleep 0.1
	done
	cat "$fifo"
	mt_fail "workload did not get ready"
}

# mt_expect_mode TOOL MODE ARGS...: runs TOOL -v -m MODE and checks that
# it says it runs in MODE (a silent fallback would make the test moot).
mt_expect_mode() {
	local tool=$1 mode=$2 err=$MT_TMP/$1.$2.err
	shift 2
	timeout 60 "$MT_BIN/$tool" -v -m "$mode" "$@" >"$MT_TMP/$tool.$mode.out" 2>"$err" ||
		{ cat "$err"; mt_fail "$tool -m $mode exited with an error"; }
	grep -q "^$tool: mode $mode\$" "$err" ||
		{ cat "$err"; mt_fail "$tool -m $mode did not run in mode $mode"; }
}

# mt_wait_attached TOOL ERRFILE...: waits until every instance, started
# with -v, has said which mode it runs (that is, its hooks are attached).
# BPF verification takes seconds under TCG, so a fixed sleep is not enough.
mt_wait_attached() {
	local tool=$1 f
	shift
	for f; do
		for _ in $(seq 1 600); do
			grep -q "^$tool: mode " "$f" 2>/dev/null && continue 2
			sleep 0.1
		done
		cat "$f"
		mt_fail "$tool did not attach within 60 s ($f)"
	done
}
