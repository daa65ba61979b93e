#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The run step of lava/pinsuite.yaml: run the installed pinsuite and report
# every result to LAVA with lava-test-case, named the way LKFT names
# kselftest results (Linaro test-definitions, automated/linux/kselftest:
# kselftest.sh, parse-output.py, send-to-lava.sh).  POSIX sh and awk: runs
# under busybox (the suite's initramfs) and on a distribution rootfs.
#
#   pinsuite-lava.sh [-d DIR] [-r RUNNER] [-b BINARIES] [-c CASES] [-a ARGS]
#                    [-o SECONDS] [-n lkft|case] [-T] [-O OUTDIR]
#   pinsuite-lava.sh -p [-n lkft|case] <TAP    names and results only
#
# See lava/README.md.

usage() {
	cat <<EOF
Usage: $0 [options]       run the suite, report each result to LAVA
       $0 -p [-n NAMES]   read TAP on stdin, print "NAME RESULT" lines

  -d DIR      the installed suite: DIR/run_tests.sh (make install), or a
              kselftest install with run_kselftest.sh and the pinsuite
              collection (default /opt/pinsuite)
  -r RUNNER   run_tests, kselftest or auto (default: run_tests when
              DIR/run_tests.sh exists, else kselftest)
  -b BINS     the binaries to run, blank-separated (default: all)
  -c CASES    case patterns separated by '|'; each one is given to every
              binary as -t PATTERN (a substring, or a glob with * ? [)
  -a ARGS     more arguments for every binary, blank-separated
  -o SECONDS  per-binary timeout (default: the suite's settings file)
  -n NAMES    lkft: test case names as Linaro's parse-output.py makes them
              (a skipped case gets its reason appended); case: the same
              without the skip reason (default lkft)
  -T          do not report "Kernel stays untainted"
  -O OUTDIR   where the TAP and the parsed results go (default ./output)
  -p          parse only
EOF
}

DIR=/opt/pinsuite
RUNNER=auto
BINS=
CASES=
ARGS=
TIMEOUT=
NAMES=lkft
TAINT=1
OUTDIR=./output
PARSE=0
while getopts d:r:b:c:a:o:n:TO:ph opt; do
	case $opt in
	d) DIR=$OPTARG ;;
	r) RUNNER=$OPTARG ;;
	b) BINS=$OPTARG ;;
	c) CASES=$OPTARG ;;
	a) ARGS=$OPTARG ;;
	o) TIMEOUT=$OPTARG ;;
	n) NAMES=$OPTARG ;;
	T) TAINT=0 ;;
	O) OUTDIR=$OPTARG ;;
	p) PARSE=1 ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { usage >&2; exit 2; }
case $NAMES in lkft | case) ;; *) echo "$0: bad -n $NAMES" >&2; exit 2 ;; esac
case $RUNNER in auto | run_tests | kselftest) ;; *) echo "$0: bad -r $RUNNER" >&2; exit 2 ;; esac

