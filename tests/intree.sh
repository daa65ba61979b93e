#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The suite at home in a kernel tree: copied to tools/testing/selftests/
# pinsuite of a scratch tree made of the parts of linux-source-6.12 that
# kselftest needs, the kernel's selftests Makefile builds it (in the tree
# and with O=, against the headers of `make headers`), runs it, installs it
# and packs it.  Then the standalone Makefile: a package install with
# DESTDIR and PREFIX, an install into a kselftest tree that has another
# collection, and a case pattern with a space passed through
# KSELFTEST_<BIN>_ARGS in the spelling README documents.

# shellcheck source=tests/lib.bash
. "$(dirname "$0")/lib.bash"

# Nothing of the make running `make check` (O=, WERROR=, -s) leaks in.
unset MAKEFLAGS MAKELEVEL MFLAGS

NTESTS=14
plan $NTESTS
kt=$(ktools)
if [ -z "$kt" ]; then
	for i in $(seq $NTESTS); do
		skip "in-tree kselftest $i" "no kernel source (apt-get install linux-source-6.12)"
	done
	done_testing
fi
have_rsync=$(command -v rsync)
no_rsync="rsync not installed (lib.mk's install needs it)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/linux
sel=$tree/tools/testing/selftests
obj=$tmp/kbuild
jobs=-j$(nproc)

# The kernel tree: the kselftest framework, scripts/subarch.include (the
# selftests Makefile includes it), a toy collection, and this project as it
# is in the work tree, without build products.
mkdir -p "$sel/pinsuite" "$sel/dummy" "$tree/scripts" "$obj"
for f in Makefile lib.mk run_kselftest.sh kselftest kselftest.h kselftest_harness.h; do
	cp -r "$kt/tools/testing/selftests/$f" "$sel/"
done
cp "$kt/scripts/subarch.include" "$tree/scripts/"
if git -C "$TOP" rev-parse --git-dir > /dev/null 2>&1; then
	git -C "$TOP" ls-files --cached --others --exclude-standard |
		while read -r f; do [ -f "$TOP/$f" ] && echo "$f"; done |
		tar -cf - -C "$TOP" -T - | tar -xf - -C "$sel/pinsuite"
else
	cp -r "$TOP/." "$sel/pinsuite/"
fi
printf '# SPDX-License-Identifier: GPL-2.0\nTEST_PROGS := hello.sh\ninclude ../lib.mk\n' \
	> "$sel/dummy/Makefile"
printf '#!/bin/sh\necho "# hello"\n' > "$sel/dummy/hello.sh"
chmod +x "$sel/dummy/hello.sh"

# The binaries a build must give, in any order.
bins=$(cd "$sel/pinsuite" && for f in *.c; do echo "${f%.c}"; done | sort)
want_list=$(for b in $bins; do echo "pinsuite:$b"; done)
sorted() { sort <<< "$1"; }
diag_tail() { tail -n "$2" "$1" | sed 's/^/# /'; }

# 1. Kernel uAPI headers, as `make headers` gives them (built once per
# kernel source, kept beside the ktools cache); a tree that has them
# already is used as it is.
if [ -f "$kt/usr/include/linux/types.h" ]; then
	khdr=$kt
	ok 0 "kernel headers: $kt/usr/include"
else
	khdr=${PINSUITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pinsuite}/ktools/khdr-$(md5sum <<< "$kt" | cut -c1-12)
	stamp="$kt $(cat "$kt/.pinsuite-ktools" 2>/dev/null)"
	if [ "$(cat "$khdr/.stamp" 2>/dev/null)" != "$stamp" ] ||
	   [ ! -f "$khdr/usr/include/linux/types.h" ]; then
		rm -rf "$khdr"
		mkdir -p "$khdr.tmp.$$"
		if make -s "$jobs" -C "$kt" headers O="$khdr.tmp.$$" > "$tmp/headers.log" 2>&1; then
			echo "$stamp" > "$khdr.tmp.$$/.stamp"
			mv "$khdr.tmp.$$" "$khdr"
		else
			diag_tail "$tmp/headers.log" 5
		fi
		rm -rf "$khdr.tmp.$$"
	fi
	[ -f "$khdr/usr/include/linux/types.h" ]
	ok $? "make headers in the kernel source gives the uAPI headers for KHDR_INCLUDES"
