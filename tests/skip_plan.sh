#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# With nothing available - an unprivileged user, io_uring disabled - every
# binary still prints its whole plan: one result line per planned case,
# each SKIP with a reason, no "Bail out!", and no failure.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

bins=$(built_binaries)
plan $((4 * $(echo "$bins" | wc -w)))

knob=/proc/sys/kernel/io_uring_disabled
saved=""
# Disabling io_uring for the machine: own the run meanwhile, so that a suite
# run elsewhere waits instead of seeing it.
own_run
if is_root && [ -w $knob ]; then
	saved=$(cat $knob)
	trap 'echo "$saved" > $knob' EXIT
	echo 2 > $knob
fi

for b in $bins; do
	out=$(as_nobody "$OUTPUT/$b" 2>&1)
	rc=$?
	planned=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p')
	results=$(echo "$out" | grep -cE '^(not )?ok [0-9]+ ')
	ok "$([ -n "$planned" ] && [ "$planned" = "$results" ]; echo $?)" \
		"$b: plan ($planned) equals result lines ($results)"
	bare=$(echo "$out" | grep -cE '^ok [0-9]+ .*# SKIP *$')
	ok $((bare != 0)) "$b: every SKIP gives a reason ($bare without)"
	bail=$(echo "$out" | grep -c '^Bail out!')
	failed=$(echo "$out" | grep -cE '^not ok ')
	ok $((bail + failed != 0)) "$b: no Bail out! ($bail) and no failure ($failed)"
	ok "$([ $rc = 0 ] || [ $rc = 4 ]; echo $?)" "$b: exit status 0 or 4 (got $rc)"
	[ -n "$saved" ] && diag "$b: $(echo "$out" | grep -c '# SKIP') skipped," \
		"$(echo "$out" | grep -cE '^ok [0-9]+ [^#]*$') passed unprivileged without io_uring"
done

done_testing
