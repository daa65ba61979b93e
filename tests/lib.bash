# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the project's tests: TAP output for prove, where the binaries
# are, and where the kernel's own tools (checkpatch.pl, kunit_parser.py,
# run_kselftest.sh) are found.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTPUT=${OUTPUT:-$TOP}
BINARIES="cow gup_longterm vfio_pin iouring_pin promises udmabuf_pin rdma_pin xdp_pin odirect_pin"
_t_num=0
_t_failed=0

plan() { echo "1..$1"; }

ok() {
	local cond=$1
	shift
	_t_num=$((_t_num + 1))
	if [ "$cond" = 0 ]; then
		echo "ok $_t_num - $*"
	else
		echo "not ok $_t_num - $*"
		_t_failed=1
	fi
}

# ok_cmd DESCRIPTION COMMAND...: ok if the command succeeds
ok_cmd() {
	local desc=$1
	shift
	"$@"
	ok $? "$desc"
}

skip() {
	_t_num=$((_t_num + 1))
	echo "ok $_t_num - $1 # SKIP $2"
}

diag() { echo "# $*"; }

done_testing() { exit $_t_failed; }

is_root() { [ "$(id -u)" = 0 ]; }

# The binaries that were built.
built_binaries() {
	local b

	for b in $BINARIES; do
		[ -x "$OUTPUT/$b" ] && echo "$b"
	done
}

# Own the run for as long as this test runs (root): a guardian holds the
# run lock, so that a suite run elsewhere on the machine waits instead of
# seeing the settings this test changes; the binaries the test starts join
# it.  Nothing to do for an unprivileged test, which changes nothing.
own_run() {
	local b st me=$BASHPID
	is_root || return 0
	for b in $(built_binaries); do
		st=$("$OUTPUT/$b" --state-guard="$me") || return 1
		export "${st?}"
		return 0
	done
	return 1
}

# The settings the suite may change, one "path value" line each.
knobs() {
	local f mm=/sys/kernel/mm
	for f in $mm/transparent_hugepage/enabled $mm/transparent_hugepage/defrag \
		 $mm/transparent_hugepage/shmem_enabled \
		 "$mm"/transparent_hugepage/hugepages-*/enabled \
		 "$mm"/transparent_hugepage/hugepages-*/shmem_enabled \
		 "$mm"/hugepages/hugepages-*/nr_hugepages $mm/ksm/run $mm/ksm/pages_to_scan \
		 $mm/ksm/sleep_millisecs $mm/ksm/smart_scan /proc/sys/vm/stat_interval \
		 /proc/sys/vm/min_free_kbytes /sys/kernel/rcu_expedited; do
		[ -f "$f" ] && printf '%s %s\n' "$f" "$(cat "$f")"
	done
}

# Wait up to $1 seconds for the settings to be back at $2 (a knobs output).
knobs_back() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		[ "$(knobs)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# Wait up to $1 seconds until no process of the suite runs any more.
suite_gone() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		pgrep -f "$OUTPUT/(cow|gup_longterm|vfio_pin|iouring_pin)|run_tests.sh" >/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# "verdict name" of every case of a TAP output on stdin (nested or not),
# with the skip reason.
verdicts() {
	sed -n 's/^\(# \)*\(not ok\|ok\) [0-9]* \(.*\)$/\2 \3/p' | grep -v ' selftests: '
}

# Run a command as an unprivileged user (nobody), keeping the environment.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all -- "$@"
}

# The kernel's own tools, from PINSUITE_KTOOLS or a Debian linux-source
# tree; when only the tarball exists, the parts the tests use are extracted
# into the cache (PINSUITE_CACHE, else ~/.cache/pinsuite): checkpatch
# (style.sh), kunit.py with its modules (tap.sh), run_kselftest.sh and
# kselftest/ (kselftest.sh), and for intree.sh the selftests Makefile and
# lib.mk plus what `make headers` needs (its architecture part only for
# x86 and arm64).  The cache records the tarball and the list it was made
# from; it is extracted again when either changed or a part is missing.
ktools() {
	local dir=${PINSUITE_KTOOLS:-} tarball src top cache stamp tmp f ok
	local need=(
		.clang-format Makefile scripts include/uapi tools/include
		tools/testing/kunit
		tools/testing/selftests/Makefile tools/testing/selftests/lib.mk
		tools/testing/selftests/run_kselftest.sh tools/testing/selftests/kselftest
		tools/testing/selftests/kselftest.h tools/testing/selftests/kselftest_harness.h
	)
	local arch=()

	if [ -n "$dir" ] && [ -f "$dir/scripts/checkpatch.pl" ]; then
		echo "$dir"
		return 0
	fi
	for src in /usr/src/linux-source-*/; do
		if [ -f "$src/scripts/checkpatch.pl" ]; then
			echo "${src%/}"
			return 0
		fi
	done
	tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.*' 2>/dev/null | sort | tail -n 1)
	[ -n "$tarball" ] || return 1
	top=$(basename "$tarball")
	top=${top%.tar.*}
	case $(uname -m) in
	x86_64 | i?86) arch=(arch/x86/Makefile arch/x86/include/uapi arch/x86/entry/syscalls
			     arch/x86/tools tools/arch/x86/include) ;;
	aarch64*) arch=(arch/arm64 tools/arch/arm64) ;;
	esac

	cache=${PINSUITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pinsuite}/ktools
	dir=$cache/$top
	stamp="$(stat -c '%n %s %Y' "$tarball") ${need[*]} ${arch[*]}"
	ok=0
	if [ "$(cat "$dir/.pinsuite-ktools" 2>/dev/null)" = "$stamp" ]; then
		ok=1
		for f in "${need[@]}"; do
			[ -e "$dir/$f" ] || ok=0
		done
	fi
	if [ $ok = 0 ]; then
		mkdir -p "$cache" && tmp=$(mktemp -d "$cache/.extract.XXXXXX") || return 1
		# A part missing from the archive fails tar but not the others.
		tar -xf "$tarball" -C "$tmp" "${need[@]/#/$top/}" "${arch[@]/#/$top/}" 2>/dev/null
		ok=1
		for f in "${need[@]}"; do
			[ -e "$tmp/$top/$f" ] || ok=0
		done
		if [ $ok = 1 ]; then
			echo "$stamp" > "$tmp/$top/.pinsuite-ktools"
			rm -rf "$dir"
			mv "$tmp/$top" "$dir" || ok=0
		fi
		rm -rf "$tmp"
	fi
	[ $ok = 1 ] || return 1
	echo "$dir"
}
