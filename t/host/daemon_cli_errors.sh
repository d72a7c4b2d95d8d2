#!/bin/bash
# A table of bad inputs to etmem/etmemd: each must fail with its specific
# message and a non-zero exit, leave the daemon's state unchanged
# (project show before and after) and leave the daemon running.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

SOCK=etmem-test-errors-$$
daemon_start "$SOCK" -l 0 || exit 1

# A baseline project, so "unchanged" compares something.
base=$(slide_conf base pid 1 | conf base.conf)
"$ETMEM" obj add -f "$base" -s "$SOCK" >/dev/null || { echo "baseline add failed"; exit 1; }

P='[project]\nname=p\nloop=2\ninterval=1\nsleep=1\n'
E='\n[engine]\nname=slide\nproject=p\n'
TK='\n[task]\nproject=p\nengine=slide\nname=t\n'
TASK="$TK"'type=pid\nvalue=1\nT=1\n'
long65=$(printf 'a%.0s' $(seq 65))
long108=$(printf 's%.0s' $(seq 108))

# bad_file NAME PRINTF-TEXT EXPECTED: obj add of that file must fail.
bad_file() {
	local f
	f=$(printf "$2" | conf "$1.conf")
	expect_fail "$1" "$3" "$ETMEM" obj add -f "$f" -s "$SOCK"
}

# expect_fail NAME EXPECTED CMD...: the core check of every row.
expect_fail() {
	local name=$1 want=$2 before after rc
	shift 2
	before=$(show_json "$SOCK")
	"$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	after=$(show_json "$SOCK")
	if [ "$rc" = 0 ]; then
		fail "$name: exit 0 (stdout: $(cat "$WORK/out"))"
	elif ! grep -qF -- "$want" "$WORK/err"; then
		fail "$name: stderr '$(cat "$WORK/err")' lacks '$want'"
	elif [ "$before" != "$after" ]; then
		fail "$name: daemon state changed"
	elif ! kill -0 "$DAEMON_PID" 2>/dev/null; then
		fail "$name: etmemd died"
		exit 1
	else
		pass "$name: $(head -n1 "$WORK/err")"
	fi
}

bad_file loop_0 "${P/loop=2/loop=0}" "[project] loop='0' is not an integer in 1..120"
bad_file loop_121 "${P/loop=2/loop=121}" "loop='121' is not an integer in 1..120"
bad_file interval_0 "${P/interval=1/interval=0}" "interval='0' is not an integer in 1..1200"
bad_file interval_1201 "${P/interval=1/interval=1201}" "interval='1201' is not an integer in 1..1200"
bad_file sleep_0 "${P/sleep=1/sleep=0}" "sleep='0' is not an integer in 1..1200"
bad_file sleep_1201 "${P/sleep=1/sleep=1201}" "sleep='1201' is not an integer in 1..1200"
bad_file sleep_max_below_sleep "${P/sleep=1/sleep=4}sleep_max=2\n" "sleep_max='2' is not an integer in 4..1200"
bad_file sleep_max_word "${P}sleep_max=8s\n" "sleep_max='8s' is not an integer in 1..1200"
bad_file sysmem_101 "${P}sysmem_threshold=101\n" "sysmem_threshold='101' is not an integer in 0..100"
bad_file high_wmark_101 "${P}swapcache_high_wmark=101\nswapcache_low_wmark=1\n" "swapcache_high_wmark='101' is not an integer in 1..100"
bad_file low_not_below_high "${P}swapcache_high_vmark=5\nswapcache_low_vmark=5\n" "swapcache_low_vmark='5' is not an integer in 1..4"
bad_file low_wmark_0 "${P}swapcache_high_wmark=5\nswapcache_low_wmark=0\n" "swapcache_low_wmark='0' is not an integer in 1..4"
bad_file high_only "${P}swapcache_high_wmark=5\n" "swapcache_high_wmark given without swapcache_low_wmark"
bad_file project_name_65 "${P/name=p/name=$long65}" "must be 1 to 64 characters long (it has 65)"
bad_file missing_loop "${P/loop=2\\n/}" "missing required key 'loop'"
bad_file misspelt_loop "${P/loop=2\\n/lopo=2\\n}" "missing required key 'loop' (line 3 has 'lopo', which is not a key: 'loop' misspelt?)"
bad_file unknown_key "${P}colour=red\n" "unknown key 'colour'"
bad_file scan_type_other "${P}scan_type=pmu\n" "scan_type='pmu' is not allowed (allowed: page, region, psi, auto)"
bad_file scan_type_mismatch "[project]\nname=p\nscan_type=region\n${E}" \
	"[engine] engine 'slide' does not work with scan_type=region of project 'p' (engine slide needs scan_type=page or auto)"
