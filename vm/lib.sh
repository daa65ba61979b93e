# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
#
# Pure helpers for vm/run.sh, vm/bench.sh and vm/ci.sh: kernel image
# inspection, module selection and staging, result parsing, dmesg scanning
# and exit-code mapping.  Nothing in here boots a VM, so tests/vm/test_vm.sh
# can source this file and exercise every function on fixtures.

# Exit codes of vm/run.sh.
VM_EXIT_PASS=0
VM_EXIT_FAIL=1
VM_EXIT_USAGE=2
VM_EXIT_HARNESS=3	# could not test: preparation failed, or the VM could not
			# be started or never reached the suite for a reason
			# outside the kernel (QEMU, host load)
VM_EXIT_NOTHING=4	# nothing ran (everything skipped / no case matched)
VM_EXIT_UNTESTABLE=125	# git bisect run: skip this commit

# Prefix of control lines the guest writes on the results channel.
VM_MARK='@@pinsuite-vm@@'

# Kernel messages that mean the kernel misbehaved (fail "Kernel stays untainted").
VM_DMESG_BAD='WARNING:|BUG:|kernel BUG at|Oops|general protection fault|Kernel panic|UBSAN:|KASAN:|Unable to handle kernel|INFO: task .* blocked for more than|rcu: INFO:|rcu_.*detected stalls|watchdog: .*LOCKUP|hung_task: blocked tasks'
# Messages worth showing next to the results (the bad ones plus expected
# pin-related noise such as the memlock limit and IOMMU faults).
VM_DMESG_SHOW="$VM_DMESG_BAD|RLIMIT_MEMLOCK|Tainted|DMAR|Call Trace"
# Console messages of a boot that failed because of the machine it ran on,
# not the kernel: x86 check_timer() gives up when the timer interrupt does
# not arrive within its delay loop, which TCG on a loaded host can miss.
# (run.sh boots with no_timer_check, so these should no longer appear.)
VM_BOOT_ENV="timer doesn't work through Interrupt-remapped IO-APIC|IO-APIC \\+ timer doesn't work|Timer not connected to IO-APIC"
# Console messages that put a failed boot on the kernel: it crashed, or
# stalled long enough to say so, before the suite started.
VM_BOOT_BAD='Kernel panic|BUG:|kernel BUG at|Oops|general protection fault|double fault|Unable to handle kernel|rcu: INFO:|rcu_.*detected stalls|watchdog: .*LOCKUP|INFO: task .* blocked for more than'

# Module names the suite or the VM set-up may need; those that are built in
# or do not exist in a given kernel are simply not found and skipped.
# Order matters only among independent modules: the crc32c provider comes
# first because libcrc32c and ext4 look it up by alias when they load.
VM_WANT_MODULES='crc32c_generic irqbypass vfio vfio_iommu_type1 vfio_virqfd
vfio_pci_core vfio_pci iommufd virtio_blk virtio_pci ext4 xfs loop zram
ib_uverbs rdma_rxe veth crc32_generic'

vm_die() {
	echo "pinsuite-vm: $*" >&2
	return 1
}

# ---------------------------------------------------------------------------
# Kernel images

# vm_is_bzimage FILE: true when FILE carries the x86 boot protocol magic
# "HdrS" at offset 0x202.
vm_is_bzimage() {
	local magic
	[ -f "$1" ] || return 1
	magic=$(dd if="$1" bs=1 skip=514 count=4 2>/dev/null) || return 1
	[ "$magic" = HdrS ]
}

# vm_bzimage_release FILE: print the kernel release (the first word of the
# version string that setup-header field kernel_version, at 0x20E, points to,
# relative to 0x200).
vm_bzimage_release() {
	local off ver
	vm_is_bzimage "$1" || return 1
	off=$(od -An -tu2 -j 526 -N 2 "$1" 2>/dev/null | tr -d ' ')
	[ -n "$off" ] && [ "$off" -gt 0 ] || return 1
	ver=$(dd if="$1" bs=1 skip=$((off + 512)) count=256 2>/dev/null |
		tr '\0' '\n' | head -n 1)
	ver=${ver%% *}
	[ -n "$ver" ] || return 1
	printf '%s\n' "$ver"
}

