#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the CI kernels one after another and run the whole suite in each:
#   pmdfix        ../shared/kernels/bzImage-6.12.117-pmdfix      (+ mock boot)
#   pintest-6.12  ../shared/kernels/bzImage-6.12.117-pintest     (+ mock boot)
#   debian-6.12   newest Debian 12 linux-image-6.12.*+deb12-amd64-unsigned
#   no84209e87    ../shared/kernels/bzImage-6.12.117-no84209e87  (+ mock boot)
#   6.1           ../shared/kernels/bzImage-6.1.192-pintest
#   pmdfix-movable  pmdfix with movablecore=50% cma=256M
# The mock boots add intel_iommu=off and run only vfio_pin and promises, for
# the iommufd mock domain; pmdfix-movable boots pmdfix with ZONE_MOVABLE and
# a CMA area and runs only promises, for the placement of long-term pins.
# What each kernel must and may fail is in vm/expectations, judged over its
# JSON results by tools/pinsuite-report expect; besides, every kernel must
# stay untainted and run the suite to its end.  Prints TAP, one result per
# kernel; exits 0 when every expectation held, 1 otherwise, 2 for bad usage.
#
#   vm/ci.sh [--budget S] [--timeout S] [--only NAME]... [--keep-logs DIR]
#            [--expectations FILE] [--quick]
#            [-- run.sh options [-- run_tests.sh arguments]]

set -u -o pipefail
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$VM_DIR/.." && pwd)
# shellcheck source=vm/lib.sh
. "$VM_DIR/lib.sh"

# The kernels: name, kernel argument for run.sh ("debian:REGEX" = the newest
# package matching REGEX), more run.sh arguments.  The iommufd mock domain
# cannot coexist with VT-d (the Intel driver claims the mock device), so it
# gets a boot of its own.  Each name has a section in vm/expectations.
SHARED=${PINSUITE_SHARED_KERNELS:-$REPO/../shared/kernels}
MOCK="--append intel_iommu=off -- -t vfio_pin -t promises"
MOVABLE="--append movablecore=50% --append cma=256M -- -t promises"
KERNELS=(
	"pmdfix|$SHARED/bzImage-6.12.117-pmdfix|"
	"pmdfix-mock|$SHARED/bzImage-6.12.117-pmdfix|$MOCK"
	"pintest-6.12|$SHARED/bzImage-6.12.117-pintest|"
	"pintest-6.12-mock|$SHARED/bzImage-6.12.117-pintest|$MOCK"
	"debian-6.12|debian:^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$|"
	"no84209e87|$SHARED/bzImage-6.12.117-no84209e87|"
	"no84209e87-mock|$SHARED/bzImage-6.12.117-no84209e87|$MOCK"
	"6.1|$SHARED/bzImage-6.1.192-pintest|"
	"pmdfix-movable|$SHARED/bzImage-6.12.117-pmdfix|$MOVABLE"
)

# The nine boots take about 31 minutes on a quiet 2-core machine under TCG;
# CI has 90 minutes for everything, make check takes 19 of them.
BUDGET=3600	# seconds for all kernels together
TIMEOUT=1200	# seconds for one kernel
ONLY=()
LOGS=
EXPECTATIONS=$VM_DIR/expectations
REPORT=$REPO/tools/pinsuite-report
RUN_ARGS=()
QUICK=0