bad_file pmu_key "${P}sample_period=100\n" \
	"key 'sample_period' belongs to upstream etmem's PMU sampling (hardware performance counters), which this etmem does not have"
bad_file region_key_in_page "${P}aggr_interval=100000\n" "key 'aggr_interval' belongs to scan_type=region or auto (this project has scan_type=page)"
bad_file unknown_group "[projekt]\nname=p\n" "unknown group [projekt]"
bad_file unknown_engine "${P}\n[engine]\nname=turbo\nproject=p\n" "name='turbo' is not allowed (allowed: slide, cslide, thirdparty, damon, psi)"
bad_file engine_no_project "[engine]\nname=slide\nproject=nothere\n" "project 'nothere' does not exist"
bad_file duplicate_project "[project]\nname=base\nloop=2\ninterval=1\nsleep=1\n" "project 'base' already exists"
bad_file duplicate_engine "[engine]\nname=slide\nproject=base\n" "engine 'slide' already exists in project 'base'"
bad_file duplicate_task "[task]\nproject=base\nengine=slide\nname=task1\ntype=pid\nvalue=1\nT=1\n" "task 'task1' already exists in engine 'slide' of project 'base'"
bad_file duplicate_key "${P}loop=3\n" "key 'loop' given twice (first on line 3)"
bad_file T_above_loop3 "$P$E${TK}type=pid\nvalue=1\nT=7\n" "T='7' is not an integer in 0..6"
bad_file idle_age_255 "$P$E${TK}type=pid\nvalue=1\nT=1\nidle_age=255\n" "idle_age='255' is not an integer in 0..254"
bad_file idle_age_auto "${P/sleep=1/sleep=1\\nscan_type=auto}$E${TK}type=pid\nvalue=1\nT=1\nidle_age=4\n" \
	"idle_age needs the etmem modules' idle ages, and scan_type=auto runs the damon engine"
bad_file T_missing "$P$E${TK}type=pid\nvalue=1\n" "missing required key 'T'"
bad_file T_and_budget "$P$E${TK}type=pid\nvalue=1\nT=1\nmajflt_budget=10\n" \
	"T and a budget (stall_budget_us, majflt_budget) exclude each other"
bad_file budget_zero "$P$E${TK}type=pid\nvalue=1\nstall_budget_us=0\n" "stall_budget_us='0' is not an integer in 1..1000000"
bad_file budget_floor_0 "$P$E${TK}type=pid\nvalue=1\nmajflt_budget=10\nidle_age=0\n" \
	"idle_age='0' is not an integer in 1..253 (with a budget, idle_age is the floor of the age the controller chooses, default 2)"
bad_file budget_floor_254 "$P$E${TK}type=pid\nvalue=1\nstall_budget_us=1000\nidle_age=254\n" \
	"idle_age='254' is not an integer in 1..253 (with a budget"
bad_file budget_auto "${P/sleep=1/sleep=1\\nscan_type=auto}$E${TK}type=pid\nvalue=1\nmajflt_budget=10\n" \
	"a budget needs the etmem modules' idle ages, and scan_type=auto runs the damon engine"
