#!/bin/bash
# make install into a DESTDIR builds no test program, installs programs,
# library, headers, pkg-config file (with its prefix and the version of
# VERSION), man pages, bash completion and the unit with the prefix's
# paths, keeps a configuration that was there before, and make uninstall
# leaves nothing but that configuration. make modules_install puts the
# modules (MODULE_VERSION from VERSION) under updates/etmem. The bash
# completion offers subcommands and asks a running daemon for names.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

D=$WORK/dest
want=$(cat "$TOP/VERSION")
mk() { make -C "$TOP" -s --no-print-directory "$@"; }

# No test program in what install builds.
n=$(mk -n install BUILD="$WORK/nobuild" DESTDIR="$D" | grep -cE 'cmocka|t/unit|t/helpers')
[ "$n" = 0 ] && pass "make install builds no test program" || fail "make install builds $n test commands"

mkdir -p "$D/etc/etmem"
echo "# mine" >"$D/etc/etmem/slide_conf.yaml"
chmod 600 "$D/etc/etmem/slide_conf.yaml"
mk install DESTDIR="$D" >"$WORK/install.log" 2>&1 || fail "make install: $(tail -n 5 "$WORK/install.log")"
for f in usr/local/sbin/etmemd usr/local/bin/etmem usr/local/sbin/etmem-procstat \
	usr/local/sbin/etmem-sysstat usr/local/sbin/etmem-paf usr/local/sbin/etmem-pr \
	usr/local/lib/libetmemd_scan.so.1 usr/local/lib/libetmemd_scan.so \
	usr/local/include/etmem/etmemd_scan.h usr/local/lib/pkgconfig/etmemd_scan.pc \
	usr/local/lib/systemd/system/etmemd.service usr/local/share/man/man8/etmemd.8 \
	usr/local/share/man/man8/etmem.8 usr/local/share/man/man5/etmem.conf.5 \
	usr/local/share/man/man8/etmem-pr.8 usr/local/share/bash-completion/completions/etmem \
	usr/local/share/bash-completion/completions/etmemd etc/etmem/cslide_conf.yaml; do
	[ -e "$D/$f" ] || fail "make install did not install /$f"
done
[ "$(cat "$D/etc/etmem/slide_conf.yaml")" = "# mine" ] && pass "existing slide_conf.yaml kept" ||
	fail "make install overwrote an existing configuration"
[ "$(stat -c %a "$D/etc/etmem/cslide_conf.yaml")" = 600 ] || fail "example config not mode 0600"
[ "$(stat -c %a "$D/etc/etmem/etmemd.d")" = 700 ] || fail "etmemd.d not mode 0700"
grep -q '^ExecStart=/usr/local/sbin/etmemd .*-c /etc/etmem/etmemd.d$' "$D/usr/local/lib/systemd/system/etmemd.service" &&
	pass "installed unit runs /usr/local/sbin/etmemd" || fail "installed unit: $(grep ExecStart= "$D/usr/local/lib/systemd/system/etmemd.service")"
pc() { PKG_CONFIG_PATH=$D/usr/local/lib/pkgconfig pkg-config "$@" etmemd_scan; }
[ "$(pc --modversion)" = "$want" ] && [ "$(pc --variable=libdir)" = /usr/local/lib ] &&
	pass "pkg-config etmemd_scan $want, libdir /usr/local/lib" ||
	fail "pkg-config: version '$(pc --modversion)', libdir '$(pc --variable=libdir)'"
"$D/usr/local/sbin/etmemd" --version | grep -qx "etmemd $want" || fail "installed etmemd --version"

mk uninstall DESTDIR="$D" >"$WORK/uninstall.log" 2>&1 || fail "make uninstall: $(tail -n 5 "$WORK/uninstall.log")"
left=$(cd "$D" && find . ! -type d | sort)
[ "$left" = "./etc/etmem/slide_conf.yaml" ] && pass "make uninstall left only the configuration that was there before" ||
	fail "make uninstall left: $left"

# Modules for one kernel into a DESTDIR.
kver=$(. "$TOP/t/lib/kernels.sh"; etmem_kernels | awk '{print $NF}')
if mk modules_install KVER="$kver" DESTDIR="$WORK/mods" >"$WORK/mods.log" 2>&1; then
	v=$(modinfo -F version "$WORK/mods/lib/modules/$kver/updates/etmem/etmem_scan.ko" 2>&1)
	v2=$(modinfo -F version "$WORK/mods/lib/modules/$kver/updates/etmem/etmem_swap.ko" 2>&1)
	[ "$v" = "$want" ] && [ "$v2" = "$want" ] && pass "modules_install: $kver, MODULE_VERSION $v" ||
		fail "modules_install: versions '$v' '$v2', want $want"
else
	fail "make modules_install: $(tail -n 5 "$WORK/mods.log")"
fi

# bash completion: subcommands, and names asked from a running daemon.
SOCK=etmem-test-comp-$$
daemon_start "$SOCK" || exit 1
f=$(slide_conf compproj name etmtest-none | conf comp.conf)
"$ETMEM" obj add -f "$f" -s "$SOCK" >/dev/null || fail "obj add"
comp() {
	PATH=$BUILD/etmem:$PATH bash -c '
		. /usr/share/bash-completion/bash_completion
		. "$0"
		COMP_WORDS=("${@}"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
		_etmem; echo "${COMPREPLY[*]}"' "$TOP/etc/bash-completion/etmem" "$@"
}
[ "$(comp etmem obj '')" = "add del check help" ] && pass "completion: obj subcommands" ||
	fail "completion of 'etmem obj': '$(comp etmem obj '')'"
[ "$(comp etmem project start -s "$SOCK" -n '')" = compproj ] && pass "completion: project name from the daemon" ||
	fail "completion of -n: '$(comp etmem project start -s "$SOCK" -n '')'"
[ "$(comp etmem engine showtaskpages -s "$SOCK" -t '')" = task1 ] && pass "completion: task name from the daemon" ||
	fail "completion of -t: '$(comp etmem engine showtaskpages -s "$SOCK" -t '')'"
daemon_stop
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