# parse_tap: TAP (nested kselftest-style, any depth) on stdin; one line per
# result on stdout: "NAME RESULT" (pass, fail or skip).  With $1 set to a
# directory, the diagnosis of each failing result (its own "# " lines and
# its result line) goes to DIR/NAME.log.
#
# This is what parse-output.py does with the Python "tap" module's parser:
# a result line is "ok"/"not ok", number, description up to the first "#",
# directive after it; a "# " line belongs to the next result of the level
# above, where it is parsed again with its "#" and blanks taken off.  The
# name is the description less a leading "selftests:", plus for "ok ... #
# SKIP reason" the reason, slugified ([nnnnn] dropped, every run of other
# characters than A-Z a-z 0-9 _ - made "_", one "_" trimmed at each end,
# "_-" made "__"), behind the parent's name and "_"; a name seen before
# gets "_dup2", "_dup3"...  The result is skip for "ok # SKIP", pass for
# any other "ok" (XFAIL, TODO), fail for "not ok".
parse_tap() {
	awk -v names="$NAMES" -v logdir="${1:-}" '
	function rstrip(s) { sub(/[ \t\r\n\f\v]+$/, "", s); return s }
	function strip(s) { sub(/^[ \t\r\n\f\v]+/, "", s); return rstrip(s) }
	function slug(s) {
		gsub(/\[[0-9][0-9]?[0-9]?[0-9]?[0-9]?\]/, "", s)
		gsub(/[^A-Za-z0-9_-]+/, "_", s)
		sub(/^_/, "", s)
		sub(/_$/, "", s)
		gsub(/_-/, "__", s)
		return s
	}
	# The full name of result i: its parent'\''s, "_", its own.
	function full(i) {
		if (!(i in fullname))
			fullname[i] = (par[i] ? full(par[i]) "_" : "") own[i]
		return fullname[i]
	}
	{
		n++
		raw[n] = $0
		t = rstrip($0)
		d = 0
		while (t !~ /^ok/ && t !~ /^not ok/ && substr(t, 1, 1) == "#") {
			t = strip(substr(t, 2))
			d++
		}
		lvl[n] = d
		if (t !~ /^ok/ && t !~ /^not ok/)
			next
		isres[n] = 1
		ok = (t ~ /^ok/)
		t = ok ? substr(t, 3) : substr(t, 7)
		sub(/^[ \t]*[0-9]*[ \t]*/, "", t)
		desc = t
		dir = ""
		h = index(t, "#")
		if (h) {
			desc = substr(t, 1, h - 1)
			dir = substr(t, h + 1)
			sub(/^[ \t]+/, "", dir)
		}
		desc = strip(desc)
		skip = (toupper(dir) ~ /^SKIP/)
		if (substr(desc, 1, 10) == "selftests:")
			desc = substr(desc, 11)
		extra = ""
		if (ok && skip && names == "lkft")
			extra = substr(dir, 5)
		name = strip(desc " " extra)
		if (name == "")
			name = "<unknown>"
		own[n] = slug(name)
		res[n] = ok ? (skip ? "skip" : "pass") : "fail"
	}
	END {
		# Parents, from the end: a result of level d belongs to the next
		# result of level d-1, unless a result of a lower level comes
		# first (then it is lost, as in parse-output.py).
		for (i = n; i >= 1; i--) {
			if (!isres[i])
				continue
			d = lvl[i]
			if (d > 0) {
				if (!((d - 1) in nextres)) {
					lost[i] = 1
				} else {
					par[i] = nextres[d - 1]
					if (lost[par[i]])
						lost[i] = 1
				}
			}
			nextres[d] = i
			for (k in nextres)
				if (k + 0 > d)
					delete nextres[k]
		}
		# Children come before their parent, so the line order is the
		# order parse-output.py prints.
		prev_at = ""
		for (i = 1; i <= n; i++) {
			if (!isres[i] || lost[i])
				continue
			nm = full(i)
			if (++seen[nm] > 1)
				nm = nm "_dup" seen[nm]
			print nm, res[i]
			if (logdir == "" || res[i] != "fail")
				continue
			# The diagnosis: since the previous result of its level
			# or above, the lines nested one level below it (a
			# case'\''s "# " lines; a binary'\''s header and failed cases),
			# then its result line.
			f = logdir "/" nm ".log"
			printf "" >f
			for (j = i - 1; j >= 1; j--)
				if (isres[j] && lvl[j] <= lvl[i])
					break
			for (j++; j < i; j++)
				if (lvl[j] == lvl[i] + 1 && (!isres[j] || res[j] == "fail"))
					print rstrip(raw[j]) >>f
			print rstrip(raw[i]) >>f
			close(f)
		}
	}'
}

if [ $PARSE = 1 ]; then
	parse_tap
	exit
fi

# report NAME RESULT: one result to LAVA, with the LAVA helper when there is
# one, else as the signal it would print.
report() {
	if command -v lava-test-case >/dev/null 2>&1; then
		lava-test-case "$1" --result "$2"
	else
		echo "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=$1 RESULT=$2>"
	fi
}

rm -rf "$OUTDIR/fail"
mkdir -p "$OUTDIR/fail" || exit 1
TAP=$OUTDIR/pinsuite.tap
RESULTS=$OUTDIR/result.txt

if [ "$RUNNER" = auto ]; then
	if [ -x "$DIR/run_tests.sh" ]; then
		RUNNER=run_tests
	elif [ -x "$DIR/run_kselftest.sh" ]; then
		RUNNER=kselftest
	else
		echo "$0: no run_tests.sh or run_kselftest.sh in $DIR (set PINSUITE_DIR)" >&2
		report pinsuite_setup fail
		exit 1
	fi
fi

# The arguments every binary gets: ARGS split at blanks, then -t PATTERN for
# each pattern of CASES.
set -f
set --
for a in $ARGS; do
	set -- "$@" "$a"
