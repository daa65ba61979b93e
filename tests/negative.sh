#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every check can fail: each binary's --selftest-break modes break a check
# on purpose (zap the mapping behind the pin, compare with a stale copy,
# raise the memlock limit, keep a pin) and the affected cases must FAIL,
# with the binary's exit status 1, while the unbroken run passes.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

N=19
plan $N

if ! is_root; then
	for i in $(seq $N); do skip "negative self-test $i" "needs root"; done
	done_testing
fi

iou=$OUTPUT/iouring_pin

sel="write after pin, anon base page"
"$iou" -t "$sel" > /dev/null
ok $? "iouring_pin passes '$sel' unbroken"

out=$("$iou" --selftest-break dontneed -t "$sel")
rc=$?
ok "$([ $rc = 1 ] && [ "$(echo "$out" | grep -c '^not ok')" = 1 ]; echo $?)" \
	"dontneed: the case fails once the mapping is zapped behind the pin (exit $rc)"
echo "$out" | grep -q 'WRITE_FIXED: at offset 0x0 the pin reads 0x11, the mapping holds 0xa2' &&
	echo "$out" | grep -q 'READ_FIXED: at offset 0x0 the pin wrote 0xd4, the mapping holds 0xa2'
ok $? "dontneed: both directions are diagnosed: the ring reads the stale page and writes where the mapping no longer looks"

out=$("$iou" --selftest-break compare -t "$sel")
ok "$([ $? = 1 ] && [ "$(echo "$out" | grep -c '^not ok')" = 1 ]; echo $?)" \
	"compare: comparing with a stale copy fails the case"

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

# cow: its own comparisons (the child's view, the pipe of vmsplice()) bite too.
out=$("$OUTPUT/cow" -t "anon base page")
ok "$(echo "$out" | grep -q '^not ok'; [ $? = 1 ]; echo $?)" "cow passes its anon base page cases unbroken"
out=$("$OUTPUT/cow" --selftest-break compare -t "anon base page")
n=$(echo "$out" | grep -cE '^not ok [0-9]+ No leak from (parent into child|child into parent): vmsplice')
ok $((n != 4)) "cow compare: all 4 vmsplice() cases fail ($n)"

# gup_longterm: the outcome rule (shared with iouring_pin's registration
# cases) turned around must fail every io_uring case that ran.
sel="Longterm pin outcome as expected: io_uring fixed buffer,"
out=$("$OUTPUT/gup_longterm" -t "$sel")
ran=$(echo "$out" | grep -E '^(not )?ok ' | grep -vc '# SKIP')
ok "$(echo "$out" | grep -q '^not ok'; [ $? = 1 ] && [ "$ran" -gt 0 ]; echo $?)" \
	"gup_longterm passes its $ran io_uring outcome cases unbroken"
out=$("$OUTPUT/gup_longterm" --selftest-break rule -t "$sel")
n=$(echo "$out" | grep -c '^not ok ')
passed=$(echo "$out" | grep -E '^ok ' | grep -vc '# SKIP')
ok "$([ "$n" -gt 0 ] && [ "$passed" = 0 ]; echo $?)" \
	"gup_longterm rule: every io_uring outcome case that runs fails ($n failed, $passed passed)"

# Run BIN's case SEL unbroken: when it skips, skip it and each named break
# with its reason and fail; else check that it passes.
runs_unbroken() {
	local bin=$1 sel=$2 out why d
	shift 2
	out=$("$OUTPUT/$bin" -t "$sel" 2>/dev/null)
	if echo "$out" | grep -q '^ok 1 .*# SKIP'; then
		why=$(echo "$out" | sed -n 's/^ok 1 .*# SKIP //p')
		for d in unbroken "$@"; do
			skip "$bin $d" "$why"
		done
		return 1
	fi
	echo "$out" | grep -q '^ok 1 '
	ok $? "$bin passes '$sel' unbroken"
}

# xdp_pin: the device's two directions and the umem's release.
xdp=$OUTPUT/xdp_pin
sel="write after pin, anon base page"
if runs_unbroken xdp_pin "$sel" "dontneed" "dontneed, both directions" "leak"; then
	out=$("$xdp" --selftest-break dontneed -t "$sel" 2>/dev/null)
	ok "$([ $? = 1 ] && [ "$(echo "$out" | grep -c '^not ok')" = 1 ]; echo $?)" \
		"xdp_pin dontneed: the case fails once the mapping is zapped behind the umem"
	echo "$out" | grep -q '^# AF_XDP transmit: at offset .* the pin reads' &&
		echo "$out" | grep -q '^# AF_XDP receive: at offset .* the pin wrote'
	ok $? "xdp_pin dontneed: transmit reads the stale page, receive writes where the mapping no longer looks"
	out=$("$xdp" --selftest-break leak -t "pins gone after closing the socket" 2>/dev/null)
	echo "$out" | grep -q '^not ok 1 All pins released'
	ok $? "xdp_pin leak: a umem kept open makes the release check fail"
fi

# odirect_pin: short-term pins, a read across fork(), the FOLL_PIN balance.
odi=$OUTPUT/odirect_pin
sel="an ext4 file, anon base page"
if runs_unbroken odirect_pin "O_DIRECT read from $sel" "dontneed" "fork" "leak"; then
	out=$("$odi" --selftest-break dontneed -t "$sel" 2>/dev/null)
	n=$(echo "$out" | grep -cE '^not ok [0-9]+ Short-term pin is reliable: O_DIRECT (read from|write to)')
	ok $((n != 2)) "odirect_pin dontneed: the read and the write case fail ($n)"
	out=$("$odi" --selftest-break fork -t "forks, $sel" 2>/dev/null)
	echo "$out" | grep -q '^not ok 1 .*landed in the child'
	ok $? "odirect_pin fork: a read that lands in the child fails the case"
	out=$("$odi" --selftest-break leak -t "All pins released: O_DIRECT reads and writes, an ext4 file" 2>/dev/null)
	echo "$out" | grep -q '^not ok 1 All pins released'
	ok $? "odirect_pin leak: pins kept make the balance check fail"
fi

done_testing