fi
ln -s "$khdr/usr" "$tree/usr"
ln -s "$khdr/usr" "$obj/usr"

# 2-3. O=: everything under $obj/kselftest/pinsuite, nothing in the source.
kmake() { make "$jobs" FORCE_TARGETS=1 -C "$sel" "$@"; }
kmake O="$obj" TARGETS=pinsuite V=1 > "$tmp/build-o.log" 2>&1
rc=$?
missing=""
for b in $bins; do
	[ -x "$obj/kselftest/pinsuite/$b" ] || missing="$missing $b"
done
stray=$(cd "$sel/pinsuite" && find . -name '*.o' | head -n 3)
ok "$([ $rc = 0 ] && [ -z "$missing" ] && [ -z "$stray" ]; echo $?)" \
	"make -C tools/testing/selftests O=dir TARGETS=pinsuite builds into dir/kselftest/pinsuite${missing:+ (missing:$missing)}${stray:+ (in the source: $stray)}"
[ $rc = 0 ] || diag_tail "$tmp/build-o.log" 5
grep -q -- "-isystem $obj/usr/include .*-c -o $obj/kselftest/pinsuite/" "$tmp/build-o.log"
ok $? "the compiler gets the kernel's KHDR_INCLUDES (-isystem <O>/usr/include)"

# 4. In the tree, as most kernel developers build.
kmake TARGETS=pinsuite > "$tmp/build.log" 2>&1
rc=$?
missing=""
for b in $bins; do
	[ -x "$sel/pinsuite/$b" ] || missing="$missing $b"
done
ok "$([ $rc = 0 ] && [ -z "$missing" ]; echo $?)" \
	"make -C tools/testing/selftests TARGETS=pinsuite builds in the tree${missing:+ (missing:$missing)}"
[ $rc = 0 ] || diag_tail "$tmp/build.log" 5

# 5-6. install: the collection in INSTALL_PATH/pinsuite, listed by emit_tests.
inst=$tmp/install
if [ -n "$have_rsync" ]; then
	kmake O="$obj" TARGETS=pinsuite install INSTALL_PATH="$inst" > "$tmp/install.log" 2>&1
	rc=$?
	missing=""
	for f in $bins config settings run_tests.sh; do
		[ -f "$inst/pinsuite/$f" ] || missing="$missing $f"
	done
	ok "$([ $rc = 0 ] && [ -z "$missing" ] &&
	      [ "$(sorted "$(cat "$inst/kselftest-list.txt")")" = "$(sorted "$want_list")" ]; echo $?)" \
		"install INSTALL_PATH=dir: dir/pinsuite has the binaries, config, settings, run_tests.sh; kselftest-list.txt has pinsuite:<binary>${missing:+ (missing:$missing)}"
	listed=$("$inst/run_kselftest.sh" -l 2>&1)
	ok "$([ "$(sorted "$listed")" = "$(sorted "$want_list")" ]; echo $?)" \
		"run_kselftest.sh -l lists the collection"
else
	skip "install INSTALL_PATH=dir" "$no_rsync"
	skip "run_kselftest.sh -l lists the collection" "$no_rsync"
fi

