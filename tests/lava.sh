#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# LAVA (lava/): the test definition's parser names results exactly as
# Linaro's kselftest parse-output.py does (LKFT), the job template renders
# to a job LAVA's schema accepts, and, when lava-dispatcher is installed, a
# real LAVA job (lava-run, QEMU under TCG) on the shared 6.12 kernel gives
# the same names and verdicts as vm/run.sh for a small case selection.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

cd "$TOP" || exit 1
PY=/usr/bin/python3
LINARO=$TOP/../shared/tools/linaro-parse-output.py
KERNELS=${PINSUITE_SHARED_KERNELS:-$TOP/../shared/kernels}
KERNEL=$KERNELS/bzImage-6.12.117-pmdfix
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pinsuite-lava-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
plan 6

# TAP with what the naming rules have to get right: nesting two and three
# deep, results lost with their level, SKIP reasons, XFAIL and TODO,
# duplicates, [nnnnn], "_-", double numbers, an empty description.
cat >"$tmp/edge.tap" <<'EOF'
TAP version 13
1..8
# selftests: pinsuite: cow
# TAP version 13
# 1..7
# # [RUN] Longterm R/O pin is reliable: GUP-fast, write after pin, shared zeropage
# ok 1 Longterm R/O pin is reliable: GUP-fast, write after pin, shared zeropage
# ok 2 foo [12345] bar (MAP_PRIVATE) # SKIP need 3 free 1048576 kB hugetlb pages
# ok 3 vmsplice # XFAIL documented
# not ok 4 thing_-x # SKIP not a skip when not ok
# ok 5 dup
# ok 6 dup
# # # ok 9 lost: no result of its parent's level follows
#    ok 7  -  spaced # todo later
# not ok 8 the_end_ # error mmap
ok 1 selftests: pinsuite: cow
# # ok 1 lost with its parent
not ok 2 selftests: pinsuite: gup_longterm # TIMEOUT 3 seconds
ok 3 # SKIP nothing
ok 4
ok 5 selftests: pinsuite: vfio_pin # SKIPPED everything
not ok 6 3 selftests: pinsuite: iouring_pin
# ok 1 a # SKIP
# # ok 2 grandchild
# ok 3 parent of the grandchild
ok 7 parent
EOF
# The suite's TAP as vm/run.sh's fixtures hold it.
# shellcheck source=vm/lib.sh
. "$TOP/vm/lib.sh"
for f in tests/vm/fixtures/results-*.log; do
	vm_results_suite "$f"
done >"$tmp/fixtures.tap"

linaro() {
	mkdir -p "$tmp/lk/output"
	(cd "$tmp/lk" && "$PY" "$LINARO" 2>/dev/null) | grep -E '^[^ ]+ (pass|fail|skip|unknown)$'
}
if [ -f "$LINARO" ] && "$PY" -c 'import tap' 2>/dev/null; then
	bad=
	for t in edge fixtures; do
		linaro <"$tmp/$t.tap" >"$tmp/$t.lkft"
		sh lava/pinsuite-lava.sh -p <"$tmp/$t.tap" >"$tmp/$t.ours"
		cmp -s "$tmp/$t.lkft" "$tmp/$t.ours" || bad="$bad $t"
	done
	ok "$([ -z "$bad" ] && [ -s "$tmp/fixtures.ours" ]; echo $?)" \
		"pinsuite-lava.sh -p names and judges like Linaro's parse-output.py (edge cases, vm fixtures)"
	[ -z "$bad" ] || { diff "$tmp/edge.lkft" "$tmp/edge.ours"; diff "$tmp/fixtures.lkft" "$tmp/fixtures.ours"; } | sed 's/^/# /'
else
	skip "pinsuite-lava.sh -p names like Linaro's parse-output.py" "no ../shared/tools/linaro-parse-output.py or python3-tap"
fi

if command -v busybox >/dev/null; then
	mkdir -p "$tmp/bb"
	for a in sh awk; do
		ln -s "$(command -v busybox)" "$tmp/bb/$a"
	done
	sh lava/pinsuite-lava.sh -p <"$tmp/edge.tap" >"$tmp/edge.sh"
	PATH=$tmp/bb "$tmp/bb/sh" lava/pinsuite-lava.sh -p <"$tmp/edge.tap" >"$tmp/edge.bb"
	ok "$(cmp -s "$tmp/edge.sh" "$tmp/edge.bb"; echo $?)" "the parser gives the same under busybox sh and awk (the initramfs)"
