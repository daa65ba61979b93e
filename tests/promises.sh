#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# promises: every check can fail.  Each --selftest-break mode of the binary
# breaks one check on purpose, and the cases it affects must FAIL with the
# diagnosis (and the upstream fix) a reader needs, where the unbroken run
# passes.  The host needs io_uring; the placement break ("placed") needs a
# ZONE_MOVABLE, which only the VM has (tests/vm, or vm/run.sh with
# --append movablecore=).

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

N=9
plan $N

bin=$OUTPUT/promises
if ! is_root; then
	for i in $(seq $N); do skip "promises self-test $i" "needs root"; done
	done_testing
fi
if [ ! -x "$bin" ]; then
	for i in $(seq $N); do skip "promises self-test $i" "promises not built"; done
	done_testing
fi

iou="io_uring fixed buffer"
release="All pins released: $iou, after unpinning, anon base page"
hole="All pins released: $iou, refused for a hole in the range"
secret="Pin refused: $iou, memfd_secret memory"
vmsplice="Pin refused: vmsplice, memfd_secret memory"
memlock="All pins released: $iou, refused beyond RLIMIT_MEMLOCK"
odirect="Short-term pin of the zeropage works: O_DIRECT write from a read-faulted buffer (the shared zeropage), ext4"

out=$("$bin" -t "$release" -t "$hole" -t "$secret" -t "$vmsplice" -t "$memlock")
rc=$?
if echo "$out" | grep -q "# SKIP io_uring"; then
	for i in $(seq $N); do skip "promises self-test $i" "io_uring unavailable"; done
	done_testing
fi
ok "$([ $rc = 0 ] && [ "$(echo "$out" | grep -c '^ok ')" = 5 ]; echo $?)" \
	"the io_uring release, failure-path and refusal cases pass unbroken (exit $rc)"

out=$("$bin" --selftest-break leak -t "$release")
echo "$out" | grep -q "^not ok 1 $release # VmPin stays +4 kB above"
ok $? "leak: a pin kept over the release check fails it, by the charge it leaves"

out=$("$bin" --selftest-break leftover -t "$hole")
echo "$out" | grep -q "^not ok 1 $hole.* # the refused request left VmPin +4 kB"
ok $? "leftover: a pin kept after a refused request fails the failure-path case"

out=$("$bin" --selftest-break refuse -t "$secret" -t "$vmsplice")
n=$(echo "$out" | grep -c '^not ok .*kernel may lack 65291dcfcf89')
ok "$([ "$n" = 2 ]; echo $?)" "refuse: pinning ordinary memory fails both refusal cases, with the secretmem fix as hint ($n)"

out=$("$bin" --selftest-break memlock -t "$memlock")
echo "$out" | grep -q "^not ok 1 $memlock.* worked beyond RLIMIT_MEMLOCK"
ok $? "memlock: with the limit raised the request works and the case fails"

out=$("$bin" -t "$odirect")
if echo "$out" | grep -q '# SKIP'; then
	skip "the O_DIRECT zeropage case passes unbroken" "$(echo "$out" | sed -n 's/.*# SKIP //p')"
	skip "zero: a written buffer fails the O_DIRECT zeropage case" "no ext4 directory"
else
	echo "$out" | grep -q "^ok 1 $odirect"
	ok $? "the O_DIRECT zeropage case passes unbroken"
	out=$("$bin" --selftest-break zero -t "$odirect")
	echo "$out" | grep -q "^not ok 1 $odirect # the file holds 0x5e at offset 0x0"
	ok $? "zero: a written buffer fails the O_DIRECT zeropage case"
fi

# Placement needs a ZONE_MOVABLE: elsewhere the cases skip, with that reason.
sel="Longterm pin leaves no page in ZONE_MOVABLE: $iou, anon base page"
out=$("$bin" -t "$sel")
if echo "$out" | grep -q "# SKIP no ZONE_MOVABLE"; then
	ok 0 "without a ZONE_MOVABLE the placement case skips and says so"
	skip "placed: judging the PFNs from before the pin fails the case" "no ZONE_MOVABLE here"
else
	echo "$out" | grep -q "^ok 1 $sel"
	ok $? "the placement case passes unbroken"
	out=$("$bin" --selftest-break placed -t "$sel")
	echo "$out" | grep -q "^not ok 1 $sel # .*still in ZONE_MOVABLE.*kernel may lack d1e153fea2a8"
	ok $? "placed: judging the PFNs from before the pin fails the case, with the hint"
fi

done_testing