# vm_kernel_kind ARG: classify what the user gave as the kernel.
#   bzimage   a bzImage file
#   deb       a Debian package file (*.deb)
#   builddir  a kernel tree with arch/x86/boot/bzImage
#   srcdir    a kernel source tree without a built image
#   package   a Debian package name (linux-image-...)
#   unknown   anything else
vm_kernel_kind() {
	local k=$1
	if [ -d "$k" ]; then
		if [ -f "$k/arch/x86/boot/bzImage" ]; then
			echo builddir
		elif [ -f "$k/Makefile" ] && [ -f "$k/Kconfig" ]; then
			echo srcdir
		else
			echo unknown
		fi
	elif [ -f "$k" ]; then
		case $k in
		*.deb) echo deb ;;
		*) if vm_is_bzimage "$k"; then echo bzimage; else echo unknown; fi ;;
		esac
	elif [[ $k =~ ^linux-image-[A-Za-z0-9.+~:=_-]+$ ]]; then
		echo package
	else
		echo unknown
	fi
}

# vm_deb_release NAME_OR_LISTING: the kernel release of a linux-image package,
# from a `dpkg-deb -c` listing (preferred, read from stdin when the argument
# is "-") or from the package/file name.
vm_deb_release() {
	local arg=$1 line rel
	if [ "$arg" = - ]; then
		rel=
		while IFS= read -r line; do
			if [ -z "$rel" ] && [[ $line =~ \./boot/vmlinuz-([^[:space:]]+)$ ]]; then
				rel=${BASH_REMATCH[1]}
			fi
		done
		[ -n "$rel" ] || return 1
		printf '%s\n' "$rel"
		return 0
	fi
	rel=${arg##*/}
	rel=${rel#linux-image-}
	rel=${rel%%_*}
	rel=${rel%.deb}
	rel=${rel%-unsigned}
	rel=${rel%-dbg}
	[ -n "$rel" ] || return 1
	printf '%s\n' "$rel"
}

# vm_find_config DIR RELEASE [IMAGE_NAME]: print a kernel config file next to
# an image: config-RELEASE, config-SUFFIX for an image named bzImage-SUFFIX
# or vmlinuz-SUFFIX, .config or config.
vm_find_config() {
	local dir=$1 rel=$2 img=${3:-} c sfx=
	case $img in
	bzImage-* | vmlinuz-* | vmlinux-*) sfx=${img#*-} ;;
	esac
	for c in "$dir/config-$rel" ${sfx:+"$dir/config-$sfx"} "$dir/.config" "$dir/config"; do
		if [ -f "$c" ] && grep -q '^CONFIG_' "$c"; then
			printf '%s\n' "$c"
			return 0
		fi
	done
	return 1
}

# vm_config_value CONFIGFILE CONFIG_NAME: print y, m, a string/number value,
# or "n" when unset.  Returns 1 when the file is missing.
vm_config_value() {
	local file=$1 name=$2 line
	[ -f "$file" ] || return 1
	line=$(grep -m1 -E "^$name=" "$file") || { echo n; return 0; }
	line=${line#*=}
	line=${line#\"}
	line=${line%\"}
	printf '%s\n' "$line"
}

# vm_config_missing CONFIGFILE CONFIG_X...: print the options that are
# neither =y nor =m.
vm_config_missing() {
	local file=$1 o v
	shift
	for o in "$@"; do
		v=$(vm_config_value "$file" "$o")
		case $v in y | m) ;; *) printf '%s\n' "$o" ;; esac
	done
}

# ---------------------------------------------------------------------------
# Modules

# vm_mod_name PATH: module name as the kernel knows it (dashes become
# underscores, compression suffix dropped).
vm_mod_name() {
	vm__mn "$1"
	printf '%s\n' "$VM__N"
}

# Same, into VM__N without a subshell (indexing thousands of modules).
vm__mn() {
	VM__N=${1##*/}
	VM__N=${VM__N%.xz}
	VM__N=${VM__N%.zst}
	VM__N=${VM__N%.gz}
	VM__N=${VM__N%.ko}
	VM__N=${VM__N//-/_}
}

# vm_mod_cat FILE: write the uncompressed module to stdout.
vm_mod_cat() {
	case $1 in
	*.ko.xz) xz -dc -- "$1" ;;
	*.ko.zst) zstd -qdc -- "$1" ;;
	*.ko.gz) gzip -dc -- "$1" ;;
	*.ko) cat -- "$1" ;;
	*) return 1 ;;
	esac
}

