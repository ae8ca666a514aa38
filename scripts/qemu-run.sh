#!/bin/sh
# qemu-run.sh [options] KERNEL_ELF
# Boots the Vessel kernel under QEMU TCG through Multiboot, console on
# stdio, and exits with the kernel's power-off status.
#
#   --cmdline STR   kernel command line (QEMU -append)
#   --initrd FILE   initrd (a Multiboot module); skipped if the file is absent
#   --cpus N        vCPUs (default 2)
#   --mem MIB       RAM in MiB (default 256)
#   --accel A       tcg (default) or kvm
#   --timeout S     kill QEMU after S seconds (exit 124)
#   --icount        TCG with -icount shift=0: the guest TSC counts instructions
#   --disk FILE[,readonly]  a raw image as a virtio-blk disk (repeatable: vda,
#                   vdb, ...).
#                   The 'pc' machine has no virtio-mmio bus, so this boots
#                   QEMU's microvm machine instead (one IOAPIC, virtio-mmio
#                   version 2), and tells the kernel where each disk is with
#                   virtio_mmio.device=512@BASE:IRQ: QEMU fills the
#                   transports from the last (0xfeb00e00, GSI 23) down.
#
# The kernel powers off by writing its status to isa-debug-exit (port 0xf4);
# QEMU then exits with (status << 1) | 1, translated back here. A QEMU exit
# of 0 means the guest reset or triple-faulted (-no-reboot): reported as 125,
# like the Vessel VMM's guest-fault status.
set -u
cmdline= initrd= cpus=2 mem=256 accel=tcg timeout= icount= disks=
while [ $# -gt 1 ]; do
	case $1 in
	--cmdline) cmdline=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--icount) icount=1; shift ;;
	--disk) disks="$disks $2"; shift 2 ;;
	*) echo "qemu-run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: qemu-run.sh [options] KERNEL_ELF" >&2; exit 2; }
kernel=$1
[ -f "$kernel" ] || { echo "qemu-run.sh: kernel $kernel not found (make guest)" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "qemu-run.sh: qemu-system-x86_64 missing (apt-get install qemu-system-x86)" >&2; exit 2; }

set -- -accel "$accel" -smp "$cpus" -m "$mem" -display none -monitor none -serial stdio \
	-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$kernel"
if [ -n "$disks" ]; then
	slot=7 where=
	for d in $disks; do
		ro=
		case $d in *,readonly) d=${d%,readonly} ro=,readonly=on ;; esac
		[ -f "$d" ] || { echo "qemu-run.sh: disk image $d not found" >&2; exit 2; }
		[ $slot -ge 0 ] || { echo "qemu-run.sh: at most 8 disks" >&2; exit 2; }
		set -- "$@" -drive "id=vd$slot,file=$d,format=raw,if=none$ro" \
			-device "virtio-blk-device,drive=vd$slot"
		where="$where virtio_mmio.device=512@$(printf '0x%x' $((0xfeb00000 + slot * 512))):$((16 + slot))"
		slot=$((slot - 1))
	done
	set -- -M microvm,ioapic2=off -global virtio-mmio.force-legacy=false "$@"
	# before init=, which takes the rest of the line
	cmdline="${where# } $cmdline"
fi
[ -n "$cmdline" ] && set -- "$@" -append "$cmdline"
[ -n "$initrd" ] && [ -f "$initrd" ] && set -- "$@" -initrd "$initrd"
[ -n "$icount" ] && set -- "$@" -icount shift=0,sleep=off

# QEMU's own errors also exit 1, like a kernel power-off with status 0:
# keep its stderr apart to tell them apart.
err=$(mktemp)
trap 'rm -f "$err"' EXIT
if [ -n "$timeout" ]; then
	timeout -k 5 "$timeout" qemu-system-x86_64 "$@" 2>"$err"
else
	qemu-system-x86_64 "$@" 2>"$err"
fi
rc=$?
cat "$err" >&2
if [ "$rc" = 1 ] && grep -q 'qemu-system-x86_64:' "$err"; then
	echo "qemu-run.sh: qemu failed" >&2
	exit 1
fi
case $rc in
0) echo "qemu-run.sh: the guest reset or triple-faulted (no power-off)" >&2; exit 125 ;;
124 | 137) echo "qemu-run.sh: timed out after ${timeout}s" >&2; exit 124 ;;
esac
if [ $((rc % 2)) -eq 1 ]; then
	exit $(((rc - 1) / 2))
fi
echo "qemu-run.sh: qemu failed with status $rc" >&2
exit 1
