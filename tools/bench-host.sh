#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host benchmark (a benchmark prints numbers; it asserts nothing):
#   - the kernel's own COW selftest (tools/testing/selftests/mm/cow.c, built
#     here from Debian's linux-source-6.12, never committed) and our cow,
#     run alternately in one invocation: seconds per executed case;
#   - a full host run (run_tests.sh): seconds, with the slowest binaries.
#
#   tools/bench-host.sh [ROUNDS]     (default 3; as root, OUTPUT= the binaries)

set -u -o pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${OUTPUT:-$TOP}
rounds=${1:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [ROUNDS]" >&2; exit 2; }
# shellcheck source=tests/lib.bash
. "$TOP/tests/lib.bash"

cache=${PINSUITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pinsuite}/bench
mkdir -p "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The kernel's cow, once per source tarball.
tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-6.12.tar.*' | sort | tail -n 1)
[ -n "$tarball" ] || { echo "needs linux-source-6.12 (apt-get install linux-source-6.12)" >&2; exit 2; }
up=$cache/cow-$(basename "$tarball" | tr -c 'A-Za-z0-9.\n' _)
if [ ! -x "$up" ]; then
	top=$(basename "$tarball")
	top=${top%.tar.*}
	echo "# building the kernel's cow selftest from $tarball"
	tar -xf "$tarball" -C "$tmp" "$top/tools/testing/selftests/mm" "$top/tools/include" \
		"$top/tools/testing/selftests/kselftest.h" "$top/mm/gup_test.h" "$top/Makefile" \
		"$top/scripts" "$top/include" "$top/arch/x86" || exit 1
	make -s -C "$tmp/$top" headers O="$tmp/khdr" >"$tmp/headers.log" 2>&1 ||
		{ tail "$tmp/headers.log" >&2; exit 1; }
	(cd "$tmp/$top/tools/testing/selftests/mm" && sh check_config.sh gcc &&
	 gcc -O2 -D_GNU_SOURCE -isystem "$tmp/khdr/usr/include" -I../../../../mm -o "$up" \
		cow.c vm_util.c thp_settings.c -luring -lpthread) >"$tmp/build.log" 2>&1 ||
		{ tail "$tmp/build.log" >&2; exit 1; }
fi

# seconds and "executed" cases (pass, fail, xfail) of one run of $@
timed() {
	local t0 t1 tot
	t0=$EPOCHREALTIME
	"$@" >"$tmp/out" 2>/dev/null
	t1=$EPOCHREALTIME
	tot=$(grep '^# Totals:' "$tmp/out" | tail -n 1)
	awk -v a="$t0" -v b="$t1" -v t="$tot" 'BEGIN {
		n = 0; split(t, f, /[ :]+/)
		for (i = 1; i in f; i++) if (f[i] == "pass" || f[i] == "fail" || f[i] == "xfail") n += f[i + 1]
		printf "%.2f %d\n", b - a, n }'
}

echo "# $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $rounds rounds"
printf '%-26s %8s %9s %12s\n' "run" "seconds" "executed" "ms per case"
for ((r = 1; r <= rounds; r++)); do
	read -r s n < <(cd "$tmp" && timed "$up")
	printf '%-26s %8s %9s %12.1f\n' "kernel cow, round $r" "$s" "$n" "$(awk -v s="$s" -v n="$n" 'BEGIN { print n ? 1000 * s / n : 0 }')"
	read -r s n < <(timed "$OUTPUT/cow")
	printf '%-26s %8s %9s %12.1f\n' "pinsuite cow, round $r" "$s" "$n" "$(awk -v s="$s" -v n="$n" 'BEGIN { print n ? 1000 * s / n : 0 }')"
done
for ((r = 1; r <= rounds; r++)); do
	t0=$EPOCHREALTIME
	"$TOP/run_tests.sh" >"$tmp/run" 2>/dev/null
	t1=$EPOCHREALTIME
	printf '%-26s %8.2f %9s   %s\n' "run_tests.sh, round $r" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
		"$(verdicts <"$tmp/run" | grep -vc '# SKIP')" \
		"$(sed -n 's/^# \([a-z_]*\): exit status [0-9]* after \([0-9]*\)s$/\1 \2s/p' "$tmp/run" | tr '\n' ' ')"
done
