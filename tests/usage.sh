#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad command-line input gives the usage on stderr and exit status 2;
# -h gives it on stdout and exit status 0.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

bins=$(built_binaries)
plan $((4 * $(echo "$bins" | wc -w) + 3))

check() {
	local desc=$1 want=$2
	shift 2
	local err rc
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	ok "$([ "$rc" = "$want" ] && { [ "$want" = 0 ] || [[ $err == *Usage:* ]]; }; echo $?)" \
		"$desc (exit $rc)"
}

for b in $bins; do
	check "$b --no-such-option" 2 "$OUTPUT/$b" --no-such-option
	check "$b with a stray argument" 2 "$OUTPUT/$b" stray
	check "$b -T without a number" 2 "$OUTPUT/$b" -T abc
	out=$("$OUTPUT/$b" -h)
	rc=$?
	ok "$([ $rc = 0 ] && [[ $out == *Usage:* ]]; echo $?)" "$b -h prints the usage, exit 0"
done
check "run_tests.sh -x" 2 "$TOP/run_tests.sh" -x
check "run_tests.sh -t no_such_binary" 2 "$TOP/run_tests.sh" -t no_such_binary
check "run_tests.sh -o 1s" 2 "$TOP/run_tests.sh" -o 1s

done_testing
