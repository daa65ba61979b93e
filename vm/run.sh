#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the whole pinsuite on a kernel image under QEMU (q35, intel-iommu, edu,
# two NUMA nodes, 2M and 1G hugetlb pools, ext4 and xfs scratch disks, swap),
# print the suite's TAP nested under the kernel release, and exit with the
# verdict.  With --bisect the exit code suits `git bisect run`.
# See vm/README.md.

# Functions run from traps look unreachable; QEMU options contain commas.
# shellcheck disable=SC2317,SC2054
set -u -o pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$VM_DIR/.." && pwd)
# shellcheck source=vm/lib.sh
. "$VM_DIR/lib.sh"

usage() {
	cat <<EOF
Usage: vm/run.sh [options] KERNEL [-- run_tests.sh arguments]

Boot KERNEL under QEMU and run the pinsuite in it.  KERNEL is one of:
  a bzImage file          (config looked up beside it: config-RELEASE, .config)
  a kernel build tree     (arch/x86/boot/bzImage, .config, modules from the tree)
  a kernel source tree    (built first, as with --build)
  a linux-image .deb file (modules and /boot/config-* taken from it)
  a Debian package name   (linux-image-..., fetched with apt-get download)

Options:
  --bisect          exit 0 good, 1 bad, 125 cannot test (for git bisect run)
  --build           build the kernel in the source tree KERNEL first: keep or
                    make defconfig, merge the suite's config fragment, make
                    olddefconfig, make bzImage (and modules if modular)
  --case REGEX      judge only the suite's cases whose names match REGEX
  --require OPT     the kernel config must have OPT (CONFIG_...) =y or =m,
                    else the kernel cannot be tested (repeatable)
  --ignore-taint    report, but do not count, "Kernel stays untainted"
  --config FILE     the kernel's config (default: found beside the kernel)
  --suite DIR       an installed suite tree to use instead of building one
                    with 'make install STATIC=1' from this repository
  --boot-crash-bad  with --bisect, a kernel that crashes before the suite
                    starts (on both boots) is bad (1), not untestable (125):
                    for bisecting a boot crash rather than a pinning bug
  --timeout S       wall-clock limit for the VM in seconds (default $TIMEOUT)
  --boot-timeout S  a guest that has not reached /init after S seconds is
                    stopped and counts as not booted (default $BOOT_TIMEOUT)
  --no-retry        do not boot a second time when the guest never started
                    the suite (default: retry once)
  --kvm             use KVM without probing it first
  --tcg             use TCG without probing KVM (default: KVM when a short
                    probe boot under KVM reaches its /init, else TCG)
  --icount[=SHIFT]  TCG with -icount shift=SHIFT,sleep=off (default SHIFT 4):
                    idle time warps to the next timer (edu DMA timers)
  --cpu MODEL       QEMU -cpu model under TCG (default $CPU)
  --smp N           virtual CPUs (default $SMP)
  --mem MIB         guest RAM over two NUMA nodes: 2048 MiB on node 0, the
                    rest on node 1, which must fit the 1G pages (default $MEM)
  --hugepages-2m N  2 MiB hugetlb pages reserved at boot (default $HUGE_2M)
  --hugepages-1g N  1 GiB hugetlb pages reserved at boot (default $HUGE_1G)
  --channel C       results channel: auto, ttyS1 or hvc0 (default auto)
  --append ARGS     extra kernel command line arguments (repeatable)
  --json FILE       write the guest's JSON Lines results (run_tests.sh
                    --json) to FILE: all of them, or what arrived when the
                    guest died
  --junit FILE      write JUnit XML to FILE (tools/pinsuite-report junit; needs
                    python3): from the JSON results, from the suite's TAP when
                    the JSON did not arrive whole; with "Kernel stays untainted"
  --initramfs-only FILE
                    prepare the kernel, the suite and the initramfs, write
                    the initramfs (cpio) to FILE and stop without booting
                    (for LAVA, lava/README.md; pinsuite.shell=1 on the
                    kernel command line gives a shell instead of the suite)
  --keep            keep the work directory (initramfs, disks, logs)
  --workdir DIR     use DIR as the work directory (implies --keep)
  -v, --verbose     show the guest console on stderr while it runs
  -h, --help        this help

Exit status: 0 pass, 1 kernel failure (a case failed, the kernel got
tainted, the guest died or hung while the suite ran, or it crashed before
the suite on both boots), 2 usage, 3 could not test (the kernel or VM could
not be prepared, QEMU failed, or the guest never reached the suite on both
boots without a kernel error on the console), 4 nothing ran.  With --bisect:
0 good, 1 bad, 125 untestable (could not test, build failure, missing
required config, a crash before the suite unless --boot-crash-bad, timeout
before any result, nothing ran).
Environment: PINSUITE_CACHE (default \${XDG_CACHE_HOME:-\$HOME/.cache}/pinsuite;
holds the KVM probe result for the current host boot), QEMU (default
qemu-system-x86_64), MAKE (default make), PINSUITE_KVM_DEV (default /dev/kvm),
PINSUITE_KVM_PROBE_TIMEOUT (seconds, default 15), PINSUITE_VM_STALL (seconds
without a case ending after which the guest lists its blocked tasks, default
300), PINSUITE_VM_HOST_STALL (seconds without results after which the guest
is stopped, with where each vCPU is, default 420).
EOF
}

# Defaults
TIMEOUT=900
BOOT_TIMEOUT=120
SMP=2
# Without ERMS/FSRM the kernel clears and copies pages with plain or
# rep-quadword moves instead of "rep movsb/stosb", which TCG emulates byte by
# byte: faulting a 1 GiB hugetlb page takes 0.7 s instead of 4.3 s and its COW
# copy 3.8 s instead of 76 s.
CPU=max,-erms,-fsrm
MEM=7168
HUGE_2M=64
HUGE_1G=3
BISECT=0
BUILD=0
CASE_RE=
REQUIRE=()
IGNORE_TAINT=0
CONFIG=
SUITE=
ACCEL_MODE=auto	# auto (probe KVM), kvm, tcg
BOOT_CRASH_BAD=0
RETRY=1
ICOUNT=
CHANNEL=auto
APPEND=
KEEP=0
WORKDIR=
VERBOSE=0
KERNEL=
JSON_OUT=
JUNIT_OUT=
INITRAMFS_ONLY=
SUITE_ARGS=()

bad_usage() {
	echo "vm/run.sh: $*" >&2
	usage >&2
	exit "$VM_EXIT_USAGE"
}

