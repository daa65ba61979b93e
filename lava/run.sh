#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run pinsuite on a kernel through LAVA, locally: build the suite's
# initramfs (vm/run.sh --initramfs-only), render lava/job.yaml.jinja2 for
# it, run the job with lava-run against lava/device-qemu.yaml, then run
# vm/run.sh on the same kernel with the same suite and case selection and
# check that LAVA's results hold the same verdicts under the names LKFT
# would give them.  Everything is local: file:// URLs, no network.
# See lava/README.md.

set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3	# Debian's, which has python3-yaml and python3-jinja2

usage() {
	cat <<EOF
Usage: lava/run.sh [options] KERNEL [-- run_tests.sh arguments]

Run the suite on KERNEL (a bzImage, or what vm/run.sh takes) as a LAVA job
with lava-run, then with vm/run.sh, and compare the verdicts.  The
run_tests.sh arguments select the same cases in both: -t BINARY and -o
SECONDS, then after a second -- the binaries' arguments, -t PATTERN among
them, e.g.  lava/run.sh KERNEL -- -t iouring_pin -- -t 'anon base page'

Options:
  --suite DIR       an installed suite (default: make install STATIC=1 into
                    the work directory, once, for both runs)
  --names lkft|case LAVA test case names: lkft (Linaro parse-output.py's,
                    the default) or case (without the skip reasons)
  --no-compare      run the LAVA job only; exit 0 when it completed
  --timeout MIN     LAVA job timeout in minutes (default $JOB_MINUTES); the
                    vm/run.sh run gets the same
  --workdir DIR     keep everything in DIR (job.yaml, lava/log.yaml, ...)
  --keep            keep the temporary work directory
  -h, --help        this help

Exit status: 0 LAVA's results equal vm/run.sh's (or, --no-compare, the job
completed), 1 they differ or the LAVA job did not complete, 2 usage, 3 the
runs could not be prepared (suite, initramfs, disks, lava-run missing).
EOF
}

SUITE=
NAMES=lkft
COMPARE=1
JOB_MINUTES=60
WORKDIR=
KEEP=0
KERNEL=
SEL=()

bad_usage() {
	echo "lava/run.sh: $*" >&2
	usage >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--suite) [ $# -ge 2 ] || bad_usage "--suite needs a directory"; SUITE=$2; shift ;;
	--names) [ $# -ge 2 ] || bad_usage "--names needs lkft or case"; NAMES=$2; shift ;;
	--no-compare) COMPARE=0 ;;
	--timeout) [ $# -ge 2 ] || bad_usage "--timeout needs minutes"; JOB_MINUTES=$2; shift ;;
	--workdir) [ $# -ge 2 ] || bad_usage "--workdir needs a directory"; WORKDIR=$2; KEEP=1; shift ;;
	--keep) KEEP=1 ;;
	--) shift; SEL=("$@"); break ;;
	-*) bad_usage "unknown option $1" ;;
	*) [ -z "$KERNEL" ] || bad_usage "more than one kernel"; KERNEL=$1 ;;
	esac
	shift
done
[ -n "$KERNEL" ] || bad_usage "no kernel given"
[ -e "$KERNEL" ] || bad_usage "no such kernel: $KERNEL"
case $NAMES in lkft | case) ;; *) bad_usage "--names lkft or case, not $NAMES" ;; esac
[[ $JOB_MINUTES =~ ^[1-9][0-9]*$ ]] || bad_usage "--timeout wants minutes"

