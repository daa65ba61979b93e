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
  --timeout S       wall-clock limit for the VM in seconds (default $TIMEOUT)
  --kvm             use KVM (default: TCG)
  --icount[=SHIFT]  TCG with -icount shift=SHIFT,sleep=off (default SHIFT 4):
                    idle time warps to the next timer (edu DMA timers)
  --cpu MODEL       QEMU -cpu model under TCG (default $CPU)
  --smp N           virtual CPUs (default $SMP)
  --mem MIB         guest RAM over two NUMA nodes: 2048 MiB on node 0, the
                    rest on node 1, which must fit the 1G pages (default $MEM)
  --hugepages-2m N  2 MiB hugetlb pages reserved at boot (default $HUGE_2M)
  --hugepages-1g N  1 GiB hugetlb pages reserved at boot (default $HUGE_1G)
  --channel C       results channel: auto, ttyS1 or hvc0 (default auto)
  --append ARGS     extra kernel command line arguments
  --keep            keep the work directory (initramfs, disks, logs)
  --workdir DIR     use DIR as the work directory (implies --keep)
  -v, --verbose     show the guest console on stderr while it runs
  -h, --help        this help

Exit status: 0 pass, 1 failure (a case, the kernel got tainted, or the guest
died or hung), 2 usage, 3 the kernel or VM could not be prepared, 4 nothing
ran.  With --bisect: 0 good, 1 bad, 125 untestable (build failure, missing
required config, no boot, timeout before any result, nothing ran).
Environment: PINSUITE_CACHE (default \${XDG_CACHE_HOME:-\$HOME/.cache}/pinsuite),
QEMU (default qemu-system-x86_64), MAKE (default make).
EOF
}

# Defaults
TIMEOUT=900
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
USE_KVM=0
ICOUNT=
CHANNEL=auto
APPEND=
KEEP=0
WORKDIR=
VERBOSE=0
KERNEL=
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
	--kvm) USE_KVM=1 ;;
	--icount) ICOUNT=4 ;;
	--icount=*) ICOUNT=${1#*=} ;;
	--smp) need_arg "$@"; SMP=$2; shift ;;
	--cpu) need_arg "$@"; CPU=$2; shift ;;
	--mem) need_arg "$@"; MEM=$2; shift ;;
	--hugepages-2m) need_arg "$@"; HUGE_2M=$2; shift ;;
	--hugepages-1g) need_arg "$@"; HUGE_1G=$2; shift ;;
	--channel) need_arg "$@"; CHANNEL=$2; shift ;;
	--append) need_arg "$@"; APPEND=$2; shift ;;
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
for v in TIMEOUT SMP MEM HUGE_2M HUGE_1G; do
	is_uint "${!v}" || bad_usage "not a number: ${v,,} ${!v}"
done
if [ "$SMP" -lt 1 ] || [ "$TIMEOUT" -lt 1 ]; then
	bad_usage "--smp and --timeout must be at least 1"
fi
[ -z "$ICOUNT" ] || is_uint "$ICOUNT" || bad_usage "--icount shift must be a number"
[ -z "$ICOUNT" ] || [ "$USE_KVM" = 0 ] || bad_usage "--icount is TCG only"
case $CHANNEL in auto | ttyS1 | hvc0) ;; *) bad_usage "bad --channel $CHANNEL" ;; esac
for o in "${REQUIRE[@]}"; do
	[[ $o =~ ^CONFIG_[A-Za-z0-9_]+$ ]] || bad_usage "--require wants CONFIG_NAME, not $o"
done
if [ -n "$CASE_RE" ]; then
	# A bad regex must be a usage error, not a silent "nothing matched".
	[[ x =~ $CASE_RE ]]
	[ $? -le 1 ] || bad_usage "bad --case regex: $CASE_RE"
fi
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
	exit "$(vm_exit_code "$state" "" 0 "$BISECT")"
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
if head -n 1 "$SUITE/run_tests.sh" | grep -q bash; then
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
	echo "set -- $(vm_shell_quote "${SUITE_ARGS[@]}")"
} >"$ROOT/etc/pinsuite/vm.conf"

(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc -R 0:0 --quiet) \
	>"$W/initrd.cpio" || finish_early prepfail "cpio failed"

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

CMDLINE="console=ttyS0 intel_iommu=on panic=-1 quiet loglevel=5"
CMDLINE+=" hugepagesz=2M hugepages=$HUGE_2M hugepagesz=1G hugepages=$HUGE_1G"
CMDLINE+=" default_hugepagesz=2M rdinit=/init${APPEND:+ $APPEND}"

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
Q=("$QEMU" -nodefaults -display none -no-reboot)
if [ "$USE_KVM" = 1 ]; then
	Q+=(-M q35,kernel-irqchip=split -accel kvm -cpu host)
	ACCEL=kvm
elif [ -n "$ICOUNT" ]; then
	Q+=(-M q35 -accel tcg,thread=single -icount "shift=$ICOUNT,sleep=off" -cpu "$CPU")
	ACCEL="tcg, icount shift=$ICOUNT sleep=off"
else
	Q+=(-M q35 -accel tcg,thread=multi -cpu "$CPU")
	ACCEL=tcg
fi
# One package per NUMA node: cores of one package on two nodes make the
# kernel WARN in topology_sane() at boot.
if [ "$SMP" -ge 2 ] && [ $((SMP % 2)) -eq 0 ]; then
	SMPARG="$SMP,sockets=2,cores=$((SMP / 2)),threads=1"
else
	SMPARG="$SMP,sockets=$SMP,cores=1,threads=1"
