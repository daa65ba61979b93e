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

# The runs compare the suite, not the host's allocator: a run may not get
# gigantic pages (contiguous memory) after the one before gave them back
# (seen in CI: 1 run of 20 skipped its 1 GiB cases with "need 2 free").
# As root the pools the suite makes sure of (4 free pages of each size)
# are held for the whole repetition, then given back as they were; where
# fewer could be had, no run asks for more (PINSUITE_HUGETLB_PAGES).
pools=()
held=4
# shellcheck disable=SC2317  # run by the EXIT trap
giveback() {
	local p
	# run_tests.sh ends after its guardian has put its values back.
	for p in "${pools[@]}"; do
		echo "${p#*=}" >"${p%=*}"
	done
}
tmp=$(mktemp -d)
trap 'giveback; rm -rf "$tmp"' EXIT
if is_root; then
	for d in /sys/kernel/mm/hugepages/hugepages-*; do
		[ -w "$d/nr_hugepages" ] || continue
		total=$(cat "$d/nr_hugepages") free=$(cat "$d/free_hugepages")
		[ "$free" -lt 4 ] || continue
		pools+=("$d/nr_hugepages=$total")
		for try in 1 2 3; do
			echo 1 >/proc/sys/vm/compact_memory
			echo $((total - free + 4)) >"$d/nr_hugepages"
			[ "$(cat "$d/free_hugepages")" -lt 4 ] || break
		done
		got=$(cat "$d/free_hugepages")
		[ "$got" -ge "$held" ] || held=$got
		diag "${d##*/}: $got free pages held for the runs (was $free; $try tries)"
	done
	if [ "$held" -lt 4 ]; then
		export PINSUITE_HUGETLB_PAGES=$held
		diag "PINSUITE_HUGETLB_PAGES=$held: no run asks for more"
	fi
fi
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