# vm_mod_info FILE KEY: values of a .modinfo key (depends, softdep, ...).
vm_mod_info() {
	vm_mod_cat "$1" | tr '\0' '\n' | sed -n "s/^$2=//p"
}

# Internal state of a resolution: name -> path (relative to the module
# directory) and name -> dependency names.
declare -gA VM_MOD_PATH=() VM_MOD_DEPS=() VM_MOD_SEEN=()
declare -ga VM_MOD_ORDER=()

# vm_mod_index MODDIR: fill VM_MOD_PATH (and VM_MOD_DEPS when MODDIR has a
# modules.dep) for the modules under MODDIR (= .../lib/modules/RELEASE).
vm_mod_index() {
	local dir=$1 line p deps d n
	VM__N=
	VM_MOD_PATH=()
	VM_MOD_DEPS=()
	if [ -f "$dir/modules.dep" ]; then
		while IFS= read -r line; do
			p=${line%%:*}
			deps=${line#*:}
			vm__mn "$p"
			n=$VM__N
			VM_MOD_PATH[$n]=$p
			VM_MOD_DEPS[$n]=
			for d in $deps; do
				vm__mn "$d"
				VM_MOD_DEPS[$n]+="$VM__N "
			done
		done <"$dir/modules.dep"
	else
		while IFS= read -r p; do
			p=${p#"$dir"/}
			vm__mn "$p"
			VM_MOD_PATH[$VM__N]=$p
		done < <(find "$dir" -type f \( -name '*.ko' -o -name '*.ko.xz' \
			-o -name '*.ko.zst' -o -name '*.ko.gz' \) | LC_ALL=C sort)
	fi
}

# Dependencies of one module: modules.dep when it was indexed, else the
# module's own depends= (modpost's record of the symbols it imports) plus its
# softdep pre: names that exist as modules.
vm__mod_deps() {
	local dir=$1 n=$2 line d info out=
	if [ -n "${VM_MOD_DEPS[$n]+set}" ]; then
		printf '%s\n' "${VM_MOD_DEPS[$n]}"
		return
	fi
	info=$(vm_mod_cat "$dir/${VM_MOD_PATH[$n]}" | tr '\0' '\n' |
		grep -E '^(depends|softdep)=')
	line=$(sed -n 's/^depends=//p' <<<"$info" | head -n 1)
	for d in ${line//,/ }; do
		vm__mn "$d"
		out+="$VM__N "
	done
	line=$(sed -n 's/^softdep=//p' <<<"$info" | head -n 1)
	[[ $line == *pre:* ]] || line=
	line=${line#*pre:}
	line=${line%%post:*}
	for d in $line; do
		vm__mn "$d"
		[ -z "${VM_MOD_PATH[$VM__N]+set}" ] || out+="$VM__N "
	done
	VM_MOD_DEPS[$n]=$out
	printf '%s\n' "$out"
}

vm__mod_visit() {
	local dir=$1 n=$2 d
	[ -n "${VM_MOD_SEEN[$n]+set}" ] && return 0
	[ -n "${VM_MOD_PATH[$n]+set}" ] || return 0	# built in or absent
	VM_MOD_SEEN[$n]=1
	for d in $(vm__mod_deps "$dir" "$n"); do
		vm__mod_visit "$dir" "$d"
	done
	VM_MOD_ORDER+=("${VM_MOD_PATH[$n]}")
}

# vm_mod_order MODDIR NAME...: print the module files (relative to MODDIR)
# needed for NAMEs, dependencies first, each once.  Names that are not
# modules of this kernel are ignored.
vm_mod_order() {
	local dir=$1 n
	shift
	vm_mod_index "$dir"
	VM_MOD_SEEN=()
	VM_MOD_ORDER=()
	for n in "$@"; do
		vm__mod_visit "$dir" "$(vm_mod_name "$n")"
	done
	[ ${#VM_MOD_ORDER[@]} -eq 0 ] || printf '%s\n' "${VM_MOD_ORDER[@]}"
}

# vm_mod_stage MODDIR DESTDIR LIST: decompress the modules listed (one path
# relative to MODDIR per line) into DESTDIR with the compression suffix
# dropped, and write the load order to DESTDIR/modules.load.
vm_mod_stage() {
	local src=$1 dst=$2 list=$3 p out
	mkdir -p "$dst" || return 1
	: >"$dst/modules.load"
	while IFS= read -r p; do
		[ -n "$p" ] || continue
		out=${p%.xz}
		out=${out%.zst}
		out=${out%.gz}
		mkdir -p "$dst/$(dirname "$out")" || return 1
		vm_mod_cat "$src/$p" >"$dst/$out" || {
			vm_die "cannot decompress $src/$p"
			return 1
		}
		printf '%s\n' "$out" >>"$dst/modules.load"
	done <"$list"
}

# vm_deb_extract DEB DIR: unpack a Debian package.
vm_deb_extract() {
	mkdir -p "$2" && dpkg-deb -x "$1" "$2"
}

# ---------------------------------------------------------------------------
# Guest hand-over

# vm_shell_quote ARG...: one line that a POSIX shell evals back into ARGs.
vm_shell_quote() {
	local a out=
	for a in "$@"; do
		out+="'${a//\'/\'\\\'\'}' "
	done
	printf '%s\n' "${out% }"
}

# ---------------------------------------------------------------------------
# Results channel

# vm_results_field FILE KEY: value of the last "@@pinsuite-vm@@ KEY value"
# control line in the raw results file.
vm_results_field() {
	local line val='' found=1
	[ -f "$1" ] || return 1
	while IFS= read -r line; do
		line=${line%$'\r'}
		if [[ $line == "$VM_MARK $2" || $line == "$VM_MARK $2 "* ]]; then
			val=${line#"$VM_MARK $2"}
			val=${val# }
			found=0
		fi
	done < <(grep -aF -- "$VM_MARK $2" "$1")
	[ $found -eq 0 ] && printf '%s\n' "$val"
	return $found
}

# vm_results_part FILE IN_DMESG: with 0, the suite's own output (every line
# that is not a control line and not inside the dmesg dump); with 1, the
# guest's dmesg as dumped after the suite.  (The JSON Lines the guest sends
# after the suite, thousands of long control lines, are dropped first.)
vm_results_part() {
	local line in_dmesg=0
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		"$VM_MARK dmesg-begin"*) in_dmesg=1 ;;
		"$VM_MARK dmesg-end"*) in_dmesg=0 ;;
		"$VM_MARK"*) ;;
		*) [ $in_dmesg -ne "$2" ] || printf '%s\n' "$line" ;;
		esac
	done < <(grep -av -- "^$VM_MARK json " "$1")
}

vm_results_suite() { vm_results_part "$1" 0; }
vm_results_dmesg() { vm_results_part "$1" 1; }

# vm_results_json FILE: the JSON Lines the guest sent after the suite (the
# payload of its "json" control lines), as far as they arrived.  True when
# they arrived whole: "json-end COUNT" came, after COUNT of them.
vm_results_json() {
	local end
	[ -f "$1" ] || return 1
	grep -a -- "^$VM_MARK json " "$1" | tr -d '\r' | sed "s/^$VM_MARK json //"
	end=$(vm_results_field "$1" json-end) || return 1
	[ "$end" = "$(grep -c -a -- "^$VM_MARK json " "$1")" ]
}

# vm_results_json_state FILE: what became of the guest's JSON Lines.
vm_results_json_state() {
	local n end
	n=$(grep -c -a -- "^$VM_MARK json " "$1" 2>/dev/null)
	n=${n:-0}
	if end=$(vm_results_field "$1" json-end); then
		if [ "$end" = "$n" ]; then
			echo "whole, $n lines"
		else
			echo "the guest sent $end lines, $n arrived"
		fi
	elif vm_results_field "$1" json-begin >/dev/null; then
		echo "the guest stopped while sending them; $n lines arrived"
	elif vm_results_field "$1" json-none >/dev/null; then
		echo "the guest's run_tests.sh wrote none (no --json?)"
	else
		echo "none arrived: the guest did not get to the end of the suite"
	fi
}

# ---------------------------------------------------------------------------
# dmesg and taint

# vm_dmesg_window: from stdin, the kernel log from the suite-start marker
# on (the whole log when there is no marker, e.g. a boot that never got
# that far).
vm_dmesg_window() {
	local all
	all=$(tr -d '\r')
	if grep -q 'pinsuite-vm: suite start' <<<"$all"; then
		sed -n '/pinsuite-vm: suite start/,$p' <<<"$all"
	else
		printf '%s\n' "$all"
	fi
}

# vm_dmesg_show: print the log lines from stdin that matter, as "# dmesg: ".
vm_dmesg_show() {
	grep -E -- "$VM_DMESG_SHOW" | sed 's/^/# dmesg: /'
	return 0
}

# vm_dmesg_first_bad: first line on stdin that means a kernel WARN/BUG/Oops.
# Returns 1 when there is none.
vm_dmesg_first_bad() {
	grep -m1 -E -- "$VM_DMESG_BAD"
}

# vm_taint_letters MASK: "W(9)" style description of each bit in MASK.
vm_taint_letters() {
	local mask=$1 i out='' l
	local letters=PFSRMBUDAWCIOELKXTNJ
	local -a names=(PROPRIETARY_MODULE FORCED_MODULE CPU_OUT_OF_SPEC
		FORCED_RMMOD MACHINE_CHECK BAD_PAGE USER DIE OVERRIDDEN_ACPI_TABLE
		WARN CRAP FIRMWARE_WORKAROUND OOT_MODULE UNSIGNED_MODULE SOFTLOCKUP
		LIVEPATCH AUX RANDSTRUCT TEST FWCTL)
	[[ $mask =~ ^[0-9]+$ ]] || return 1
	for ((i = 0; i < 63; i++)); do
		((mask >> i & 1)) || continue
		if ((i < ${#letters})); then
			l="${letters:i:1}(${i},${names[i]})"
		else
			l="?(${i})"
		fi
		out+="$l "
	done
	printf '%s\n' "${out% }"
}

# vm_taint_new BEFORE AFTER: the bits set in AFTER but not in BEFORE.
vm_taint_new() {
	[[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] || return 1
	echo $(($2 & ~$1))
}

# ---------------------------------------------------------------------------
# Case selection and verdicts

# vm_cases: from the suite's output on stdin, print "ok|not ok|skip NAME"
# for every case result of the binaries (lines the runner prefixed with
# "# ").  XFAIL counts as ok.
vm_cases() {
	local line re='^(# )+(not )?ok [0-9]+ (.*)$' name st
	while IFS= read -r line; do
		line=${line%$'\r'}
		[[ $line =~ $re ]] || continue
		name=${BASH_REMATCH[3]}
		if [ -n "${BASH_REMATCH[2]}" ]; then
			st='not ok'
		elif [[ $name == *' # SKIP'* || $name == *' # skip'* ]]; then
			st=skip
		else
			st=ok
		fi
		name=${name%% # *}
		printf '%s %s\n' "$st" "$name"
	done
}

# vm_case_verdict REGEX: from vm_cases output on stdin, the verdict of the
# cases whose names match REGEX: 0 all passed, 1 one failed, 4 none ran.
vm_case_verdict() {
	local st name ran=0 failed=0 line
	while IFS= read -r line; do
		case $line in
		'not ok '*) st='not ok'; name=${line#not ok } ;;
		'ok '*) st=ok; name=${line#ok } ;;
		'skip '*) st=skip; name=${line#skip } ;;
		*) continue ;;
		esac
		[[ $name =~ $1 ]] || continue
		case $st in
		'not ok') failed=1 ;;
		ok) ran=1 ;;
		esac
	done
	if [ $failed -eq 1 ]; then
		return 1
	elif [ $ran -eq 1 ]; then
		return 0
	fi
	return 4
}

# vm_exit_code STATE SUITE_RC TAINTED BISECT [BOOT_CRASH_BAD]: the exit
# status of run.sh.
#   STATE     how the run ended (vm_run_state):
#             done      the suite finished and reported its exit code
#             crashed   the suite had started but the guest died before the
#                       end (panic, reboot, QEMU gone)
#             timeout   the wall clock expired after the first case result
#             noresult  the wall clock expired after the suite started but
#                       before any case result
#             noboot    the guest never started the suite and the console
#                       shows a kernel crash or stall (panic, BUG, Oops, RCU
#                       stall, ...): the kernel's fault
#             envboot   the guest never started the suite and the console
#                       shows no kernel error: no output at all, or the
#                       IO-APIC timer check that TCG on a loaded host fails
#             qemufail  QEMU exited with an error before the guest printed
#                       anything (bad option, no KVM, abort)
#             prepfail  kernel/initramfs/disk preparation failed
#             buildfail the kernel build failed
#             noconfig  the kernel lacks a required config option
#   SUITE_RC  the suite's (or the selected cases') exit code when done
#   TAINTED   1 when "Kernel stays untainted" failed (counted), else 0
#   BISECT    1 for --bisect (0 good, 1 bad, 125 cannot test)
#   BOOT_CRASH_BAD  1 when a kernel crash before the suite (noboot) is bad
#             (1) rather than untestable (125) under --bisect
vm_exit_code() {
	local state=$1 rc=$2 tainted=$3 bisect=$4 bootbad=${5:-0}
	case $state in
	done)
		case $rc in
		0) if [ "$tainted" = 1 ]; then echo 1; else echo 0; fi ;;
		4) if [ "$tainted" = 1 ]; then echo 1
		   elif [ "$bisect" = 1 ]; then echo 125
		   else echo 4; fi ;;
		*) echo 1 ;;
		esac
		;;
	crashed | timeout) echo 1 ;;
	noresult) if [ "$bisect" = 1 ]; then echo 125; else echo 1; fi ;;
	noboot)
		if [ "$bisect" = 1 ] && [ "$bootbad" != 1 ]; then echo 125; else echo 1; fi ;;
	envboot | qemufail | prepfail | buildfail | noconfig)
		if [ "$bisect" = 1 ]; then echo 125; else echo 3; fi ;;
	*) if [ "$bisect" = 1 ]; then echo 125; else echo 3; fi ;;
	esac
}

