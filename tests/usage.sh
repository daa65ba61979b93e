#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad command-line input is a usage error, never a kernel result: the
# usage on stderr naming the bad argument and exit status 2.  -h gives the
# usage on stdout and exit status 0.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

bins=$(built_binaries)
plan $((10 * $(echo "$bins" | wc -w) + 8))

# check DESCRIPTION WANT-STATUS WANT-REGEX(stderr) COMMAND...
check() {
	local desc=$1 want=$2 re=$3 err rc
	shift 3
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	ok "$([ "$rc" = "$want" ] && [[ $err =~ $re ]]; echo $?)" "$desc (exit $rc)"
	[[ $err =~ $re ]] || diag "stderr: $(echo "$err" | head -n 2)"
}

file=$(mktemp)
trap 'rm -f "$file"' EXIT
for b in $bins; do
	bin=$OUTPUT/$b
	check "$b --no-such-option" 2 "no-such-option.*Usage:" "$bin" --no-such-option
	check "$b with a stray argument" 2 "'stray'" "$bin" stray
	check "$b -T without a number" 2 "'abc'" "$bin" -T abc
	check "$b --disk-dir on a file" 2 "$file: not a directory" "$bin" --disk-dir "$file"
	check "$b --disk-dir that does not exist" 2 "/nonexistent: No such file" \
		"$bin" --disk-dir /nonexistent
	check "$b --disk-dir on tmpfs" 2 "/dev/shm: on tmpfs, not on ext4, xfs or btrfs" \
		"$bin" --disk-dir /dev/shm
	check "$b PINSUITE_DISK_DIRS that does not exist" 2 "PINSUITE_DISK_DIRS /nonexistent" \
		env PINSUITE_DISK_DIRS=/nonexistent "$bin"
	check "$b -t that matches no case" 2 "no case matches" "$bin" -t 'no such case at all'
	check "$b PINSUITE_RCU_EXPEDITE that is neither 0 nor 1" 2 "PINSUITE_RCU_EXPEDITE 'yes'" \
		env PINSUITE_RCU_EXPEDITE=yes "$bin"
	out=$("$bin" -h)
	rc=$?
	ok "$([ $rc = 0 ] && [[ $out == *Usage:* ]]; echo $?)" "$b -h prints the usage, exit 0"
done
check "vfio_pin --device that is no PCI address" 2 "'zz:zz': not a PCI address" \
	"$OUTPUT/vfio_pin" --device zz:zz
check "vfio_pin --device that names no device" 2 "0000:7f:1f.7: no such PCI device" \
	"$OUTPUT/vfio_pin" --device 7f:1f.7
check "vfio_pin PINSUITE_VFIO_DEVICE that is no PCI address" 2 "PINSUITE_VFIO_DEVICE 'x'" \
	env PINSUITE_VFIO_DEVICE=x "$OUTPUT/vfio_pin"
check "run_tests.sh -x" 2 "Usage:" "$TOP/run_tests.sh" -x
check "run_tests.sh -t no_such_binary" 2 "no_such_binary" "$TOP/run_tests.sh" -t no_such_binary
check "run_tests.sh -o 1s" 2 "'1s'" "$TOP/run_tests.sh" -o 1s
check "run_tests.sh with a -t pattern no binary matches" 2 "no case" \
	"$TOP/run_tests.sh" -- -t 'no such case at all'
check "run_tests.sh --json in a missing directory" 2 "/nonexistent/x.json" \
	"$TOP/run_tests.sh" --json /nonexistent/x.json

done_testing