# 7. run_tests, quickly: each binary runs one selection, spelt for the
# runner (see 9); a binary without such cases only lists its cases.
quick="memfd (MAP_PRIVATE)"
quick_ksft="-t *memfd?(MAP_PRIVATE)*"
argvar() {
	local v=${1//[^[:alnum:]_]/_}

	echo "KSELFTEST_${v^^}_ARGS"
}
envs=()
for b in $bins; do
	if [ -n "$("$obj/kselftest/pinsuite/$b" -l -t "$quick" 2>/dev/null)" ]; then
		envs+=("$(argvar "$b")=$quick_ksft")
	else
		envs+=("$(argvar "$b")=-l")
	fi
done
env "${envs[@]}" make -C "$sel" O="$obj" TARGETS=pinsuite run_tests > "$tmp/run.log" 2>&1
bad=""
for b in $bins; do
	grep -qE "^ok [0-9]+ selftests: pinsuite: $b( # SKIP)?\$" "$tmp/run.log" || bad="$bad $b"
done
ok "$([ -z "$bad" ] && grep -qx "1\.\.$(wc -w <<< "$bins")" "$tmp/run.log"; echo $?)" \
	"make -C tools/testing/selftests TARGETS=pinsuite run_tests: one result per binary${bad:+ (not ok:$bad)}"
[ -z "$bad" ] || grep -v '^# ' "$tmp/run.log" | tail -n 8 | sed 's/^/# /'

# 8. gen_tar packs the install.
if [ -n "$have_rsync" ]; then
	kmake O="$obj" TARGETS=pinsuite gen_tar INSTALL_PATH="$inst" > "$tmp/tar.log" 2>&1
	rc=$?
	tarball=$inst/kselftest-packages/kselftest.tar.gz
	members=$(tar -tzf "$tarball" 2>/dev/null)
	missing=""
	for f in $bins config settings; do
		grep -qx "./pinsuite/$f" <<< "$members" || missing="$missing $f"
	done
	ok "$([ $rc = 0 ] && [ -z "$missing" ] &&
	      [ "$(tar -xzOf "$tarball" ./kselftest-list.txt | grep '^pinsuite:' | sort)" = \
		"$(sorted "$want_list")" ]; echo $?)" \
		"gen_tar: the tarball has the binaries and their kselftest-list.txt lines${missing:+ (missing:$missing)}"
else
	skip "gen_tar" "$no_rsync"
fi

# 9-10. The runner takes KSELFTEST_<BIN>_ARGS unquoted: split at blanks,
# quotes kept as characters.  A "?" stands for the space in a glob pattern.
if [ -n "$have_rsync" ] && [ -x "$inst/pinsuite/iouring_pin" ]; then
	direct=$("$inst/pinsuite/iouring_pin" -l -t "$quick" | sed 's/^/# /')
	got=$(KSELFTEST_IOURING_PIN_ARGS="-l $quick_ksft" "$inst/run_kselftest.sh" \
		-t pinsuite:iouring_pin 2>&1 | grep -v '^# selftests:\|^# timeout' | grep '^# ')
	ok "$([ -n "$direct" ] && [ "$got" = "$direct" ]; echo $?)" \
		"KSELFTEST_IOURING_PIN_ARGS='-l $quick_ksft' selects the cases of -t '$quick' ($(wc -l <<< "$direct"))"
	KSELFTEST_IOURING_PIN_ARGS="-t '$quick'" "$inst/run_kselftest.sh" \
		-t pinsuite:iouring_pin > "$tmp/split.log" 2>&1
	grep -q "^not ok 1 selftests: pinsuite: iouring_pin # exit=2" "$tmp/split.log"
	ok $? "KSELFTEST_IOURING_PIN_ARGS=\"-t '$quick'\" is split by the runner (usage error, as documented)"
else
	why=$no_rsync
	[ -n "$have_rsync" ] && why="iouring_pin was not installed"
	skip "KSELFTEST_<BIN>_ARGS with a space in a pattern" "$why"
	skip "KSELFTEST_<BIN>_ARGS split by the runner" "$why"
fi

