#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the pinsuite binaries the way kselftest's runner does: one TAP result
# per binary, each binary's own TAP nested under it with a "# " prefix.
# Around them: debugfs mounted if needed, hugetlb pools filled for every
# size, and every system knob the suite may touch snapshotted before and put
# back after each binary - also when a binary is killed or times out, and
# when this script is interrupted.  POSIX sh, so it runs under busybox too.

ALL_BINARIES="cow gup_longterm vfio_pin iouring_pin"
here=$(cd "$(dirname "$0")" && pwd)
bindir=${OUTPUT:-$here}

usage() {
	cat <<EOF
Usage: $0 [-t NAME]... [-l] [-o SECONDS] [-h] [-- ARGS]
Run the pinsuite binaries ($ALL_BINARIES) as root, restoring
every system setting they may change.

  -t NAME     run only binary NAME (may be repeated)
  -l          list every case name the selected binaries would run, then exit
  -o SECONDS  override the per-binary timeout (default: timeout= in settings)
  -h          show this help
  -- ARGS     pass ARGS to every binary (e.g. -- -t 'shared zeropage')

Environment: OUTPUT (where the binaries are), PINSUITE_HUGETLB_PAGES (pages
to reserve per hugetlb size, default 4), PINSUITE_DISK_DIRS,
PINSUITE_VFIO_DEVICE, PINSUITE_CASE_TIMEOUT.
Exit status: 0 no failure, 1 a failure, 4 nothing ran, 2 bad usage.
EOF
}

selected=""
list=0
timeout=""
while getopts "t:lo:h" opt; do
	case $opt in
	t) selected="$selected $OPTARG" ;;
	l) list=1 ;;
	o) timeout=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift

for b in $selected; do
	case " $ALL_BINARIES " in
	*" $b "*) ;;
	*) echo "$0: unknown binary '$b'" >&2; usage >&2; exit 2 ;;
	esac
done
[ -n "$selected" ] || selected=$ALL_BINARIES
case $timeout in
"") timeout=$(sed -n 's/^timeout=//p' "$here/settings" 2>/dev/null)
    [ -n "$timeout" ] || timeout=1200 ;;
*[!0-9]*) echo "$0: bad timeout '$timeout'" >&2; usage >&2; exit 2 ;;
esac

binary() {
	if [ -x "$bindir/$1" ]; then
		echo "$bindir/$1"
	elif [ -x "$here/$1" ]; then
		echo "$here/$1"
	fi
}

if [ $list = 1 ]; then
	for b in $selected; do
		path=$(binary "$b")
		[ -n "$path" ] && "$path" -l "$@"
	done
	exit 0
fi

# Knobs ----------------------------------------------------------------------

MM=/sys/kernel/mm
state=$(mktemp /tmp/pinsuite-state.XXXXXX)
mounted_debugfs=0

knobs() {
	for f in $MM/transparent_hugepage/enabled $MM/transparent_hugepage/defrag \
		 $MM/transparent_hugepage/shmem_enabled \
		 "$MM"/transparent_hugepage/hugepages-*/enabled \
		 "$MM"/transparent_hugepage/hugepages-*/shmem_enabled \
		 "$MM"/hugepages/hugepages-*/nr_hugepages \
		 $MM/ksm/run $MM/ksm/pages_to_scan $MM/ksm/sleep_millisecs; do
		[ -f "$f" ] && echo "$f"
	done
}

# The selected word of "a [b] c", else the content.
value() {
	v=$(cat "$1" 2>/dev/null) || return 1
	case $v in
	*"["*"]"*) v=${v#*[}; v=${v%%]*} ;;
	esac
	echo "$v"
}

snapshot() {
	: > "$state"
	for f in $(knobs); do
		printf '%s %s\n' "$f" "$(value "$f")" >> "$state"
	done
}

# Put back what differs from the snapshot.  Pools of huge pages shrink only
# once the pages are free, which can lag behind a killed process: retry.
restore() {
	while read -r f v; do
		[ "$(value "$f")" = "$v" ] && continue
		i=0
		while [ $i -lt 50 ]; do
			echo "$v" > "$f" 2>/dev/null
			[ "$(value "$f")" = "$v" ] && break
			sleep 0.1
			i=$((i + 1))
		done
		echo "# run_tests.sh: restored $f to '$v' (now '$(value "$f")')"
	done < "$state"
}

