#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the pinsuite VM (busybox sh).  vm/run.sh packs this file into the
# initramfs together with busybox, the installed suite, the kernel config and
# the kernel's modules.  It prepares the machine the way the suite expects
# (modules, scratch disks, swap, edu bound to vfio-pci), runs run_tests.sh and
# streams its output on a dedicated results channel; kernel messages stay on
# the console (ttyS0).  Lines starting with "@@pinsuite-vm@@" on the results
# channel are control lines for the host; everything else is suite output.

PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
MARK='@@pinsuite-vm@@'

/bin/busybox mkdir -p /proc /sys /dev /tmp /run /mnt /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Without CONFIG_DEVTMPFS, let busybox mdev create the nodes.
[ -e /dev/null ] || mdev -s
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t devpts devpts /dev/pts 2>/dev/null

# Settings written by vm/run.sh: VM_CHAN, VM_SWAP, VM_ZRAM_SIZE, VM_SUITE_DIR,
# VM_STALL and "set -- ARGS" (the arguments for run_tests.sh).
VM_CHAN=ttyS1
VM_SWAP=auto
VM_ZRAM_SIZE=512M
VM_SUITE_DIR=/opt/pinsuite
VM_STALL=300
# shellcheck source=/dev/null
. /etc/pinsuite/vm.conf

say() { echo "pinsuite-vm: $*" >/dev/console 2>/dev/null; }

# pinsuite.shell=1 on the kernel command line: prepare the machine, then
# give a shell on the console instead of running the suite (LAVA's test
# shell, lava/README.md; or a look by hand).  The host reads nothing then:
# what would go to the results channel goes to the console.
VM_SHELL=0
case " $(cat /proc/cmdline) " in *" pinsuite.shell=1 "*) VM_SHELL=1 ;; esac

# The results channel.  Raw mode: no \n -> \r\n, no echo.
i=0
while [ $VM_SHELL = 0 ] && [ ! -e "/dev/$VM_CHAN" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ $VM_SHELL = 0 ] || VM_CHAN=console
[ $VM_SHELL = 1 ] || stty -F "/dev/$VM_CHAN" raw -echo 2>/dev/null
if ! exec 3>"/dev/$VM_CHAN"; then
	say "no results channel /dev/$VM_CHAN"
	exec 3>/dev/console
fi

ctl() { echo "$MARK $*" >&3; }
info() { ctl info "$*"; }

ctl boot "$(cut -d' ' -f1 /proc/uptime)"
info "kernel $(uname -r), cmdline: $(cat /proc/cmdline)"

# The config for skip reasons: /boot/config-$(uname -r).
if [ -f /boot/config-pinsuite ]; then
	ln -sf config-pinsuite "/boot/config-$(uname -r)"
fi

# Modules, in the order the host resolved from the dependency data.
REL=$(uname -r)
if [ -f /lib/modules/modules.load ]; then
	loaded=0
	failed=
	while read -r m; do
		[ -n "$m" ] || continue
		if out=$(insmod "/lib/modules/$REL/$m" 2>&1); then
			loaded=$((loaded + 1))
		else
			failed="$failed ${m##*/}(${out##*: })"
		fi
	done </lib/modules/modules.load
	info "modules: $loaded loaded${failed:+, failed:$failed}"
fi

# Scratch disks: virtio-blk with serial pinsuite-<name>.
blkdev() {
	for b in /sys/block/vd*; do
		[ -e "$b/serial" ] || continue
		if [ "$(cat "$b/serial")" = "pinsuite-$1" ]; then
			echo "/dev/${b##*/}"
			return 0
		fi
	done
	return 1
}
i=0
while [ $i -lt 30 ]; do
	missing=0
	for d in $VM_DISKS; do
		blkdev "$d" >/dev/null || missing=1
	done
	[ $missing -eq 0 ] && break
	sleep 0.1
	i=$((i + 1))
done

DISK_DIRS=
for fs in ext4 xfs; do
	case " $VM_DISKS " in *" $fs "*) ;; *) continue ;; esac
	dev=$(blkdev "$fs") || { info "no $fs disk"; continue; }
	mkdir -p "/mnt/$fs"
	if out=$(mount -t "$fs" "$dev" "/mnt/$fs" 2>&1); then
		chmod 1777 "/mnt/$fs"
		DISK_DIRS="${DISK_DIRS:+$DISK_DIRS:}/mnt/$fs"
	else
		info "mounting $fs on $dev failed: $out"
	fi
done
info "disk dirs: ${DISK_DIRS:-none}"

# Swap: zram when the kernel has it, else the swap disk.
swap=
if [ "$VM_SWAP" != disk ] && [ -e /sys/block/zram0/disksize ]; then
	if echo "$VM_ZRAM_SIZE" >/sys/block/zram0/disksize 2>/dev/null &&
		mkswap /dev/zram0 >/dev/null 2>&1 && swapon /dev/zram0 2>/dev/null; then
		swap="zram0 $VM_ZRAM_SIZE ($(sed 's/.*\[\([^]]*\)\].*/\1/' \
			/sys/block/zram0/comp_algorithm 2>/dev/null))"
	fi
fi
if [ -z "$swap" ] && dev=$(blkdev swap) && swapon "$dev" 2>/dev/null; then
	swap="disk $dev"
fi
info "swap: ${swap:-none}"