usage() {
	sed -n '4,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	cat <<EOF
Options:
  --budget S     wall-clock seconds for all kernels together (default $BUDGET)
  --timeout S    wall-clock seconds for one kernel (default $TIMEOUT)
  --only NAME    run only this kernel (repeatable): $(for k in "${KERNELS[@]}"; do printf '%s ' "${k%%|*}"; done)
  --keep-logs D  write each kernel's run.sh output to D/NAME.tap, its JSON
                 results to D/NAME.json
  --expectations FILE
                 the expectations (default vm/expectations)
  --quick        every binary with -q (one case of each kind); a must-fail
                 rule whose cases are not in that profile holds when another
                 case fails with the rule's hint
  -- ARGS        vm/run.sh options for every kernel, before the kernel's own,
                 e.g. -- --icount --suite DIR; run_tests.sh arguments after a
                 second -- replace the kernel's own (the mock boots' -t vfio_pin):
                 -- --icount -- -t vfio_pin -- -t 'shared zeropage'
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--budget) BUDGET=${2:-}; shift ;;
	--timeout) TIMEOUT=${2:-}; shift ;;
	--only) ONLY+=("${2:-}"); shift ;;
	--keep-logs) LOGS=${2:-}; shift ;;
	--expectations) EXPECTATIONS=${2:-}; shift ;;
	--quick) QUICK=1 ;;
	--) shift; RUN_ARGS=("$@"); break ;;
	*) echo "vm/ci.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[[ $BUDGET =~ ^[0-9]+$ && $TIMEOUT =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }
command -v python3 >/dev/null 2>&1 || { echo "vm/ci.sh: needs python3 (tools/pinsuite-report)" >&2; exit 2; }
# A broken expectations file is the harness's fault: say so before booting.
if ! KNOWN=$(python3 "$REPORT" expect --kernels "$EXPECTATIONS" 2>&1); then
	echo "vm/ci.sh: $KNOWN" >&2
	exit 2
fi

selected=()
for k in "${KERNELS[@]}"; do
	name=${k%%|*}
	if [ ${#ONLY[@]} -gt 0 ]; then
		case " ${ONLY[*]} " in *" $name "*) ;; *) continue ;; esac
	fi
	selected+=("$k")
done
for o in "${ONLY[@]}"; do
	case " $(for k in "${KERNELS[@]}"; do printf '%s ' "${k%%|*}"; done)" in
	*" $o "*) ;;
	*) echo "vm/ci.sh: no kernel named '$o'" >&2; usage >&2; exit 2 ;;
	esac
