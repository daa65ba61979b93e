#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Memory errors in the suite itself: every binary built with clang's
# AddressSanitizer and UndefinedBehaviorSanitizer runs a subset of its
# cases without a report, and valgrind finds no error in iouring_pin and
# cow on the anon base page cases.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

bins=$(built_binaries)
plan $(($(echo "$bins" | wc -w) + 3))

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
san=-fsanitize=address,undefined
if command -v clang >/dev/null &&
	make -s -C "$TOP" O="$tmp/asan" CC=clang WERROR=1 STATIC=0 \
	CFLAGS="-O1 -g -fno-omit-frame-pointer $san -fno-sanitize-recover=all" \
	LDFLAGS="$san" >"$tmp/build.log" 2>&1; then
	ok 0 "an ASan+UBSan build of every binary"
	for b in $bins; do
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
			"$tmp/asan/$b" -t "anon base page" -t "memfd (MAP_SHARED)" \
			>"$tmp/$b.out" 2>"$tmp/$b.err"
		rc=$?
		reports=$(grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/$b.err")
		ok "$([ "$reports" = 0 ] && [ $rc != 1 ] && [ $rc != 2 ] && [ $rc -lt 128 ]; echo $?)" \
			"$b under ASan+UBSan: no report (exit $rc, $(grep -cE '^(not )?ok' "$tmp/$b.out") cases)"
		[ "$reports" = 0 ] || diag "$(grep -E -A6 'ERROR: |runtime error:' "$tmp/$b.err" | head -20)"
	done
else
	ok 1 "an ASan+UBSan build of every binary"
	diag "$(tail -n 5 "$tmp/build.log" 2>/dev/null)"
	for b in $bins; do skip "$b under ASan+UBSan" "no sanitizer build"; done
fi

if command -v valgrind >/dev/null; then
	for b in iouring_pin cow; do
		valgrind -q --error-exitcode=99 --child-silent-after-fork=no --trace-children=no \
			"$OUTPUT/$b" -t "anon base page" >"$tmp/$b.vg.out" 2>"$tmp/$b.vg.err"
		rc=$?
		ok "$([ $rc != 99 ] && ! grep -q '^==[0-9]*== ' "$tmp/$b.vg.err"; echo $?)" \
			"valgrind: no error in $b on the anon base page cases (exit $rc)"
		grep -q '^==[0-9]*== ' "$tmp/$b.vg.err" && diag "$(grep '^==' "$tmp/$b.vg.err" | head -20)"
	done
else
	skip "valgrind: iouring_pin" "valgrind not installed"
	skip "valgrind: cow" "valgrind not installed"
fi

done_testing
