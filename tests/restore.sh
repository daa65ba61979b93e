#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A binary killed with SIGKILL in the middle of a run leaves the THP,
# hugetlb and KSM settings as they were: its guardian puts them back.  The
# same when run_tests.sh is interrupted.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

MM=/sys/kernel/mm
plan 9

if ! is_root; then
	for i in 1 2 3 4 5 6 7 8 9; do skip "restore test $i" "needs root"; done
	done_testing
fi

knobs() {
	local f
	for f in $MM/transparent_hugepage/enabled $MM/transparent_hugepage/shmem_enabled \
		 "$MM"/transparent_hugepage/hugepages-*/enabled \
		 "$MM"/transparent_hugepage/hugepages-*/shmem_enabled \
		 "$MM"/hugepages/hugepages-*/nr_hugepages $MM/ksm/run $MM/ksm/pages_to_scan \
		 $MM/ksm/sleep_millisecs; do
		[ -f "$f" ] && printf '%s %s\n' "$f" "$(cat "$f")"
	done
}

# Wait up to $1 tenths of a second for the knobs to be (or not be) $2.
wait_knobs() {
	local n=$1 want=$2 i
	for ((i = 0; i < n; i++)); do
		if [ "$want" = same ]; then
			[ "$(knobs)" = "$before" ] && return 0
		else
			[ "$(knobs)" != "$before" ] && return 0
		fi
		sleep 0.1
	done
	return 1
}

# kill_mid_run FILTER CHANGED KILLED: start iouring_pin on FILTER, SIGKILL it
# once it has changed a knob, and expect every knob back; CHANGED and KILLED
# name the two results.
kill_mid_run() {
	local filter=$1 pid
	before=$(knobs)
	"$OUTPUT/iouring_pin" -t "$filter" > /dev/null 2>&1 &
	pid=$!
	wait_knobs 100 changed
	ok $? "$2"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	wait_knobs 100 same
	ok $? "$3"
	[ "$(knobs)" != "$before" ] && diag "$(diff <(echo "$before") <(knobs))"
}

for what in "THP per-size policy:THP (" "KSM:KSM"; do
	kill_mid_run "${what#*:}" "${what%%:*}: the run changed a setting" \
		"${what%%:*}: SIGKILL of the binary leaves every setting as it was"
done

# Hugetlb pools: the binary grows them itself when run without the runner.
# Start them empty; put the machine's pools back afterwards.
pools=$(for d in "$MM"/hugepages/hugepages-*; do echo "$d $(cat "$d/nr_hugepages")"; done)
# shellcheck disable=SC2317 # called from the trap
restore_pools() {
	local d n
	while read -r d n; do echo "$n" > "$d/nr_hugepages"; done <<<"$pools"
}
trap restore_pools EXIT
for d in "$MM"/hugepages/hugepages-*; do echo 0 > "$d/nr_hugepages"; done
kill_mid_run "hugetlb (2048 kB)" "hugetlb: the binary grew a pool" \
	"hugetlb: SIGKILL of the binary shrinks the pools back"

# The runner: SIGTERM in the middle of a binary.
before=$(knobs)
setsid "$TOP/run_tests.sh" -t iouring_pin -- -t "THP (" > /dev/null 2>&1 &
pid=$!
wait_knobs 100 changed
ok $? "run_tests.sh: the run changed a setting"
kill -TERM -- -"$pid"
wait "$pid" 2>/dev/null
wait_knobs 100 same
ok $? "run_tests.sh: SIGTERM of the runner and its binary leaves every setting as it was"
sleep 0.5
alive=0
for p in $(pgrep -f "iouring_pin -t"); do
	[ "$(ps -o stat= -p "$p")" != Z ] && alive=$((alive + 1))
done
ok $((alive != 0)) "no binary is left running after the runner was stopped ($alive)"

done_testing