done
[ ${#selected[@]} -gt 0 ] || { echo "vm/ci.sh: no kernel selected" >&2; exit 2; }

# run.sh options and run_tests.sh arguments given after --.
USER_OPTS=()
USER_TESTS=()
i=0
while [ $i -lt ${#RUN_ARGS[@]} ] && [ "${RUN_ARGS[i]}" != -- ]; do
	USER_OPTS+=("${RUN_ARGS[i]}")
	i=$((i + 1))
done
[ $i -ge ${#RUN_ARGS[@]} ] || USER_TESTS=("${RUN_ARGS[@]:i}")

OUT=$(mktemp -d "${TMPDIR:-/tmp}/pinsuite-ci.XXXXXX") || exit 1
trap 'rm -rf "$OUT"' EXIT
[ -z "$LOGS" ] || mkdir -p "$LOGS" || exit 1

# The newest Debian package matching a regex; the apt lists are refreshed
# once if they know none (a fresh machine), and a package already in the
# cache is used when apt knows nothing at all (offline).
debian_package() {
	local re=$1 p
	p=$(vm_newest_package "$re")
	if [ -z "$p" ]; then
		apt-get update -qq >/dev/null 2>&1
		p=$(vm_newest_package "$re")
	fi
	if [ -z "$p" ]; then
		p=$(find "${PINSUITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pinsuite}/debs" \
			-maxdepth 1 -name 'linux-image-*.deb' -printf '%f\n' 2>/dev/null |
			sed 's/_.*//' | grep -E -- "$re" | sort -V | tail -n 1)
	fi
	[ -n "$p" ] && printf '%s\n' "$p"
}

# What a NOT OK kernel's run says about itself, for the end of the output:
# why it failed, the expectations' verdict, the case that was running when
# the guest stopped answering, the harness's and the kernel's last words.
ci_diagnosis() {
	local name=$1 tap=$OUT/$1.tap w
	shift
	echo "# ---- $name: why NOT OK"
	for w in "$@"; do echo "# $name: $w"; done
	[ ! -f "$OUT/$name.expect" ] ||
		grep -vE '^# expectations of .* met$' "$OUT/$name.expect" | head -n 30 | sed "s/^/# $name: /"
	grep -E '^# vm: |^# first bad kernel message|^# taint: |Bail out!' "$tap" |
		grep -vE '^# vm: (KVM probe|kernel [0-9]|disk dirs|swap|edu |numa nodes)' |
		head -n 16 | sed "s/^/# $name: /"
	w=$(grep -E '^[# ]*# \[RUN\] ' "$tap" | tail -n 1 | sed 's/^[# ]*# \[RUN\] //')
	[ -z "$w" ] || echo "# $name: last case started: $w"
	grep -E '^[# ]*(not ok|Bail out)' "$tap" | head -n 20 | sed "s/^/# $name: /"
	grep -E 'pinsuite-vm stall: |does not die after SIGKILL' "$tap" | head -n 40 | sed "s/^/# $name: /"
	grep -E '^# (console|dmesg): ' "$tap" | tail -n 40 | sed "s/^/# $name: /"
}

# run.sh's words for a guest that stopped answering while the suite ran.
STOPPED_RE='^# vm: kernel failure: (no results for [0-9]+s|timed out after [0-9]+s) while the suite ran'

secs() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a }'; }

echo "TAP version 13"
echo "1..${#selected[@]}"
start=$EPOCHREALTIME
pass=0 fail=0 n=0
SUMMARY=()
for k in "${selected[@]}"; do
	n=$((n + 1))
	IFS='|' read -r name kernel extra <<<"$k"
	read -r -a extra <<<"$extra"
	left=$((BUDGET - $(secs "$start")))
	t=$TIMEOUT
	[ "$left" -ge "$t" ] || t=$left
	if [ "$t" -lt 60 ]; then
		echo "not ok $n $name # time budget of ${BUDGET}s used up"
		fail=$((fail + 1))
		SUMMARY+=("$name: not run, budget used up")
		continue
	fi
	if [[ $kernel == debian:* ]]; then
		kernel=$(debian_package "${kernel#debian:}") || {
			echo "# no Debian package matches ${kernel#debian:} (apt-cache search)"
			echo "not ok $n $name"
			fail=$((fail + 1))
			SUMMARY+=("$name: no Debian package")
			continue
		}
	fi
	# The kernel's own run.sh options and run_tests.sh arguments, the
	# user's options first, the user's run_tests.sh arguments instead.
	opts=("${USER_OPTS[@]}")
	tests=()
	i=0
	while [ $i -lt ${#extra[@]} ] && [ "${extra[i]}" != -- ]; do
		opts+=("${extra[i]}")
		i=$((i + 1))
	done
	[ $i -ge ${#extra[@]} ] || tests=("${extra[@]:i}")
	[ ${#USER_TESTS[@]} -eq 0 ] || tests=("${USER_TESTS[@]}")
	# -q goes to every binary: after run.sh's "--" and run_tests.sh's.
	if [ "$QUICK" = 1 ]; then
		seps=0
		for a in "${tests[@]}"; do [ "$a" != -- ] || seps=$((seps + 1)); done
		while [ $seps -lt 2 ]; do
			tests+=(--)
			seps=$((seps + 1))
		done
		tests+=(-q)
	fi
	t0=$EPOCHREALTIME
	again=
	while :; do
		echo "# $name: vm/run.sh --timeout $t --json $name.json ${opts[*]} $kernel ${tests[*]}"
		rm -f "$OUT/$name.json"
		"$VM_DIR/run.sh" --timeout "$t" --json "$OUT/$name.json" "${opts[@]}" "$kernel" "${tests[@]}" \
			>"$OUT/$name.tap" 2>"$OUT/$name.err"
		rc=$?
		# A guest that stopped answering while the suite ran is booted
		# once more: under TCG a vCPU has been seen to stop for good (on
		# pmdfix, in vfio_pin, one boot in about ten), which the next
		# boot does not repeat.  The first boot stays in the output and in
		# the diagnosis at the end; a second hang is the verdict.
		if [ -n "$again" ] || ! grep -qE "$STOPPED_RE" "$OUT/$name.tap"; then
			break
		fi
		vm_tap_nest <"$OUT/$name.tap"
		ci_diagnosis "$name" "boot 1 stopped answering while the suite ran; booted once more" \
			>>"$OUT/diagnosis"
		again="boot 1 stopped answering, $(secs "$t0")s"
		left=$((BUDGET - $(secs "$start")))
		[ "$left" -ge "$t" ] || t=$left
		[ "$t" -ge 60 ] || break
		echo "# $name: $again; booting once more"
	done
	took=$(secs "$t0")
	if [ -n "$LOGS" ]; then
		cp "$OUT/$name.tap" "$LOGS/$name.tap"
		[ ! -f "$OUT/$name.json" ] || cp "$OUT/$name.json" "$LOGS/$name.json"
	fi
	vm_tap_nest <"$OUT/$name.tap"
	sed 's/^/# stderr: /' "$OUT/$name.err" | tail -n 20

	ok=1
	why=()
	# The suite ran to its end: run.sh saw the runner's exit code and the
	# runner its last line.
	if ! [[ $rc =~ ^[01]$ ]] || ! grep -qE '^(not )?ok 1 .*: pinsuite$' "$OUT/$name.tap" ||
		! grep -q '^# timing: .* suite [0-9]' "$OUT/$name.tap" ||
		! grep -q '^# # pinsuite cases: ' "$OUT/$name.tap"; then
		ok=0
		why+=("run.sh exit $rc: the suite did not run to its end")
	fi
	grep -qE '^ok 2 .*: Kernel stays untainted$' "$OUT/$name.tap" || {
		ok=0
		why+=("kernel got tainted or did not report its taint")
	}
	# The expectations, over the JSON results; over the TAP when the guest
	# died before it sent them (whatever it printed).
	results=$OUT/$name.json
	if [ ! -s "$results" ]; then
		echo "# $name: no JSON results; judging the TAP"
		results=$OUT/$name.tap
	fi
	xopt=()
	[ "$QUICK" = 0 ] || xopt=(--quick)
	python3 "$REPORT" expect "${xopt[@]}" "$EXPECTATIONS" "$name" "$results" >"$OUT/$name.expect" 2>&1
	erc=$?
	cat "$OUT/$name.expect"
	if [ "$erc" != 0 ]; then
		ok=0
		why+=("the expectations of $name are not met (pinsuite-report expect exit $erc)")
	fi
	# run.sh's verdict must agree with the cases: exit 1 with no failing
	# case and an untainted kernel is a failure the cases do not show.
	counts=$(sed -n 's/^# expectations of .*cases: //p' "$OUT/$name.expect" | head -n 1)
	bad=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, ":"); if (kv[1] ~ /^(fail|error|xpass)$/) s += kv[2] } } END { print s + 0 }' <<<"$counts")
	if [ "$rc" = 1 ] && [ "$bad" = 0 ] && grep -qE '^ok 2 .*: Kernel stays untainted$' "$OUT/$name.tap"; then
		ok=0
		why+=("run.sh exit 1, but no case failed and the kernel stayed untainted")
	fi
	echo "# $name: ${counts:-no cases}; ${took}s"
	if [ "$ok" = 1 ]; then
		echo "ok $n $name"
		pass=$((pass + 1))
		SUMMARY+=("$name: ok, ${counts:-no cases}, ${took}s${again:+ ($again)}")
	else
		for w in "${why[@]}"; do echo "# $name: $w"; done
		echo "not ok $n $name"
		fail=$((fail + 1))
		SUMMARY+=("$name: NOT OK, ${counts:-no cases}, ${took}s${again:+ ($again)}")
		ci_diagnosis "$name" "${why[@]}" >>"$OUT/diagnosis"
	fi
done
printf '# %s\n' "${SUMMARY[@]}"
# A CI log is often read from its end only: what went wrong comes last.
[ ! -s "$OUT/diagnosis" ] || cat "$OUT/diagnosis"
echo "# total $(secs "$start") s"
echo "vm-ci: $pass passed, $fail failed"
[ "$fail" = 0 ]