done
set +f
if [ -n "$CASES" ]; then
	rest=$CASES
	while :; do
		p=${rest%%"|"*}
		[ -z "$p" ] || set -- "$@" -t "$p"
		[ "$rest" != "${rest#*"|"}" ] || break
		rest=${rest#*"|"}
	done
fi

# kselftest_args ARGS...: the same for run_kselftest.sh, which splits
# KSELFTEST_<BIN>_ARGS at blanks and takes quotes literally: a blank in a
# pattern becomes "?", and a pattern with a blank and no glob character
# gets "*" around it, which matches as the substring did.
kselftest_args() {
	out=
	prev=
	for a in "$@"; do
		case $prev:$a in
		-t:*[[:blank:]]*)
			case $a in *[*?[]*) ;; *) a="*$a*" ;; esac
			a=$(printf '%s' "$a" | tr ' \t' '??')
			;;
		esac
		out="$out${out:+ }$a"
		prev=$a
	done
	printf '%s' "$out"
}

taint0=$(cat /proc/sys/kernel/tainted 2>/dev/null)
mark="pinsuite-lava: suite start $$ $(date +%s)"
# At KERN_NOTICE: in the kernel log, not on a quiet console.
echo "<5>$mark" 2>/dev/null >/dev/kmsg || mark=

case $RUNNER in
run_tests)
	cmd="$DIR/run_tests.sh"
	for b in $BINS; do
		cmd="$cmd -t $b"
	done
	[ -z "$TIMEOUT" ] || cmd="$cmd -o $TIMEOUT"
	echo "+ $cmd -- $*"
	# shellcheck disable=SC2086 # $cmd holds no blanks but its separators
	{ $cmd -- "$@" </dev/null; echo $? >"$OUTDIR/rc"; } 2>&1 | tee "$TAP"
	;;
kselftest)
	kargs=$(kselftest_args "$@")
	coll="-c pinsuite"
	[ -z "$BINS" ] || coll=
	for b in $BINS; do
		coll="$coll -t pinsuite:$b"
	done
	[ -z "$TIMEOUT" ] || coll="$coll -o $TIMEOUT"
	while IFS=: read -r c b; do
		[ "$c:${b:+x}" = pinsuite:x ] || continue
		v=$(echo "$b" | awk '{ v = toupper($0); gsub(/[^A-Z0-9_]/, "_", v); print "KSELFTEST_" v "_ARGS" }')
		export "$v=$kargs"
		echo "+ $v='$kargs'"
	done <"$DIR/kselftest-list.txt"
	echo "+ $DIR/run_kselftest.sh$coll"
	# shellcheck disable=SC2086
	{ (cd "$DIR" && ./run_kselftest.sh $coll </dev/null); echo $? >"$OUTDIR/rc"; } 2>&1 | tee "$TAP"
	;;
esac
echo "+ the runner exited with status $(cat "$OUTDIR/rc" 2>/dev/null)"

parse_tap "$OUTDIR/fail" <"$TAP" >"$RESULTS"

if [ "$TAINT" = 1 ]; then
	# vm/run.sh's second result, from inside: no new taint bit, and no
	# WARN, BUG, Oops, lockup or stall in the kernel log since the start.
	bad='WARNING:|BUG:|kernel BUG at|Oops|general protection fault|Kernel panic|UBSAN:|KASAN:|Unable to handle kernel|INFO: task .* blocked for more than|rcu: INFO:|rcu_.*detected stalls|watchdog: .*LOCKUP|hung_task: blocked tasks'
	taint1=$(cat /proc/sys/kernel/tainted 2>/dev/null)
	why=
	if [ -z "$taint0" ] || [ -z "$taint1" ]; then
		r=skip
	else
		new=$((taint1 & ~taint0))
		[ "$new" = 0 ] || why="taint $taint0 -> $taint1 (new bits $new)"
		if [ -n "$mark" ] && first=$(dmesg 2>/dev/null | sed -n "/$mark/,\$p" |
			grep -m1 -E -- "$bad"); then
			why="${why:+$why; }first bad kernel message: $first"
		fi
		r=pass
		[ -z "$why" ] || r=fail
	fi
	[ -z "$why" ] || echo "+ Kernel stays untainted: $why" | tee "$OUTDIR/fail/pinsuite_Kernel_stays_untainted.log"
	echo "pinsuite_Kernel_stays_untainted $r" >>"$RESULTS"
fi

echo "+ $(wc -l <"$RESULTS") results: $(awk '{ n[$2]++ } END { printf "pass %d, fail %d, skip %d", n["pass"], n["fail"], n["skip"] }' "$RESULTS")"
while read -r name result; do
	if [ -f "$OUTDIR/fail/$name.log" ]; then
		echo "<LAVA_SIGNAL_STARTTC $name>"
		cat "$OUTDIR/fail/$name.log"
		echo "<LAVA_SIGNAL_ENDTC $name>"
	fi
	report "$name" "$result"
done <"$RESULTS"
exit 0
