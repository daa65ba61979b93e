#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Results that cannot be written never look like success: with stdout
# closed, on /dev/full, or on a disk that fills up while the run goes on,
# every binary and run_tests.sh exit non-zero and say so on stderr.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

bins=$(built_binaries)
plan $((4 * $(echo "$bins" | wc -w) + 4))

err=$(mktemp)
trap 'rm -f "$err"' EXIT
quick="memfd (MAP_PRIVATE)"

# check DESCRIPTION WANT(regex on stderr) closed|full|small COMMAND...
check() {
	local desc=$1 want=$2 how=$3 rc
	shift 3
	case $how in
	closed) ( exec >&-; "$@" ) 2>"$err" ;;
	full) "$@" >/dev/full 2>"$err" ;;
	small)
		# A 16 kB tmpfs in a mount namespace of its own: the disk fills up
		# after the first lines.
		unshare -m sh -c 'mount -t tmpfs -o size=16k tmpfs /mnt && exec "$@" >/mnt/out' \
			sh "$@" 2>"$err" ;;
	esac
	rc=$?
	ok "$([ $rc != 0 ] && grep -aqE "$want" "$err"; echo $?)" \
		"$desc (exit $rc: $(grep -aE "$want" "$err" | head -n 1 | cut -c1-100))"
}

for b in $bins; do
	check "$b with stdout closed" "stdout is closed" closed "$OUTPUT/$b" -t "$quick"
	check "$b with stdout on /dev/full" "results were lost" full "$OUTPUT/$b" -t "$quick"
	check "$b -l with stdout on /dev/full" "results were lost" full "$OUTPUT/$b" -l
	check "$b -h with stdout on /dev/full" "." full "$OUTPUT/$b" -h
done
check "run_tests.sh with stdout closed" "cannot write" closed "$TOP/run_tests.sh" -t iouring_pin
check "run_tests.sh with stdout on /dev/full" "cannot write" full "$TOP/run_tests.sh" -t iouring_pin
if is_root; then
	check "run_tests.sh on a disk that fills up" "output was lost" small \
		"$TOP/run_tests.sh" -t cow
	check "a binary on a disk that fills up" "results were lost" small "$OUTPUT/cow"
else
	skip "run_tests.sh on a disk that fills up" "needs root (a tmpfs of 16 kB)"
	skip "a binary on a disk that fills up" "needs root (a tmpfs of 16 kB)"
fi

done_testing