# 11. A distribution package: DESTDIR and PREFIX, nothing outside libexec.
pkg=$tmp/pkg
make -s -C "$TOP" install DESTDIR="$pkg" PREFIX=/usr OUTPUT="$OUTPUT" > "$tmp/pkg.log" 2>&1
rc=$?
got=$(cd "$pkg" 2>/dev/null && find . -type f | sort)
want=$(for f in $bins config settings run_tests.sh; do echo "./usr/libexec/pinsuite/$f"; done | sort)
listed=$(env -u OUTPUT "$pkg/usr/libexec/pinsuite/run_tests.sh" -l 2>/dev/null | wc -l)
ok "$([ $rc = 0 ] && [ "$got" = "$want" ] && [ "$listed" -gt 0 ]; echo $?)" \
	"make install DESTDIR=pkg PREFIX=/usr: pkg/usr/libexec/pinsuite only, run_tests.sh -l works there"
[ "$got" = "$want" ] || diag "installed: $(echo "$got" | tr '\n' ' ')"

# 12-14. An existing kselftest install tree, made by the kernel with another
# collection: the standalone install adds pinsuite twice over and keeps it.
ks=$tmp/ksft
if [ -n "$have_rsync" ]; then
	kmake TARGETS=dummy install INSTALL_PATH="$ks" > "$tmp/dummy.log" 2>&1
	before=$(cd "$ks" && find . -type f -exec md5sum {} + | sort)
	make -s -C "$TOP" install INSTALL_PATH="$ks" OUTPUT="$OUTPUT" > "$tmp/ks1.log" 2>&1
	rc=$?
	after=$(cd "$ks" && find . -type f ! -path './pinsuite/*' ! -name kselftest-list.txt \
		-exec md5sum {} + | sort)
	missing=""
	for f in $bins config settings run_tests.sh; do
		[ -f "$ks/pinsuite/$f" ] || missing="$missing $f"
	done
	top_extra=$(for f in config settings run_tests.sh $bins; do
			[ -e "$ks/$f" ] && printf ' %s' "$f"
		    done)
	ok "$([ $rc = 0 ] && [ -z "$missing" ] && [ -z "$top_extra" ] && [ ! -L "$ks/pinsuite" ] &&
	      [ "$after" = "$(grep -v ' \./kselftest-list.txt$' <<< "$before")" ]; echo $?)" \
		"make install INSTALL_PATH=<kselftest tree>: the collection in pinsuite/, the rest unchanged${missing:+ (missing:$missing)}${top_extra:+ (at the top:$top_extra)}"

	make -s -C "$TOP" install INSTALL_PATH="$ks" OUTPUT="$OUTPUT" > "$tmp/ks2.log" 2>&1
	want="dummy:hello.sh
$want_list"
	ok "$([ "$(sorted "$(cat "$ks/kselftest-list.txt")")" = "$(sorted "$want")" ] &&
	      [ "$(head -n 1 "$ks/kselftest-list.txt")" = dummy:hello.sh ]; echo $?)" \
		"installed twice: kselftest-list.txt keeps dummy:hello.sh and has each pinsuite line once"

	# The binaries only list their cases here.
	envs=()
	for b in $bins; do
		envs+=("$(argvar "$b")=-l")
	done
	out=$(env "${envs[@]}" "$ks/run_kselftest.sh" 2>&1)
	bad=""
	for t in dummy:hello.sh $want_list; do
		grep -qE "^ok [0-9]+ selftests: ${t%%:*}: ${t#*:}\$" <<< "$out" || bad="$bad $t"
	done
	ok "$([ -z "$bad" ]; echo $?)" "run_kselftest.sh runs both collections of that tree${bad:+ (not ok:$bad)}"
else
	skip "make install INSTALL_PATH=<kselftest tree>" "$no_rsync"
	skip "installed twice into a kselftest tree" "$no_rsync"
	skip "run_kselftest.sh runs both collections" "$no_rsync"
fi

done_testing