reserve_hugetlb() {
	want=${PINSUITE_HUGETLB_PAGES:-4}
	for d in "$MM"/hugepages/hugepages-*; do
		[ -d "$d" ] || continue
		free=$(cat "$d/free_hugepages")
		total=$(cat "$d/nr_hugepages")
		[ "$free" -ge "$want" ] && continue
		echo $((total + want - free)) > "$d/nr_hugepages" 2>/dev/null
		echo "# ${d##*/}: $(cat "$d/free_hugepages") free of $(cat "$d/nr_hugepages")"
	done
}

# A binary's output, nested under the runner's TAP; remember its Totals.
nest() {
	while IFS= read -r line; do
		printf '# %s\n' "$line"
		case $line in
		"# Totals: "*) echo "$line" > "$state.totals" ;;
		esac
	done
}

# shellcheck disable=SC2317 # called from the traps
interrupted() {
	# Stop the running binary first; its guardian restores what it changed.
	if [ -n "$bpid" ]; then
		kill -TERM "$bpid" 2>/dev/null
		wait "$bpid" 2>/dev/null
	fi
	cleanup
	exit "$1"
}

# shellcheck disable=SC2317 # called from the traps
cleanup() {
	trap - EXIT
	[ "$(id -u)" = 0 ] && restore
	if [ "$mounted_debugfs" = 1 ]; then
		umount /sys/kernel/debug 2>/dev/null
	fi
	rm -f "$state" "$state.rc" "$state.fifo" "$state.totals"
}

bpid=""
trap 'interrupted 130' INT
trap 'interrupted 143' TERM HUP
trap cleanup EXIT

# Run ------------------------------------------------------------------------

echo "TAP version 13"
n=0
for b in $selected; do n=$((n + 1)); done
echo "1..$n"
echo "# kernel: $(uname -r), uid $(id -u), timeout ${timeout}s per binary"

if [ "$(id -u)" = 0 ]; then
	snapshot
	if [ ! -e /sys/kernel/debug/gup_test ] && ! grep -q ' /sys/kernel/debug debugfs ' /proc/mounts; then
		mount -t debugfs none /sys/kernel/debug 2>/dev/null && mounted_debugfs=1
	fi
	reserve_hugetlb
else
	echo "# not root: cases that need root will SKIP"
fi

num=0
failed=0
ran=0
pass=0 fail=0 xfail=0 skip=0
for b in $selected; do
	num=$((num + 1))
	path=$(binary "$b")
	echo "# selftests: pinsuite: $b"
	if [ -z "$path" ]; then
		echo "not ok $num selftests: pinsuite: $b # missing (not built?)"
		failed=1
		continue
	fi
	start=$(date +%s)
	rm -f "$state.fifo"
	mkfifo "$state.fifo"
	timeout -k 10 "$timeout" "$path" "$@" > "$state.fifo" 2>&1 &
	bpid=$!
	nest < "$state.fifo" &
	npid=$!
	wait $bpid
	echo $? > "$state.rc"
	bpid=""
	wait $npid
	rc=$(cat "$state.rc")
	took=$(($(date +%s) - start))
	if [ -f "$state.totals" ]; then
		read -r p f x s <<-EOF
		$(sed 's/.*pass:\([0-9]*\) fail:\([0-9]*\) xfail:\([0-9]*\) xpass:[0-9]* skip:\([0-9]*\).*/\1 \2 \3 \4/' "$state.totals")
		EOF
		pass=$((pass + p)) fail=$((fail + f)) xfail=$((xfail + x)) skip=$((skip + s))
		rm -f "$state.totals"
	fi
	echo "# $b: exit status $rc after ${took}s"
	[ "$(id -u)" = 0 ] && restore
	case $rc in
	0) echo "ok $num selftests: pinsuite: $b"; ran=1 ;;
	4) echo "ok $num selftests: pinsuite: $b # SKIP" ;;
	124|137|143)
		echo "not ok $num selftests: pinsuite: $b # TIMEOUT $timeout seconds"
		failed=1 ;;
	*) echo "not ok $num selftests: pinsuite: $b # exit=$rc"; failed=1 ;;
	esac
done

echo "# pinsuite cases: pass:$pass fail:$fail xfail:$xfail skip:$skip"
[ $failed = 1 ] && exit 1
[ $ran = 1 ] && exit 0
exit 4
