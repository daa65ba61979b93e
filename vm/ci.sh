#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot four kernels one after another and run the whole suite in each:
#   debian-6.12   newest Debian 12 linux-image-6.12.*+deb12-amd64-unsigned  must pass
#   pintest-6.12  ../shared/kernels/bzImage-6.12.117-pintest               must pass
#   no84209e87    ../shared/kernels/bzImage-6.12.117-no84209e87            must fail, with
#   6.1           ../shared/kernels/bzImage-6.1.192-pintest                 the cases below
# plus a second boot of the two 6.12 test kernels with intel_iommu=off for
# vfio_pin's iommufd mock domain.  "Must pass" tolerates the known kernel
# bugs listed below, and only those.  Every kernel must stay untainted.  Prints TAP, one result per kernel,
# and exits 0 when every expectation held, 1 otherwise, 2 for bad usage.
#
#   vm/ci.sh [--budget S] [--timeout S] [--only NAME]... [--keep-logs DIR] [-- run.sh options]

set -u -o pipefail
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$VM_DIR/.." && pwd)
# shellcheck source=vm/lib.sh
. "$VM_DIR/lib.sh"

# ---------------------------------------------------------------------------
# Expected failures: extended regexes over the names of failing cases
# ("not ok N NAME" lines of the binaries).  Each regex must match at least one
# failing case on that kernel.  The v6.2 fix 84209e87c696 made R/O long-term
# pins of non-anonymous pages (the shared zeropage, page cache pages) in COW
# mappings reliable; without it they are not, through every pin path the
# kernel has: gup_test, VFIO type1 and iommufd on the no84209e87 kernel, VFIO
# type1 only on 6.1 (its gup_test has no PIN_LONGTERM_TEST_*, no iommufd).
# shellcheck disable=SC2034 # used through a nameref
EXPECT_no84209e87=(
	'^Longterm R/O pin is reliable: GUP, write after pin, shared zeropage$'
	'^Longterm R/O pin is reliable: GUP, write after pin, memfd \(MAP_PRIVATE\)$'
	'^Longterm R/O pin is reliable: GUP-fast, write after pin, shared zeropage$'
	'^Longterm R/O pin is reliable: GUP-fast, write after pin, memfd \(MAP_PRIVATE\)$'
	'^Longterm R/O pin is reliable: VFIO type1 DMA read, write after pin, shared zeropage$'
	'^Longterm R/O pin is reliable: VFIO type1 DMA read, write after pin, memfd \(MAP_PRIVATE\)$'
	'^Longterm R/O pin is reliable: iommufd \(VFIO cdev\) DMA read, write after pin, shared zeropage$'
	'^Longterm R/O pin is reliable: iommufd \(VFIO cdev\) DMA read, write after pin, memfd \(MAP_PRIVATE\)$'
)
# shellcheck disable=SC2034
EXPECT_61=(
	'^Longterm R/O pin is reliable: VFIO type1 DMA read, write after pin, shared zeropage$'
	'^Longterm R/O pin is reliable: VFIO type1 DMA read, write after pin, memfd \(MAP_PRIVATE\)$'
)
# shellcheck disable=SC2034
EXPECT_no84209e87_mock=(
	'^Longterm R/O pin is reliable: iommufd mock domain, IOAS_MAP READABLE, write after pin, shared zeropage$'
	'^Longterm R/O pin is reliable: iommufd mock domain, IOAS_MAP READABLE, write after pin, memfd \(MAP_PRIVATE\)$'
	'^Longterm R/O pin is reliable: type1 compat on iommufd mock domain, MAP_DMA READ, write after pin, shared zeropage$'
	'^Longterm R/O pin is reliable: type1 compat on iommufd mock domain, MAP_DMA READ, write after pin, memfd \(MAP_PRIVATE\)$'
)
# On those kernels the bug must show nowhere else: every failing case is a
# R/O long-term pin of a non-anonymous page in a private mapping (the
# zeropages, page cache pages); anonymous memory and R/W pins pass.
EXPECT_ONLY='^Longterm R/O pin is reliable: .*, (shared zeropage|huge zeropage|.* \(MAP_PRIVATE\))$'

