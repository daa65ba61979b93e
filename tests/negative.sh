#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every check can fail: each binary's --selftest-break modes break a check
# on purpose (zap the mapping behind the pin, compare with a stale copy,
# raise the memlock limit, keep a pin) and the affected cases must FAIL,
# with the binary's exit status 1, while the unbroken run passes.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

plan 7

if ! is_root; then
	for i in 1 2 3 4 5 6 7; do skip "negative self-test $i" "needs root"; done
	done_testing
fi

iou=$OUTPUT/iouring_pin

sel="write after pin, anon base page"
"$iou" -t "$sel" > /dev/null
ok $? "iouring_pin passes '$sel' unbroken"

out=$("$iou" --selftest-break dontneed -t "$sel")
rc=$?
fails=$(echo "$out" | grep -c '^not ok')
ok "$([ $rc = 1 ] && [ "$fails" = 2 ]; echo $?)" \
	"dontneed: both directions fail once the mapping is zapped behind the pin (exit $rc, $fails failures)"
echo "$out" | grep -q 'the pin reads 0x11, the mapping holds 0xa2'
ok $? "dontneed: the diagnostic shows the stale byte the pin still reads"

out=$("$iou" --selftest-break compare -t "$sel")
ok "$([ $? = 1 ] && [ "$(echo "$out" | grep -c '^not ok')" = 2 ]; echo $?)" \
	"compare: comparing with a stale copy fails both directions"

out=$("$iou" --selftest-break memlock -t "beyond RLIMIT_MEMLOCK")
echo "$out" | grep -q '^not ok 1 Memlock charge as expected'
ok $? "memlock: with the limit raised the ENOMEM check fails"

out=$("$iou" --selftest-break leak -t "All pins released")
echo "$out" | grep -q '^not ok 1 All pins released'
ok $? "leak: a pin kept registered makes the release check fail"

# Shared mappings keep their page when zapped: the break must not bite there,
# which shows the check follows the page, not the break flag.
out=$("$iou" --selftest-break dontneed -t "write after pin, memfd (MAP_SHARED)")
ok "$(echo "$out" | grep -q '^not ok'; [ $? = 1 ]; echo $?)" \
	"dontneed: a MAP_SHARED memfd still passes (the page cache page stays the pinned page)"

done_testing
