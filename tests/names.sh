#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Case names: unique within and across binaries, free of '#', the same in
# every listing, and the names a run prints are the names -l lists.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

bins=$(built_binaries)
plan $((3 + 2 * $(echo "$bins" | wc -w)))

all=$(mktemp)
trap 'rm -f "$all"' EXIT
OUTPUT=$OUTPUT "$TOP/run_tests.sh" -l > "$all"
ok $? "run_tests.sh -l lists the cases"
dups=$(sort "$all" | uniq -d)
ok "$([ -z "$dups" ]; echo $?)" "no case name twice across binaries$([ -n "$dups" ] && echo ": $(echo "$dups" | head -3)")"
hashes=$(grep -c '#' "$all")
ok $((hashes != 0)) "no case name contains '#'"

for b in $bins; do
	first=$("$OUTPUT/$b" -l)
	second=$("$OUTPUT/$b" -l)
	ok "$([ "$first" = "$second" ]; echo $?)" "$b: two listings are identical"
	run=$(as_nobody "$OUTPUT/$b" 2>/dev/null |
	      sed -n 's/^\(not \)\{0,1\}ok [0-9]* \([^#]*[^# ]\).*/\2/p')
	ok "$([ "$first" = "$run" ]; echo $?)" "$b: a run prints the listed names, in order"
done

done_testing