bad_file max_threads_0 "$P$E${TASK}max_threads=0\n" "max_threads='0' is not an integer in 1.."
bad_file max_threads_big "$P$E${TASK}max_threads=$(( $(nproc) * 2 + 2 ))\n" "is not an integer in 1..$(( $(nproc) * 2 + 1 ))"
bad_file swap_threshold_unit "$P$E${TASK}swap_threshold=10t\n" "swap_threshold='10t' is not a size"
bad_file swap_flag_maybe "$P$E${TASK}swap_flag=maybe\n" "swap_flag='maybe' is not allowed (allowed: no, yes)"
bad_file type_uid "$P$E${TK}type=uid\nvalue=1\nT=1\n" "type='uid' is not allowed (allowed: pid, name)"
bad_file pid_not_number "$P$E${TK}type=pid\nvalue=12ab\nT=1\n" "value='12ab' is not a pid"
bad_file pid_0 "$P$E${TK}type=pid\nvalue=0\nT=1\n" "value='0' is not a pid (type=pid wants an integer in 1..4194304)"
bad_file pid_above_max "$P$E${TK}type=pid\nvalue=4194305\nT=1\n" "value='4194305' is not a pid (type=pid wants an integer in 1..4194304)"
bad_file pid_negative "$P$E${TK}type=pid\nvalue=-5\nT=1\n" "value='-5' is not a pid"
bad_file comm_16 "$P$E${TK}type=name\nvalue=abcdefghijklmnop\nT=1\n" "value='abcdefghijklmnop' is not a process name"
bad_file comm_bad_char "$P$E${TK}type=name\nvalue=my\$app\nT=1\n" "value='my\$app' is not a process name"
bad_file task_name_65 "$P$E\n[task]\nproject=p\nengine=slide\nname=$long65\ntype=pid\nvalue=1\nT=1\n" "name='$long65' must be 1 to 64 characters"
bad_file task_no_engine "$P${TASK}" "engine 'slide' does not exist in project 'p'"
bad_file later_error_no_change "$P$E${TASK}\n[task]\nproject=p\nengine=slide\nname=u\ntype=pid\nvalue=1\nT=99\n" "T='99'"

# File checks.
f=$(printf "$P" | conf owner.conf); chown 65534 "$f"
expect_fail wrong_owner "owned by uid 65534; configuration files must be owned by root" "$ETMEM" obj add -f "$f" -s "$SOCK"
f=$(printf "$P" | conf mode.conf); chmod 644 "$f"
expect_fail mode_0644 "has mode 0644; configuration files must have mode 0600 or 0400" "$ETMEM" obj add -f "$f" -s "$SOCK"
f=$(printf "$P" | conf mode2.conf); chmod 640 "$f"
expect_fail mode_0640 "has mode 0640" "$ETMEM" obj add -f "$f" -s "$SOCK"
f=$(printf "$P" | conf big.conf); truncate -s $((10 * 1024 * 1024 + 1)) "$f"
expect_fail size_10MiB_plus_1 "is 10485761 bytes; configuration files may be at most 10485760 bytes" "$ETMEM" obj add -f "$f" -s "$SOCK"
mkdir -m 700 "$WORK/adir"
expect_fail directory "is a directory, not a regular file" "$ETMEM" obj add -f "$WORK/adir" -s "$SOCK"
expect_fail missing_file "cannot open configuration file '$WORK/nothere.conf': No such file or directory" "$ETMEM" obj add -f "$WORK/nothere.conf" -s "$SOCK"
# Relative paths resolve against the client's directory.
pushd "$WORK" >/dev/null
expect_fail relative_path "$WORK/loop_0.conf:3: [project] loop='0'" "$ETMEM" obj add -f loop_0.conf -s "$SOCK"
popd >/dev/null

# Sockets, daemons, privileges.
expect_fail unknown_socket "no etmemd is listening under that name" "$ETMEM" project show -s "no-such-etmemd-$$"
expect_fail socket_name_97 "etmem project show: socket name of 97 bytes is too long; allowed: 1 to 96 bytes" \
	"$ETMEM" project show -s "${long108:0:97}"
