#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A failing case's diagnosis reaches what the field's parsers keep for that
# case: Linaro's kselftest parse-output.py (LKFT, KernelCI; it keeps the
# text after a result line, run through run_tests.sh's nesting) and the
# kernel's kunit.py parse (it keeps the lines before a result).  Two
# consecutive failures (--selftest-break dontneed) must not borrow each
# other's diagnosis.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

plan 6
linaro=$TOP/../shared/tools/linaro-parse-output.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
a="write after pin, anon base page"
b="write after pin, THP (16 kB)"
diag_re='IORING_OP_WRITE_FIXED: at offset 0x0 the pin reads 0x11, the mapping holds 0xa2'

if ! is_root; then
	for i in 1 2 3 4 5 6; do skip "parsers $i" "needs root (memory policies)"; done
	done_testing
fi
"$TOP/run_tests.sh" -t iouring_pin -- --selftest-break dontneed -t "$a" -t "$b" \
	>"$tmp/run.tap" 2>/dev/null
"$OUTPUT/iouring_pin" --selftest-break dontneed -t "$a" -t "$b" >"$tmp/bin.tap" 2>/dev/null
n=$(grep -c '^# not ok' "$tmp/run.tap")
ok $((n != 2)) "the break fails both cases ($n)"

if [ -f "$linaro" ] && /usr/bin/python3 -c 'import tap' 2>/dev/null; then
	mkdir -p "$tmp/lkft/output"
	(cd "$tmp/lkft" && /usr/bin/python3 "$linaro" <"$tmp/run.tap" >names 2>/dev/null)
	for c in "$a" "$b"; do
		slug=$(echo "pinsuite_iouring_pin_Longterm R/W pin is reliable: io_uring WRITE_FIXED and READ_FIXED, $c" |
		       sed 's/[^A-Za-z0-9_-]\{1,\}/_/g; s/_$//')
		log=$tmp/lkft/output/$slug.log
		first=$(head -n 1 "$log" 2>/dev/null)
		ok "$([ "$first" = "$diag_re" ]; echo $?)" "parse-output.py: the log of '$c' starts with its own diagnosis"
		[ "$first" = "$diag_re" ] || diag "log: $(head -n 3 "$log" 2>/dev/null)"
	done
	# In the first log, the second case's lines come only under its [RUN] line.
	log=$(find "$tmp/lkft/output" -name '*anon_base_page.log')
	run=$(grep -n '^\[RUN\]' "$log" | head -n 1 | cut -d: -f1)
	other=$(grep -n 'IORING_OP_READ_FIXED' "$log" | head -n 1 | cut -d: -f1)
	ok "$([ -n "$run" ] && { [ -z "$other" ] || [ "$other" -gt "$run" ]; }; echo $?)" \
		"parse-output.py: the next case's diagnosis is under its own [RUN] line"
else
	for i in 1 2 3; do skip "parse-output.py $i" "no ../shared/tools/linaro-parse-output.py or python3-tap"; done
fi

kt=$(ktools)
if [ -n "$kt" ]; then
	python3 "$kt/tools/testing/kunit/kunit.py" parse "$tmp/bin.tap" >"$tmp/kunit" 2>&1
	for c in "$a" "$b"; do
		# The lines kunit.py prints for a failed case come right before its [FAILED].
		block=$(sed 's/^\[[0-9:]*\] //' "$tmp/kunit" |
			awk -v n="[FAILED] Longterm R/W pin is reliable: io_uring WRITE_FIXED and READ_FIXED, $c" \
			'$0 == n { print buf; exit } /^\[(FAILED|PASSED|SKIPPED)\]/ { buf = ""; next } { buf = buf $0 "\n" }')
		ok "$([[ $block == *"$diag_re"* && $block == *"[RUN] Longterm R/W pin is reliable: io_uring WRITE_FIXED and READ_FIXED, $c"* ]]; echo $?)" \
			"kunit.py: the log of '$c' holds its own diagnosis"
	done
else
	for i in 1 2; do skip "kunit.py $i" "no kernel source (apt-get install linux-source-6.12)"; done
fi

done_testing