need_arg() {
	if [ $# -lt 2 ] || [ -z "$2" ]; then
		bad_usage "option $1 needs an argument"
	fi
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--bisect) BISECT=1 ;;
	--build) BUILD=1 ;;
	--case) need_arg "$@"; CASE_RE=$2; shift ;;
	--case=*) CASE_RE=${1#*=} ;;
	--require) need_arg "$@"; REQUIRE+=("$2"); shift ;;
	--require=*) REQUIRE+=("${1#*=}") ;;
	--ignore-taint) IGNORE_TAINT=1 ;;
	--config) need_arg "$@"; CONFIG=$2; shift ;;
	--suite) need_arg "$@"; SUITE=$2; shift ;;
	--timeout) need_arg "$@"; TIMEOUT=$2; shift ;;
	--timeout=*) TIMEOUT=${1#*=} ;;
	--boot-timeout) need_arg "$@"; BOOT_TIMEOUT=$2; shift ;;
	--boot-timeout=*) BOOT_TIMEOUT=${1#*=} ;;
	--boot-crash-bad) BOOT_CRASH_BAD=1 ;;
	--no-retry) RETRY=0 ;;
	--kvm)
		[ "$ACCEL_MODE" != tcg ] || bad_usage "--kvm and --tcg exclude each other"
		ACCEL_MODE=kvm ;;
	--tcg)
		[ "$ACCEL_MODE" != kvm ] || bad_usage "--kvm and --tcg exclude each other"
		ACCEL_MODE=tcg ;;
	--icount) ICOUNT=4 ;;
	--icount=*) ICOUNT=${1#*=} ;;
	--smp) need_arg "$@"; SMP=$2; shift ;;
	--cpu) need_arg "$@"; CPU=$2; shift ;;
	--mem) need_arg "$@"; MEM=$2; shift ;;
	--hugepages-2m) need_arg "$@"; HUGE_2M=$2; shift ;;
	--hugepages-1g) need_arg "$@"; HUGE_1G=$2; shift ;;
	--channel) need_arg "$@"; CHANNEL=$2; shift ;;
	--append) need_arg "$@"; APPEND="${APPEND:+$APPEND }$2"; shift ;;
	--json) need_arg "$@"; JSON_OUT=$2; shift ;;
	--json=*) JSON_OUT=${1#*=} ;;
	--junit) need_arg "$@"; JUNIT_OUT=$2; shift ;;
	--junit=*) JUNIT_OUT=${1#*=} ;;
	--initramfs-only) need_arg "$@"; INITRAMFS_ONLY=$2; shift ;;
	--keep) KEEP=1 ;;
	--workdir) need_arg "$@"; WORKDIR=$2; KEEP=1; shift ;;
	-v | --verbose) VERBOSE=1 ;;
	--) shift; SUITE_ARGS=("$@"); break ;;
	-*) bad_usage "unknown option $1" ;;
	*)
		[ -z "$KERNEL" ] || bad_usage "more than one kernel given ($KERNEL, $1)"
		KERNEL=$1
		;;
	esac
	shift
done

[ -n "$KERNEL" ] || bad_usage "no kernel given"
for v in TIMEOUT BOOT_TIMEOUT SMP MEM HUGE_2M HUGE_1G; do
	is_uint "${!v}" || bad_usage "not a number: ${v,,} ${!v}"
done
if [ "$SMP" -lt 1 ] || [ "$TIMEOUT" -lt 1 ] || [ "$BOOT_TIMEOUT" -lt 1 ]; then
	bad_usage "--smp, --timeout and --boot-timeout must be at least 1"
fi
[ -z "$ICOUNT" ] || is_uint "$ICOUNT" || bad_usage "--icount shift must be a number"
[ -z "$ICOUNT" ] || [ "$ACCEL_MODE" != kvm ] || bad_usage "--icount is TCG only"
[ -z "$ICOUNT" ] || ACCEL_MODE=tcg
[ "$BOOT_TIMEOUT" -le "$TIMEOUT" ] || BOOT_TIMEOUT=$TIMEOUT
case $CHANNEL in auto | ttyS1 | hvc0) ;; *) bad_usage "bad --channel $CHANNEL" ;; esac
for o in "${REQUIRE[@]}"; do
	[[ $o =~ ^CONFIG_[A-Za-z0-9_]+$ ]] || bad_usage "--require wants CONFIG_NAME, not $o"
done
if [ -n "$CASE_RE" ]; then
	# A bad regex must be a usage error, not a silent "nothing matched".
	[[ x =~ $CASE_RE ]]
	[ $? -le 1 ] || bad_usage "bad --case regex: $CASE_RE"
fi
if [ -n "$INITRAMFS_ONLY" ] && { [ -n "$JSON_OUT$JUNIT_OUT" ] || [ "$BISECT" = 1 ]; }; then
	bad_usage "--initramfs-only boots nothing: no --json, --junit or --bisect"
fi
REPORT=$REPO/tools/pinsuite-report
if [ -n "$JUNIT_OUT" ]; then
	command -v python3 >/dev/null 2>&1 || bad_usage "--junit needs python3"
	[ -f "$REPORT" ] || bad_usage "--junit needs $REPORT"
fi
# Output files are made (empty) now: a bad path is a usage error, and a
# run that never gets to write them leaves no stale results behind.
for f in "$JSON_OUT" "$JUNIT_OUT"; do
	[ -z "$f" ] || : 2>/dev/null >"$f" || bad_usage "cannot write $f"
done
KIND=$(vm_kernel_kind "$KERNEL")
[ "$KIND" != unknown ] || bad_usage "not a bzImage, kernel tree, .deb or linux-image package: $KERNEL"
[ "$BUILD" = 0 ] || [ "$KIND" = srcdir ] || [ "$KIND" = builddir ] ||
	bad_usage "--build needs a kernel source tree"
[ "$KIND" != srcdir ] || BUILD=1

CACHE=${PINSUITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pinsuite}
QEMU=${QEMU:-qemu-system-x86_64}
MAKE=${MAKE:-make}
T_START=$EPOCHREALTIME

log() { echo "pinsuite-vm: $*" >&2; }

# Stop before booting: print a TAP bail-out and exit with the mapped code.
finish_early() {
	local state=$1
	shift
	echo "TAP version 13"
	echo "1..0"
	echo "Bail out! $*"
	log "$*"
	RUN_VERDICT=error RUN_WHY="could not test: $*"
	write_results || :
	exit "$(vm_exit_code "$state" "" 0 "$BISECT")"
}

# ---------------------------------------------------------------------------
# --json and --junit.  The guest sends its JSON Lines after the suite,
# framed by json-begin and "json-end COUNT"; they are whole when COUNT lines
# arrived.  --json gets a copy of what arrived.  JUnit comes from them when
# whole, else from the suite's TAP (what the guest printed before it died),
# and has the harness's own results too: "Kernel stays untainted", and
# "pinsuite" as an error when the suite did not run to its end.

