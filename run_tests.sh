#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the pinsuite binaries the way kselftest's runner does: one TAP result
# per binary, each binary's own TAP nested under it with a "# " prefix.
#
# The runner changes nothing on the system itself.  As root it starts the
# run's guardian (a binary's --state-guard): it takes the run lock - a
# second run waits, saying so - and owns every setting the binaries
# change for the whole run, putting all of them back when the run ends:
# before the runner exits, or once it is gone however it ended (SIGKILL
# included).  The binaries run in the runner's process group, their time
# limited by PINSUITE_RUN_TIMEOUT, and leave no file behind.  POSIX sh, so
# it runs under busybox too.

ALL_BINARIES="cow gup_longterm vfio_pin iouring_pin promises udmabuf_pin rdma_pin xdp_pin odirect_pin"
here=$(cd "$(dirname "$0")" && pwd)
bindir=${OUTPUT:-$here}

usage() {
	cat <<EOF
Usage: $0 [-t NAME]... [-l] [-o SECONDS] [-j FILE] [-x FILE] [-h] [-- ARGS]
Run the pinsuite binaries ($ALL_BINARIES).

  -t NAME         run only binary NAME (may be repeated)
  -l              list every case name the selected binaries would run, then exit
  -o SECONDS      override the per-binary timeout (default: timeout= in settings)
  -j, --json FILE write one JSON record per case (and per binary run) to FILE
  -x, --junit FILE
                  write JUnit XML to FILE (needs python3 and tools/pinsuite-report)
  -h              show this help
  -- ARGS         pass ARGS to every binary (e.g. -- -t 'shared zeropage')

Environment: OUTPUT (where the binaries are), PINSUITE_HUGETLB_PAGES,
PINSUITE_DISK_DIRS, PINSUITE_VFIO_DEVICE, PINSUITE_CASE_TIMEOUT,
PINSUITE_RCU_EXPEDITE (0: leave /sys/kernel/rcu_expedited alone).
Exit status: 0 no failure, 1 a failure or lost output, 4 nothing ran,
2 bad usage (also -- -t patterns that select no case in any binary).
EOF
}

bad_usage() {
	echo "$0: $*" >&2
	usage >&2
	exit 2
}

selected=""
list=0
timeout=""
json=""
junit=""
while [ $# -gt 0 ]; do
	case $1 in
	-t) [ $# -ge 2 ] || bad_usage "-t needs a binary name"; selected="$selected $2"; shift ;;
	-l) list=1 ;;
	-o) [ $# -ge 2 ] || bad_usage "-o needs seconds"; timeout=$2; shift ;;
	-j | --json) [ $# -ge 2 ] || bad_usage "$1 needs a file"; json=$2; shift ;;
	-x | --junit) [ $# -ge 2 ] || bad_usage "$1 needs a file"; junit=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	*) bad_usage "unknown argument '$1'" ;;
	esac
	shift
done

for b in $selected; do
	case " $ALL_BINARIES " in
	*" $b "*) ;;
	*) bad_usage "unknown binary '$b'" ;;
	esac
done
[ -n "$selected" ] || selected=$ALL_BINARIES
case $timeout in
"") timeout=$(sed -n 's/^timeout=//p' "$here/settings" 2>/dev/null)
    [ -n "$timeout" ] || timeout=1200 ;;
*[!0-9]* | 0) bad_usage "bad timeout '$timeout' (seconds)" ;;
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
		[ -n "$path" ] && PINSUITE_EMPTY_OK=1 "$path" -l "$@"
	done
	exit 0
fi

# Output that cannot be written must not look like success: a write to a
# reader that went away fails (EPIPE) instead of killing us.
trap "" PIPE
lost=0
out() {
	printf '%s\n' "$*" || lost=1
}
if ! printf 'TAP version 13\n'; then
	echo "$0: cannot write the results to stdout" >&2
	exit 1
fi

# The machine-readable results: a file the binaries append to.  For JUnit
# only, an unnamed one (opened, then unlinked: nothing is left behind).
if [ -n "$json" ]; then
	: >"$json" 2>/dev/null || bad_usage "cannot write --json file '$json'"
	PINSUITE_JSON=$json
elif [ -n "$junit" ]; then
	tmp=$(mktemp "${TMPDIR:-/tmp}/pinsuite-json.XXXXXX") || exit 1
	exec 7<>"$tmp"
	rm -f "$tmp"
	PINSUITE_JSON=/proc/$$/fd/7
fi
if [ -n "$junit" ]; then
	: >"$junit" 2>/dev/null || bad_usage "cannot write --junit file '$junit'"
	command -v python3 >/dev/null || bad_usage "--junit needs python3"
	[ -f "$here/tools/pinsuite-report" ] || bad_usage "--junit needs $here/tools/pinsuite-report"
fi
[ -z "${PINSUITE_JSON:-}" ] || export PINSUITE_JSON

n=0
for b in $selected; do n=$((n + 1)); done
out "1..$n"
out "# kernel: $(uname -r), uid $(id -u), timeout ${timeout}s per binary"