fi
Q+=(-smp "$SMPARG" -m "${MEM}M"
	-object "memory-backend-ram,id=mem0,size=${node0}M"
	-numa "node,nodeid=0,cpus=$cpus0,memdev=mem0"
	-object "memory-backend-ram,id=mem1,size=${node1}M"
	-numa "node,nodeid=1${cpus1:+,cpus=$cpus1},memdev=mem1"
	-device intel-iommu,intremap=on
	-device edu
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
Q+=(-kernel "$BZIMAGE" -initrd "$W/initrd.cpio" -append "$CMDLINE")
printf '%q ' "${Q[@]}" >"$W/qemu.cmd"
echo >>"$W/qemu.cmd"

: >"$W/results.log"
: >"$W/console.log"
T_PREP=$EPOCHREALTIME
timeout -k 5 "$TIMEOUT" "${Q[@]}" </dev/null >"$W/qemu.log" 2>&1 &
QPID=$!
PIDS+=("$QPID")
if [ "$VERBOSE" = 1 ]; then
	tail -n +1 -f --pid="$QPID" "$W/console.log" >&2 &
	PIDS+=($!)
fi

echo "TAP version 13"
echo "# pinsuite-vm: kernel $RELEASE ($KIND $KERNEL); $ACCEL, $SMP vCPUs, $MEM MiB, 2 NUMA nodes; config: ${CONFIG:-none}; modules: $NMODS; swap: $SWAPMODE; results on $CHANNEL"
echo "1..2"

T_BOOT='' T_SUITE='' T_END=''
NLINES=0
IN_DMESG=0
exec 5>"$W/stamps.log"	# arrival time of every results line (vm/bench.sh)
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
while IFS= read -r line || [ -n "$line" ]; do
	handle_line "$line"
done < <(tail -n +1 -f --pid="$QPID" "$W/results.log" 2>/dev/null)
wait "$QPID"
QRC=$?
T_EXIT=$EPOCHREALTIME
# Whatever tail had not passed on when QEMU went away.
while IFS= read -r line || [ -n "$line" ]; do
	handle_line "$line"
done < <(tail -n +$((NLINES + 1)) "$W/results.log")

# ---------------------------------------------------------------------------
# Verdicts

STATE=$(vm_run_state "$W/results.log" "$QRC")
SUITE_RC=$(vm_results_field "$W/results.log" rc) || SUITE_RC=
VERDICT_RC=$SUITE_RC
if [ "$STATE" = 'done' ] && [ -n "$CASE_RE" ]; then
	vm_results_suite "$W/results.log" | vm_cases | vm_case_verdict "$CASE_RE"
	VERDICT_RC=$?
	echo "# vm: cases matching /$CASE_RE/: $(vm_results_suite "$W/results.log" | vm_cases |
		awk -v re="$CASE_RE" '{st=$1; if (st=="not") {st="not ok"; $2=""} ; $1=""; n=$0; sub(/^ +/,"",n); if (n ~ re) c[st]++} END {printf "ok %d, not ok %d, skip %d", c["ok"], c["not ok"], c["skip"]}')"
fi

case $STATE in
done)
	case $VERDICT_RC in
	0) echo "ok 1 $RELEASE: pinsuite" ;;
	4) echo "ok 1 $RELEASE: pinsuite # SKIP nothing ran" ;;
	*) echo "not ok 1 $RELEASE: pinsuite" ;;
	esac
	;;
*)
	case $STATE in
	noboot) why="the guest never started the suite (no boot, panic or hang; QEMU exit $QRC)" ;;
	noresult) why="timed out after ${TIMEOUT}s before the suite printed any result" ;;
	timeout) why="timed out after ${TIMEOUT}s while the suite ran" ;;
	*) why="the guest died while the suite ran (QEMU exit $QRC)" ;;
	esac
	echo "# vm: $why"
	grep -v '^[[:space:]]*$' "$W/qemu.log" | tail -n 5 | sed 's/^/# qemu: /'
	tr -d '\r' <"$W/console.log" | tail -n 40 | sed 's/^/# console: /'
	echo "not ok 1 $RELEASE: pinsuite"
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
	fi
fi
if bad=$(vm_dmesg_first_bad <"$W/dmesg.window"); then
	echo "# first bad kernel message: $bad"
	TAINTED=1
fi
if [ "$TAINTED" = 1 ]; then
	echo "not ok 2 $RELEASE: Kernel stays untainted"
elif [ -z "$TA" ]; then
	echo "ok 2 $RELEASE: Kernel stays untainted # SKIP the guest did not report its taint"
else
	echo "ok 2 $RELEASE: Kernel stays untainted"
fi
[ "$IGNORE_TAINT" = 0 ] || TAINTED=0

el() { # elapsed seconds between two $EPOCHREALTIME stamps
	if [ -z "$1" ] || [ -z "$2" ]; then
		echo -
		return
	fi
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'
}
echo "# timing: prepare $(el "$T_START" "$T_PREP")s boot $(el "$T_PREP" "$T_BOOT")s" \
	"setup $(el "$T_BOOT" "$T_SUITE")s suite $(el "$T_SUITE" "$T_END")s" \
	"shutdown $(el "$T_END" "$T_EXIT")s vm $(el "$T_PREP" "$T_EXIT")s total $(el "$T_START" "$T_EXIT")s"

EXIT=$(vm_exit_code "$STATE" "$VERDICT_RC" "$TAINTED" "$BISECT")
[ "$BISECT" = 0 ] || echo "# bisect: state $STATE, suite exit ${SUITE_RC:--}, tainted $TAINTED -> exit $EXIT"
exit "$EXIT"