# The selection, as lava/pinsuite.yaml's parameters.
BINARIES='' CASES='' ARGS='' SUITE_TIMEOUT=''
i=0
while [ $i -lt ${#SEL[@]} ]; do
	a=${SEL[$i]}
	case $a in
	-t | -o)
		[ $((i + 1)) -lt ${#SEL[@]} ] || bad_usage "run_tests.sh $a needs a value"
		i=$((i + 1))
		if [ "$a" = -t ]; then
			BINARIES="${BINARIES:+$BINARIES }${SEL[$i]}"
		else
			SUITE_TIMEOUT=${SEL[$i]}
		fi
		;;
	--) break ;;
	*) bad_usage "run_tests.sh argument $a: only -t BINARY, -o SECONDS and -- ARGS" ;;
	esac
	i=$((i + 1))
done
for ((i++; i < ${#SEL[@]}; i++)); do
	a=${SEL[$i]}
	if [ "$a" = -t ] && [ $((i + 1)) -lt ${#SEL[@]} ]; then
		i=$((i + 1))
		[[ ${SEL[$i]} != *[\|\']* ]] || bad_usage "a -t pattern for LAVA cannot hold | or ': ${SEL[$i]}"
		CASES="${CASES:+$CASES|}${SEL[$i]}"
	else
		[[ $a != *[[:blank:]\|\']* ]] || bad_usage "a binary argument for LAVA cannot hold blanks, | or ': $a"
		ARGS="${ARGS:+$ARGS }$a"
	fi
done

log() { echo "lava/run.sh: $*" >&2; }
die() { log "$*"; exit 3; }
el() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }

command -v lava-run >/dev/null || die "no lava-run (apt-get install lava-dispatcher)"
"$PY" -c 'import jinja2, yaml' 2>/dev/null || die "$PY lacks jinja2 or yaml (apt-get install python3-jinja2 python3-yaml)"
[ "$(id -u)" = 0 ] || die "lava-run must run as root"

if [ -n "$WORKDIR" ]; then
	mkdir -p "$WORKDIR" || die "cannot create $WORKDIR"
	W=$(cd "$WORKDIR" && pwd)
else
	W=$(mktemp -d "${TMPDIR:-/tmp}/pinsuite-lava.XXXXXX") || die "cannot create a work directory"
fi
LRPID=
# shellcheck disable=SC2317 # run from the trap
cleanup() {
	[ -z "$LRPID" ] || kill "$LRPID" 2>/dev/null
	if [ "$KEEP" = 1 ]; then
		log "kept $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
T0=$EPOCHREALTIME

# ---------------------------------------------------------------------------
# The suite, once for both runs; the initramfs; the scratch disks.

if [ -z "$SUITE" ]; then
	log "building the suite (make install STATIC=1)"
	make -C "$REPO" install STATIC=1 O="$W/build" INSTALL_PATH="$W/suite" \
		>"$W/suite-build.log" 2>&1 || { tail -n 20 "$W/suite-build.log" >&2; die "building the suite failed"; }
	SUITE=$W/suite
fi
SUITE=$(cd "$SUITE" && pwd) || die "no suite directory $SUITE"
KERNEL=$(cd "$(dirname "$KERNEL")" && pwd)/$(basename "$KERNEL")

log "initramfs: vm/run.sh --initramfs-only"
"$REPO/vm/run.sh" --suite "$SUITE" --initramfs-only "$W/initrd.cpio" "$KERNEL" \
	>"$W/initramfs.log" 2>&1 || { cat "$W/initramfs.log" >&2; die "vm/run.sh --initramfs-only failed"; }

export PATH=$PATH:/usr/sbin:/sbin
# The disks the initramfs expects (VM_DISKS in its vm.conf), as vm/run.sh
# makes them.
disks=$(cpio -i --quiet --to-stdout etc/pinsuite/vm.conf <"$W/initrd.cpio" |
	sed -n "s/^VM_DISKS='\(.*\)'$/\1/p")
DISKS_JSON=
for d in $disks; do
	f=$W/$d.img
	case $d in
	ext4) truncate -s 64M "$f" &&
		{ mkfs.ext4 -q -F -O ^orphan_file,^metadata_csum_seed "$f" 2>/dev/null || mkfs.ext4 -q -F "$f"; } ;;
	xfs) truncate -s 320M "$f" && mkfs.xfs -q -f "$f" ;;
	swap) truncate -s 512M "$f" && mkswap "$f" >/dev/null ;;
	*) false ;;
	esac || die "cannot make the $d disk"
	DISKS_JSON+="${DISKS_JSON:+,}{\"name\":\"$d\",\"url\":\"file://$f\"}"
done

# The test definition as a tarball: lava/ is all the guest needs.
tar -C "$REPO" -czf "$W/testdef.tar.gz" lava/pinsuite.yaml lava/pinsuite-lava.sh ||
	die "cannot pack the test definition"

# ---------------------------------------------------------------------------
# The LAVA job.

JOB_ID=$$
VARS=$W/vars.json
cat >"$VARS" <<EOF
{
 "job_name": "pinsuite $(basename "$KERNEL")",
 "job_minutes": $JOB_MINUTES,
 "test_minutes": $((JOB_MINUTES > 10 ? JOB_MINUTES - 8 : JOB_MINUTES)),
 "kernel_url": "file://$KERNEL",
 "initrd_url": "file://$W/initrd.cpio",
 "disks": [$DISKS_JSON],
 "testdef_from": "url",
 "testdef_repo": "file://$W/testdef.tar.gz",
 "binaries": $("$PY" -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$BINARIES"),
 "cases": $("$PY" -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$CASES"),
 "args": $("$PY" -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$ARGS"),
 "suite_timeout": "$SUITE_TIMEOUT",
 "names": "$NAMES"
}
EOF
"$PY" - "$HERE/job.yaml.jinja2" "$VARS" "$W/job.yaml" <<'EOF' || die "cannot render the job"
import json, sys, jinja2, yaml
tmpl, varfile, out = sys.argv[1:]
env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
with open(tmpl) as f:
    text = env.from_string(f.read()).render(**json.load(open(varfile)))
yaml.safe_load(text)
open(out, "w").write(text)
EOF
# The worker's address for the NFS substitution qemu jobs always make:
# local, so that no default route is needed.
echo "dispatcher_ip: 127.0.0.1" >"$W/dispatcher.yaml"

log "LAVA job $JOB_ID: lava-run (log: $W/lava/log.yaml)"
mkdir -p "$W/lava"
T_LAVA=$EPOCHREALTIME
timeout -k 30 $((JOB_MINUTES * 60 + 120)) lava-run --device "$HERE/device-qemu.yaml" \
	--dispatcher "$W/dispatcher.yaml" --job-id "$JOB_ID" --output-dir "$W/lava" \
	"$W/job.yaml" >"$W/lava/log.yaml" 2>&1 &
LRPID=$!
wait "$LRPID"
LRC=$?
LRPID=
S_LAVA=$(el "$T_LAVA")

# LAVA's results: the "results" entries of its log.  Test cases of the
# definition (suite 0_pinsuite) in LAVA's order; LAVA's own (suite "lava")
# say whether the job and its actions completed.
"$PY" - "$W/lava/log.yaml" "$W/lava-results.txt" "$W/lava-own.txt" <<'EOF' || die "cannot read the LAVA log"
import sys, yaml
log, cases, own = sys.argv[1:]
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
with open(log, errors="replace") as f, open(cases, "w") as c, open(own, "w") as o:
    for line in f:
        # One YAML flow mapping per line: {"dt": ..., "lvl": ..., "msg": ...}
        if '"lvl": "results"' not in line:
            continue
        try:
            e = yaml.load(line, Loader=Loader)
        except yaml.YAMLError:
            continue
        if not isinstance(e, dict) or e.get("lvl") != "results":
            continue
        m = e.get("msg") or {}
        if m.get("definition") == "lava":
            extra = m.get("error_msg") or ""
            o.write(f"{m.get('case')} {m.get('result')} {extra}".rstrip() + "\n")
        else:
            c.write(f"{m.get('case')} {m.get('result')}\n")
EOF
job=$(sed -n 's/^job \([a-z]*\).*/\1/p' "$W/lava-own.txt")
summary() { awk '{ n[$2]++ } END { printf "%d results: pass %d, fail %d, skip %d, unknown %d", NR, n["pass"], n["fail"], n["skip"], n["unknown"] }' "$1"; }
echo "# LAVA: lava-run exit $LRC, job ${job:-unknown}, ${S_LAVA}s; $(summary "$W/lava-results.txt")"
grep -v ' pass$' "$W/lava-own.txt" | sed 's/^/# LAVA: /'
if [ "$job" != pass ]; then
	grep -E '"lvl": "(target|error)"|lvl: (target|error)' "$W/lava/log.yaml" | tail -n 15 | sed 's/^/# LAVA log: /'
	log "the LAVA job did not complete"
	exit 1
fi
if [ "$COMPARE" = 0 ]; then
	echo "# total $(el "$T0")s"
	exit 0
fi

# ---------------------------------------------------------------------------
# The same kernel, suite and selection through vm/run.sh; its TAP named as
# LKFT names it (Linaro's parse-output.py when ../shared/tools has it and
# python3-tap is installed, else lava/pinsuite-lava.sh's parser).

log "the same through vm/run.sh --tcg"
T_VM=$EPOCHREALTIME
"$REPO/vm/run.sh" --tcg --timeout $((JOB_MINUTES * 60)) --suite "$SUITE" --workdir "$W/vm" \
	"$KERNEL" -- "${SEL[@]}" >"$W/vm.tap" 2>"$W/vm.err"
VRC=$?
S_VM=$(el "$T_VM")
echo "# vm/run.sh: exit $VRC, ${S_VM}s; $(grep -E '^(not )?ok [12] ' "$W/vm.tap" | tr '\n' ';')"
case $VRC in
0 | 1 | 4) ;;	# pass, a failure, nothing ran: all comparable
*) tail -n 20 "$W/vm.tap" >&2; die "vm/run.sh could not test (exit $VRC)" ;;
esac
# shellcheck source=vm/lib.sh
. "$REPO/vm/lib.sh"
vm_results_suite "$W/vm/results.log" >"$W/vm-suite.tap"

PARSER="lava/pinsuite-lava.sh -p"
LINARO=$REPO/../shared/tools/linaro-parse-output.py
sh "$HERE/pinsuite-lava.sh" -p -n "$NAMES" <"$W/vm-suite.tap" >"$W/vm-results.txt"
if [ "$NAMES" = lkft ] && [ -f "$LINARO" ] && "$PY" -c 'import tap' 2>/dev/null; then
	mkdir -p "$W/linaro/output"
	(cd "$W/linaro" && "$PY" "$LINARO" <"$W/vm-suite.tap" 2>/dev/null) |
		grep -E '^[^ ]+ (pass|fail|skip|unknown)$' >"$W/linaro-results.txt"
	if ! cmp -s "$W/linaro-results.txt" "$W/vm-results.txt"; then
		echo "# lava/pinsuite-lava.sh -p names vm/run.sh's TAP differently from Linaro's parse-output.py:"
		diff "$W/linaro-results.txt" "$W/vm-results.txt" | head -n 20 | sed 's/^/#   /'
	fi
	cp "$W/linaro-results.txt" "$W/vm-results.txt"
	PARSER="Linaro's parse-output.py"
fi
ut=$(sed -n 's/^\(not ok\|ok\) 2 .*: Kernel stays untainted\( # SKIP.*\)\{0,1\}$/\1\2/p' "$W/vm.tap")
case $ut in
ok) echo "pinsuite_Kernel_stays_untainted pass" ;;
"ok # SKIP"*) echo "pinsuite_Kernel_stays_untainted skip" ;;
"not ok") echo "pinsuite_Kernel_stays_untainted fail" ;;
esac >>"$W/vm-results.txt"

echo "# vm/run.sh through $PARSER: $(summary "$W/vm-results.txt")"
if cmp -s <(sort "$W/lava-results.txt") <(sort "$W/vm-results.txt"); then
	echo "# same names and verdicts in LAVA and vm/run.sh ($(wc -l <"$W/lava-results.txt") results); total $(el "$T0")s"
	exit 0
fi
echo "# LAVA and vm/run.sh differ (< LAVA, > vm/run.sh):"
diff <(sort "$W/lava-results.txt") <(sort "$W/vm-results.txt") | grep '^[<>]' | head -n 40 | sed 's/^/#   /'
echo "# total $(el "$T0")s"
exit 1
