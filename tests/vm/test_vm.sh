#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of the VM harness (vm/lib.sh, vm/run.sh, vm/bench.sh, vm/ci.sh) that
# never boot a kernel: argument parsing, kernel and .deb inspection, module
# ordering and decompression, result parsing, dmesg and taint scanning, exit
# code mapping, and whole vm/run.sh runs against a fake QEMU that replays
# captured guest output from tests/vm/fixtures/.  Prints TAP; exit 0/1.

# Test functions are called indirectly; eval strings are single-quoted.
# shellcheck disable=SC2317,SC2016
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
FIX=$HERE/fixtures
RUN=$REPO/vm/run.sh
# shellcheck source=vm/lib.sh
. "$REPO/vm/lib.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/test_vm.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

N=0
FAILED=0
ok() { # ok NAME COMMAND...: one TAP result from a command's status
	local name=$1
	shift
	N=$((N + 1))
	if "$@" >"$T/out" 2>&1; then
		echo "ok $N $name"
	else
		echo "not ok $N $name"
		sed 's/^/# /' "$T/out" | tail -n 20
		FAILED=1
	fi
}
skip() {
	N=$((N + 1))
	echo "ok $N $1 # SKIP $2"
}
eq() { # eq EXPECTED ACTUAL
	[ "$1" = "$2" ] && return 0
	printf 'expected: %s\n     got: %s\n' "$1" "$2"
	return 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# A fake bzImage: "HdrS" at 0x202, kernel_version at 0x20E pointing (from
# 0x200) to a version string.
fake_bzimage() { # FILE RELEASE
	local f=$1
	head -c 4096 /dev/zero >"$f"
	printf 'HdrS' | dd of="$f" bs=1 seek=514 conv=notrunc 2>/dev/null
	printf '\x00\x02' | dd of="$f" bs=1 seek=526 conv=notrunc 2>/dev/null
	printf '%s (test@fake) #1 SMP\0' "$2" | dd of="$f" bs=1 seek=1024 conv=notrunc 2>/dev/null
}

# A fake module: only a .modinfo-like string table matters to the harness.
fake_ko() { # FILE NAME DEPENDS [SOFTDEP]
	mkdir -p "$(dirname "$1")"
	printf '\177ELF fake\0name=%s\0depends=%s\0%s\0vermagic=6.99.0\0' \
		"$2" "$3" "${4:+softdep=$4}" >"$1"
}

echo "TAP version 13"

# ---------------------------------------------------------------------------
# Usage and argument errors: exit 2, usage on stderr, nothing on stdout.

usage_case() { # NAME ARGS...
	local name=$1
	shift
	N=$((N + 1))
	"$RUN" "$@" >"$T/u.out" 2>"$T/u.err"
	local rc=$?
	if [ "$rc" = 2 ] && [ ! -s "$T/u.out" ] && grep -q '^Usage: vm/run.sh' "$T/u.err"; then
		echo "ok $N run.sh usage error: $name"
	else
		echo "not ok $N run.sh usage error: $name"
		echo "# exit $rc; stdout: $(head -c 200 "$T/u.out"); stderr: $(head -n 2 "$T/u.err")"
		FAILED=1
	fi
}
fake_bzimage "$T/bzImage-6.99.0-fake" 6.99.0-fake
usage_case "no kernel"
usage_case "unknown option" --frobnicate "$T/bzImage-6.99.0-fake"
usage_case "option without value" "$T/bzImage-6.99.0-fake" --timeout
usage_case "non-numeric timeout" --timeout soon "$T/bzImage-6.99.0-fake"
usage_case "two kernels" "$T/bzImage-6.99.0-fake" "$T/bzImage-6.99.0-fake"
usage_case "kernel that does not exist" "$T/nonexistent"
usage_case "invalid --case regex" --case '(' "$T/bzImage-6.99.0-fake"
usage_case "--icount with --kvm" --icount --kvm "$T/bzImage-6.99.0-fake"
usage_case "--kvm with --tcg" --kvm --tcg "$T/bzImage-6.99.0-fake"
usage_case "non-numeric --boot-timeout" --boot-timeout soon "$T/bzImage-6.99.0-fake"
usage_case "--build on a bzImage" --build "$T/bzImage-6.99.0-fake"
usage_case "bad --require" --require VFIO "$T/bzImage-6.99.0-fake"
usage_case "bad --channel" --channel ttyS7 "$T/bzImage-6.99.0-fake"
usage_case "--initramfs-only with --json" --initramfs-only "$T/i.cpio" --json "$T/i.json" "$T/bzImage-6.99.0-fake"

help_ok() { "$RUN" -h | grep -- '--bisect' >/dev/null && "$RUN" --help | grep '^Usage:' >/dev/null; }
ok "run.sh -h prints usage and exits 0" help_ok
bench_usage() {
	"$REPO/vm/bench.sh" >/dev/null 2>&1
	[ $? = 2 ] || return 1
	"$REPO/vm/bench.sh" --frobnicate "$T/bzImage-6.99.0-fake" >/dev/null 2>&1
	[ $? = 2 ]
}
ok "bench.sh usage errors exit 2" bench_usage
ci_usage() {
	"$REPO/vm/ci.sh" --frobnicate >/dev/null 2>&1
	[ $? = 2 ] || return 1
	"$REPO/vm/ci.sh" --only nosuchkernel >/dev/null 2>&1
	[ $? = 2 ] || return 1
	"$REPO/vm/ci.sh" -h | grep -- '--budget' >/dev/null
}
ok "ci.sh usage errors exit 2, -h exits 0" ci_usage

mk() {
	local out
	out=$(make -s -n -C "$REPO" vm_run KERNEL=/k/bzImage VM_ARGS='--keep -- -t cow' 2>&1) || return 1
	grep -q 'install STATIC=1 O=.*/.vm-build INSTALL_PATH=.*/.vm-suite' <<<"$out" &&
		grep -q 'vm/run.sh --suite .*/.vm-suite /k/bzImage --keep -- -t cow$' <<<"$out" &&
		make -s -n -C "$REPO" vm_bench KERNEL=/k/bzImage 2>&1 | grep 'vm/bench.sh --suite' >/dev/null &&
		! make -s -C "$REPO" vm_run >/dev/null 2>&1
}
if have make && grep -q 'vm/vm.mk' "$REPO/Makefile" 2>/dev/null; then
	ok "make vm_run / vm_bench: static install, then run.sh with VM_ARGS; no KERNEL fails" mk
else
	skip "make vm_run / vm_bench" "no top Makefile including vm/vm.mk"
fi

# ---------------------------------------------------------------------------
# Kernel inspection

ok "bzImage release from the setup header" eq 6.99.0-fake "$(vm_bzimage_release "$T/bzImage-6.99.0-fake")"
not_bz() { printf 'not a kernel' >"$T/notbz"; ! vm_is_bzimage "$T/notbz" && ! vm_bzimage_release "$T/notbz"; }
ok "a file without HdrS is not a bzImage" not_bz
if [ -f "$REPO/../shared/kernels/bzImage-6.12.117-pintest" ]; then
	ok "release of the shared 6.12 kernel" eq 6.12.117 \
		"$(vm_bzimage_release "$REPO/../shared/kernels/bzImage-6.12.117-pintest")"
else
	skip "release of the shared 6.12 kernel" "no ../shared/kernels"
fi

kinds() {
	mkdir -p "$T/kb/arch/x86/boot" "$T/ks"
	cp "$T/bzImage-6.99.0-fake" "$T/kb/arch/x86/boot/bzImage"
	touch "$T/ks/Makefile" "$T/ks/Kconfig" "$T/x.deb"
	eq bzimage "$(vm_kernel_kind "$T/bzImage-6.99.0-fake")" &&
		eq builddir "$(vm_kernel_kind "$T/kb")" &&
		eq srcdir "$(vm_kernel_kind "$T/ks")" &&
		eq deb "$(vm_kernel_kind "$T/x.deb")" &&
		eq package "$(vm_kernel_kind linux-image-6.12.117+deb12-amd64-unsigned)" &&
		eq unknown "$(vm_kernel_kind "$T")" &&
		eq unknown "$(vm_kernel_kind "$T/notbz")" &&
		eq unknown "$(vm_kernel_kind 'linux-image-$(reboot)')"
}
ok "kernel kinds: bzImage, build tree, source tree, .deb, package, unknown" kinds

debrel() {
	eq 6.12.117+deb12-amd64 "$(printf '%s\n' 'drwxr-xr-x root/root 0 2025-01-01 00:00 ./boot/' \
		'-rw-r--r-- root/root 12 2025-01-01 00:00 ./boot/vmlinuz-6.12.117+deb12-amd64' |
		vm_deb_release -)" &&
		eq 6.1.0-56-amd64 "$(vm_deb_release /x/linux-image-6.1.0-56-amd64-unsigned_6.1.192-2_amd64.deb)" &&
		eq 6.12.117+deb12-amd64 "$(vm_deb_release linux-image-6.12.117+deb12-amd64-unsigned)"
}
ok "release of a .deb from its listing or name" debrel

findcfg() {
	mkdir -p "$T/cfg1" "$T/cfg2"
	echo CONFIG_X=y >"$T/cfg1/config-6.12.117-pintest"
	echo CONFIG_X=y >"$T/cfg2/.config"
	eq "$T/cfg1/config-6.12.117-pintest" "$(vm_find_config "$T/cfg1" 6.12.117 bzImage-6.12.117-pintest)" &&
		eq "$T/cfg2/.config" "$(vm_find_config "$T/cfg2" 6.99.0 bzImage)" &&
		! vm_find_config "$T/cfg1" 6.12.117 bzImage
}
ok "kernel config beside an image (config-RELEASE, config-SUFFIX, .config)" findcfg

cfgval() {
	printf '%s\n' CONFIG_ZRAM=m CONFIG_VFIO=y 'CONFIG_ZRAM_DEF_COMP="lz4"' \
		'# CONFIG_GUP_TEST is not set' >"$T/kcfg"
	eq m "$(vm_config_value "$T/kcfg" CONFIG_ZRAM)" &&
		eq lz4 "$(vm_config_value "$T/kcfg" CONFIG_ZRAM_DEF_COMP)" &&
		eq n "$(vm_config_value "$T/kcfg" CONFIG_GUP_TEST)" &&
		eq n "$(vm_config_value "$T/kcfg" CONFIG_ZRAM_DEF)" &&
		eq CONFIG_GUP_TEST "$(vm_config_missing "$T/kcfg" CONFIG_VFIO CONFIG_GUP_TEST CONFIG_ZRAM)"
}
ok "config values and missing options" cfgval