expect_fail socket_name_abstract_108 "socket name of 109 bytes is too long" "$ETMEM" project show -s "@$long108"
expect_fail socket_name_escaped_too_long "socket name of 40 bytes is too long" "$ETMEM" project show -s "$(printf '/%.0s' $(seq 40))"
expect_fail non_root_client "etmem project show: cannot reach etmemd on socket '$SOCK' (/run/etmem/$SOCK): Permission denied (only root may reach etmemd's socket)" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ETMEM" project show -s "$SOCK"
expect_fail start_missing_project "project 'nothere' does not exist" "$ETMEM" project start -n nothere -s "$SOCK"
expect_fail stop_not_started "project 'base' is not started" "$ETMEM" project stop -n base -s "$SOCK"
expect_fail show_missing_project "project 'nothere' does not exist" "$ETMEM" project show -n nothere -s "$SOCK"
f=$(printf "[task]\nproject=base\nengine=slide\nname=ghost\ntype=pid\nvalue=1\nT=1\n" | conf ghost.conf)
expect_fail del_missing_task "task 'ghost' does not exist in engine 'slide' of project 'base'" "$ETMEM" obj del -f "$f" -s "$SOCK"
expect_fail slide_private_cmd "engine slide has no private command 'showtaskpages'" "$ETMEM" engine showtaskpages -n base -e slide -s "$SOCK"
expect_fail engine_missing "engine 'cslide' does not exist in project 'base'" "$ETMEM" engine showhostpages -n base -e cslide -s "$SOCK"
expect_fail obj_without_file "etmem obj add: needs -f|--file FILE" "$ETMEM" obj add -s "$SOCK"
expect_fail project_without_name "etmem project start: needs -n|--name NAME" "$ETMEM" project start -s "$SOCK"

# etmemd's own arguments.
expect_fail etmemd_no_socket "-s|--socket NAME is required" "$ETMEMD"
expect_fail etmemd_long_socket "etmemd: socket name of 108 bytes is too long; allowed: 1 to 96 bytes" "$ETMEMD" -s "$long108"
# An abstract name fits sun_path but its file form (lock and pid files)
# must fit a file name: 80 escaped bytes after the '@' do, 90 do not.
slashes() { printf '/%.0s' $(seq "$1"); }
expect_fail etmemd_abstract_file_form "etmemd: socket name of 91 bytes takes 273 as the file name of its lock and pid files (each byte other than A-Z a-z 0-9 _ - and a non-leading . counting 3); allowed: at most 244" \
	"$ETMEMD" -s "@$(slashes 90)"
expect_fail etmemd_log_level "log level '4' is not one of 0, 1, 2, 3" "$ETMEMD" -l 4 -s x
expect_fail etmemd_same_socket "Address already in use (another etmemd uses this name)" "$ETMEMD" -s "$SOCK"

daemon_stop

# The longest file form allowed starts, answers and stops (not with
# daemon_start: its log file is named after the socket).
edge="@$(slashes 80)"
"$ETMEMD" -s "$edge" -c '' >"$WORK/etmemd-edge.log" 2>&1 &
edge_pid=$!
DAEMON_PIDS+=("$edge_pid")
for _ in $(seq 100); do
	"$ETMEM" project show -s "$edge" >/dev/null 2>&1 && break
	kill -0 "$edge_pid" 2>/dev/null || break
	sleep 0.1
done
if "$ETMEM" project show -s "$edge" >/dev/null 2>"$WORK/err"; then
	kill -TERM "$edge_pid"
	wait "$edge_pid" || fail "etmemd with a 243-byte file form exited $? after SIGTERM"
else
	fail "abstract name with a 243-byte file form: show failed: $(cat "$WORK/err"); etmemd: $(tail -n 3 "$WORK/etmemd-edge.log")"
fi
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
