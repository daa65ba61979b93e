#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs at the same time do not change each other's verdicts: two runners,
# or a binary started while a runner runs, queue on the run lock (and say
# so), each gets the verdicts it gets alone, and the settings end up as
# they were.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

N=8
plan $N
if ! is_root; then
	for i in $(seq $N); do skip "concurrent runs $i" "needs root"; done
	done_testing
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sel="THP ("

before=$(knobs)
"$TOP/run_tests.sh" -t iouring_pin -- -t "$sel" 2>/dev/null | verdicts | sort >"$tmp/alone"
"$OUTPUT/cow" -t "anon base page" 2>/dev/null | verdicts | sort >"$tmp/cow-alone"
diag "alone: $(wc -l <"$tmp/alone") iouring_pin cases, $(wc -l <"$tmp/cow-alone") cow cases"

"$TOP/run_tests.sh" -t iouring_pin -- -t "$sel" >"$tmp/a" 2>"$tmp/a.err" &
a=$!
"$TOP/run_tests.sh" -t iouring_pin -- -t "$sel" >"$tmp/b" 2>"$tmp/b.err" &
b=$!
sleep 0.5
"$OUTPUT/cow" -t "anon base page" >"$tmp/c" 2>"$tmp/c.err" &
c=$!
wait "$a"; ra=$?
wait "$b"; rb=$?
wait "$c"; rc=$?
ok "$([ $ra = 0 ] && [ $rb = 0 ] && [ $rc = 0 ]; echo $?)" "two runners and a binary at once all pass (exit $ra, $rb, $rc)"
for r in a b; do
	verdicts <"$tmp/$r" | sort | cmp -s - "$tmp/alone"
	ok $? "runner $r: the same verdicts as alone"
done
verdicts <"$tmp/c" | sort | cmp -s - "$tmp/cow-alone"
ok $? "the binary started meanwhile: the same verdicts as alone"
waited=$(cat "$tmp"/*.err | grep -c "waiting for another pinsuite run to finish")
ok $((waited < 2)) "the later runs waited for the lock, and said so ($waited)"
knobs_back 10 "$before"
ok $? "every setting is as it was"
[ "$(knobs)" = "$before" ] || diag "$(diff <(echo "$before") <(knobs))"
suite_gone 10
ok $? "nothing of the runs is left running"

# A test that changes settings holds the lock the same way (own_run).
(
	own_run || exit 1
	sleep 2
) &
h=$!
sleep 0.5
start=$(date +%s)
"$OUTPUT/iouring_pin" -t "write after pin, anon base page" >/dev/null 2>"$tmp/d.err"
took=$(($(date +%s) - start))
wait "$h"
ok "$(grep -q "waiting for another" "$tmp/d.err" && [ $took -ge 1 ]; echo $?)" \
	"a binary waits while a test owns the run (${took}s)"

done_testing