# vm_qemu_stopped QEMU_RC: true when QEMU ended because the harness stopped
# it (timeout(1) expired: 124, or its KILL: 137; run.sh's own TERM: 143).
vm_qemu_stopped() {
	case $1 in 124 | 137 | 143) return 0 ;; esac
	return 1
}

# vm_has_output FILE: true when FILE has a line that is not blank.
vm_has_output() {
	[ -f "$1" ] && grep -q '[^[:space:]]' "$1"
}

# vm_boot_state QEMU_RC CONSOLE: classify a run whose guest never started
# the suite (noboot, envboot or qemufail; see vm_exit_code).  Evidence
# first: the environment's own panic, then a kernel error; only without
# either does the QEMU exit status decide.
vm_boot_state() {
	local qrc=$1 con=$2
	if [ -f "$con" ] && tr -d '\r' <"$con" | grep -E -- "$VM_BOOT_ENV" >/dev/null; then
		echo envboot
	elif [ -f "$con" ] && tr -d '\r' <"$con" | grep -E -- "$VM_BOOT_BAD" >/dev/null; then
		echo noboot
	elif [ "$qrc" != 0 ] && ! vm_qemu_stopped "$qrc" && ! vm_has_output "$con"; then
		echo qemufail
	else
		echo envboot
	fi
}

