#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness itself: cases that pass, fail, skip, crash, hang, report
# twice, report nothing, die after a PASS, fail a step or leave a process
# behind each get exactly one result line under their own name, with the
# verdict the judge gives; the plan, the Totals line and the exit status
# agree; a knob changed by a killed case is put back; a case process that
# does not die of SIGKILL (frozen by a cgroup v1 freezer here, as if stuck
# in the kernel) fails with its kernel stack, and the run does not hang.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

bin=$OUTPUT/tests/ksft_selftest
out=$(mktemp)
fz="" fg=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	rm -f "$out"
	[ -n "$fg" ] || return 0
	echo THAWED >"$fg/freezer.state" 2>/dev/null
	sleep 0.2
	rmdir "$fg" 2>/dev/null
	umount "$fz" 2>/dev/null
	rmdir "$fz"
}
trap cleanup EXIT

plan 20

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
expect "# Totals: pass:3 fail:8 xfail:1 xpass:0 skip:3 error:1"

sleep 0.2
left=$(pgrep -f "$bin" | wc -l)
ok $((left != 0)) "no process of the run is left behind ($left)"

if is_root; then
	grep -q "^ok 11 $H the knob is back" "$out"
	ok $? "a knob changed by a killed case was restored before the next case"
else
	skip "a knob changed by a killed case was restored" "needs root"
fi

# A task in a FROZEN cgroup v1 freezer group sleeps until it is thawed,
# SIGKILL or not: the runner must give up on it, say where it sleeps and go
# on, and the next run must not wait for the run lock while it sleeps.
freezer() {
	is_root || { why="needs root"; return 1; }
	fz=$(mktemp -d) || return 1
	if ! mount -t cgroup -o freezer none "$fz" 2>/dev/null; then
		rmdir "$fz"
		why="cannot mount the cgroup v1 freezer (CONFIG_CGROUP_FREEZER?)"
		return 1
	fi
	# The hierarchy may be mounted elsewhere too: a group of our own.
	fg=$fz/pinsuite-harness-$$
	mkdir "$fg" && echo FROZEN >"$fg/freezer.state"
}
if freezer; then
	s=$(date +%s)
	PINSUITE_TEST_FREEZER=$fg/cgroup.procs timeout 60 "$bin" -t 'stuck in the kernel' >"$out" 2>&1
	rc=$? took=$(($(date +%s) - s))
	expect "not ok 1 $H a case stuck in the kernel # timed out after 1 s during start; it does not die after SIGKILL (stuck in the kernel)"
	grep -qE '^# process [0-9]+ \(ksft_selftest\) does not die after SIGKILL: state D, waiting in ' "$out" &&
		grep -qF '# freezing now, said on stderr' "$out"
	ok $? "the stuck process is described, and what the case said on stderr is its diagnostic"
	ok $((rc != 1 || took > 10)) "the run goes on and ends with 1 (exit $rc after ${took}s)"
	diag "still frozen: $(tr '\n' ' ' <"$fg/cgroup.procs")"
	timeout 20 "$bin" -t 'passing' >"$out" 2>&1
	rc=$?
	ok $((rc != 0)) "the next run does not wait for the lock while that process sleeps (exit $rc)"
else
	for t in "the stuck case fails" "the stuck process is described" "the run goes on" \
		"the next run does not wait"; do
		skip "$t" "$why"
	done
fi

filtered=$("$bin" -t 'passing' -t 'skipped' | grep -cE '^(not )?ok ')
ok $((filtered != 2)) "-t selects cases and shrinks the plan ($filtered results)"

done_testing
