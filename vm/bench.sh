#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Time one vm/run.sh run: boot (QEMU start to the first line from the guest's
# /init), set-up, suite and total, plus the binaries by time and the 20
# slowest cases with their share of the suite's case time.
# A benchmark prints numbers and never asserts: the exit status is 0 whatever
# the suite's verdict (2 for bad usage).
#
#   vm/bench.sh [vm/run.sh options] KERNEL [-- run_tests.sh arguments]

set -u -o pipefail
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vm/lib.sh
. "$VM_DIR/lib.sh"

case ${1:-} in
'' | -h | --help)
	echo "Usage: vm/bench.sh [vm/run.sh options] KERNEL [-- run_tests.sh arguments]"
	echo "Prints prepare/boot/setup/suite/shutdown/total seconds, the binaries by time and the 20 slowest cases with their share."
	echo "PINSUITE_BENCH_TIMES=FILE keeps the per-case seconds."
	[ -n "${1:-}" ] && exit 0
	exit 2
	;;
esac

W=$(mktemp -d "${TMPDIR:-/tmp}/pinsuite-bench.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT

"$VM_DIR/run.sh" --workdir "$W/vm" "$@" >"$W/out.tap" 2>"$W/err.log"
rc=$?
if [ "$rc" = 2 ]; then
	cat "$W/err.log" >&2
	exit 2
fi

header=$(grep -m1 '^# pinsuite-vm: kernel ' "$W/out.tap")
timing=$(grep -m1 '^# timing: ' "$W/out.tap")
echo "${header:-# pinsuite-vm: (no header; see below)}"
echo "# run.sh exit status: $rc ($(grep -E '^(not )?ok [12] ' "$W/out.tap" | tr '\n' ';'))"
if [ -z "$timing" ]; then
	echo "# no timing line; run.sh said:"
	tail -n 20 "$W/err.log" "$W/out.tap" | sed 's/^/#   /'
	exit 0
fi
# "# timing: prepare 0.1s boot 3.8s ..." -> one "name seconds" line each.
read -r -a f <<<"${timing#\# timing: }"
for ((i = 0; i + 1 < ${#f[@]}; i += 2)); do
	printf '%-9s %8s s\n' "${f[i]}" "${f[i + 1]%s}"
done

# Per binary and per case, from the arrival times of the results lines.
stamps=$W/vm/stamps.log
[ -f "$stamps" ] || exit 0
awk '
function name(s) { sub(/^[0-9.]+ /, "", s); return s }
{
	t = $1
	line = $0; sub(/^[0-9.]+ /, "", line)
	if (line ~ /^# selftests: pinsuite: /) { bin = line; sub(/^# selftests: pinsuite: /, "", bin); bstart = t }
	else if (line ~ /^(not )?ok [0-9]+ selftests: pinsuite: /) { if (bin != "") printf "B %.1f %s\n", t - bstart, bin; bin = "" }
	else if (line ~ /^# # \[RUN\] /) { cstart = t; c = line; sub(/^# # \[RUN\] /, "", c) }
	else if (line ~ /^# (not )?ok [0-9]+ / && c != "") { printf "C %.2f %s: %s\n", t - cstart, bin, c; c = "" }
}' "$stamps" >"$W/times"
echo "# binaries (seconds):"
grep '^B ' "$W/times" | sort -k2,2 -rn | awk '{ $1 = ""; print "#  " $0 }'
n=$(grep -c '^C ' "$W/times")
if [ "$n" -gt 0 ]; then
	sum=$(awk '$1 == "C" { s += $2 } END { printf "%.2f", s }' "$W/times")
	echo "# the 20 slowest of $n cases (seconds, share of the sum of case times):"
	grep '^C ' "$W/times" | sort -k2,2 -rn | head -n 20 |
		awk -v s="$sum" '{ t = $2; $1 = ""; $2 = ""; printf "#   %5.2f %4.1f%% %s\n", t, (s > 0 ? 100 * t / s : 0), substr($0, 3) }'
	echo "# sum of case times: $sum s"
	# Where the time goes: the cases on 1 GiB pages copy and clear whole gigabytes.
	grep '^C ' "$W/times" | awk -v s="$sum" '
		/1048576 kB/ { g += $2; ng++; next }
		{ o += $2; no++ }
		END { printf "# 1 GiB hugetlb cases: %d, %.1f s (%.0f%%); all others: %d, %.1f s\n", ng, g, (s > 0 ? 100 * g / s : 0), no, o }'
fi
[ -z "${PINSUITE_BENCH_TIMES:-}" ] || cp "$W/times" "$PINSUITE_BENCH_TIMES"
exit 0