# The edu device (1234:11e8) to vfio-pci.  Nothing else is ever unbound.
VFIO_DEV=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor" 2>/dev/null)" = 0x1234 ] || continue
	[ "$(cat "$d/device" 2>/dev/null)" = 0x11e8 ] || continue
	bdf=${d##*/}
	if [ ! -e "$d/driver" ]; then
		echo vfio-pci >"$d/driver_override" 2>/dev/null &&
			echo "$bdf" >/sys/bus/pci/drivers_probe 2>/dev/null
	fi
	drv=$(readlink "$d/driver" 2>/dev/null)
	if [ "${drv##*/}" = vfio-pci ]; then
		VFIO_DEV=$bdf
		info "edu $bdf bound to vfio-pci, iommu group $(readlink "$d/iommu_group" | sed 's:.*/::')"
	else
		info "edu $bdf not bound to vfio-pci (driver: ${drv##*/})"
	fi
	break
done
[ -n "$VFIO_DEV" ] || [ -n "$bdf" ] || info "no edu device"

nodes=0
for n in /sys/devices/system/node/node[0-9]*; do
	[ -d "$n" ] && nodes=$((nodes + 1))
done
huge=
for h in /sys/kernel/mm/hugepages/hugepages-*; do
	[ -e "$h/nr_hugepages" ] || continue
	huge="$huge ${h##*hugepages-}=$(cat "$h/nr_hugepages")"
done
info "numa nodes: $nodes; hugetlb:${huge:- none}; mem: $(sed -n 's/MemTotal: *//p' /proc/meminfo)"

export PINSUITE_IN_VM=1
export PINSUITE_DISK_DIRS="$DISK_DIRS"
[ -n "$VFIO_DEV" ] && export PINSUITE_VFIO_DEVICE="$VFIO_DEV"
# rdma_pin's device where it cannot make a veth pair (vm/run.sh's NIC).
RDMA_DEV=
[ -e /sys/class/net/eth0 ] && RDMA_DEV=eth0 && export PINSUITE_RDMA_NETDEV=eth0
export HOME=/tmp TMPDIR=/tmp

if [ $VM_SHELL = 1 ]; then
	# A login shell reads the suite's environment from /etc/profile.
	{
		echo "export PINSUITE_IN_VM=1 PINSUITE_DISK_DIRS='$DISK_DIRS' HOME=/tmp TMPDIR=/tmp"
		[ -z "$VFIO_DEV" ] || echo "export PINSUITE_VFIO_DEVICE=$VFIO_DEV"
		[ -z "$RDMA_DEV" ] || echo "export PINSUITE_RDMA_NETDEV=$RDMA_DEV"
		echo "PS1='pinsuite-vm# '"
	} >/etc/profile
	info "shell on the console (pinsuite.shell=1); the suite is in $VM_SUITE_DIR"
	cd / && setsid cttyhack sh -l
	poweroff -f
fi
cd "$VM_SUITE_DIR" || info "no suite directory $VM_SUITE_DIR"
# The machine-readable results: run_tests.sh --json into the guest's /tmp
# (a runner from before --json gets none), sent to the host after the run.
JSON=/tmp/pinsuite-results.json
if grep -q -e '--json' ./run_tests.sh 2>/dev/null; then
	set -- --json "$JSON" "$@"
else
	JSON=
fi
# A suite that stops making progress (no case ended for VM_STALL seconds:
# longer than a case's timeout and the grace to kill it) says which tasks
# sleep where in the kernel, while the guest still can: the host's --timeout
# only sees silence.  The lines go into the results as diagnostics, the
# kernel's own list of blocked tasks (sysrq w) to the console.
stall_watch() {
	last=-1 quiet=0
	while sleep 30; do
		n=$(wc -c <"$JSON" 2>/dev/null) || n=0
		if [ "$n" != "$last" ]; then
			last=$n quiet=0
			continue
		fi
		quiet=$((quiet + 30))
		[ $quiet -ge $VM_STALL ] || continue
		quiet=0
		{
			echo "# pinsuite-vm stall: no case ended for ${VM_STALL}s; tasks in D state:"
			for d in /proc/[0-9]*; do
				grep -q '^State:[[:space:]]*D' "$d/status" 2>/dev/null || continue
				echo "# pinsuite-vm stall:   pid ${d#/proc/} $(cat "$d/comm" 2>/dev/null) in $(cat "$d/wchan" 2>/dev/null)"
				sed 's/^/# pinsuite-vm stall:     /' "$d/stack" 2>/dev/null | head -n 16
			done
		} >&3
		# The list is printed at KERN_INFO, below the console's quiet
		# level, which is checked as the console catches up.
		read -r lvl _ </proc/sys/kernel/printk
		echo 7 >/proc/sys/kernel/printk
		echo w >/proc/sysrq-trigger 2>/dev/null
		sleep 3
		echo "$lvl" >/proc/sys/kernel/printk
	done
}
ctl taint-before "$(cat /proc/sys/kernel/tainted)"
echo "pinsuite-vm: suite start" >/dev/kmsg
ctl suite-start
WATCH=
if [ -n "$JSON" ]; then
	stall_watch &
	WATCH=$!
fi
./run_tests.sh "$@" </dev/null >&3 2>&1
rc=$?
[ -z "$WATCH" ] || kill "$WATCH" 2>/dev/null
echo "pinsuite-vm: suite end (exit $rc)" >/dev/kmsg
ctl taint-after "$(cat /proc/sys/kernel/tainted)"
ctl rc "$rc"
ctl dmesg-begin
dmesg >&3
ctl dmesg-end
# The JSON Lines, one control line each, framed so that the host can tell
# a complete copy from a guest that died while sending it.  (JSON escapes
# every control character: a record never spans two lines.)
if [ -n "$JSON" ] && [ -f "$JSON" ]; then
	ctl json-begin
	sed -e '/^[[:space:]]*$/d' -e "s/^/$MARK json /" "$JSON" >&3
	ctl json-end "$(grep -c -v '^[[:space:]]*$' "$JSON")"
else
	ctl json-none
fi
ctl end
sync
exec 3>&-
poweroff -f
echo o >/proc/sysrq-trigger
