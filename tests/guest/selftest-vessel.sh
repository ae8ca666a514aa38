#!/bin/sh
# selftest-vessel.sh VESSEL KERNEL INITRD: the kernel self-test suite under
# the Vessel VMM on /dev/kvm. Prints the kernel's TAP; skipped without KVM.
set -u
vessel=$1 kernel=$2 initrd=$3
if [ ! -e /dev/kvm ]; then
	echo "ok 1 - kernel selftest under vessel # SKIP no /dev/kvm"
	exit 0
fi
if [ ! -x "$vessel" ]; then
	echo "not ok 1 - kernel selftest under vessel: $vessel not built"
	exit 1
fi
set -- run --cpus 2 --mem 256M --kernel "$kernel" --cmdline selftest
[ -f "$initrd" ] && set -- "$@" --initrd "$initrd"
"$vessel" "$@" </dev/null
rc=$?
[ "$rc" = 0 ] || echo "# vessel run exited with status $rc"
exit "$rc"