RUN_VERDICT=	# error when the suite did not run to its end
RUN_WHY=
UT_VERDICT=	# the verdict of "Kernel stays untainted" ...
UT_WHY=		# ... and why, when it failed or was skipped

# json_str TEXT: TEXT as a JSON string.
json_str() {
	local s
	s=$(printf '%s' "$1" | tr -d '\000-\010\013-\037' | tr '\t\n' '  ')
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# vm_record NAME VERDICT WHY: a case record of the harness (binary "vm").
vm_record() {
	printf '{"type":"case","binary":"vm","name":%s,"property":%s,"verdict":"%s","reason":%s,"diagnosis":%s}\n' \
		"$(json_str "$1")" "$(json_str "$1")" "$2" \
		"$(json_str "$([ "$2" = skip ] && printf '%s' "$3")")" \
		"$(json_str "$([ "$2" != skip ] && printf '%s' "$3")")"
}

BOOTED=0	# 1 once QEMU ran: $W/results.log is this run's

write_results() {
	local src ok=0 v whole=0 res=/nonexistent W=${W:-}
	local -A cnt=([pass]=0 [fail]=0 [xfail]=0 [xpass]=0 [skip]=0 [error]=0)
	[ -n "$JSON_OUT$JUNIT_OUT" ] || return 0
	# Before a work directory exists (finish_early), a scratch one.
	if [ -z "$W" ] || [ ! -d "$W" ]; then
		W=$(mktemp -d "${TMPDIR:-/tmp}/pinsuite-vm.XXXXXX") || return 1
		write_results
		ok=$?
		rm -rf "$W"
		return "$ok"
	fi
	[ "$BOOTED" = 0 ] || res=$W/results.log
	if [ -f "$res" ]; then
		vm_results_json "$res" >"$W/results.json" && whole=1
		[ "$whole" = 1 ] || log "JSON results: $(vm_results_json_state "$res")"
	else
		: >"$W/results.json"
	fi
	if [ -n "$JSON_OUT" ]; then
		cp "$W/results.json" "$JSON_OUT" || {
			log "cannot write --json $JSON_OUT"
			ok=1
		}
	fi
	[ -n "$JUNIT_OUT" ] || return "$ok"
	src=$W/results.json
	if [ "$whole" = 0 ]; then
		src=$W/suite-tap.json
		: >"$src"
		if [ -f "$res" ]; then
			vm_results_suite "$res" >"$W/suite.tap"
			grep -qE '^(# )*(not )?ok [0-9]' "$W/suite.tap" &&
				python3 "$REPORT" json "$W/suite.tap" -o "$src" 2>>"$W/report.err"
		fi
	fi
	{
		cat "$src"
		# The kernel's name: the guest's records have it (uname -r), else
		# the one run.sh found.
		if [ -s "$src" ]; then
			printf '{"type":"run","binary":"vm"}\n'
		else
			printf '{"type":"run","binary":"vm","kernel":%s,"host":"vm"}\n' \
				"$(json_str "${RELEASE:-unknown}")"
		fi
		if [ -n "$RUN_VERDICT" ]; then
			vm_record pinsuite "$RUN_VERDICT" "$RUN_WHY"
			cnt[$RUN_VERDICT]=$((cnt[$RUN_VERDICT] + 1))
		fi
		if [ -n "$UT_VERDICT" ]; then
			vm_record "Kernel stays untainted" "$UT_VERDICT" "$UT_WHY"
			cnt[$UT_VERDICT]=$((cnt[$UT_VERDICT] + 1))
		fi
		printf '{"type":"totals","binary":"vm"'
		for v in pass fail xfail xpass skip error; do
			printf ',"%s":%d' "$v" "${cnt[$v]}"
		done
		printf '}\n'
	} >"$W/junit-in.json"
	if ! python3 "$REPORT" junit "$W/junit-in.json" -o "$JUNIT_OUT" 2>>"$W/report.err"; then
		sed 's/^/pinsuite-vm: /' "$W/report.err" >&2
		log "cannot write --junit $JUNIT_OUT"
		return 1
	fi
	return "$ok"
}

if [ -n "$WORKDIR" ]; then
	mkdir -p "$WORKDIR" || finish_early prepfail "cannot create $WORKDIR"
	W=$(cd "$WORKDIR" && pwd)
else
	W=$(mktemp -d "${TMPDIR:-/tmp}/pinsuite-vm.XXXXXX") ||
		finish_early prepfail "cannot create a work directory"
fi
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	if [ "$KEEP" = 1 ]; then
		log "kept $W (build.log, initrd.cpio, *.img, qemu.cmd, console.log, results.log, dmesg.log, as far as it got)"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# The kernel: bzImage, release, config and (if modular) its module tree.

BZIMAGE=
RELEASE=
MODDIR=

build_kernel() {
	local src=$1 blog=$W/build.log frag
	log "building the kernel in $src (log: $blog)"
	(
		set -e
		cd "$src"
		[ -f .config ] || $MAKE defconfig
		for frag in "$REPO/config" "$VM_DIR/config.vm"; do
			[ -f "$frag" ] || continue
			scripts/kconfig/merge_config.sh -m -O . .config "$frag"
		done
		$MAKE olddefconfig
		if grep -q '^CONFIG_MODULES=y' .config; then
			$MAKE -j"$(nproc)" bzImage modules
		else
			$MAKE -j"$(nproc)" bzImage
		fi
	) >"$blog" 2>&1 || {
		tail -n 30 "$blog" >&2
		KEEP=1
		finish_early buildfail "kernel build failed in $src"
	}
}

# fetch_package NAME: set DEB to the package file, downloading it once.
fetch_package() {
	local pkg=$1
	mkdir -p "$CACHE/debs" || finish_early prepfail "cannot create $CACHE/debs"
	DEB=$(find "$CACHE/debs" -maxdepth 1 -name "${pkg}_*.deb" | sort -V | tail -n 1)
	if [ -z "$DEB" ]; then
		log "apt-get download $pkg (into $CACHE/debs)"
		(cd "$CACHE/debs" && apt-get download "$pkg") >&2 ||
			finish_early prepfail "apt-get download $pkg failed"
		DEB=$(find "$CACHE/debs" -maxdepth 1 -name "${pkg}_*.deb" | sort -V | tail -n 1)
	fi
	[ -n "$DEB" ] || finish_early prepfail "no .deb for $pkg"
}

use_deb() {
	local deb=$1 name dir
	name=$(basename "$deb" .deb)
	dir=$CACHE/kernels/$name
	if [ ! -f "$dir/.complete" ]; then
		log "extracting $deb"
		rm -rf "$dir"
		vm_deb_extract "$deb" "$dir" || finish_early prepfail "cannot extract $deb"
		touch "$dir/.complete"
	fi
	BZIMAGE=$(find "$dir/boot" -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | head -n 1)
	RELEASE=${BZIMAGE##*/vmlinuz-}
	[ -n "$BZIMAGE" ] || RELEASE=$(vm_deb_release "$deb")
	[ -n "$CONFIG" ] || CONFIG=$dir/boot/config-$RELEASE
	[ -d "$dir/lib/modules/$RELEASE" ] && MODDIR=$dir/lib/modules/$RELEASE
	vm_is_bzimage "$BZIMAGE" || finish_early prepfail "no bzImage in $deb"
}

case $KIND in
package)
	fetch_package "$KERNEL"
	use_deb "$DEB"
	;;
deb) use_deb "$KERNEL" ;;
srcdir | builddir)
	SRC=$(cd "$KERNEL" && pwd)
	[ "$BUILD" = 0 ] || build_kernel "$SRC"
	BZIMAGE=$SRC/arch/x86/boot/bzImage
	vm_is_bzimage "$BZIMAGE" || finish_early buildfail "no bzImage in $SRC"
	RELEASE=$(cat "$SRC/include/config/kernel.release" 2>/dev/null) ||
		RELEASE=$(vm_bzimage_release "$BZIMAGE")
	[ -n "$CONFIG" ] || CONFIG=$SRC/.config
	if grep -q '^CONFIG_MODULES=y' "$CONFIG" 2>/dev/null &&
		[ -f "$SRC/modules.order" ]; then
		MODDIR=$SRC
	fi
	;;
