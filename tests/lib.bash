# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the project's tests: TAP output for prove, where the binaries
# are, and where the kernel's own tools (checkpatch.pl, kunit_parser.py,
# run_kselftest.sh) are found.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTPUT=${OUTPUT:-$TOP}
BINARIES="cow gup_longterm vfio_pin iouring_pin"
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

# Run a command as an unprivileged user (nobody), keeping the environment.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all -- "$@"
}

# The kernel's own tools, from PINSUITE_KTOOLS or a Debian linux-source
# tree; extracted once from the tarball into a cache when only that exists.
ktools() {
	local dir=${PINSUITE_KTOOLS:-} tarball src top f
	local files="scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch
		     tools/testing/kunit/kunit_parser.py tools/testing/kunit/kunit_printer.py
		     tools/testing/selftests/run_kselftest.sh tools/testing/selftests/kselftest
		     .clang-format"

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
	dir=${XDG_CACHE_HOME:-$HOME/.cache}/pinsuite/ktools
	if [ ! -f "$dir/$top/scripts/checkpatch.pl" ]; then
		local members=()
		for f in $files; do
			members+=("$top/$f")
		done
		mkdir -p "$dir"
		tar -xf "$tarball" -C "$dir" "${members[@]}" 2>/dev/null || return 1
	fi
	echo "$dir/$top"
}
