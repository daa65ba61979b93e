#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The TAP the binaries and the runner print is TAP that the field's parsers
# accept: each binary runs under prove (Perl's TAP::Harness), and the
# kernel's own KTAP parser (tools/testing/kunit/kunit.py parse) reads it
# with the same counts the binary reported.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

bins=$(built_binaries)
plan $((3 * $(echo "$bins" | wc -w) + 2))

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kt=$(ktools)

# One quick selection per binary keeps this test short; root runs real cases.
quick="memfd (MAP_PRIVATE)"

for b in $bins; do
	printf '#!/bin/sh\nexec "%s" -t "%s"\n' "$OUTPUT/$b" "$quick" > "$tmp/$b.t"
	prove --ignore-exit --exec /bin/sh "$tmp/$b.t" > "$tmp/$b.prove" 2>&1
	grep -q '^Result: PASS' "$tmp/$b.prove"
	ok $? "$b: prove accepts the TAP ($(tail -n 1 "$tmp/$b.prove"))"

	printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups "%s"\n' \
		"$OUTPUT/$b" > "$tmp/$b-nobody.t"
	if is_root; then
		prove --ignore-exit --exec /bin/sh "$tmp/$b-nobody.t" > "$tmp/$b.prove" 2>&1
		grep -q '^Result: PASS' "$tmp/$b.prove"
		ok $? "$b: prove accepts a whole unprivileged run"
	else
		skip "$b: prove accepts a whole unprivileged run" "needs root to switch users"
	fi

	"$OUTPUT/$b" -t "$quick" > "$tmp/$b.tap" 2>/dev/null
	if [ -n "$kt" ]; then
		totals=$(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) xfail:\([0-9]*\) xpass:[0-9]* skip:\([0-9]*\).*/\1 \2 \3 \4/p' "$tmp/$b.tap")
		read -r p f x s <<< "$totals"
		summary=$(python3 "$kt/tools/testing/kunit/kunit.py" parse "$tmp/$b.tap" 2>&1 |
			  sed -n 's/.*Testing complete\. //p')
		want="Ran $((p + f + x + s)) tests:"
		ok "$([[ $summary == "$want"* ]]; echo $?)" "$b: kunit.py parse agrees: $summary"
	else
		skip "$b: kunit.py parse agrees" "no kernel source (install linux-source-6.12)"
	fi
done

printf '#!/bin/sh\nexec "%s/run_tests.sh" -t iouring_pin -- -t "%s"\n' "$TOP" "$quick" > "$tmp/runner.t"
OUTPUT=$OUTPUT prove --ignore-exit --exec /bin/sh "$tmp/runner.t" > "$tmp/runner.prove" 2>&1
grep -q '^Result: PASS' "$tmp/runner.prove"
ok $? "prove accepts the runner's nested TAP"
if [ -n "$kt" ]; then
	OUTPUT=$OUTPUT "$TOP/run_tests.sh" -t iouring_pin -- -t "$quick" > "$tmp/runner.tap" 2>&1
	python3 "$kt/tools/testing/kunit/kunit.py" parse "$tmp/runner.tap" > "$tmp/runner.kunit" 2>&1
	grep -q 'Testing complete' "$tmp/runner.kunit"
	ok $? "kunit.py parse reads the runner's output"
else
	skip "kunit.py parse reads the runner's output" "no kernel source"
fi

done_testing