# vm_boot_reason STATE QEMU_RC CONSOLE QEMU_LOG [BOOT_TIMEOUT]: one line
# saying why a guest never started the suite.  BOOT_TIMEOUT is given when
# run.sh stopped a guest that had not reached /init within that many seconds.
vm_boot_reason() {
	local state=$1 qrc=$2 con=$3 qlog=$4 btmo=${5:-} line
	case $state in
	qemufail)
		line=$(grep -m1 -v '^[[:space:]]*$' "$qlog" 2>/dev/null)
		printf 'QEMU failed to start (exit %s%s)\n' "$qrc" "${line:+: $line}"
		;;
	noboot)
		line=$(tr -d '\r' <"$con" | grep -m1 -E -- "$VM_BOOT_BAD")
		printf 'the kernel crashed before the suite started: %s\n' "$line"
		;;
	*)
		line=$(tr -d '\r' <"$con" 2>/dev/null | grep -m1 -E -- "$VM_BOOT_ENV")
		if [ -n "$line" ]; then
			printf 'the early-boot timer check failed, a TCG timing problem of a loaded host, not the kernel: %s\n' "$line"
		elif [ -n "$btmo" ]; then
			printf 'the guest did not reach /init within %ss and printed no kernel error\n' "$btmo"
		elif ! vm_has_output "$con"; then
			printf 'no output at all from the guest (QEMU exit %s)\n' "$qrc"
		else
			printf 'the guest never started the suite and printed no kernel error (QEMU exit %s)\n' "$qrc"
		fi
		;;
	esac
}

