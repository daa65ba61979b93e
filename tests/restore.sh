#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Whatever happens to a run, the machine's settings end up as they were
# and nothing of the run keeps running: a binary killed with SIGKILL
# mid-run; run_tests.sh stopped with SIGTERM while a binary grows a
# hugetlb pool; run_tests.sh's whole process group killed with SIGKILL;
# two binaries started together (the second waits for the first).

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

MM=/sys/kernel/mm
N=19
plan $N

if ! is_root; then
	for i in $(seq $N); do skip "restore test $i" "needs root"; done
	done_testing
fi

# Each scenario grows every hugetlb pool by two pages.
pools=0
for d in "$MM"/hugepages/hugepages-*; do
	f=$(cat "$d/free_hugepages")
	[ "$f" -gt "$pools" ] && pools=$f
done
export PINSUITE_HUGETLB_PAGES=$((pools + 2))
# Expedited RCU is the first setting a root binary changes: left off here,
# so that "changed a setting" below means the setting each scenario names.
export PINSUITE_RCU_EXPEDITE=0

# Wait up to $1 tenths of a second for the settings (or only the one in
# file $2) to differ from $before.
changed() {
	local i
	for ((i = 0; i < $1; i++)); do
		[ "$(knobs | grep "^${2:-}")" != "$(echo "$before" | grep "^${2:-}")" ] && return 0
		sleep 0.1
	done
	return 1
}

files() { find "${TMPDIR:-/tmp}" /run -maxdepth 1 -name 'pinsuite-*' 2>/dev/null; }

# kill_mid_run FILTER WHAT [FILE]: start iouring_pin on FILTER, SIGKILL it
# once it changed a setting (the one in FILE), expect every setting back.
kill_mid_run() {
	local pid
	before=$(knobs)
	"$OUTPUT/iouring_pin" -t "$1" >/dev/null 2>&1 &
	pid=$!
	changed 100 "${3:-}"
	ok $? "$2: the run changed ${3:-a setting}"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	knobs_back 10 "$before"
	ok $? "$2: SIGKILL of the binary leaves every setting as it was"
	[ "$(knobs)" = "$before" ] || diag "$(diff <(echo "$before") <(knobs))"
}

kill_mid_run "THP (" "THP per-size policy"
kill_mid_run "KSM" "KSM"
kill_mid_run "hugetlb (2048 kB)" "hugetlb pool"
# Expedited RCU grace periods: on while a root binary runs, back off after
# its SIGKILL.
rcu=/sys/kernel/rcu_expedited
if [ "$(cat $rcu 2>/dev/null)" = 0 ]; then
	PINSUITE_RCU_EXPEDITE=1 kill_mid_run "THP (" "expedited RCU" $rcu
else
	skip "expedited RCU: the run changed $rcu" "$rcu is not 0 (or absent: CONFIG_TINY_RCU)"
	skip "expedited RCU: SIGKILL of the binary leaves every setting as it was" "$rcu is not 0"
fi

# The runner ends after its guardian has put everything back: what runs
# next sees the system as it was, without waiting.
before=$(knobs)
"$TOP/run_tests.sh" -t iouring_pin -- -t "anon base page" >/dev/null 2>&1
after=$(knobs)
ok "$([ "$after" = "$before" ]; echo $?)" "run_tests.sh: every setting is back when it exits"
[ "$after" = "$before" ] || diag "$(diff <(echo "$before") <(echo "$after"))"
knobs_back 10 "$before"

# The runner, stopped while cow's hugetlb case runs.
before=$(knobs)
setsid "$TOP/run_tests.sh" -t cow -- -t "hugetlb (" >/dev/null 2>&1 &
pid=$!
changed 100
ok $? "run_tests.sh: the run grew a hugetlb pool"
sleep 0.5
kill -TERM -- -"$pid"
wait "$pid" 2>/dev/null
knobs_back 10 "$before"
ok $? "run_tests.sh: SIGTERM mid-run leaves every setting as it was"
[ "$(knobs)" = "$before" ] || diag "$(diff <(echo "$before") <(knobs))"
suite_gone 10
ok $? "run_tests.sh: after SIGTERM nothing of the run is left running"

# The runner's whole process group, SIGKILLed: no trap runs anywhere.
before=$(knobs)
left_before=$(files)
setsid "$TOP/run_tests.sh" -t iouring_pin -- -t "THP (" >/dev/null 2>&1 &
pid=$!
changed 100
ok $? "run_tests.sh: the run changed a setting"
kill -KILL -- -"$pid"
wait "$pid" 2>/dev/null
suite_gone 10
ok $? "run_tests.sh: after SIGKILL of its process group no binary or case is left running"
knobs_back 10 "$before"
ok $? "run_tests.sh: after SIGKILL of its process group every setting is as it was"
[ "$(knobs)" = "$before" ] || diag "$(diff <(echo "$before") <(knobs))"
ok "$([ "$(files)" = "$left_before" ]; echo $?)" "run_tests.sh: after SIGKILL no file of the run is left"

# Two binaries at once: the second waits; neither sees the other's settings.
before=$(knobs)
err=$(mktemp)
"$OUTPUT/iouring_pin" -t "THP (" >/dev/null 2>&1 &
a=$!
changed 100
"$OUTPUT/iouring_pin" -t "THP (" >/dev/null 2>"$err" &
b=$!
wait "$a"
ra=$?
wait "$b"
rb=$?
ok "$([ $ra = 0 ] && [ $rb = 0 ]; echo $?)" "two binaries at once both pass (exit $ra, $rb)"
grep -q "waiting for another pinsuite run to finish" "$err"
ok $? "the second binary waited for the first, and said so"
knobs_back 10 "$before"
ok $? "two binaries at once leave every setting as it was"
[ "$(knobs)" = "$before" ] || diag "$(diff <(echo "$before") <(knobs))"
rm -f "$err"

done_testing
