#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel coding style: checkpatch.pl --no-tree -f is silent for every C file
# and header; shellcheck is silent for every shell script; every source file
# carries an SPDX line.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

cd "$TOP" || exit 1
csrc=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]')
shsrc=$(git ls-files --cached --others --exclude-standard '*.sh' '*.bash' run_tests.sh .ci/run 2>/dev/null | sort -u)
plan 3

kt=$(ktools)
if [ -n "$kt" ]; then
	# shellcheck disable=SC2086
	out=$(perl "$kt/scripts/checkpatch.pl" --no-tree -f --terse --show-types $csrc 2>&1 |
	      grep -v '^total:')
	ok "$([ -z "$out" ]; echo $?)" "checkpatch.pl --no-tree -f is silent ($(echo "$csrc" | wc -w) files)"
	[ -n "$out" ] && diag "$out"
else
	skip "checkpatch.pl --no-tree -f is silent" "no kernel source (apt-get install linux-source-6.12)"
fi

if command -v shellcheck > /dev/null; then
	# shellcheck disable=SC2086
	out=$(shellcheck -x $shsrc 2>&1)
	ok "$([ -z "$out" ]; echo $?)" "shellcheck is silent ($(echo "$shsrc" | wc -w) scripts)"
	[ -n "$out" ] && diag "$(echo "$out" | head -20)"
else
	skip "shellcheck is silent" "shellcheck not installed"
fi

missing=""
for f in $csrc $shsrc Makefile; do
	head -n 3 "$f" | grep -q 'SPDX-License-Identifier: GPL-2.0' || missing="$missing $f"
done
ok "$([ -z "$missing" ]; echo $?)" "every source file has an SPDX GPL-2.0 line${missing:+:$missing}"

done_testing