# ---------------------------------------------------------------------------
# Modules from a fake Debian package (no modules.dep, like the real ones)

REL=6.99.0-fake-amd64
build_deb() {
	local r=$T/debroot m=$T/debroot/lib/modules/$REL/kernel
	mkdir -p "$r/DEBIAN" "$r/boot"
	cat >"$r/DEBIAN/control" <<EOF
Package: linux-image-$REL-unsigned
Version: 6.99.0-1
Architecture: amd64
Maintainer: pinsuite tests <nobody@invalid>
Description: fake kernel for the pinsuite VM harness tests
EOF
	cp "$T/bzImage-6.99.0-fake" "$r/boot/vmlinuz-$REL"
	printf '%s\n' CONFIG_MODULES=y CONFIG_BLK_DEV_INITRD=y CONFIG_SERIAL_8250=y \
		CONFIG_VIRTIO_CONSOLE=y CONFIG_ZRAM=m CONFIG_VFIO=m >"$r/boot/config-$REL"
	fake_ko "$m/virt/lib/irqbypass.ko" irqbypass ''
	fake_ko "$m/drivers/vfio/vfio.ko" vfio irqbypass
	fake_ko "$m/drivers/vfio/vfio_iommu_type1.ko" vfio_iommu_type1 vfio
	fake_ko "$m/drivers/vfio/pci/vfio-pci-core.ko" vfio_pci_core vfio,irqbypass
	fake_ko "$m/drivers/vfio/pci/vfio-pci.ko" vfio_pci vfio-pci-core,vfio
	fake_ko "$m/fs/jbd2/jbd2.ko" jbd2 ''
	fake_ko "$m/fs/mbcache.ko" mbcache ''
	fake_ko "$m/lib/crc16.ko" crc16 ''
	fake_ko "$m/crypto/crc32c_generic.ko" crc32c_generic ''
	fake_ko "$m/fs/ext4/ext4.ko" ext4 jbd2,crc16,mbcache 'pre: crypto-crc32c crc16'
	fake_ko "$m/drivers/block/zram/zram.ko" zram lz4_compress
	fake_ko "$m/lib/lz4/lz4_compress.ko" lz4_compress ''
	fake_ko "$m/drivers/unrelated/unrelated.ko" unrelated ''
	xz -9 "$m/drivers/vfio/vfio.ko" "$m/fs/ext4/ext4.ko"
	zstd -q --rm "$m/drivers/vfio/pci/vfio-pci.ko"
	gzip -9 "$m/fs/jbd2/jbd2.ko"
	dpkg-deb --root-owner-group -Zgzip -b "$r" "$T/linux-image-${REL}-unsigned_6.99.0-1_amd64.deb" >/dev/null
}
if have dpkg-deb && have xz && have zstd; then
	ok "build a fake linux-image .deb with .ko, .ko.xz, .ko.zst, .ko.gz" build_deb
	DEB=$T/linux-image-${REL}-unsigned_6.99.0-1_amd64.deb
	MD=$T/debx/lib/modules/$REL
	ok "extract the .deb" vm_deb_extract "$DEB" "$T/debx"
	ok "release from the .deb listing" eq "$REL" "$(dpkg-deb -c "$DEB" | vm_deb_release -)"
	order() {
		local got
		# shellcheck disable=SC2086
		got=$(vm_mod_order "$MD" $VM_WANT_MODULES | tr '\n' ' ')
		eq "kernel/crypto/crc32c_generic.ko kernel/virt/lib/irqbypass.ko kernel/drivers/vfio/vfio.ko.xz kernel/drivers/vfio/vfio_iommu_type1.ko kernel/drivers/vfio/pci/vfio-pci-core.ko kernel/drivers/vfio/pci/vfio-pci.ko.zst kernel/fs/jbd2/jbd2.ko.gz kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/ext4/ext4.ko.xz kernel/lib/lz4/lz4_compress.ko kernel/drivers/block/zram/zram.ko " "$got"
	}
	ok "module order from depends= and softdep: dependencies first, each once" order
	before() { # every module comes after all of its dependencies
		local list i j
		mapfile -t list < <(vm_mod_order "$MD" vfio_pci ext4 zram)
		for ((i = 0; i < ${#list[@]}; i++)); do
			for d in $(vm_mod_info "$MD/${list[i]}" depends | tr ',' ' '); do
				d=${d//-/_}
				for ((j = i + 1; j < ${#list[@]}; j++)); do
					[ "$(vm_mod_name "${list[j]}")" != "$d" ] || { echo "$d after ${list[i]}"; return 1; }
				done
			done
		done
	}
	ok "no module is listed before one of its dependencies" before
	ok "names that are not modules here are skipped" eq "" "$(vm_mod_order "$MD" nosuch vfio_virqfd iommufd)"
	stage() {
		# shellcheck disable=SC2086
		vm_mod_order "$MD" $VM_WANT_MODULES >"$T/mods.list" &&
			vm_mod_stage "$MD" "$T/staged" "$T/mods.list" || return 1
		eq 12 "$(wc -l <"$T/staged/modules.load")" &&
			eq kernel/drivers/vfio/pci/vfio-pci.ko "$(sed -n 6p "$T/staged/modules.load")" &&
			! grep -qE '\.(xz|zst|gz)$' "$T/staged/modules.load" &&
			! find "$T/staged" -name '*.xz' -o -name '*.zst' -o -name '*.gz' | grep . >/dev/null &&
			tr '\0' '\n' <"$T/staged/kernel/fs/ext4/ext4.ko" | grep -x 'depends=jbd2,crc16,mbcache' >/dev/null &&
			tr '\0' '\n' <"$T/staged/kernel/drivers/vfio/pci/vfio-pci.ko" | grep -x 'name=vfio_pci' >/dev/null &&
			tr '\0' '\n' <"$T/staged/kernel/fs/jbd2/jbd2.ko" | grep -x 'name=jbd2' >/dev/null
	}
	ok "modules decompressed (xz, zstd, gzip) into the staging tree with a load list" stage
	moddep() {
		# A tree with modules.dep: its dependency lists win over depends=.
		mkdir -p "$T/md"
		cp -r "$MD/kernel" "$T/md/"
		printf '%s\n' 'kernel/fs/ext4/ext4.ko.xz: kernel/fs/mbcache.ko kernel/lib/crc16.ko' \
			'kernel/fs/mbcache.ko:' 'kernel/lib/crc16.ko:' \
			'kernel/fs/jbd2/jbd2.ko.gz:' >"$T/md/modules.dep"
		eq "kernel/fs/mbcache.ko kernel/lib/crc16.ko kernel/fs/ext4/ext4.ko.xz " \
			"$(vm_mod_order "$T/md" ext4 | tr '\n' ' ')"
	}
	ok "module order from modules.dep when the tree has one" moddep
else
	for s in "fake .deb" "extract" "release from listing" "module order" "deps first" \
		"absent names" "stage" "modules.dep"; do
		skip "module handling: $s" "needs dpkg-deb, xz and zstd"
	done
fi

# ---------------------------------------------------------------------------
# Hand-over of run_tests.sh arguments to the guest's busybox sh

quote() {
	local line out
	line=$(vm_shell_quote -t gup_longterm -- -t "it's a \"case\" \$HOME" '' 'a  b')
	out=$(sh -c "set -- $line; for a; do printf '<%s>' \"\$a\"; done")
	eq "<-t><gup_longterm><--><-t><it's a \"case\" \$HOME><><a  b>" "$out"
}
ok "arguments survive the trip through the guest's shell" quote

# ---------------------------------------------------------------------------
# Results channel parsing

fields() {
	eq 0 "$(vm_results_field "$FIX/results-pass.log" rc)" &&
		eq 512 "$(vm_results_field "$FIX/results-pass.log" taint-before)" &&
		eq "" "$(vm_results_field "$FIX/results-pass.log" suite-start)" &&
		! vm_results_field "$FIX/results-crash.log" rc
}
ok "control fields of the results channel" fields
suite_only() {
	vm_results_suite "$FIX/results-pass.log" >"$T/s" &&
		eq "TAP version 13" "$(head -n 1 "$T/s")" &&
		eq "ok 2 selftests: pinsuite: iouring_pin" "$(tail -n 1 "$T/s")" &&
		! grep -q -e '@@pinsuite' -e DMAR "$T/s"
}
ok "suite output without control lines or dmesg" suite_only
ok "dmesg dump between its markers" eq 8 "$(vm_results_dmesg "$FIX/results-pass.log" | wc -l)"

# The guest's JSON Lines, sent after the suite as "json" control lines.
json_whole() {
	vm_results_json "$FIX/results-json.log" >"$T/j" || return 1
	eq 10 "$(wc -l <"$T/j")" && grep -q '^{"type":"run","binary":"cow",' "$T/j" &&
		eq '{"type":"totals","binary":"vfio_pin","pass":1,"fail":1,"xfail":0,"xpass":0,"skip":1,"error":0,"exit":1}' "$(tail -n 1 "$T/j")" &&
		eq "whole, 10 lines" "$(vm_results_json_state "$FIX/results-json.log")"
}
ok "JSON Lines from the results channel, whole when json-end counts them all" json_whole
json_cut() {
	! vm_results_json "$FIX/results-json-cut.log" >"$T/j" &&
		eq 5 "$(wc -l <"$T/j")" && grep -q '^{"type":"totals","binary":"cow","pass":2,"fa$' "$T/j" &&
		eq "the guest stopped while sending them; 5 lines arrived" \
			"$(vm_results_json_state "$FIX/results-json-cut.log")"
}
ok "JSON Lines of a guest that died while sending them: what arrived, not whole" json_cut
json_none() {
	! vm_results_json "$FIX/results-pass.log" >"$T/j" && [ ! -s "$T/j" ] &&
		eq "none arrived: the guest did not get to the end of the suite" \
			"$(vm_results_json_state "$FIX/results-pass.log")" &&
		printf '%s\n' "$VM_MARK rc 0" "$VM_MARK json-none" >"$T/jn" &&
		eq "the guest's run_tests.sh wrote none (no --json?)" "$(vm_results_json_state "$T/jn")" &&
		printf '%s\n' "$VM_MARK json-begin" "$VM_MARK json {}" "$VM_MARK json-end 2" >"$T/jn" &&
		! vm_results_json "$T/jn" >/dev/null &&
		eq "the guest sent 2 lines, 1 arrived" "$(vm_results_json_state "$T/jn")"
}
ok "JSON Lines: none sent, none written, a count that does not match" json_none
json_tap() {
	vm_results_suite "$FIX/results-json.log" >"$T/s" &&
		! grep -q -e '@@pinsuite' -e '"type"' "$T/s" &&
		eq "TAP version 13" "$(head -n 1 "$T/s")" &&
		eq "# pinsuite cases: pass:3 fail:2 xfail:0 skip:1" "$(tail -n 1 "$T/s")" &&
		eq "" "$(vm_results_dmesg "$FIX/results-json.log" | grep '"type"')" &&
		eq 1 "$(vm_results_field "$FIX/results-json.log" rc)"
}
ok "the JSON Lines stay out of the suite's TAP, the dmesg and the control fields" json_tap
# The guest's side: init.sh's sending code under busybox sh, back through
# the host's parser, gives the guest's file unchanged.
guest_json() {
	local code
	code=$(sed -n '/^# The JSON Lines, one control line each/,/^fi$/p' "$REPO/vm/init.sh")
	[ -n "$code" ] || { echo "no JSON sending code in vm/init.sh"; return 1; }
	vm_results_json "$FIX/results-json.log" >"$T/guest.json"
	printf '\n  \n' >>"$T/guest.json"	# blank lines are not records
	busybox sh -c "MARK='$VM_MARK'; JSON='$T/guest.json'; ctl() { echo \"\$MARK \$*\" >&3; }
$code" 3>"$T/chan" || return 1
	vm_results_json "$T/chan" >"$T/back.json" || { cat "$T/chan"; return 1; }
	vm_results_json "$FIX/results-json.log" | cmp - "$T/back.json" &&
		eq "$VM_MARK json-begin" "$(head -n 1 "$T/chan")" &&
		eq "$VM_MARK json-end 10" "$(tail -n 1 "$T/chan")" &&
		busybox sh -c "MARK='$VM_MARK'; JSON=; ctl() { echo \"\$MARK \$*\" >&3; }
$code" 3>"$T/chan" && eq "$VM_MARK json-none" "$(cat "$T/chan")"
}
if have busybox; then
	ok "init.sh sends its JSON Lines framed; the host gets them back unchanged" guest_json
else
	skip "init.sh sends its JSON Lines framed" "no busybox"
fi

# ---------------------------------------------------------------------------
# CI expectations: tools/pinsuite-report expect over JSON results

REPORT=$REPO/tools/pinsuite-report
EXP=$FIX/expectations
expect() { # KERNEL JSON [EXPECTATIONS]: its output in $T/e, its status in ERC
	python3 "$REPORT" expect "${3:-$EXP}" "$1" "$2" >"$T/e" 2>&1
	ERC=$?
}
# JSON of the fixture run with CHANGE applied (a sed script).
jvariant() { # CHANGE OUT
	vm_results_json "$FIX/results-json.log" | sed -e "$1" >"$2"
}
if have python3; then
	vm_results_json "$FIX/results-json.log" >"$T/r.json"
	vm_results_json "$FIX/results-json-pass.log" >"$T/p.json"
	exp_clean() {
		expect clean "$T/p.json" && eq 0 "$ERC" &&
			grep -qx '# expectations of clean met' "$T/e" &&
			expect clean "$T/r.json" && eq 1 "$ERC" &&
			grep -q '^# unexpected failure: Longterm R/O pin is reliable: GUP, write after pin, memfd with 2048 kB shmem folios (MAP_PRIVATE) \[cow\]: fail: the pin never returned: 120000 faults in 5 s (HINT: kernel may lack "mm: do not install PMD mappings' "$T/e" &&
			eq 2 "$(grep -c '^# unexpected failure: ' "$T/e")" &&
			grep -qx '# expectations of clean NOT met: 0 missing items, 2 unexpected failures' "$T/e"
	}
	ok "expect: a kernel without rules passes only with no failure at all, each one named" exp_clean
	exp_nosection() {
		expect not-in-the-file "$T/r.json" && eq 1 "$ERC" &&
			grep -q '^# not-in-the-file has no section in ' "$T/e" &&
			expect not-in-the-file "$T/p.json" && eq 0 "$ERC"
	}
	ok "expect: a kernel the file does not name is judged as one without rules" exp_nosection
	exp_mustfail() {
		expect pmdbug "$T/r.json" && eq 0 "$ERC" &&
			grep -qF '# matched: must-fail access=R/O backing=memfd with 2048 kB shmem folios (MAP_PRIVATE) hint~do not install PMD mappings: all 2 ran cases failed, each with the hint' "$T/e" &&
			eq 2 "$(grep -c '^#   failed as expected: ' "$T/e")" &&
			expect pmdbug-too "$T/r.json" && eq 0 "$ERC"
	}
	ok "expect: must-fail met: every R/O case of the backing failed, with the hint" exp_mustfail
	exp_mustfail_pass() {
		# The VFIO R/O case passes: the rule wants every one of them.
		jvariant '/"num":1,"name":"Longterm R\/O pin is reliable: VFIO/s/"verdict":"fail"/"verdict":"pass"/
			/"type":"totals","binary":"vfio_pin"/s/"pass":1,"fail":1/"pass":2,"fail":0/' "$T/v.json"
		expect pmdbug "$T/v.json" && eq 1 "$ERC" &&
			grep -qF '# MISSING: must-fail access=R/O backing=memfd with 2048 kB shmem folios (MAP_PRIVATE) hint~do not install PMD mappings: 1 of 2 ran cases failed as expected (0 skipped)' "$T/e" &&
			grep -q '^#   Longterm R/O pin is reliable: VFIO type1 DMA read, .*\[vfio_pin\] did not fail: pass' "$T/e" &&
			grep -qx '# expectations of pmdbug NOT met: 1 missing item, 0 unexpected failures' "$T/e"
	}
	ok "expect: must-fail not met when one matching case passes" exp_mustfail_pass
	exp_mustfail_hint() {
		jvariant '/"num":2,"name":"Longterm R\/O pin is reliable: GUP,/s/do not install PMD mappings/something else/' "$T/v.json"
		expect pmdbug "$T/v.json" && eq 1 "$ERC" &&
			grep -q '^#   Longterm R/O pin is reliable: GUP, .*\[cow\] failed without the hint hint~do not install PMD mappings (HINT: kernel may lack "mm: something else' "$T/e"
	}
	ok "expect: must-fail not met when a case fails without the hint" exp_mustfail_hint
	exp_mustfail_skip() {
		jvariant '/"backing":"memfd with 2048 kB shmem folios (MAP_PRIVATE)"/s/"verdict":"[a-z]*"/"verdict":"skip"/
			/"type":"totals","binary":"cow"/s/"pass":2,"fail":1,"xfail":0,"xpass":0,"skip":0/"pass":1,"fail":0,"xfail":0,"xpass":0,"skip":2/
			/"type":"totals","binary":"vfio_pin"/s/"pass":1,"fail":1,"xfail":0,"xpass":0,"skip":1/"pass":0,"fail":0,"xfail":0,"xpass":0,"skip":3/' "$T/v.json"
		expect pmdbug "$T/v.json" && eq 1 "$ERC" &&
			grep -qF '# MISSING: must-fail access=R/O backing=memfd with 2048 kB shmem folios (MAP_PRIVATE) hint~do not install PMD mappings: all 2 matching cases skipped' "$T/e" &&
			expect pmdbug "$T/p.json" && eq 1 "$ERC"
	}
	ok "expect: must-fail not met when every matching case skipped, or none failed" exp_mustfail_skip
	exp_mustfail_rw() {
		# A R/W pin of that backing fails: not covered by the R/O rule.
		jvariant '/"access":"R\/W"/s/"verdict":"pass"/"verdict":"fail"/
			/"type":"totals","binary":"vfio_pin"/s/"pass":1,"fail":1/"pass":0,"fail":2/' "$T/v.json"
		expect pmdbug "$T/v.json" && eq 1 "$ERC" &&
			grep -q '^# unexpected failure: Longterm R/W pin is reliable: VFIO type1 DMA write, write after pin, memfd with 2048 kB shmem folios (MAP_PRIVATE) \[vfio_pin\]: fail$' "$T/e"
	}
	ok "expect: a R/W failure on the must-fail backing is unexpected" exp_mustfail_rw
	exp_mayfail() {
		expect revert "$T/r.json" && eq 0 "$ERC" &&
			grep -q '^# matched: must-fail-name Longterm R/O pin is reliable: GUP, write after pin, memfd with 2048 kB shmem folios (MAP_PRIVATE) hint~PMD mappings: failed, with the hint$' "$T/e" &&
			grep -q '^# matched: may-fail access=R/O .*: 2 failures allowed (2 ran, 1 skipped)$' "$T/e" &&
			jvariant '/"backing":"anon base page"/s/"verdict":"pass"/"verdict":"fail"/
				/"type":"totals","binary":"cow"/s/"pass":2,"fail":1/"pass":1,"fail":2/' "$T/v.json" &&
			expect revert "$T/v.json" && eq 1 "$ERC" &&
			grep -q '^# unexpected failure: Longterm R/O pin is reliable: GUP, write after pin, anon base page \[cow\]' "$T/e"
	}
	ok "expect: may-fail allows its failures; anon memory outside it may not fail" exp_mayfail
	exp_byname() {
		expect byname "$T/r.json" && eq 1 "$ERC" &&
			grep -q '^# MISSING: must-fail-name Longterm R/O pin is reliable: VFIO type1 DMA read, write after pin, shared zeropage: all 1 matching cases skipped$' "$T/e" &&
			jvariant 's/"name":"Longterm R\/O pin is reliable: GUP, write after pin, anon base page"/"name":"renamed"/' "$T/v.json" &&
			expect revert "$T/v.json" && eq 0 "$ERC" &&
			printf '%s\n' 'kernel k' 'must-fail-name no such case' >"$T/exp" &&
			expect k "$T/r.json" "$T/exp" && eq 1 "$ERC" &&
			grep -q '^# MISSING: must-fail-name no such case: no such case$' "$T/e"
	}
	ok "expect: must-fail-name wants that case to have run and failed" exp_byname
	exp_quick() {
		# A --quick run lacks the named case; another case shows its hint.
		printf '%s\n' 'kernel q' \
			'must-fail-name Longterm R/O pin is reliable: GUP-fast, not in the profile hint~PMD mappings' \
			'must-fail-name Longterm R/O pin is reliable: GUP, write after pin, memfd with 2048 kB shmem folios (MAP_PRIVATE) hint~PMD mappings' \
			'may-fail access=R/O backing~(shared zeropage|huge zeropage|\(MAP_PRIVATE\))$' >"$T/exp" &&
			expect q "$T/r.json" "$T/exp" && eq 1 "$ERC" &&
			grep -q '^# MISSING: must-fail-name Longterm R/O pin is reliable: GUP-fast, not in the profile hint~PMD mappings: no such case$' "$T/e" &&
			python3 "$REPORT" expect --quick "$T/exp" q "$T/r.json" >"$T/e" 2>&1 &&
			grep -q '^# matched (quick): must-fail-name Longterm R/O pin is reliable: GUP-fast, not in the profile hint~PMD mappings: not in the quick profile; 2 other cases failed with the hint$' "$T/e" &&
			sed -i 's/hint~PMD mappings$/hint~no such fix/' "$T/exp" &&
			! python3 "$REPORT" expect --quick "$T/exp" q "$T/r.json" >"$T/e" 2>&1 &&
			grep -q '^# MISSING: must-fail-name Longterm R/O pin is reliable: GUP-fast, not in the profile hint~no such fix: no such case$' "$T/e"
	}
	ok "expect --quick: a rule whose case is not in the profile holds when another case failed with its hint" exp_quick
	exp_unfinished() {
		jvariant '/"type":"totals","binary":"vfio_pin"/d' "$T/v.json"
		expect pmdbug "$T/v.json" && eq 1 "$ERC" &&
			grep -q '^# MISSING: the suite did not run to its end: vfio_pin: no totals record' "$T/e" &&
			jvariant '/"type":"case","binary":"cow","num":1,/d' "$T/v.json" &&
			expect pmdbug "$T/v.json" && eq 1 "$ERC" &&
			grep -q '^# MISSING: the results are not whole: cow: its totals record says pass:2 ' "$T/e" &&
			vm_results_json "$FIX/results-json-cut.log" >"$T/v.json"
		expect clean "$T/v.json" && eq 1 "$ERC" &&
			grep -q '^# MISSING: the suite did not run to its end: cow: no totals record' "$T/e"
	}
	ok "expect: a binary without its totals record did not run to its end" exp_unfinished
	exp_tap() {
		vm_results_suite "$FIX/results-json.log" >"$T/r.tap"
		expect clean "$T/r.tap" && eq 1 "$ERC" &&
			grep -q '^# the input is TAP, not JSON' "$T/e" &&
			eq 2 "$(grep -c '^# unexpected failure: ' "$T/e")"
	}
	ok "expect: TAP input (a guest that died before its JSON): failures still named" exp_tap
	exp_bad() {
		local f bad=0
		for f in 'kernel' 'must-fail access=R/O' $'kernel k\nfail-sometimes access=R/O' \
			$'kernel k\nmust-fail colour=red' $'kernel k\nmust-fail backing~(' \
			$'kernel k\nmay-fail R/O' $'kernel k\nmust-fail hint~x' $'kernel k\nmust-fail access='; do
			printf '%s\n' "$f" >"$T/exp"
			python3 "$REPORT" expect "$T/exp" k "$T/r.json" >"$T/e" 2>&1
			if [ $? != 2 ] || ! grep -q "$T/exp:[0-9]" "$T/e"; then
				echo "accepted: $f"
				cat "$T/e"
				bad=1
			fi
		done
		python3 "$REPORT" expect "$EXP" >/dev/null 2>&1
		[ $? = 2 ] || bad=1
		return "$bad"
	}
	ok "expect: a bad expectations file or command line is exit 2, naming the line" exp_bad
	# The real file: it parses, and its kernels are exactly those of vm/ci.sh.
	exp_real() {
		local file ci
		file=$(python3 "$REPORT" expect --kernels "$REPO/vm/expectations" | cut -f1 | sort | tr '\n' ' ') || return 1
		ci=$(sed -n '/^KERNELS=(/,/^)/s/^[[:space:]]*"\([^|]*\)|.*/\1/p' "$REPO/vm/ci.sh" | sort | tr '\n' ' ')
		python3 "$REPORT" expect --kernels "$REPO/vm/expectations" >"$T/k" || return 1
		# pmdfix tolerates nothing: its rules may only require failures.
		eq "$ci" "$file" && grep -qx $'pmdfix-mock\t0' "$T/k" &&
			! awk '/^kernel /{ on = / pmdfix( |$)/ } on && /^may-fail /' "$REPO/vm/expectations" | grep . >/dev/null &&
			expect pintest-6.12 "$T/r.json" "$REPO/vm/expectations" && eq 0 "$ERC" &&
			expect pmdfix "$T/r.json" "$REPO/vm/expectations" && eq 1 "$ERC"
	}
	ok "vm/expectations parses and has a section for each vm/ci.sh kernel, no other" exp_real
	exp_names() {
		# Every must-fail-name of vm/expectations is a case of the suite.
		local n missing=0 list
		list=$(PINSUITE_IN_VM=1 OUTPUT=$BINDIR "$REPO/run_tests.sh" -l 2>/dev/null)
		[ -n "$list" ] || { echo "run_tests.sh -l listed nothing"; return 1; }
		while IFS= read -r n; do
			grep -qxF -- "$n" <<<"$list" || { echo "no such case: $n"; missing=1; }
		done < <(sed -n 's/^must-fail-name \(.*\) hint[=~].*/\1/p; t; s/^must-fail-name //p' "$REPO/vm/expectations")
		return "$missing"
	}
	BINDIR=${OUTPUT:-$REPO}
	if [ -x "$BINDIR/cow" ] && [ -x "$BINDIR/gup_longterm" ] && [ -x "$BINDIR/vfio_pin" ] &&
		[ -x "$BINDIR/iouring_pin" ]; then
		ok "every must-fail-name in vm/expectations names a case the binaries list" exp_names
	else
		skip "every must-fail-name in vm/expectations names a case the binaries list" "binaries not built"
	fi
else
	for i in $(seq 14); do
		skip "CI expectations $i" "no python3"
	done
fi

# ---------------------------------------------------------------------------
# dmesg scanning and taint

win() {
	vm_results_dmesg "$FIX/results-pass.log" | vm_dmesg_window >"$T/w" &&
		eq "[    3.851597] pinsuite-vm: suite start" "$(head -n 1 "$T/w")" &&
		! vm_dmesg_first_bad <"$T/w"
}
ok "a boot-time WARN before the suite starts is outside the window" win
shown() {
	vm_results_dmesg "$FIX/results-pass.log" | vm_dmesg_window | vm_dmesg_show >"$T/sh"
	eq 3 "$(wc -l <"$T/sh")" && grep -q '^# dmesg: .*RLIMIT_MEMLOCK' "$T/sh" &&
		grep -q '^# dmesg: .*PTE Write access is not set' "$T/sh"
}
ok "DMAR faults and RLIMIT_MEMLOCK are shown but are not failures" shown
warn() {
	eq "[    5.231100] WARNING: CPU: 1 PID: 201 at mm/gup.c:2297 __get_user_pages_locked+0x5e/0x4a0" \
		"$(vm_results_dmesg "$FIX/results-taint.log" | vm_dmesg_window | vm_dmesg_first_bad)"
}
ok "a WARN during the suite is found" warn
oops() {
	eq "[    4.100000] BUG: kernel NULL pointer dereference, address: 0000000000000008" \
		"$(vm_dmesg_window <"$FIX/console-crash.log" | vm_dmesg_first_bad)"
}
ok "an Oops on the console is found" oops
ok "a boot panic counts when the suite never started" eval \
	'vm_dmesg_window <"$FIX/console-noboot.log" | vm_dmesg_first_bad | grep "Kernel panic" >/dev/null'
ok "taint letters" eq "W(9,WARN) E(13,UNSIGNED_MODULE)" "$(vm_taint_letters 8704)"
ok "taint: only new bits count" eq 8192 "$(vm_taint_new 512 8704)"
ok "taint: nothing new" eq 0 "$(vm_taint_new 8704 8704)"

# ---------------------------------------------------------------------------
# Case selection (--case) and verdicts

cases() {
	vm_results_suite "$FIX/results-fail.log" | vm_cases >"$T/c"
	eq 3 "$(wc -l <"$T/c")" &&
		eq "not ok Longterm R/O pin is reliable: VFIO type1, write after pin, shared zeropage" "$(head -n 1 "$T/c")"
}
ok "case results from the nested TAP" cases
skipcase() {
	vm_results_suite "$FIX/results-pass.log" | vm_cases >"$T/c2"
	grep -qx 'skip All pins released: gup_test' "$T/c2" &&
		grep -qx 'ok Longterm pin outcome as expected: io_uring fixed buffer registration, vmsplice of hugetlb' "$T/c2"
}
ok "SKIP and XFAIL directives are recognised" skipcase
verdict() { # REGEX FIXTURE EXPECTED
	local rc
	vm_results_suite "$FIX/$2" | vm_cases | vm_case_verdict "$1"
	rc=$?
	eq "$3" "$rc"
}
ok "--case: a matching case failed -> 1" verdict 'VFIO.*shared zeropage' results-fail.log 1
ok "--case: matching cases passed -> 0" verdict 'anon base page' results-fail.log 0
ok "--case: only skipped matches -> 4" verdict 'All pins released' results-pass.log 4
ok "--case: no match -> 4" verdict 'no such case' results-pass.log 4

state() { eq "$3" "$(vm_run_state "$1" "$2")"; }
ok "run state: finished" state "$FIX/results-pass.log" 0 'done'
ok "run state: guest died mid-suite" state "$FIX/results-crash.log" 0 crashed
ok "run state: timeout after results" state "$FIX/results-crash.log" 124 timeout
ok "run state: timeout before any result" state "$FIX/results-hang.log" 124 noresult
: >"$T/empty.log"
ok "run state: no boot, no output at all -> environment" state "$T/empty.log" 0 envboot
ok "run state: stopped before /init, no output -> environment" state "$T/empty.log" 143 envboot
ok "run state: panic before the suite -> kernel" \
	eq noboot "$(vm_run_state "$T/empty.log" 0 "$FIX/console-noboot.log")"
ok "run state: the IO-APIC timer panic is the environment's, though a panic" \
	eq envboot "$(vm_run_state "$T/empty.log" 0 "$FIX/console-timer.log")"
ok "run state: QEMU exit 1 with an empty console -> QEMU failed" \
	eq qemufail "$(vm_run_state "$T/empty.log" 1 "$T/empty.log")"
ok "run state: QEMU exit 1 after a kernel panic -> kernel" \
	eq noboot "$(vm_run_state "$T/empty.log" 1 "$FIX/console-noboot.log")"
ok "run state: stopped by run.sh (143) after results -> timeout" state "$FIX/results-crash.log" 143 timeout
retry_states() {
	local s
	for s in noboot envboot qemufail; do
		vm_state_retry "$s" || { echo "$s not retried"; return 1; }
	done
	for s in 'done' crashed timeout noresult prepfail; do
		! vm_state_retry "$s" || { echo "$s retried"; return 1; }
	done
}
ok "only a guest that never started the suite is retried" retry_states
reasons() {
	printf 'qemu-system-x86_64: -accel kvm: failed to initialize kvm: No such file or directory\n' >"$T/qerr"
	vm_boot_reason qemufail 1 "$T/empty.log" "$T/qerr" | grep -x 'QEMU failed to start (exit 1: qemu-system-x86_64: -accel kvm: failed to initialize kvm: No such file or directory)' >/dev/null &&
		vm_boot_reason envboot 0 "$FIX/console-timer.log" /dev/null | grep "timer check failed.*: \[    0.021000\] Kernel panic - not syncing: timer doesn't work" >/dev/null &&
		vm_boot_reason noboot 0 "$FIX/console-noboot.log" /dev/null | grep 'crashed before the suite started: .*No working init found' >/dev/null &&
		vm_boot_reason envboot 143 "$T/empty.log" /dev/null 120 | grep -x 'the guest did not reach /init within 120s and printed no kernel error' >/dev/null &&
		vm_boot_reason envboot 0 "$T/empty.log" /dev/null | grep -x 'no output at all from the guest (QEMU exit 0)' >/dev/null
}
ok "reasons for a guest that never started the suite" reasons

exitmap() {
	local bad=0 s r t b e got
	# state suite_rc tainted bisect expected
	while read -r s r t b e; do
		got=$(vm_exit_code "$s" "$r" "$t" "$b")
		[ "$got" = "$e" ] || { echo "vm_exit_code $s $r $t $b: $got, want $e"; bad=1; }
	done <<'EOF'
done 0 0 0 0
done 1 0 0 1
done 4 0 0 4
done 0 1 0 1
done 4 1 0 1
done 0 0 1 0
done 1 0 1 1
done 4 0 1 125
done 0 1 1 1
done 2 0 1 1
crashed - 1 0 1
crashed - 1 1 1
timeout - 0 1 1
noresult - 0 0 1
noresult - 0 1 125
noboot - 0 0 1
noboot - 0 1 125
envboot - 0 0 3
envboot - 1 1 125
qemufail - 0 0 3
qemufail - 0 1 125
prepfail - 0 0 3
prepfail - 0 1 125
buildfail - 0 1 125
noconfig - 0 1 125
EOF
	return "$bad"
}
ok "exit-code mapping, normal and --bisect" exitmap
bootbad() {
	eq 1 "$(vm_exit_code noboot - 1 1 1)" && eq 1 "$(vm_exit_code noboot - 0 0 1)" &&
		eq 125 "$(vm_exit_code envboot - 0 1 1)" && eq 125 "$(vm_exit_code qemufail - 0 1 1)" &&
		eq 125 "$(vm_exit_code noresult - 0 1 1)"
}
ok "--boot-crash-bad makes only a kernel crash before the suite bad" bootbad
never_abort() {
	local s r t
	for s in 'done' crashed timeout noresult noboot envboot qemufail prepfail buildfail noconfig weird; do
		for r in 0 1 2 4 127 255; do
			for t in 0 1; do
				e=$(vm_exit_code "$s" "$r" "$t" 1 "$t")
				case $e in 0 | 1 | 125) ;; *) echo "$s $r $t -> $e"; return 1 ;; esac
			done
		done
	done
}
ok "--bisect only ever exits 0, 1 or 125" never_abort

# ---------------------------------------------------------------------------
# Whole vm/run.sh runs against a fake QEMU replaying fixtures

cat >"$T/fake-qemu" <<'EOF'
#!/bin/bash
# Stands in for qemu-system-x86_64.  A KVM probe boot (its initrd is
# kvm-probe/probe.cpio) does what $FAKE_KVM says: "ok" prints the marker the
# probe's /init would print, "hang" never ends, anything else exits 1.
# Every other call N (counted in $FAKE_OUT/calls) writes $FAKE_RESULTS into
# the results chardev file, $FAKE_CONSOLE into the console file and
# $FAKE_STDERR to stderr, hangs when $FAKE_HANG is 1, and exits with
# $FAKE_RC; FAKE_<NAME>_<N> overrides FAKE_<NAME> for call N.  It records its
# arguments (args, args.N) and the initramfs listing.
res= con= initrd= kvm=0
prev=
for a in "$@"; do
	case $a in
	file,id=results,path=*) res=${a#*path=}; res=${res%%,*} ;;
	file:*) [ "$prev" = -serial ] && con=${a#file:} ;;
	kvm) [ "$prev" = -accel ] && kvm=1 ;;
	esac
	[ "$prev" = -initrd ] && initrd=$a
	prev=$a
done
if [ "$kvm" = 1 ] && [[ $initrd == */kvm-probe/probe.cpio ]]; then
	echo x >>"$FAKE_OUT/probes"
	case ${FAKE_KVM:-fail} in
	ok)
		cpio -i --quiet --to-stdout init <"$initrd" |
			sed -n 's/.* echo \([^ ]*\) >\/dev\/ttyS0$/\1/p' >>"$con"
		exit 0
		;;
	hang) exec sleep 60 ;;
	*) echo "qemu-system-x86_64: fake KVM failure" >&2; exit 1 ;;
	esac
fi
echo x >>"$FAKE_OUT/calls"
n=$(wc -l <"$FAKE_OUT/calls")
pick() { local v="FAKE_$1_$n" d="FAKE_$1"; printf '%s' "${!v-${!d:-}}"; }
printf '%s\n' "$@" >"$FAKE_OUT/args"
cp "$FAKE_OUT/args" "$FAKE_OUT/args.$n"
cpio -it --quiet <"$initrd" >"$FAKE_OUT/initrd.list" 2>/dev/null
cp "$initrd" "$FAKE_OUT/initrd.cpio"
f=$(pick CONSOLE); [ -z "$f" ] || cat "$f" >>"$con"
f=$(pick RESULTS); [ -z "$f" ] || cat "$f" >>"$res"
f=$(pick STDERR); [ -z "$f" ] || echo "$f" >&2
[ "$(pick HANG)" != 1 ] || exec sleep 60
exit "$(pick RC)"
EOF
chmod +x "$T/fake-qemu"
mkdir -p "$T/suite" "$T/fake"
printf '#!/bin/sh\necho stub\n' >"$T/suite/run_tests.sh"
chmod +x "$T/suite/run_tests.sh"
printf '%s\n' CONFIG_BLK_DEV_INITRD=y CONFIG_SERIAL_8250=y CONFIG_VIRTIO_CONSOLE=y \
	CONFIG_ZRAM=y CONFIG_VFIO=y >"$T/config-6.99.0-fake"

# fake_run RESULTS CONSOLE QEMU_RC run.sh-args...: sets RC, output in
# $T/run.out, QEMU calls in CALLS and KVM probe boots in PROBES.  No KVM
# device unless the caller sets PINSUITE_KVM_DEV.
fake_run() {
	local res=$1 con=$2 qrc=$3
	shift 3
	rm -f "$T/fake/calls" "$T/fake/probes" "$T/fake"/args.*
	FAKE_RESULTS=$res FAKE_CONSOLE=$con FAKE_RC=$qrc FAKE_OUT=$T/fake QEMU=$T/fake-qemu \
		PINSUITE_KVM_DEV=${PINSUITE_KVM_DEV:-$T/no-kvm} PINSUITE_CACHE=${PINSUITE_CACHE:-$T/cache} \
		"$RUN" --suite "$T/suite" --timeout 30 "$@" >"$T/run.out" 2>"$T/run.err"
	RC=$?
	CALLS=$( (wc -l <"$T/fake/calls") 2>/dev/null || echo 0)
	PROBES=$( (wc -l <"$T/fake/probes") 2>/dev/null || echo 0)
}
can_e2e=1
for c in busybox cpio mkfs.ext4 mkfs.xfs timeout; do
	have "$c" || PATH=$PATH:/usr/sbin:/sbin have "$c" || can_e2e=0
done
if [ "$can_e2e" = 1 ]; then
	e2e_pass() {
		fake_run "$FIX/results-pass.log" "" 0 "$T/bzImage-6.99.0-fake" -- -t gup_longterm
		eq 0 "$RC" || { cat "$T/run.err"; return 1; }
		grep -qx 'TAP version 13' "$T/run.out" && grep -qx '1..2' "$T/run.out" &&
			grep -q '^# pinsuite-vm: kernel 6.99.0-fake ' "$T/run.out" &&
			grep -qx '# # ok 1 Longterm R/O pin is reliable: GUP-fast, write after pin, shared zeropage' "$T/run.out" &&
			grep -qx 'ok 1 6.99.0-fake: pinsuite' "$T/run.out" &&
			grep -qx 'ok 2 6.99.0-fake: Kernel stays untainted' "$T/run.out" &&
			grep -q '^# dmesg: .*RLIMIT_MEMLOCK' "$T/run.out" &&
			grep -q '^# vm: swap: zram0' "$T/run.out" &&
			grep -q '^# timing: prepare' "$T/run.out"
	}
	ok "run.sh end to end: passing suite -> TAP nested under the release, exit 0" e2e_pass
	e2e_bench() {
		FAKE_RESULTS=$FIX/results-pass.log FAKE_RC=0 FAKE_OUT=$T/fake QEMU=$T/fake-qemu \
			PINSUITE_KVM_DEV=$T/no-kvm PINSUITE_CACHE=$T/cache \
			"$REPO/vm/bench.sh" --suite "$T/suite" --timeout 30 "$T/bzImage-6.99.0-fake" \
			-- -t gup_longterm >"$T/bench.out" 2>&1 || return 1
		if grep -Eq '^total +[0-9.]+ s$' "$T/bench.out" &&
			grep -qx '# the 20 slowest of 2 cases (seconds, share of the sum of case times):' "$T/bench.out" &&
			grep -Eq '^#   +[0-9.]+ +[0-9.]+% gup_longterm: Longterm R/O pin is reliable: GUP-fast, write after pin, shared zeropage$' "$T/bench.out" &&
			grep -Eq '^# 1 GiB hugetlb cases: 0, 0.0 s \([0-9]+%\); all others: 2, ' "$T/bench.out"; then
			return 0
		fi
		cat "$T/bench.out"
		return 1
	}
	ok "bench.sh: phases, the slowest cases with their share, the 1 GiB cases" e2e_bench
	e2e_qemu() {
		grep -qx -- '-device' "$T/fake/args" && grep -qx 'edu' "$T/fake/args" &&
			grep -qx 'intel-iommu,intremap=on' "$T/fake/args" &&
			grep -qx -- '-no-reboot' "$T/fake/args" &&
			grep -q '^node,nodeid=1' "$T/fake/args" &&
			grep -q 'hugepagesz=1G hugepages=3 default_hugepagesz=2M' "$T/fake/args" &&
			grep -q 'virtio-blk-pci,drive=xfs,serial=pinsuite-xfs' "$T/fake/args" &&
			grep -qx 'virtconsole,chardev=results' "$T/fake/args" &&
			grep -q 'panic=-1 quiet loglevel=5 no_timer_check' "$T/fake/args" &&
			grep -qx 'tcg,thread=multi' "$T/fake/args" &&
			! grep -q 'oops=panic' "$T/fake/args" &&
			grep -qx 'init' "$T/fake/initrd.list" && grep -qx 'bin/busybox' "$T/fake/initrd.list" &&
			grep -qx 'opt/pinsuite/run_tests.sh' "$T/fake/initrd.list" &&
			grep -qx 'boot/config-pinsuite' "$T/fake/initrd.list"
	}
	ok "QEMU command line and initramfs contents" e2e_qemu
	e2e_args() {
		mkdir -p "$T/x" && (cd "$T/x" && cpio -id --quiet etc/pinsuite/vm.conf <"$T/fake/initrd.cpio") &&
			grep -qx "set -- '-t' 'gup_longterm'" "$T/x/etc/pinsuite/vm.conf"
	}
	ok "run_tests.sh arguments handed to the guest" e2e_args
	fake_run "$FIX/results-fail.log" "" 0 "$T/bzImage-6.99.0-fake"
	ok "end to end: failing case -> not ok 1, exit 1" eval \
		'eq 1 "$RC" && grep -qx "not ok 1 6.99.0-fake: pinsuite" "$T/run.out"'
	fake_run "$FIX/results-fail.log" "" 0 --case 'anon base page' --bisect "$T/bzImage-6.99.0-fake"
	ok "end to end: --bisect --case on a passing case -> 0" eq 0 "$RC"
	fake_run "$FIX/results-taint.log" "" 0 "$T/bzImage-6.99.0-fake"
	e2e_taint() {
		eq 1 "$RC" && grep -qx 'ok 1 6.99.0-fake: pinsuite' "$T/run.out" &&
			grep -qx 'not ok 2 6.99.0-fake: Kernel stays untainted' "$T/run.out" &&
			grep -q '^# taint: 0 -> 512 during the suite; new: W(9,WARN)' "$T/run.out" &&
			grep -q '^# first bad kernel message: .*WARNING: CPU: 1 PID: 201' "$T/run.out"
	}
	ok "end to end: WARN and taint during the suite -> not ok 2, exit 1" e2e_taint
	fake_run "$FIX/results-taint.log" "" 0 --ignore-taint "$T/bzImage-6.99.0-fake"
	ok "end to end: --ignore-taint reports but does not count" eval \
		'eq 0 "$RC" && grep -qx "not ok 2 6.99.0-fake: Kernel stays untainted" "$T/run.out"'
	fake_run "$FIX/results-crash.log" "$FIX/console-crash.log" 0 --bisect "$T/bzImage-6.99.0-fake"
	ok "end to end: Oops mid-suite -> bad (1) for --bisect" eval \
		'eq 1 "$RC" && grep -q "^# console: .*Oops" "$T/run.out" && grep -qx "not ok 2 6.99.0-fake: Kernel stays untainted" "$T/run.out"'
	fake_run "" "$FIX/console-noboot.log" 0 --bisect "$T/bzImage-6.99.0-fake"
	ok "end to end: no boot -> 125 for --bisect" eq 125 "$RC"
	fake_run "" "$FIX/console-noboot.log" 0 "$T/bzImage-6.99.0-fake"
	ok "end to end: no boot -> 1 without --bisect" eq 1 "$RC"
	e2e_panic_twice() {
		eq 2 "$CALLS" && grep -q '^# vm: boot 1 (tcg, .*): the kernel crashed before the suite started: .*No working init found.*; retrying once$' "$T/run.out" &&
			grep -q '^# vm: kernel failure: the kernel crashed before the suite started: .*; retried once, boot 1 (tcg, [0-9.]*s) ended the same way$' "$T/run.out" &&
			grep -qx 'not ok 1 6.99.0-fake: pinsuite' "$T/run.out" && ! grep -q '^Bail out!' "$T/run.out"
	}
	ok "end to end: a panic before the suite on both boots -> kernel failure, retry reported" e2e_panic_twice
	fake_run "" "$FIX/console-noboot.log" 0 --bisect --boot-crash-bad "$T/bzImage-6.99.0-fake"
	ok "end to end: --bisect --boot-crash-bad: a panic before the suite -> bad (1)" eq 1 "$RC"

	# A boot that never reaches the suite, then one that does.
	FAKE_CONSOLE_1=$FIX/console-timer.log FAKE_RESULTS_1='' \
		fake_run "$FIX/results-pass.log" "" 0 "$T/bzImage-6.99.0-fake"
	e2e_retry_ok() {
		eq 0 "$RC" && eq 2 "$CALLS" &&
			grep -q "^# vm: boot 1 (tcg, [0-9.]*s): the early-boot timer check failed.*; retrying once$" "$T/run.out" &&
			grep -q '^# console 1: .*setup_IO_APIC' "$T/run.out" &&
			grep -q '^# vm: boot 2 reached the suite; retried once after boot 1 (tcg, [0-9.]*s): the early-boot timer check failed' "$T/run.out" &&
			grep -qx 'ok 1 6.99.0-fake: pinsuite' "$T/run.out" &&
			grep -qx 'ok 2 6.99.0-fake: Kernel stays untainted' "$T/run.out"
	}
	ok "end to end: no suite on boot 1, suite on boot 2 -> exit 0, retry reported" e2e_retry_ok

	fake_run "" "$FIX/console-timer.log" 0 "$T/bzImage-6.99.0-fake"
	e2e_timer() {
		eq 3 "$RC" && eq 2 "$CALLS" &&
			grep -q "^# vm: environment failure, not the kernel's: the early-boot timer check failed.*; retried once, boot 1 (tcg, [0-9.]*s) ended the same way$" "$T/run.out" &&
			grep -q "^Bail out! could not test: the early-boot timer check failed" "$T/run.out" &&
			! grep -q '^not ok' "$T/run.out" && grep -q '^# timing: ' "$T/run.out"
	}
	ok "end to end: IO-APIC timer panic on both boots -> could not test (3), Bail out!" e2e_timer
	fake_run "" "$FIX/console-timer.log" 0 --bisect "$T/bzImage-6.99.0-fake"
	ok "end to end: IO-APIC timer panic on both boots -> 125 for --bisect" eval \
		'eq 125 "$RC" && grep -q "^# bisect: state envboot" "$T/run.out"'

	FAKE_STDERR="qemu-system-x86_64: -device edu: 'edu' is not a valid device model name" \
		fake_run "" "" 1 "$T/bzImage-6.99.0-fake"
	e2e_qemufail() {
		eq 3 "$RC" && eq 2 "$CALLS" &&
			grep -q "^# vm: environment failure, not the kernel's: QEMU failed to start (exit 1: qemu-system-x86_64: -device edu: 'edu' is not a valid device model name); retried once" "$T/run.out" &&
			grep -q '^Bail out! could not test: QEMU failed to start' "$T/run.out"
	}
	ok "end to end: QEMU fails to start -> could not test (3), reason from QEMU" e2e_qemufail
	FAKE_STDERR="qemu-system-x86_64: cannot set up guest memory 'mem1': Cannot allocate memory" \
		fake_run "" "" 1 --bisect --no-retry "$T/bzImage-6.99.0-fake"
	ok "end to end: QEMU fails, --bisect --no-retry -> 125, one boot" eval \
		'eq 125 "$RC" && eq 1 "$CALLS" && grep -q "^# vm: environment failure.*Cannot allocate memory); not retried$" "$T/run.out"'

	fake_run "$FIX/results-crash.log" "$FIX/console-crash.log" 0 "$T/bzImage-6.99.0-fake"
	ok "end to end: crash after results started -> 1, never retried" eval \
		'eq 1 "$RC" && eq 1 "$CALLS" && grep -q "^# vm: kernel failure: the guest died while the suite ran (QEMU exit 0); not retried" "$T/run.out"'

	FAKE_HANG=1 fake_run "" "" 0 --boot-timeout 1 "$T/bzImage-6.99.0-fake"
	ok "end to end: no /init within --boot-timeout, twice -> stopped, could not test (3)" eval \
		'eq 3 "$RC" && eq 2 "$CALLS" && grep -q "^# vm: environment failure, not the kernel.s: the guest did not reach /init within 1s" "$T/run.out"'

	# KVM: the probe, its cache and the fall-back to TCG.
	touch "$T/kvm"
	chmod 600 "$T/kvm"
	t0=$SECONDS
	PINSUITE_KVM_DEV=$T/kvm PINSUITE_KVM_PROBE_TIMEOUT=1 PINSUITE_CACHE=$T/kcache FAKE_KVM=hang \
		fake_run "$FIX/results-pass.log" "" 0 "$T/bzImage-6.99.0-fake"
	e2e_probe_hang() {
		eq 0 "$RC" && eq 1 "$PROBES" && eq 1 "$CALLS" && [ $((SECONDS - t0)) -lt 20 ] &&
			grep -q '^# vm: KVM probe failed (no /init within 1s; probe took [0-9.]*s), using TCG$' "$T/run.out" &&
			grep -qx 'tcg,thread=multi' "$T/fake/args" && ! grep -qx kvm "$T/fake/args" &&
			grep -q '^# timing: prepare [0-9.]*s probe [1-9][0-9.]*s boot' "$T/run.out" &&
			grep -q "	fail	no /init within 1s$" "$T/kcache/kvm-probe"
	}
	ok "end to end: KVM probe hangs -> times out, falls back to TCG, cached" e2e_probe_hang
	PINSUITE_KVM_DEV=$T/kvm PINSUITE_KVM_PROBE_TIMEOUT=1 PINSUITE_CACHE=$T/kcache FAKE_KVM=ok \
		fake_run "$FIX/results-pass.log" "" 0 "$T/bzImage-6.99.0-fake"
	ok "end to end: a cached probe result is used for the same host boot" eval \
		'eq 0 "$RC" && eq 0 "$PROBES" && grep -q "^# vm: KVM probe failed (cached for this host boot: no /init within 1s), using TCG" "$T/run.out" &&
			grep -q "probe 0.0s" "$T/run.out"'
	PINSUITE_KVM_DEV=$T/kvm FAKE_KVM=hang fake_run "$FIX/results-pass.log" "" 0 --tcg "$T/bzImage-6.99.0-fake"
	ok "end to end: --tcg skips the probe" eval \
		'eq 0 "$RC" && eq 0 "$PROBES" && ! grep -q "KVM probe" "$T/run.out" && grep -qx "tcg,thread=multi" "$T/fake/args"'
	PINSUITE_KVM_DEV=$T/kvm PINSUITE_CACHE=$T/kcache2 FAKE_KVM=ok \
		fake_run "$FIX/results-pass.log" "" 0 "$T/bzImage-6.99.0-fake"
	ok "end to end: KVM probe reaches /init -> the run uses KVM" eval \
		'eq 0 "$RC" && eq 1 "$PROBES" && grep -q "^# vm: KVM probe succeeded (reached /init in [0-9.]*s), using KVM" "$T/run.out" &&
			grep -qx kvm "$T/fake/args" && grep -qx host "$T/fake/args" && grep -q "^# pinsuite-vm: kernel .*); kvm, 2 vCPUs" "$T/run.out"'
	PINSUITE_KVM_DEV=$T/kvm PINSUITE_CACHE=$T/kcache3 FAKE_KVM=ok FAKE_RESULTS_1='' \
		fake_run "$FIX/results-pass.log" "" 0 "$T/bzImage-6.99.0-fake"
	e2e_kvm_retry() {
		eq 0 "$RC" && eq 2 "$CALLS" && grep -qx kvm "$T/fake/args.1" &&
			grep -qx 'tcg,thread=multi' "$T/fake/args.2" &&
			grep -q '^# vm: boot 1 (kvm, [0-9.]*s): no output at all from the guest (QEMU exit 0); retrying once, with TCG$' "$T/run.out" &&
			grep -q '	fail	a KVM boot' "$T/kcache3/kvm-probe"
	}
	ok "end to end: a KVM boot the probe chose never reaches the suite -> retried with TCG" e2e_kvm_retry
	PINSUITE_KVM_DEV=$T/kvm FAKE_KVM=ok fake_run "$FIX/results-pass.log" "" 0 --kvm "$T/bzImage-6.99.0-fake"
	ok "end to end: --kvm uses KVM without a probe" eval \
		'eq 0 "$RC" && eq 0 "$PROBES" && grep -qx kvm "$T/fake/args"'
	fake_run "$FIX/results-hang.log" "" 124 --bisect "$T/bzImage-6.99.0-fake"
	ok "end to end: timeout before any result -> 125 for --bisect" eq 125 "$RC"
	fake_run "$FIX/results-pass.log" "" 0 --bisect --require CONFIG_GUP_TEST "$T/bzImage-6.99.0-fake"
	ok "end to end: missing required config -> 125 for --bisect" eval \
		'eq 125 "$RC" && grep -q "^Bail out! kernel 6.99.0-fake lacks CONFIG_GUP_TEST" "$T/run.out"'
	fake_run "" "" 0 --bisect linux-image-0.0.0-no-such-package-pinsuite-test
	ok "end to end: a package that cannot be fetched -> Bail out!, 125 for --bisect" eval \
		'eq 125 "$RC" && grep -q "^Bail out! apt-get download" "$T/run.out"'
	if [ -n "${DEB:-}" ] && [ -f "$DEB" ]; then
		e2e_deb() {
			fake_run "$FIX/results-pass.log" "" 0 "$DEB"
			eq 0 "$RC" || { cat "$T/run.err"; return 1; }
			grep -qx "lib/modules/$REL/kernel/drivers/vfio/pci/vfio-pci.ko" "$T/fake/initrd.list" &&
				grep -qx 'lib/modules/modules.load' "$T/fake/initrd.list" &&
				grep -q "modules: 12;" "$T/run.out" &&
				grep -q "vmlinuz-$REL\$" "$T/fake/args"
		}
		ok "end to end: a .deb kernel brings its decompressed modules" e2e_deb
	else
		skip "end to end: a .deb kernel brings its decompressed modules" "no fake .deb"
	fi

	# --json and --junit: the guest's JSON Lines, whole or as far as they came.
	junit_sum() { # FILE: "tests failures errors skipped" and one line per testcase
		python3 -c 'import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
print(r.get("tests"), r.get("failures"), r.get("errors"), r.get("skipped"))
for s in r.iter("testsuite"):
    for c in s.iter("testcase"):
        v = "fail" if c.find("failure") is not None else "error" if c.find("error") is not None else "skip" if c.find("skipped") is not None else "pass"
        print(s.get("name"), v, c.get("name"))' "$1"
	}
	if have python3; then
		fake_run "$FIX/results-json.log" "" 0 --json "$T/o.json" --junit "$T/o.xml" "$T/bzImage-6.99.0-fake"
		cp "$T/run.out" "$T/with.out"
		e2e_json() {
			eq 1 "$RC" && vm_results_json "$FIX/results-json.log" | cmp - "$T/o.json" &&
				junit_sum "$T/o.xml" >"$T/sum" && eq "7 2 0 1" "$(head -n 1 "$T/sum")" &&
				grep -qx 'vm pass Kernel stays untainted' "$T/sum" &&
				grep -qx 'vfio_pin skip Longterm R/O pin is reliable: VFIO type1 DMA read, write after pin, shared zeropage' "$T/sum" &&
				grep -q 'property name="input" value="json"' "$T/o.xml" &&
				! grep -q 'JSON results' "$T/run.err"
		}
		ok "end to end: --json is the guest's JSON Lines, --junit made from them, with the taint check" e2e_json
		fake_run "$FIX/results-json.log" "" 0 "$T/bzImage-6.99.0-fake"
		e2e_json_tap() {
			grep -v '^# timing: ' "$T/with.out" >"$T/a" && grep -v '^# timing: ' "$T/run.out" >"$T/b" &&
				cmp "$T/a" "$T/b" && ! grep -q -e '@@pinsuite' -e '"type":' "$T/run.out" &&
				grep -qx '# # not ok 2 Longterm R/O pin is reliable: GUP, write after pin, memfd with 2048 kB shmem folios (MAP_PRIVATE) # the pin never returned: 120000 faults in 5 s; kernel may lack "mm: do not install PMD mappings when handling a COW fault" (Zhang Yi, 2025)' "$T/run.out" &&
				grep -qx 'not ok 1 6.99.0-fake: pinsuite' "$T/run.out"
		}
		ok "end to end: the TAP is the same with and without --json/--junit, no JSON in it" e2e_json_tap
		fake_run "$FIX/results-json-cut.log" "" 0 --json "$T/o.json" --junit "$T/o.xml" "$T/bzImage-6.99.0-fake"
		e2e_json_cut() {
			eq 1 "$RC" && eq 5 "$(wc -l <"$T/o.json")" &&
				grep -q 'JSON results: the guest stopped while sending them; 5 lines arrived' "$T/run.err" &&
				junit_sum "$T/o.xml" >"$T/sum" && eq "7 2 0 1" "$(head -n 1 "$T/sum")" &&
				grep -q 'property name="input" value="tap"' "$T/o.xml" &&
				grep -qx 'vm pass Kernel stays untainted' "$T/sum"
		}
		ok "end to end: guest dies while sending its JSON -> --json what arrived, --junit from the TAP" e2e_json_cut
		fake_run "$FIX/results-crash.log" "$FIX/console-crash.log" 0 --json "$T/o.json" --junit "$T/o.xml" "$T/bzImage-6.99.0-fake"
		e2e_json_crash() {
			eq 1 "$RC" && [ -f "$T/o.json" ] && [ ! -s "$T/o.json" ] &&
				grep -q 'JSON results: none arrived' "$T/run.err" &&
				junit_sum "$T/o.xml" >"$T/sum" &&
				grep -qx 'cow pass No leak from parent into child: fork(), parent writes, anon base page' "$T/sum" &&
				grep -qx 'cow error No leak from parent into child: fork(), parent writes, THP (2048 kB)' "$T/sum" &&
				grep -qx 'vm error pinsuite' "$T/sum" && grep -qx 'vm fail Kernel stays untainted' "$T/sum" &&
				grep -q 'kernel failure: the guest died while the suite ran' "$T/o.xml"
		}
		ok "end to end: guest dies mid-suite -> --json empty, --junit from the TAP it printed" e2e_json_crash
		FAKE_STDERR="qemu-system-x86_64: -device edu: 'edu' is not a valid device model name" \
			fake_run "" "" 1 --json "$T/o.json" --junit "$T/o.xml" "$T/bzImage-6.99.0-fake"
		e2e_json_env() {
			eq 3 "$RC" && [ ! -s "$T/o.json" ] && junit_sum "$T/o.xml" >"$T/sum" &&
				eq "1 0 1 0" "$(head -n 1 "$T/sum")" && grep -qx 'vm error pinsuite' "$T/sum" &&
				grep -q "environment failure, not the kernel.s: QEMU failed to start" "$T/o.xml"
		}
		ok "end to end: QEMU fails on both boots -> --junit says so as an error" e2e_json_env
		fake_run "$FIX/results-pass.log" "" 0 --require CONFIG_GUP_TEST --json "$T/o.json" \
			--junit "$T/o.xml" "$T/bzImage-6.99.0-fake"
		ok "end to end: could not test before any boot -> --junit says why, --json empty" eval \
			'eq 3 "$RC" && [ -f "$T/o.json" ] && [ ! -s "$T/o.json" ] && junit_sum "$T/o.xml" >"$T/sum" &&
				grep -qx "vm error pinsuite" "$T/sum" && grep -q "could not test: kernel 6.99.0-fake lacks CONFIG_GUP_TEST" "$T/o.xml"'
		fake_run "$FIX/results-pass.log" "" 0 --json "$T/nodir/o.json" "$T/bzImage-6.99.0-fake"
		ok "end to end: a --json file that cannot be written is a usage error" eval \
			'eq 2 "$RC" && grep -q "cannot write $T/nodir/o.json" "$T/run.err" && [ ! -s "$T/run.out" ]'
	else
		for i in 1 2 3 4 5 6 7; do
			skip "end to end: --json/--junit $i" "no python3"
		done
	fi

	# --initramfs-only (lava/run.sh): the initramfs of a normal run, written
	# out; no QEMU, no KVM probe, no disks.
	fake_run "" "" 0 --initramfs-only "$T/lava.cpio" "$T/bzImage-6.99.0-fake" -- -t cow
	e2e_initramfs_only() {
		eq 0 "$RC" && eq 0 "$CALLS" && eq 0 "$PROBES" && [ ! -s "$T/run.out" ] &&
			grep -q "initramfs for 6.99.0-fake written to $T/lava.cpio (disks: ext4 xfs; not booted)" "$T/run.err" &&
			cpio -it --quiet <"$T/lava.cpio" >"$T/lava.list" &&
			grep -qx init "$T/lava.list" && grep -qx opt/pinsuite/run_tests.sh "$T/lava.list" &&
			cpio -i --quiet --to-stdout init <"$T/lava.cpio" | grep 'pinsuite.shell=1' >/dev/null &&
			cpio -i --quiet --to-stdout etc/pinsuite/vm.conf <"$T/lava.cpio" | grep -x "VM_DISKS='ext4 xfs'" >/dev/null
	}
	ok "--initramfs-only writes the initramfs and boots nothing" e2e_initramfs_only
	fake_run "" "" 0 --initramfs-only "$T/nodir/x.cpio" "$T/bzImage-6.99.0-fake"
	ok "--initramfs-only into a path that cannot be written: could not test (3)" eval \
		'eq 3 "$RC" && eq 0 "$CALLS" && grep -q "cannot write $T/nodir/x.cpio" "$T/run.err"'

	# vm/ci.sh against the fake QEMU: kernels from PINSUITE_SHARED_KERNELS,
	# judged by vm/expectations over the JSON results.
	mkdir -p "$T/kernels"
	for k in pmdfix pintest no84209e87; do
		fake_bzimage "$T/kernels/bzImage-6.12.117-$k" 6.12.117
		cp "$T/config-6.99.0-fake" "$T/kernels/config-6.12.117-$k"
	done
	fake_bzimage "$T/kernels/bzImage-6.1.192-pintest" 6.1.192
	cp "$T/config-6.99.0-fake" "$T/kernels/config-6.1.192-pintest"
	ci_run() { # ci.sh arguments; output in $T/ci.out, status in RC
		rm -f "$T/fake/calls" "$T/fake"/args.*
		FAKE_OUT=$T/fake QEMU=$T/fake-qemu PINSUITE_KVM_DEV=$T/no-kvm PINSUITE_CACHE=$T/cache \
			PINSUITE_SHARED_KERNELS=$T/kernels "$REPO/vm/ci.sh" "$@" >"$T/ci.out" 2>"$T/ci.err"
		RC=$?
	}
	if have python3; then
		FAKE_RESULTS_1=$FIX/results-json-pmdfix.log FAKE_RESULTS_2=$FIX/results-json.log \
			FAKE_RESULTS_3=$FIX/results-json.log FAKE_RC=0 \
			ci_run --only pmdfix --only pintest-6.12 --only no84209e87 --keep-logs "$T/cilogs" \
			-- --suite "$T/suite" --tcg --mem 5000
		ci_e2e() {
			eq 1 "$RC" && grep -qx '1..3' "$T/ci.out" &&
				grep -qx 'ok 1 pmdfix' "$T/ci.out" && grep -qx 'ok 2 pintest-6.12' "$T/ci.out" &&
				grep -qx 'not ok 3 no84209e87' "$T/ci.out" &&
				grep -q '^# matched: must-fail access=R/O backing=memfd with 2048 kB shmem folios (MAP_PRIVATE) hint~do not install PMD mappings: all 2 ran cases failed, each with the hint$' "$T/ci.out" &&
				grep -q '^# MISSING: must-fail-name Longterm R/O pin is reliable: GUP, write after pin, shared zeropage hint~84209e87c696: no such case$' "$T/ci.out" &&
				grep -q '^# no84209e87: the expectations of no84209e87 are not met' "$T/ci.out" &&
				grep -q '^# pintest-6.12: pass:3 fail:2 xfail:0 xpass:0 skip:1 error:0; [0-9]*s$' "$T/ci.out" &&
				grep -q '^# total [0-9]* s$' "$T/ci.out" && grep -qx 'vm-ci: 2 passed, 1 failed' "$T/ci.out" &&
				grep -qx 5000M "$T/fake/args.1" && [ -s "$T/cilogs/pintest-6.12.json" ] &&
				[ -s "$T/cilogs/pintest-6.12.tap" ]
		}
		ok "ci.sh end to end: expectations per kernel from vm/expectations over the JSON" ci_e2e
		FAKE_RESULTS=$FIX/results-json.log FAKE_RC=0 ci_run --only pmdfix -- --suite "$T/suite" --tcg
		ok "ci.sh: pmdfix allows no failure at all" eval \
			'eq 1 "$RC" && grep -qx "not ok 1 pmdfix" "$T/ci.out" && eq 2 "$(grep -c "^# unexpected failure: " "$T/ci.out")"'
		FAKE_RESULTS=$FIX/results-crash.log FAKE_CONSOLE=$FIX/console-crash.log FAKE_RC=0 \
			ci_run --only pmdfix -- --suite "$T/suite" --tcg
		ok "ci.sh: a guest that dies mid-suite fails, judged from its TAP" eval \
			'eq 1 "$RC" && grep -q "^# pmdfix: no JSON results; judging the TAP" "$T/ci.out" &&
				grep -q "^# pmdfix: run.sh exit 1: the suite did not run to its end" "$T/ci.out" &&
				grep -q "^# pmdfix: kernel got tainted" "$T/ci.out"'
		FAKE_RESULTS=$FIX/results-json-pass.log FAKE_RC=0 \
			ci_run --only pmdfix-mock -- --suite "$T/suite" --tcg --mem 5000 -- -t cow
		ok "ci.sh: the mock boot adds its own run.sh options; -- ARGS -- replaces its run_tests.sh arguments" eval \
			'eq 0 "$RC" && grep -qx "ok 1 pmdfix-mock" "$T/ci.out" &&
				grep -q "intel_iommu=off" "$T/fake/args.1" && grep -qx 5000M "$T/fake/args.1" &&
				grep -q "^# pmdfix-mock: vm/run.sh .* --suite $T/suite --tcg --mem 5000 --append intel_iommu=off .*bzImage-6.12.117-pmdfix -- -t cow$" "$T/ci.out"'
		FAKE_RESULTS=$FIX/results-json-pass.log FAKE_RC=0 \
			ci_run --only 6.1 --budget 30 -- --suite "$T/suite" --tcg
		ok "ci.sh: a used-up time budget fails the kernel without booting it" eval \
			'eq 1 "$RC" && grep -qx "not ok 1 6.1 # time budget of 30s used up" "$T/ci.out" && [ ! -f "$T/fake/calls" ]'
		printf '%s\n' 'kernel pmdfix' 'must-fail colour=red' >"$T/badexp"
		ci_run --only pmdfix --expectations "$T/badexp"
		ok "ci.sh: a bad expectations file is a usage error before any boot" eval \
			'eq 2 "$RC" && grep -q "badexp:2: want FIELD=VALUE" "$T/ci.err" && [ ! -f "$T/fake/calls" ]'
	else
		for i in 1 2 3 4 5 6; do
			skip "ci.sh end to end $i" "no python3"
		done
	fi
else
	for i in $(seq 45); do
		skip "run.sh end to end $i" "needs busybox, cpio, mkfs.ext4, mkfs.xfs"
	done
fi

echo "1..$N"
exit "$FAILED"
