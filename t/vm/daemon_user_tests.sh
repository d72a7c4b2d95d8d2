#!/bin/bash
# vm-timeout: 600
# vm-kernels: newest
# (user-space behaviour the kernel does not change: one kernel is enough;
# the kernel-facing paths run on every kernel in the kmod_* and other tests)
# The daemon's host test scripts whose projects run (t/host/daemon_*.sh:
# 50 parallel show requests while projects run, -m mode and the systemd
# unit, the configuration directory and its reload) once more on this
# kernel with the modules loaded, so running projects really scan (the
# table of bad inputs and the help texts never reach the kernel: the host
# run of make check covers them); then
# the shipped example configurations load and run as a user would add
# them: slide_conf.yaml as it is, cslide_conf.yaml on this guest's nodes.
. "$ETMEM_TOP/t/lib/vmtest.sh"
. "$ETMEM_TOP/t/helpers/daemon_lib.sh"

vt_load_etmem
vt_zram_swap 256M
for t in daemon_running_project daemon_systemd_mode daemon_confdir; do
	if bash "$top/t/host/$t.sh" >"$WORK/$t.log" 2>&1; then
		vt_ok "$t ($(grep -c '^ok' "$WORK/$t.log") checks)"
	else
		vt_fail "$t:"
		grep -E "^FAIL|failures" "$WORK/$t.log" | head -n 10
	fi
done

# --- the shipped examples ---
vt_node_hugepages 4
SOCK=examples
daemon_start "$SOCK" -l 1 || vt_die "etmemd did not start"
install -m 0600 "$top/etc/etmem/slide_conf.yaml" "$WORK/slide_conf.yaml"
# The example pairs nodes 2,0 and 3,1 of a four-node host; this guest has two.
sed 's/^node_pair=.*/node_pair=0,1/' "$top/etc/etmem/cslide_conf.yaml" | conf cslide_conf.yaml >/dev/null
vt_check "obj add etc/etmem/slide_conf.yaml as shipped" \
	"$ETMEM" obj add -f "$WORK/slide_conf.yaml" -s "$SOCK"
vt_check "obj add etc/etmem/cslide_conf.yaml (node_pair=0,1) into its project" \
	"$ETMEM" obj add -f "$WORK/cslide_conf.yaml" -s "$SOCK"
vt_check "project start test" "$ETMEM" project start -n test -s "$SOCK"
# Until the first cycle has said what slide waits for (it starts at once;
# a stalled host delays it).
for _ in $(seq 30); do
	show=$("$ETMEM" project show -n test -s "$SOCK")
	grep -q "waiting for a process named 'mysql'" <<<"$show" && break
	sleep 1
done
echo "$show"
vt_check "show lists the slide task" grep -q "background_slide" <<<"$show"
vt_check "show lists the cslide task" grep -q "background_cslide" <<<"$show"
vt_check "slide waits for mysql" grep -q "waiting for a process named 'mysql'" <<<"$show"
vt_check "the swapcache watermarks of the example are set" \
	grep -q "watermarks 6%..10%" <<<"$show"
vt_check "project stop test" "$ETMEM" project stop -n test -s "$SOCK"
vt_check "obj del cslide_conf.yaml" "$ETMEM" obj del -f "$WORK/cslide_conf.yaml" -s "$SOCK"
vt_check "obj del slide_conf.yaml" "$ETMEM" obj del -f "$WORK/slide_conf.yaml" -s "$SOCK"
vt_check "nothing left" bash -c "! \"$ETMEM\" project show -n test -s $SOCK >/dev/null 2>&1"
daemon_stop
vt_unload_etmem
vt_done
