#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness itself: cases that pass, fail, skip, crash, hang, report
# twice, report nothing, die after a PASS, fail a step or leave a process
# behind each get exactly one result line under their own name, with the
# verdict the judge gives; the plan, the Totals line and the exit status
# agree; a knob changed by a killed case is put back.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

bin=$OUTPUT/tests/ksft_selftest
out=$(mktemp)
trap 'rm -f "$out"' EXIT

plan 16

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
	if grep -qxF "$line" "$out"; then
		ok 0 "exact line: $line"
	else
		ok 1 "exact line: $line"
		diag "$(grep -F "${line%% # *}" "$out")"
	fi
}
H="All pins released: harness:"
expect "not ok 5 $H a case that crashes # the case process died of signal 11 (Segmentation fault) during start"
expect "not ok 7 $H a case with two verdicts # the case recorded more than one observation"
expect "not ok 8 $H a case that hangs # timed out after 1 s during start"
expect "ok 3 $H a skipped case # SKIP skipping on purpose, with a _ in the reason"
expect "not ok 12 $H a case that dies after it held # the case process died of signal 11 (Segmentation fault) during release, after its observation"
expect "not ok 13 $H a case whose step fails # error a step that must work: Input/output error"
expect "not ok 14 $H a pin that fails with ENOMEM, no shortage # pinning through the test mechanism failed with ENOMEM, must work"
expect "ok 15 $H a pin that fails with ENOMEM beyond RLIMIT_MEMLOCK # SKIP not enough lockable or free memory for the pin"
expect "# Totals: pass:3 fail:8 xfail:1 xpass:0 skip:2 error:1"

sleep 0.2
left=$(pgrep -f "$bin" | wc -l)
ok $((left != 0)) "no process of the run is left behind ($left)"

if is_root; then
	grep -q "^ok 11 $H the knob is back" "$out"
	ok $? "a knob changed by a killed case was restored before the next case"
else
	skip "a knob changed by a killed case was restored" "needs root"
fi

filtered=$("$bin" -t 'passing' -t 'skipped' | grep -cE '^(not )?ok ')
ok $((filtered != 2)) "-t selects cases and shrinks the plan ($filtered results)"

done_testing