# vm_run_state RESULTSFILE QEMU_RC [CONSOLE]: classify a finished run (see
# vm_exit_code).  Without CONSOLE a run that never started the suite is
# classified as if the console had stayed empty.
vm_run_state() {
	local f=$1 qrc=$2 con=${3:-/dev/null}
	if vm_results_field "$f" rc >/dev/null; then
		echo 'done'
	elif ! vm_results_field "$f" suite-start >/dev/null; then
		vm_boot_state "$qrc" "$con"
	elif vm_qemu_stopped "$qrc"; then
		if vm_results_suite "$f" | grep -E '^(# )*(not )?ok [0-9]' >/dev/null; then
			echo timeout
		else
			echo noresult
		fi
	else
		echo crashed
	fi
}

# vm_state_retry STATE: true when a run that ended in STATE may be run
# again: the guest never started the suite, so nothing was judged yet.
vm_state_retry() {
	case $1 in noboot | envboot | qemufail) return 0 ;; esac
	return 1
}

# vm_tap_nest: prefix every line of stdin with "# " (nesting a TAP stream).
vm_tap_nest() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "${line%$'\r'}"
	done
}

# vm_newest_package REGEX: the highest-versioned package name that
# apt-cache knows and that matches REGEX.
vm_newest_package() {
	apt-cache search --names-only "$1" 2>/dev/null | awk '{print $1}' |
		grep -E -- "$1" | sort -V | tail -n 1
}