bzimage)
	BZIMAGE=$(cd "$(dirname "$KERNEL")" && pwd)/$(basename "$KERNEL")
	RELEASE=$(vm_bzimage_release "$BZIMAGE") || RELEASE=unknown
	[ -n "$CONFIG" ] || CONFIG=$(vm_find_config "$(dirname "$BZIMAGE")" "$RELEASE" \
		"$(basename "$BZIMAGE")") || CONFIG=
	;;
esac
[ -n "$RELEASE" ] || RELEASE=unknown
if [ -n "$CONFIG" ] && [ ! -f "$CONFIG" ]; then
	log "no kernel config at $CONFIG; the suite will not know the kernel's options"
	CONFIG=
fi

if [ ${#REQUIRE[@]} -gt 0 ]; then
	[ -n "$CONFIG" ] || finish_early noconfig "--require given but the kernel config is unknown (use --config)"
	missing=$(vm_config_missing "$CONFIG" "${REQUIRE[@]}" | tr '\n' ' ')
	[ -z "$missing" ] || finish_early noconfig "kernel $RELEASE lacks ${missing% }"
fi
if [ -n "$CONFIG" ]; then
	missing=$(vm_config_missing "$CONFIG" CONFIG_BLK_DEV_INITRD CONFIG_SERIAL_8250 | tr '\n' ' ')
	[ -z "$missing" ] || finish_early noconfig "kernel $RELEASE cannot run the VM: lacks ${missing% }"
fi

# ---------------------------------------------------------------------------
# The suite, installed kselftest-style.

suite_hash() {
	# Content of every file git knows about or would add, except the VM
	# harness itself: the installed suite does not depend on it.
	(cd "$REPO" && git ls-files -z -co --exclude-standard 2>/dev/null |
		grep -zv -e '^vm/' -e '^tests/vm/' |
		xargs -0 -r sha256sum 2>/dev/null) | sha256sum | cut -c1-16
}

if [ -z "$SUITE" ]; then
	[ -f "$REPO/Makefile" ] || finish_early prepfail "no $REPO/Makefile to build the suite (use --suite DIR)"
	h=$(suite_hash)
	if [ -n "$h" ] && git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
		SUITE=$CACHE/suite/$h
	else
		SUITE=$W/suite
	fi
	if [ ! -f "$SUITE/.complete" ]; then
		log "building the suite: $MAKE -C $REPO install STATIC=1 INSTALL_PATH=$SUITE"
		rm -rf "$SUITE"
		mkdir -p "$SUITE/build"
		$MAKE -C "$REPO" install STATIC=1 O="$SUITE/build" INSTALL_PATH="$SUITE/install" \
			>"$W/suite-build.log" 2>&1 || {
			tail -n 30 "$W/suite-build.log" >&2
			finish_early prepfail "building the suite failed"
		}
		touch "$SUITE/.complete"
	fi
	SUITE=$SUITE/install
fi
[ -f "$SUITE/run_tests.sh" ] || finish_early prepfail "no run_tests.sh in $SUITE"

# ---------------------------------------------------------------------------
# The initramfs: busybox, /init, the suite, the config, the modules.

BUSYBOX=${BUSYBOX:-$(command -v busybox)}
if [ -z "$BUSYBOX" ] || [ ! -x "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
	finish_early prepfail "need a static busybox (apt-get install busybox-static)"
fi

ROOT=$W/root
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc/pinsuite,opt,boot,lib/modules,proc,sys,dev,tmp,run,mnt}
cp "$BUSYBOX" "$ROOT/bin/busybox"
ln -s busybox "$ROOT/bin/sh"
cp "$VM_DIR/init.sh" "$ROOT/init"
chmod 755 "$ROOT/init"
cp -a "$SUITE" "$ROOT/opt/pinsuite"
[ -z "$CONFIG" ] || cp "$CONFIG" "$ROOT/boot/config-pinsuite"

# Shared libraries of a dynamically linked program, copied from the host.
add_libs() {
	local f
	for f in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$ROOT$f" ] && continue
		mkdir -p "$ROOT$(dirname "$f")"
		cp -L "$f" "$ROOT$f"
	done
}
# A run_tests.sh that needs bash gets the host's bash.
if head -n 1 "$SUITE/run_tests.sh" | grep bash >/dev/null; then
	cp -L /bin/bash "$ROOT/bin/bash"
	ln -sf ../../bin/bash "$ROOT/usr/bin/bash"
	add_libs /bin/bash
fi
# Binaries should be static (make install STATIC=1); if not, bring their
# libraries along rather than fail in the guest.
for f in "$SUITE"/*; do
	if [ ! -f "$f" ] || [ ! -x "$f" ] || ! ldd "$f" >/dev/null 2>&1; then
		continue
	fi
	log "$(basename "$f") is dynamically linked; copying its libraries"
	add_libs "$f"
done

NMODS=0
if [ -n "$MODDIR" ]; then
	# shellcheck disable=SC2086
	vm_mod_order "$MODDIR" $VM_WANT_MODULES >"$W/modules.list"
	vm_mod_stage "$MODDIR" "$ROOT/lib/modules/$RELEASE" "$W/modules.list" ||
		finish_early prepfail "cannot stage the modules"
	mv "$ROOT/lib/modules/$RELEASE/modules.load" "$ROOT/lib/modules/modules.load"
	NMODS=$(wc -l <"$W/modules.list")
fi

# Swap: zram when the kernel has it, else a swap disk.  Unknown config: both.
ZRAM=$( [ -n "$CONFIG" ] && vm_config_value "$CONFIG" CONFIG_ZRAM || echo unknown)
DISKS="ext4 xfs"
case $ZRAM in y | m) SWAPMODE=zram ;; *) SWAPMODE=disk; DISKS="$DISKS swap" ;; esac

# Results channel: virtio console when built in, else the second UART.
if [ "$CHANNEL" = auto ]; then
	if [ -n "$CONFIG" ] && [ "$(vm_config_value "$CONFIG" CONFIG_VIRTIO_CONSOLE)" = y ]; then
		CHANNEL=hvc0
	else
		CHANNEL=ttyS1
	fi
fi

{
	echo "VM_CHAN=$CHANNEL"
	echo "VM_SWAP=$SWAPMODE"
	echo "VM_DISKS='$DISKS'"
	echo "VM_SUITE_DIR=/opt/pinsuite"
	[[ ${PINSUITE_VM_STALL:-} =~ ^[1-9][0-9]*$ ]] && echo "VM_STALL=$PINSUITE_VM_STALL"
	echo "set -- $(vm_shell_quote "${SUITE_ARGS[@]}")"
} >"$ROOT/etc/pinsuite/vm.conf"

(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc -R 0:0 --quiet) \
	>"$W/initrd.cpio" || finish_early prepfail "cpio failed"
if [ -n "$INITRAMFS_ONLY" ]; then
	cp "$W/initrd.cpio" "$INITRAMFS_ONLY" || finish_early prepfail "cannot write $INITRAMFS_ONLY"
	log "initramfs for $RELEASE written to $INITRAMFS_ONLY (disks: $DISKS; not booted)"
	exit 0
fi

# Scratch disks, fresh for every run (sparse files).
mk_disks() {
	rm -f "$W"/ext4.img "$W"/xfs.img "$W"/swap.img
	truncate -s 64M "$W/ext4.img" && truncate -s 320M "$W/xfs.img" || return 1
	# Keep ext4 mountable by older kernels (orphan_file needs 5.15).
	mkfs.ext4 -q -F -O ^orphan_file,^metadata_csum_seed "$W/ext4.img" 2>/dev/null ||
		mkfs.ext4 -q -F "$W/ext4.img" || return 1
	mkfs.xfs -q -f "$W/xfs.img" || return 1
	if [ "$SWAPMODE" = disk ]; then
		truncate -s 512M "$W/swap.img" && chmod 600 "$W/swap.img" &&
			mkswap "$W/swap.img" >/dev/null 2>&1 || return 1
	fi
}
PATH=$PATH:/usr/sbin:/sbin mk_disks || finish_early prepfail "cannot make the scratch disks"

# ---------------------------------------------------------------------------
# QEMU

# no_timer_check: x86 check_timer() (arch/x86/kernel/apic/io_apic.c) enables
# interrupts, busy-waits a fixed number of TSC cycles and panics ("timer
# doesn't work through Interrupt-remapped IO-APIC", with intremap=on) unless
# jiffies advanced by more than 4 meanwhile.  Under TCG on a loaded host the
# vCPU can spin through that window before the timer interrupt is delivered;
# the parameter makes timer_irq_works() answer yes without the test, as KVM
# guests do by themselves (kvm_guest_init sets no_timer_check).  It is in
# 6.12's io_apic.c and in the 6.1 and 6.12 test kernels; unknown to a kernel,
# it would only be passed on to /init as an argument, which it ignores.
CMDLINE="console=ttyS0 intel_iommu=on panic=-1 quiet loglevel=5 no_timer_check"
CMDLINE+=" hugepagesz=2M hugepages=$HUGE_2M hugepagesz=1G hugepages=$HUGE_1G"
CMDLINE+=" default_hugepagesz=2M rdinit=/init${APPEND:+ $APPEND}"

# Lines for the TAP output that are known before the header is printed.
NOTES=()
note() { NOTES+=("# vm: $*"); }

# KVM: used when a short boot of this kernel under KVM reaches a one-line
# /init.  A nested or broken KVM either fails at once (QEMU aborts) or hangs;
# the probe then costs its timeout once per host boot: the outcome is cached
# under $CACHE, keyed by /proc/sys/kernel/random/boot_id and the QEMU binary.
KVM_DEV=${PINSUITE_KVM_DEV:-/dev/kvm}
PROBE_TIMEOUT=${PINSUITE_KVM_PROBE_TIMEOUT:-15}
is_uint "$PROBE_TIMEOUT" && [ "$PROBE_TIMEOUT" -ge 1 ] || PROBE_TIMEOUT=15
PROBE_SECS=0.0
KVM_CACHE=$CACHE/kvm-probe
KVM_KEY="$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown) $(command -v "$QEMU" || echo "$QEMU")"
PROBE_MARK=pinsuite-kvm-probe-reached-init

# kvm_cache_put ok|fail REASON: remember a probe outcome for this host boot.
kvm_cache_put() {
	mkdir -p "$CACHE" 2>/dev/null || return 0
	printf '%s\t%s\t%s\n' "$KVM_KEY" "$1" "$2" >"$KVM_CACHE.$$" 2>/dev/null &&
		mv -f "$KVM_CACHE.$$" "$KVM_CACHE" 2>/dev/null
	rm -f "$KVM_CACHE.$$"
}

# kvm_probe: 0 when KVM works; KVM_WHY says what happened.
kvm_probe() {
	local key res why d=$W/kvm-probe t0 prc line
	KVM_WHY=
	if [ ! -r "$KVM_DEV" ] || [ ! -w "$KVM_DEV" ]; then
		KVM_WHY="no usable $KVM_DEV"
		return 1
	fi
	if [ -f "$KVM_CACHE" ] && IFS=$'\t' read -r key res why <"$KVM_CACHE" &&
		[ "$key" = "$KVM_KEY" ]; then
		KVM_WHY="cached for this host boot: ${why:-works}"
		[ "$res" = ok ]
		return
	fi
	t0=$EPOCHREALTIME
	rm -rf "$d"
	mkdir -p "$d/root/bin" "$d/root/dev" "$d/root/proc"
	cp "$BUSYBOX" "$d/root/bin/busybox"
	ln -s busybox "$d/root/bin/sh"
	printf '%s\n' '#!/bin/sh' \
		'/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null' \
		"/bin/busybox echo $PROBE_MARK >/dev/ttyS0" \
		'/bin/busybox poweroff -f' >"$d/root/init"
	chmod 755 "$d/root/init"
	(cd "$d/root" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc -R 0:0 --quiet) \
		>"$d/probe.cpio" || {
		KVM_WHY="cannot build the probe initramfs"
		return 1
	}
	: >"$d/console.log"
	timeout -k 2 "$PROBE_TIMEOUT" "$QEMU" -nodefaults -display none -no-reboot \
		-M q35,kernel-irqchip=split -accel kvm -cpu host -smp 1 -m 512M \
		-serial "file:$d/console.log" -kernel "$BZIMAGE" -initrd "$d/probe.cpio" \
		-append "console=ttyS0 panic=-1 quiet loglevel=5 rdinit=/init" \
		</dev/null >"$d/qemu.log" 2>&1
	prc=$?
	PROBE_SECS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	# "reboot: Power down" too: only init powers the guest off, and a kernel
	# without devtmpfs cannot write the marker.
	if grep -q -e "$PROBE_MARK" -e 'reboot: Power down' "$d/console.log"; then
		KVM_WHY="reached /init in ${PROBE_SECS}s"
		kvm_cache_put ok "$KVM_WHY"
		return 0
	fi
	if vm_qemu_stopped "$prc"; then
		why="no /init within ${PROBE_TIMEOUT}s"
	else
		line=$(grep -m1 -v '^[[:space:]]*$' "$d/qemu.log")
		why="QEMU exit $prc${line:+: $line}"
	fi
	KVM_WHY="$why; probe took ${PROBE_SECS}s"
	# A kernel that crashes under KVM says nothing about the host: not cached.
	if ! grep -qE -- "$VM_BOOT_BAD" "$d/console.log"; then
		kvm_cache_put fail "$why"
	fi
	return 1
}

T_PROBE=$EPOCHREALTIME
case $ACCEL_MODE in
kvm) ACCEL_USE=kvm ;;
tcg) ACCEL_USE=tcg ;;
auto)
	if kvm_probe; then
		ACCEL_USE=kvm
		note "KVM probe succeeded ($KVM_WHY), using KVM"
	elif [ ! -r "$KVM_DEV" ] || [ ! -w "$KVM_DEV" ]; then
		ACCEL_USE=tcg
		note "$KVM_WHY, using TCG"
	else
		ACCEL_USE=tcg
		note "KVM probe failed ($KVM_WHY), using TCG"
	fi
	;;
esac

# Node 0 is the RAM below the PCI hole (2 GiB on q35 with this much RAM); it
# holds the kernel, the initramfs and firmware tables, so 1 GiB pages come
# from node 1, which gets the rest.
node0=$((MEM >= 4096 ? 2048 : MEM / 2))
node1=$((MEM - node0))
if [ "$SMP" -ge 2 ]; then
	cpus0="0-$((SMP / 2 - 1))"
	cpus1="$((SMP / 2))-$((SMP - 1))"
else
	cpus0=0
	cpus1=
fi
# One package per NUMA node: cores of one package on two nodes make the
# kernel WARN in topology_sane() at boot.
if [ "$SMP" -ge 2 ] && [ $((SMP % 2)) -eq 0 ]; then
	SMPARG="$SMP,sockets=2,cores=$((SMP / 2)),threads=1"
else
	SMPARG="$SMP,sockets=$SMP,cores=1,threads=1"
fi

# qemu_cmd kvm|tcg: the QEMU command line in Q, its description in ACCEL.
# The NIC sits alone on a hub: rdma_pin puts its rxe device there on
# kernels without veth (PINSUITE_RDMA_NETDEV), and no packet leaves.
# mem-merge=off: the guest's RAM is not offered to the host's KSM, whose
# full scans would otherwise cover gigabytes for every KSM case on the host.
qemu_cmd() {
	Q=("$QEMU" -nodefaults -display none -no-reboot)
	if [ "$1" = kvm ]; then
		Q+=(-M q35,kernel-irqchip=split,mem-merge=off -accel kvm -cpu host)
		ACCEL=kvm
	elif [ -n "$ICOUNT" ]; then
		Q+=(-M q35,mem-merge=off -accel tcg,thread=single -icount "shift=$ICOUNT,sleep=off"
			-cpu "$CPU")
		ACCEL="tcg, icount shift=$ICOUNT sleep=off"
	else
		Q+=(-M q35,mem-merge=off -accel tcg,thread=multi -cpu "$CPU")
		ACCEL=tcg
	fi
	Q+=(-smp "$SMPARG" -m "${MEM}M"
		-object "memory-backend-ram,id=mem0,size=${node0}M"
		-numa "node,nodeid=0,cpus=$cpus0,memdev=mem0"
		-object "memory-backend-ram,id=mem1,size=${node1}M"
		-numa "node,nodeid=1${cpus1:+,cpus=$cpus1},memdev=mem1"
		-device intel-iommu,intremap=on
		-device edu
		-netdev hubport,id=pinsuite-net,hubid=0
		-device virtio-net-pci,netdev=pinsuite-net
		-serial "file:$W/console.log"
		-chardev "file,id=results,path=$W/results.log,append=on")
	if [ "$CHANNEL" = hvc0 ]; then
		Q+=(-device virtio-serial-pci -device virtconsole,chardev=results)
	else
		Q+=(-serial chardev:results)
	fi
	for d in $DISKS; do
		Q+=(-drive "file=$W/$d.img,if=none,id=$d,format=raw,cache=unsafe"
			-device "virtio-blk-pci,drive=$d,serial=pinsuite-$d")
	done
	# A QMP socket for the stall check (where each vCPU is).
	[ ${#W} -gt 90 ] || Q+=(-qmp "unix:$W/qmp.sock,server=on,wait=off")
	Q+=(-kernel "$BZIMAGE" -initrd "$W/initrd.cpio" -append "$CMDLINE")
}

qemu_cmd "$ACCEL_USE"
echo "TAP version 13"
echo "# pinsuite-vm: kernel $RELEASE ($KIND $KERNEL); $ACCEL, $SMP vCPUs, $MEM MiB, 2 NUMA nodes; config: ${CONFIG:-none}; modules: $NMODS; swap: $SWAPMODE; results on $CHANNEL"
echo "1..2"
[ ${#NOTES[@]} -eq 0 ] || printf '%s\n' "${NOTES[@]}"

NLINES=0
IN_DMESG=0
handle_line() {
	local line=${1%$'\r'}
	NLINES=$((NLINES + 1))
	printf '%s %s\n' "$EPOCHREALTIME" "$line" >&5
	case $line in
	"$VM_MARK boot"*) T_BOOT=$EPOCHREALTIME ;;
	"$VM_MARK info "*) printf '# vm: %s\n' "${line#"$VM_MARK info "}" ;;
	"$VM_MARK suite-start"*) T_SUITE=$EPOCHREALTIME ;;
	"$VM_MARK rc "*) T_END=$EPOCHREALTIME ;;
	"$VM_MARK dmesg-begin"*) IN_DMESG=1 ;;
	"$VM_MARK dmesg-end"*) IN_DMESG=0 ;;
	"$VM_MARK"*) ;;
	*) [ "$IN_DMESG" = 1 ] || printf '# %s\n' "$line" ;;
	esac
}

# boot_deadline: stop a guest that has not reached /init in time, so that a
# boot hang costs --boot-timeout rather than --timeout (twice, with the retry).
boot_deadline() {
	[ -z "$T_BOOT" ] && [ "$BOOT_KILLED" = 0 ] || return 0
	awk -v a="$T_VM" -v b="$EPOCHREALTIME" -v l="$BOOT_TIMEOUT" \
		'BEGIN { exit !(b - a > l) }' || return 0
	# /init falls back to the console when the results channel is missing.
	if grep -q "$VM_MARK boot" "$W/console.log" 2>/dev/null; then
		T_BOOT=$EPOCHREALTIME
		return 0
	fi
	BOOT_KILLED=1
	kill "$QPID" 2>/dev/null
}

# stall_check: no results for HOST_STALL seconds while the suite runs, which
# is longer than any case may take (its timeout, the grace to kill it) and
# than the guest's own stall report: the guest will not get on.  Say where
# each vCPU is (QEMU's registers, through QMP) and stop it now rather than
# at --timeout.
HOST_STALL=${PINSUITE_VM_HOST_STALL:-420}
stall_check() {
	local now=$EPOCHREALTIME
	[ -n "$T_SUITE" ] && [ -z "$T_END" ] && [ "$STALLED" = 0 ] || return 0
	# handle_line counts the lines that came: that is the progress.
	if [ "$NLINES" != "$STALL_LINES" ]; then
		STALL_LINES=$NLINES STALL_T=$now
		return 0
	fi
	awk -v a="$STALL_T" -v b="$now" -v l="$HOST_STALL" 'BEGIN { exit !(b - a > l) }' ||
		return 0
	STALLED=1
	echo "# vm: no results for ${HOST_STALL}s while the suite ran; the vCPUs:"
	vm_cpu_states "$W/qmp.sock" | sed 's/^/# vm:   /'
	kill "$QPID" 2>/dev/null
}

# run_vm: boot once; sets QRC, BOOT_KILLED and the T_* stamps.
run_vm() {
	local chunk part='' r
	printf '%q ' "${Q[@]}" >"$W/qemu.cmd"
	echo >>"$W/qemu.cmd"
	: >"$W/results.log"
	: >"$W/console.log"
	T_BOOT='' T_SUITE='' T_END='' BOOT_KILLED=0 NLINES=0 IN_DMESG=0 BOOTED=1
	STALL_LINES='' STALL_T='' STALLED=0
	exec 5>"$W/stamps.log"	# arrival time of every results line (vm/bench.sh)
	T_VM=$EPOCHREALTIME
	timeout -k 5 "$TIMEOUT" "${Q[@]}" </dev/null >"$W/qemu.log" 2>&1 &
	QPID=$!
	PIDS+=("$QPID")
	if [ "$VERBOSE" = 1 ]; then
		tail -n +1 -f --pid="$QPID" "$W/console.log" >&6 &
		PIDS+=($!)
	fi
	# read -t returns what it got so far on a timeout; keep it for the
	# rest of the line.
	while :; do
		IFS= read -r -t 1 chunk
		r=$?
		if [ "$r" = 0 ]; then
			handle_line "$part$chunk"
			part=
			continue
		fi
		part+=$chunk
		if [ "$r" -gt 128 ]; then
			boot_deadline
			stall_check
			continue
		fi
		[ -z "$part" ] || handle_line "$part"
		break
	done < <(tail -s 0.2 -n +1 -f --pid="$QPID" "$W/results.log" 2>/dev/null)
	wait "$QPID"
	QRC=$?
	T_EXIT=$EPOCHREALTIME
	# Whatever tail had not passed on when QEMU went away.
	while IFS= read -r chunk || [ -n "$chunk" ]; do
		handle_line "$chunk"
	done < <(tail -n +$((NLINES + 1)) "$W/results.log")
	exec 5>&-
}

el() { # elapsed seconds between two $EPOCHREALTIME stamps
	if [ -z "$1" ] || [ -z "$2" ]; then
		echo -
		return
	fi
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'
}

# Boot; a guest that never started the suite has judged nothing, so it is
# safe to boot it once more (fresh disks, and TCG if KVM was only chosen by
# the probe).  A run that started the suite is never repeated.
T_PREP=$EPOCHREALTIME
ATTEMPT=1
RETRIED=	# "boot 1 (ACCEL, SECONDS)" when the guest was booted again
RETRY_WHY=
# run_vm's stderr goes to a file: bash reports a QEMU killed by a signal
# ("Aborted  timeout ...") whenever it notices, and QRC says it anyway.
exec 6>&2
while :; do
	run_vm 2>>"$W/run.err"
	[ "$BOOT_KILLED" = 1 ] && BTMO=$BOOT_TIMEOUT || BTMO=
	STATE=$(vm_run_state "$W/results.log" "$QRC" "$W/console.log")
	# Stopped by stall_check: the results had started, as with --timeout.
	[ "$STALLED" = 0 ] || STATE=timeout
	if [ "$ATTEMPT" -ge 2 ] || [ "$RETRY" = 0 ] || ! vm_state_retry "$STATE"; then
		break
	fi
	RETRIED="boot 1 ($ACCEL, $(el "$T_VM" "$T_EXIT")s)"
	RETRY_WHY=$(vm_boot_reason "$STATE" "$QRC" "$W/console.log" "$W/qemu.log" "$BTMO")
	for f in console results qemu; do
		mv -f "$W/$f.log" "$W/$f.1.log"
	done
	grep -v '^[[:space:]]*$' "$W/qemu.1.log" | tail -n 3 | sed 's/^/# qemu 1: /'
	tr -d '\r' <"$W/console.1.log" | tail -n 10 | sed 's/^/# console 1: /'
	if [ "$ACCEL_MODE" = auto ] && [ "$ACCEL_USE" = kvm ]; then
		ACCEL_USE=tcg
		kvm_cache_put fail "a KVM boot of the suite's VM did not reach the suite"
		qemu_cmd tcg
		echo "# vm: $RETRIED: $RETRY_WHY; retrying once, with TCG"
	else
		echo "# vm: $RETRIED: $RETRY_WHY; retrying once"
	fi
	if ! PATH=$PATH:/usr/sbin:/sbin mk_disks; then
		echo "Bail out! cannot make the scratch disks"
		exit "$(vm_exit_code prepfail "" 0 "$BISECT")"
	fi
	ATTEMPT=2
done

# ---------------------------------------------------------------------------
# Verdicts

SUITE_RC=$(vm_results_field "$W/results.log" rc) || SUITE_RC=
VERDICT_RC=$SUITE_RC
if [ "$STATE" = 'done' ] && [ -n "$CASE_RE" ]; then
	vm_results_suite "$W/results.log" | vm_cases | vm_case_verdict "$CASE_RE"
	VERDICT_RC=$?
	echo "# vm: cases matching /$CASE_RE/: $(vm_results_suite "$W/results.log" | vm_cases |
		awk -v re="$CASE_RE" '{st=$1; if (st=="not") {st="not ok"; $2=""} ; $1=""; n=$0; sub(/^ +/,"",n); if (n ~ re) c[st]++} END {printf "ok %d, not ok %d, skip %d", c["ok"], c["not ok"], c["skip"]}')"
fi
why=
[ "$STATE" = 'done' ] ||
	why=$(vm_boot_reason "$STATE" "$QRC" "$W/console.log" "$W/qemu.log" "$BTMO")
if [ -n "$RETRIED" ] && [ "$why" = "$RETRY_WHY" ]; then
	AGAIN="retried once, $RETRIED ended the same way"
elif [ -n "$RETRIED" ]; then
	AGAIN="retried once after $RETRIED: $RETRY_WHY"
else
	AGAIN="not retried"
fi

ENVFAIL=
case $STATE in
done)
	[ -z "$RETRIED" ] || echo "# vm: boot 2 reached the suite; $AGAIN"
	case $VERDICT_RC in
	0) echo "ok 1 $RELEASE: pinsuite" ;;
	4) echo "ok 1 $RELEASE: pinsuite # SKIP nothing ran" ;;
	*) echo "not ok 1 $RELEASE: pinsuite" ;;
	esac
	;;
*)
	case $STATE in
	envboot | qemufail)
		ENVFAIL="could not test: $why"
		RUN_WHY="environment failure, not the kernel's: $why; $AGAIN"
		;;
	noboot) RUN_WHY="kernel failure: $why; $AGAIN" ;;
	noresult) RUN_WHY="kernel failure: timed out after ${TIMEOUT}s before the suite printed any result; not retried (the suite had started)" ;;
	timeout)
		if [ "$STALLED" = 1 ]; then
			RUN_WHY="kernel failure: no results for ${HOST_STALL}s while the suite ran (longer than any case may take); stopped then; not retried (results had started)"
		else
			RUN_WHY="kernel failure: timed out after ${TIMEOUT}s while the suite ran; not retried (results had started)"
		fi
		;;
	*) RUN_WHY="kernel failure: the guest died while the suite ran (QEMU exit $QRC); not retried (results had started)" ;;
	esac
	echo "# vm: $RUN_WHY"
	RUN_VERDICT=error
	grep -v '^[[:space:]]*$' "$W/qemu.log" | tail -n 5 | sed 's/^/# qemu: /'
	tr -d '\r' <"$W/console.log" | tail -n 40 | sed 's/^/# console: /'
	[ -n "$ENVFAIL" ] || echo "not ok 1 $RELEASE: pinsuite"
	;;
esac

# Kernel log: the guest's dmesg dump when it got that far, else the console.
if grep -q "^$VM_MARK dmesg-begin" "$W/results.log"; then
	vm_results_dmesg "$W/results.log" >"$W/dmesg.log"
else
	tr -d '\r' <"$W/console.log" >"$W/dmesg.log"
fi
vm_dmesg_window <"$W/dmesg.log" >"$W/dmesg.window"
vm_dmesg_show <"$W/dmesg.window" | head -n 200
TB=$(vm_results_field "$W/results.log" taint-before) || TB=
TA=$(vm_results_field "$W/results.log" taint-after) || TA=
TAINTED=0
if [ -n "$TB" ] && [ "$TB" != 0 ]; then
	echo "# taint: already tainted before the suite: $TB = $(vm_taint_letters "$TB")"
fi
if [ -n "$TB" ] && [ -n "$TA" ]; then
	new=$(vm_taint_new "$TB" "$TA") || new=0
	if [ "$new" != 0 ]; then
		echo "# taint: $TB -> $TA during the suite; new: $(vm_taint_letters "$new")"
		TAINTED=1
		UT_WHY="taint: $TB -> $TA during the suite; new: $(vm_taint_letters "$new")"
	fi
fi
if [ -z "$ENVFAIL" ] && bad=$(vm_dmesg_first_bad <"$W/dmesg.window"); then
	echo "# first bad kernel message: $bad"
	TAINTED=1
	UT_WHY="${UT_WHY:+$UT_WHY; }first bad kernel message: $bad"
fi
if [ -n "$ENVFAIL" ]; then
	:
elif [ "$TAINTED" = 1 ]; then
	echo "not ok 2 $RELEASE: Kernel stays untainted"
	UT_VERDICT=fail
elif [ -z "$TA" ]; then
	echo "ok 2 $RELEASE: Kernel stays untainted # SKIP the guest did not report its taint"
	UT_VERDICT=skip UT_WHY="the guest did not report its taint"
else
	echo "ok 2 $RELEASE: Kernel stays untainted"
	UT_VERDICT=pass
fi
[ "$IGNORE_TAINT" = 0 ] || TAINTED=0

echo "# timing: prepare $(el "$T_START" "$T_PROBE")s probe ${PROBE_SECS}s" \
	"boot $(el "$T_VM" "$T_BOOT")s setup $(el "$T_BOOT" "$T_SUITE")s" \
	"suite $(el "$T_SUITE" "$T_END")s shutdown $(el "$T_END" "$T_EXIT")s" \
	"vm $(el "$T_PREP" "$T_EXIT")s total $(el "$T_START" "$T_EXIT")s"

EXIT=$(vm_exit_code "$STATE" "$VERDICT_RC" "$TAINTED" "$BISECT" "$BOOT_CRASH_BAD")
# Results that could not be written must not look like a pass.
if ! write_results && [ "$EXIT" = 0 ]; then
	EXIT=$(vm_exit_code prepfail "" 0 "$BISECT")
fi
[ "$BISECT" = 0 ] || echo "# bisect: state $STATE, suite exit ${SUITE_RC:--}, tainted $TAINTED -> exit $EXIT"
# TAP's word for "this run could not go on": the environment, not the kernel.
[ -z "$ENVFAIL" ] || echo "Bail out! $ENVFAIL"
exit "$EXIT"
