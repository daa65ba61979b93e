#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Verdicts are repeatable: consecutive host runs of the whole suite give
# the same cases, each with the same verdict and (for a SKIP) the same
# reason - what a dashboard needs to tell a kernel's change from noise.
# PINSUITE_REPEAT runs (default 20).

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

runs=${PINSUITE_REPEAT:-20}
plan 3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
differ=0
for ((i = 1; i <= runs; i++)); do
	"$TOP/run_tests.sh" >"$tmp/run" 2>/dev/null
	verdicts <"$tmp/run" >"$tmp/$i"
	if [ "$i" -gt 1 ] && ! cmp -s "$tmp/1" "$tmp/$i"; then
		differ=$((differ + 1))
		diag "run $i differs from run 1:"
		diag "$(diff "$tmp/1" "$tmp/$i" | head -n 6)"
	fi
done
n=$(wc -l <"$tmp/1")
ok $((differ != 0)) "$runs runs give identical (name, verdict, reason) sets ($n cases, $differ runs differ)"
ok "$([ "$n" -gt 0 ]; echo $?)" "the runs ran cases"
ok "$(grep -vc '# SKIP' "$tmp/1" | { read -r ran; [ "$ran" -gt 0 ]; }; echo $?)" \
	"some cases ran rather than skipped ($(grep -vc '# SKIP' "$tmp/1"))"
diag "$runs runs in $(($(date +%s) - start)) s"

done_testing
