#!/bin/bash
# Configuration files in upstream etmem's key set load into the real
# daemon: slide with scan_type=page, and the shipped
# etc/etmem/damon_conf.yaml (scan_type=region), psi_conf.yaml
# (scan_type=psi), auto_conf.yaml (scan_type=auto) and budget_conf.yaml
# (slide's budget mode). (cslide's file
# needs huge pages on the host's nodes; t/vm/daemon_user_tests.sh loads it
# in the VM.) Each is added, shown (text and -j, with its scan_type) and
# deleted again; no project is started.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

SOCK=etmem-test-upstream-$$
daemon_start "$SOCK" -l 1 || exit 1

# add_del NAME FILE PROJECT SCAN_TYPE
add_del() {
	local name=$1 f=$2 proj=$3 type=$4 out
	if ! out=$("$ETMEM" obj add -f "$f" -s "$SOCK" 2>&1); then
		fail "$name: obj add: $out"
		return
	fi
	out=$(show_json "$SOCK" "$proj" | python3 -c "import json,sys; p=json.load(sys.stdin)['projects'][0]; print(p['scan_type'], len(p['tasks']))")
	[ "$out" = "$type 1" ] || fail "$name: show -j says '$out', expected '$type 1'"
	"$ETMEM" project show -s "$SOCK" -n "$proj" | grep -q "scan_type=$type" ||
		fail "$name: show text lacks scan_type=$type"
	if ! out=$("$ETMEM" obj del -f "$f" -s "$SOCK" 2>&1); then
		fail "$name: obj del: $out"
		return
	fi
	[ "$("$ETMEM" project show -s "$SOCK")" = "no projects" ] || fail "$name: left objects behind"
	pass "$name"
}

f=$(conf slide.conf <<'EOT'
[project]
name=test
loop=1
interval=1
sleep=1
scan_type=page
sysmem_threshold=50
swapcache_high_vmark=10
swapcache_low_vmark=6

[engine]
name=slide
project=test

[task]
project=test
engine=slide
name=background_slide
type=name
value=mysql
T=1
max_threads=1
swap_threshold=10g
swap_flag=yes
EOT
)
add_del "slide, upstream keys with scan_type=page" "$f" test page

install -m 0600 "$TOP/etc/etmem/damon_conf.yaml" "$WORK/damon_conf.yaml"
add_del "etc/etmem/damon_conf.yaml as shipped" "$WORK/damon_conf.yaml" test_damon region
install -m 0600 "$TOP/etc/etmem/psi_conf.yaml" "$WORK/psi_conf.yaml"
add_del "etc/etmem/psi_conf.yaml as shipped" "$WORK/psi_conf.yaml" test_psi psi
install -m 0600 "$TOP/etc/etmem/auto_conf.yaml" "$WORK/auto_conf.yaml"
add_del "etc/etmem/auto_conf.yaml as shipped" "$WORK/auto_conf.yaml" test_auto auto
install -m 0600 "$TOP/etc/etmem/budget_conf.yaml" "$WORK/budget_conf.yaml"
add_del "etc/etmem/budget_conf.yaml as shipped (slide budget mode)" "$WORK/budget_conf.yaml" budget page

daemon_stop
[ "$nr_fail" = 0 ] || exit 1
echo "all checks passed"