# Known kernel bugs: cases allowed to fail on a kernel that must otherwise
# pass, each with the upstream fix the kernel lacks.  6.12.117 livelocks on
# a R/O long-term pin of a PMD-mapped file THP in a MAP_PRIVATE mapping
# (GUP unshares, the read fault maps the PMD again); the suite detects the
# fault storm and fails these cases with the hint "mm: do not install PMD
# mappings when handling a COW fault" (Zhang Yi, 2025, Fixes: a7f226604170).
# shellcheck disable=SC2034
KNOWN_6_12_117=(
	'^Longterm R/O pin is reliable: .*, memfd with 2048 kB shmem folios \(MAP_PRIVATE\)$'
)

# The kernels: name, kernel argument for run.sh, expectation ("pass", or
# "pass" plus the name of a KNOWN_ array of tolerated failures, or the name
# of an EXPECT_ array), and more run.sh arguments.  "debian:REGEX" = newest
# package matching REGEX.  The iommufd mock domain cannot coexist with VT-d
# (the Intel driver claims the mock device), so it gets a boot of its own.
SHARED=$REPO/../shared/kernels
KERNELS=(
	"debian-6.12|debian:^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$|pass KNOWN_6_12_117|"
	"pintest-6.12|$SHARED/bzImage-6.12.117-pintest|pass KNOWN_6_12_117|"
	"pintest-6.12-mock|$SHARED/bzImage-6.12.117-pintest|pass KNOWN_6_12_117|--append intel_iommu=off -- -t vfio_pin"
	"no84209e87|$SHARED/bzImage-6.12.117-no84209e87|EXPECT_no84209e87|"
	"no84209e87-mock|$SHARED/bzImage-6.12.117-no84209e87|EXPECT_no84209e87_mock|--append intel_iommu=off -- -t vfio_pin"
	"6.1|$SHARED/bzImage-6.1.192-pintest|EXPECT_61|"
)

BUDGET=4200	# seconds for all four kernels together
TIMEOUT=1500	# seconds for one kernel
ONLY=()
LOGS=
RUN_ARGS=()

usage() {
	sed -n '3,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	cat <<EOF
Options:
  --budget S     wall-clock seconds for all kernels together (default $BUDGET)
  --timeout S    wall-clock seconds for one kernel (default $TIMEOUT)
  --only NAME    run only this kernel (repeatable): debian-6.12, pintest-6.12,
                 pintest-6.12-mock, no84209e87-mock,
                 no84209e87, 6.1
  --keep-logs D  write each kernel's run.sh output to D/NAME.tap
  -- ARGS        more vm/run.sh arguments for every kernel, e.g.
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
	--) shift; RUN_ARGS=("$@"); break ;;
	*) echo "vm/ci.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[[ $BUDGET =~ ^[0-9]+$ && $TIMEOUT =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }

selected=()
for k in "${KERNELS[@]}"; do
	name=${k%%|*}
	if [ ${#ONLY[@]} -gt 0 ]; then
		case " ${ONLY[*]} " in *" $name "*) ;; *) continue ;; esac
	fi
	selected+=("$k")