else
	skip "the parser under busybox" "no busybox (apt-get install busybox-static)"
fi

# -n case: one name per case whatever its outcome; the reason stays out.
sh lava/pinsuite-lava.sh -p -n case <"$tmp/edge.tap" >"$tmp/edge.case"
ok "$(grep -qx 'pinsuite_cow_foo_bar_MAP_PRIVATE skip' "$tmp/edge.case" &&
	grep -qx 'pinsuite_cow_Longterm_R_O_pin_is_reliable_GUP-fast_write_after_pin_shared_zeropage pass' "$tmp/edge.case" &&
	grep -qx 'pinsuite_cow_thing__x fail' "$tmp/edge.case" && grep -qx 'pinsuite_cow_dup_dup2 pass' "$tmp/edge.case"
	echo $?)" "-n case: skipped cases keep their plain names"

# The LAVA test case ids LAVA accepts: no blank, no "=" (the signal's
# key=value split), no "/" (lava-test-case makes a directory of it).
ok "$(! grep -v -E '^[A-Za-z0-9_-]+ (pass|fail|skip)$' "$tmp/edge.case" "$tmp/edge.sh" >/dev/null; echo $?)" \
	"every test case id is made of A-Z a-z 0-9 _ -"

# The job template renders (as lava/run.sh renders it) to a job that LAVA's
# own schema accepts, strictly.
if "$PY" -c 'import lava_common.schemas, jinja2' 2>/dev/null; then
	out=$("$PY" - lava/job.yaml.jinja2 <<'EOF' 2>&1
import sys, jinja2, yaml
from lava_common.schemas import validate
env = jinja2.Environment(undefined=jinja2.StrictUndefined)
tmpl = env.from_string(open(sys.argv[1]).read())
for v in ({"kernel_url": "file:///k/bzImage", "initrd_url": "file:///k/initrd.cpio",
           "testdef_from": "url", "testdef_repo": "file:///k/testdef.tar.gz",
           "disks": [{"name": "ext4", "url": "file:///k/ext4.img"}],
           "cases": "anon base page|memfd (MAP_PRIVATE)", "binaries": "iouring_pin"},
          {"kernel_url": "https://lab/bzImage", "initrd_url": "https://lab/initrd.cpio.gz",
           "initrd_compression": "gz", "testdef_repo": "https://git/pinsuite.git",
           "testdef_revision": "main", "kvm": True, "lava_signal": "kmsg"}):
    job = yaml.safe_load(tmpl.render(**v))
    validate(job, strict=True)
    params = job["actions"][2]["test"]["definitions"][0]["parameters"]
    assert params["CASES"] == v.get("cases", ""), params
print("ok")
EOF
)
	ok "$([ "$out" = ok ]; echo $?)" "the job template renders to a job LAVA's schema accepts (local and lab variants)"
	[ "$out" = ok ] || printf '%s\n' "$out" | sed 's/^/# /'
else
	skip "the job template against LAVA's schema" "lava-dispatcher not installed (apt-get install lava-dispatcher)"
fi

# End to end: a real LAVA job against vm/run.sh on the same kernel.
if ! command -v lava-run >/dev/null; then
	skip "LAVA job and vm/run.sh agree" "lava-dispatcher not installed (apt-get install lava-dispatcher)"
elif ! is_root; then
	skip "LAVA job and vm/run.sh agree" "lava-run needs root"
elif [ ! -f "$KERNEL" ]; then
	skip "LAVA job and vm/run.sh agree" "no $KERNEL"
else
	# Passes ("anon base page", "Kernel stays untainted"), skips ("btrfs":
	# the VM has no btrfs disk) and failures (--selftest-break=compare
	# makes the "anon base page" cases compare with a stale copy).
	t0=$SECONDS
	lava/run.sh --timeout 15 "$KERNEL" -- -t iouring_pin -- -t 'anon base page' -t btrfs \
		--selftest-break=compare >"$tmp/e2e.out" 2>&1
	rc=$?
	grep -qE '^# LAVA: .* results: pass [1-9][0-9]*, fail [1-9][0-9]*, skip [1-9]' "$tmp/e2e.out" || rc=1
	ok "$rc" "a LAVA job (lava-run, TCG) and vm/run.sh give the same names and verdicts (pass, fail, skip; $((SECONDS - t0))s)"
	grep '^#' "$tmp/e2e.out"
	[ "$rc" = 0 ] || tail -n 20 "$tmp/e2e.out" | sed 's/^/# /'
fi

done_testing