# One owner of the system's settings for the whole run.  Its guardian puts
# everything back once the process it watches is gone: a helper that lives
# as long as this runner, so that the runner can end it and wait for the
# settings to be back before it exits (and a killed runner ends it too).
owner="" guard=""
if [ "$(id -u)" = 0 ]; then
	for b in $selected; do
		path=$(binary "$b")
		[ -n "$path" ] || continue
		(while kill -0 $$ 2>/dev/null; do sleep 1; done) </dev/null >/dev/null 2>&1 &
		owner=$!
		state=$("$path" --state-guard=$owner) || {
			echo "$0: cannot start the owner of the system's settings" >&2
			kill "$owner" 2>/dev/null
			exit 1
		}
		export "${state?}"
		guard=$path
		break
	done
else
	out "# not root: cases that need root will SKIP"
fi
export PINSUITE_EMPTY_OK=1 PINSUITE_RUN_TIMEOUT="$timeout"

bpid=""
# shellcheck disable=SC2317 # called from the traps
interrupted() {
	# The binary's cases die with it; the guardian puts everything back.
	[ -z "$bpid" ] || kill -TERM "$bpid" 2>/dev/null
	[ -z "$owner" ] || kill "$owner" 2>/dev/null
	exit "$1"
}
trap 'interrupted 130' INT
trap 'interrupted 143' TERM HUP

# A binary's output, nested under the runner's TAP; what it says at the end.
nest() {
	totals="" nomatch=0 in_skips=0
	while IFS= read -r line; do
		out "# $line"
		case $line in
		"# Totals: "*) totals=$line ;;
		"1..0 # SKIP no case matches"*) nomatch=1 ;;
		"# Skipped cases by reason"*) in_skips=1; continue ;;
		"#   "[0-9]*)
			if [ $in_skips = 1 ]; then
				r=${line#"#   "}
				skips="$skips${r%% *}	${r#* }
"
			fi
			continue ;;
		esac
		in_skips=0
	done
}

num=0
failed=0
ran=0
nomatch_all=1
pass=0 fail=0 xfail=0 skip=0
skips=""
for b in $selected; do
	num=$((num + 1))
	path=$(binary "$b")
	out "# selftests: pinsuite: $b"
	if [ -z "$path" ]; then
		out "not ok $num selftests: pinsuite: $b # missing (not built?)"
		failed=1
		continue
	fi
	start=$(date +%s)
	fifo=$(mktemp -u "${TMPDIR:-/tmp}/pinsuite-out.XXXXXX")
	mkfifo -m 600 "$fifo" || exit 1
	"$path" "$@" >"$fifo" 2>&1 &
	bpid=$!
	exec 5<"$fifo"
	rm -f "$fifo"
	nest <&5
	exec 5<&-
	wait "$bpid"
	rc=$?
	bpid=""
	took=$(($(date +%s) - start))
	[ $nomatch = 1 ] || nomatch_all=0
	if [ -n "$totals" ]; then
		read -r p f x s <<-EOF
		$(echo "$totals" | sed 's/.*pass:\([0-9]*\) fail:\([0-9]*\) xfail:\([0-9]*\) xpass:[0-9]* skip:\([0-9]*\).*/\1 \2 \3 \4/')
		EOF
		pass=$((pass + p)) fail=$((fail + f)) xfail=$((xfail + x)) skip=$((skip + s))
	fi
	out "# $b: exit status $rc after ${took}s"
	case $rc in
	0) out "ok $num selftests: pinsuite: $b"; ran=1 ;;
	4) out "ok $num selftests: pinsuite: $b # SKIP" ;;
	124) out "not ok $num selftests: pinsuite: $b # TIMEOUT $timeout seconds"; failed=1 ;;
	*) out "not ok $num selftests: pinsuite: $b # exit=$rc"; failed=1 ;;
	esac
done

# Every setting back before the runner ends (what runs next sees the system
# as it was).
if [ -n "$owner" ]; then
	kill "$owner" 2>/dev/null
	wait "$owner" 2>/dev/null
	"$guard" --state-wait || echo "$0: could not wait for the settings to be put back" >&2
fi
out "# pinsuite cases: pass:$pass fail:$fail xfail:$xfail skip:$skip"
if [ -n "$skips" ]; then
	out "# Most cases skipped because (count, reason; all reasons are above):"
	printf '%s' "$skips" | awk -F '\t' '{ n[$2] += $1 } END { for (r in n) printf "%d\t%s\n", n[r], r }' |
		sort -rn | head -n 3 | while IFS='	' read -r c r; do
			printf '#   %s %s\n' "$c" "$r" || exit 1
		done || lost=1
fi
if [ -n "$junit" ]; then
	python3 "$here/tools/pinsuite-report" junit "$PINSUITE_JSON" -o "$junit" ||
		{ echo "$0: writing --junit $junit failed" >&2; lost=1; }
fi
if [ $lost = 1 ]; then
	echo "$0: writing the results failed: output was lost" >&2
	exit 1
fi
if [ $nomatch_all = 1 ] && [ $ran = 0 ] && [ $failed = 0 ]; then
	echo "$0: no case of the selected binaries matches the -t patterns" >&2
	exit 2
fi
[ $failed = 1 ] && exit 1
[ $ran = 1 ] && exit 0
exit 4