done
[ ${#selected[@]} -gt 0 ] || { echo "vm/ci.sh: no kernel selected" >&2; exit 2; }

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

# Did the run fail only in cases a KNOWN_ array tolerates (and in some)?
tolerated() {
	local failed=$1 known=$2 line re hit
	[ -n "$known" ] && [ -s "$failed" ] || return 1
	declare -n res=$known
	while IFS= read -r line; do
		hit=0
		for re in "${res[@]}"; do
			[[ $line =~ $re ]] && hit=1
		done
		if [ $hit = 0 ]; then
			echo "# unexpected failure: $line"
			return 1
		fi
		echo "# known kernel bug, tolerated: $line"
	done <"$failed"
	return 0
}

# Say so when a tolerated kernel bug did not show: the kernel may carry the
# fix now, and its entry can go.
known_not_seen() {
	local failed=$1 re
	declare -n kres=$2
	for re in "${kres[@]}"; do
		grep -qE -- "$re" "$failed" ||
			echo "# known kernel bug not seen (fixed in this kernel?): /$re/"
	done
}

echo "TAP version 13"
echo "1..${#selected[@]}"
start=$EPOCHREALTIME
pass=0 fail=0 n=0
for k in "${selected[@]}"; do
	n=$((n + 1))
	IFS='|' read -r name kernel expect extra <<<"$k"
	read -r -a extra <<<"$extra"
	elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a }')
	left=$((BUDGET - elapsed))
	t=$TIMEOUT
	[ "$left" -ge "$t" ] || t=$left
	if [ "$t" -lt 60 ]; then
		echo "not ok $n $name # time budget of ${BUDGET}s used up"
		fail=$((fail + 1))
		continue
	fi
	if [[ $kernel == debian:* ]]; then
		kernel=$(debian_package "${kernel#debian:}") || {
			echo "# no Debian package matches ${kernel#debian:} (apt-cache search)"
			echo "not ok $n $name"
			fail=$((fail + 1))
			continue
		}
	fi
	args=("${extra[@]}")
	[ ${#RUN_ARGS[@]} -eq 0 ] || args=("${RUN_ARGS[@]}")
	echo "# $name: vm/run.sh --timeout $t $kernel ${args[*]}"
	"$VM_DIR/run.sh" --timeout "$t" "$kernel" "${args[@]}" >"$OUT/$name.tap" 2>"$OUT/$name.err"
	rc=$?
	[ -z "$LOGS" ] || cp "$OUT/$name.tap" "$LOGS/$name.tap"
	vm_tap_nest <"$OUT/$name.tap"
	sed 's/^/# stderr: /' "$OUT/$name.err" | tail -n 20

	ok=1
	why=()
	grep -qE '^ok 2 .*: Kernel stays untainted' "$OUT/$name.tap" || {
		ok=0
		why+=("kernel got tainted or did not report")
	}
	sed 's/^# //' "$OUT/$name.tap" | vm_cases | sed -n 's/^not ok //p' >"$OUT/$name.failed"
	if [[ $expect == pass* ]]; then
		known=${expect#pass}
		known=${known# }
		if [ "$rc" != 0 ] && ! tolerated "$OUT/$name.failed" "$known"; then
			ok=0
			why+=("run.sh exit $rc, expected 0")
		fi
		[ -z "$known" ] || known_not_seen "$OUT/$name.failed" "$known"
	else
		if [ "$rc" != 1 ] || ! grep -qE '^not ok 1 .*: pinsuite$' "$OUT/$name.tap" ||
			! grep -q '^# timing: .* suite [0-9]' "$OUT/$name.tap"; then
			ok=0
			why+=("run.sh exit $rc: expected the suite to run to the end and fail")
		fi
		declare -n pats=$expect
		for re in "${pats[@]}"; do
			if grep -qE -- "$re" "$OUT/$name.failed"; then
				echo "# expected failure seen: /$re/"
			else
				ok=0
				why+=("no failing case matches /$re/")
			fi
		done
		unset -n pats
		echo "# $(wc -l <"$OUT/$name.failed") failing cases on $name"
		while IFS= read -r line; do
			[[ $line =~ $EXPECT_ONLY ]] && continue
			ok=0
			why+=("unexpected failure: $line")
		done <"$OUT/$name.failed"
	fi
	if [ "$ok" = 1 ]; then
		echo "ok $n $name"
		pass=$((pass + 1))
	else
		for w in "${why[@]}"; do echo "# $name: $w"; done
		echo "not ok $n $name"
		fail=$((fail + 1))
	fi
done
echo "# total $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a }') s"
echo "vm-ci: $pass passed, $fail failed"
[ "$fail" = 0 ]
