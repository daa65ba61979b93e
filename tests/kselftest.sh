#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make install` gives a tree that kselftest's own runner (run_kselftest.sh
# from the kernel source, never committed here) can list and run: the
# collection is "pinsuite", arguments come from KSELFTEST_<NAME>_ARGS, the
# timeout from our settings file.  Installing again into the tree, now
# that it holds run_kselftest.sh, keeps the runner and one line per binary.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

plan 6
kt=$(ktools)
if [ -z "$kt" ]; then
	for i in 1 2 3 4 5 6; do
		skip "kselftest runner $i" "no kernel source (apt-get install linux-source-6.12)"
	done
	done_testing
fi

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
make -s -C "$TOP" install INSTALL_PATH="$dest" OUTPUT="$OUTPUT" > /dev/null
ok $? "make install INSTALL_PATH=..."
cp -r "$kt/tools/testing/selftests/run_kselftest.sh" "$kt/tools/testing/selftests/kselftest" "$dest/"

listed=$("$dest/run_kselftest.sh" -l)
want=$(for b in $(built_binaries); do echo "pinsuite:$b"; done)
ok "$([ "$listed" = "$want" ]; echo $?)" "run_kselftest.sh -l lists the pinsuite collection"

for f in config settings run_tests.sh; do
	[ -e "$dest/$f" ] || missing="$missing $f"
done
ok "$([ -z "$missing" ]; echo $?)" "config, settings and run_tests.sh are installed${missing:+ (missing:$missing)}"

out=$(KSELFTEST_IOURING_PIN_ARGS="-t KSM-merged" "$dest/run_kselftest.sh" -t pinsuite:iouring_pin 2>&1)
echo "$out" | grep -q '^ok 1 selftests: pinsuite: iouring_pin'
ok $? "run_kselftest.sh runs iouring_pin and reports ok"
echo "$out" | grep -qE '^# timeout set to [0-9]+'
ok $? "run_kselftest.sh takes the timeout from our settings file"

make -s -C "$TOP" install INSTALL_PATH="$dest" OUTPUT="$OUTPUT" > /dev/null
ok "$([ "$("$dest/run_kselftest.sh" -l)" = "$want" ] && [ -L "$dest/pinsuite" ] &&
      [ -f "$dest/kselftest/runner.sh" ]; echo $?)" \
	"make install again into the tree keeps the runner and lists each binary once"

done_testing
