#!/bin/sh
# pti.sh qemu KERNEL | pti.sh vessel VESSEL KERNEL: page-table isolation
# (docs/kernel.md, "Page-table isolation") with pti=on and pti=off: the boot
# log states the choice, and the kernel's pti_* self-tests pass (user table
# contents, a user read of kernel addresses, which entries switch tables).
# TAP on stdout; under vessel skipped without /dev/kvm.
set -u
platform=$1
shift
# pti_* self-tests (kernel/selftests_pti.c) that run with pti=on and off
# (pti_user_table_entry_set is skipped with pti=off: no user tables)
tests_on=3 tests_off=2
plan=$((tests_on + tests_off + 2))
echo "1..$plan"
if [ "$platform" = vessel ] && [ ! -e /dev/kvm ]; then
	for i in $(seq $plan); do echo "ok $i - pti # SKIP no /dev/kvm"; done
	exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
for m in on off; do
	case $platform in
	qemu) sh scripts/qemu-run.sh --timeout 280 --cmdline "selftest=pti_* pti=$m" "$1" ;;
	vessel) timeout 280 "$1" run --kernel "$2" --cmdline "selftest=pti_* pti=$m" ;;
	esac </dev/null >"$log" 2>&1
	tr -d '\r' <"$log" | grep -a '^# assertion\|killed' | sed 's/^/# /'
	if tr -d '\r' <"$log" | grep -aq "^pti: $m for 64-bit processes"; then
		echo "ok - pti=$m: the boot log says pti: $m"
	else
		echo "not ok - pti=$m: the boot log says pti: $m"
		rc=1
	fi
	n=$(tr -d '\r' <"$log" | grep -a '^ok [0-9]* - pti_' | grep -vc '# SKIP')
	tr -d '\r' <"$log" | grep -a '^\(not \)\{0,1\}ok [0-9]* - pti_' | grep -v '# SKIP' |
		sed "s/^\(\(not \)\{0,1\}ok\) [0-9]* - /\1 - pti=$m: /"
	[ "$m" = on ] && want=$tests_on || want=$tests_off
	[ "$n" = "$want" ] || rc=1
done
exit $rc