# vm_cpu_states QMP_SOCKET: one line per vCPU from QEMU's "info registers
# -a": where it is (RIP, CPL), its flags (IF set: interrupts on), whether it
# is halted or in SMM.  False when QMP cannot be asked.
vm_cpu_states() {
	local sock=$1
	[ -S "$sock" ] && command -v python3 >/dev/null 2>&1 || return 1
	python3 - "$sock" <<'PY' 2>/dev/null
import json, re, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
json.loads(f.readline())
def qmp(cmd, **args):
    f.write(json.dumps({"execute": cmd, "arguments": args}) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "error" in r:
            sys.exit(1)
        if "return" in r:
            return r["return"]
qmp("qmp_capabilities")
out = qmp("human-monitor-command", **{"command-line": "info registers -a"})
for block in re.split(r"^CPU#", out, flags=re.M)[1:]:
    cpu = block.split(None, 1)[0]
    m = re.search(r"RIP=(\S+) RFL=(\S+) \[[^]]*\] CPL=(\d+).*?SMM=(\d+) HLT=(\d+)", block)
    if not m:
        continue
    rip, rfl, cpl, smm, hlt = m.groups()
    iflag = "on" if int(rfl, 16) & 0x200 else "off"
    print(f"CPU {cpu}: RIP={rip} CPL={cpl} interrupts {iflag}, "
          f"{'halted' if hlt == '1' else 'running'}{', in SMM' if smm == '1' else ''}")
PY
}
