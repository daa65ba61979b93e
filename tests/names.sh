#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Case names: unique within and across binaries, free of '#', the same in
# every listing, and the names a run prints are the names -l lists; -q
# lists a subset, in the same order, that keeps the scenarios named only in
# a case's name.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

bins=$(built_binaries)
plan $((4 + 3 * $(echo "$bins" | wc -w)))

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
	quick=$("$OUTPUT/$b" -l -q)
	n=$(echo "$quick" | grep -c .)
	ok "$([ "$n" -gt 0 ] && [ "$n" -le "$(echo "$first" | grep -c .)" ] &&
		[ -z "$(diff <(echo "$quick") <(echo "$first" | grep -xF -f <(echo "$quick")))" ]; echo $?)" \
		"$b: -q lists $n of the cases, in their order"
done
# The bug pmdfix and Debian 6.12 have shows only in this udmabuf case.
"$OUTPUT/udmabuf_pin" -l -q | grep -qF 'never mapped, huge page counts sane while pinned'
ok $? "-q keeps udmabuf's never-mapped hugetlb memfd case (its scenario is only in its name)"

done_testing
