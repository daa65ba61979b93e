#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The TAP harness itself: cases that pass, fail, skip, crash, hang, report
# twice, report nothing or leave a process behind each get exactly one
# result line under their own name; the plan, the Totals line and the exit
# status agree; a knob changed by a killed case is put back.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

bin=$OUTPUT/tests/ksft_selftest
out=$(mktemp)
trap 'rm -f "$out"' EXIT

plan 12

"$bin" > "$out" 2>/dev/null
rc=$?
ok $((rc != 1)) "exit status 1 when a case failed (got $rc)"

names=$("$bin" -l)
results=$(sed -n 's/^\(not \)\{0,1\}ok [0-9]* \([^#]*[^# ]\).*/\2/p' "$out")
ok "$([ "$names" = "$results" ]; echo $?)" "one result line per case, in order, named as listed"

planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out")
ok $((planned != $(echo "$names" | wc -l))) "plan $planned equals the number of cases"

counted=$(grep -cE '^(not )?ok [0-9]+ ' "$out")
ok $((counted != planned)) "result lines ($counted) equal the plan"

expect() {
	local line=$1
	grep -qxF "$line" "$out"
	ok $? "exact line: $line"
}
expect "not ok 5 harness: a case that crashes"
expect "not ok 7 harness: a case with two verdicts"
expect "not ok 8 harness: a case that hangs"
expect "ok 3 harness: a skipped case # SKIP skipping on purpose, with a _ in the reason"
expect "# Totals: pass:3 fail:6 xfail:1 xpass:0 skip:1 error:0"

sleep 0.2
left=$(pgrep -f "$bin" | wc -l)
ok $((left != 0)) "no process of the run is left behind ($left)"

if is_root; then
	grep -q '^ok 11 harness: the knob is back' "$out"
	ok $? "a knob changed by a killed case was restored before the next case"
else
	skip "a knob changed by a killed case was restored" "needs root"
fi

filtered=$("$bin" -t 'passing' -t 'skipped' | grep -cE '^(not )?ok ')
ok $((filtered != 2)) "-t selects cases and shrinks the plan ($filtered results)"

done_testing
