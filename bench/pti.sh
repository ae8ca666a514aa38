#!/bin/sh
# bench/pti.sh: page-table isolation's cost per null system call
# (docs/kernel.md, "Page-table isolation"). Boots the kernel's `ubench`
# (getpid loops: 64-bit syscall, syscall through the ud2 stub, int $0x80,
# and int $0x80 from a 32-bit process; min of 5 x 2000 calls each) with
# pti=on and pti=off:
#   - under QEMU -icount shift=0 (one TSC tick = one guest instruction):
#     instructions per call and page-table switches per call;
#   - on the Vessel VMM (skipped without /dev/kvm): TSC ticks per call (wall
#     time: kernel code is emulated on this host) and KVM's own counters of
#     the whole run from its binary statistics (vessel run --stats), as
#     the difference on - off per call (both runs do the same work).
set -u
B=${B:-build}
kernel=$B/guest/vessel.elf
vessel=$B/vessel
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
calls=40000 # 4 paths x 5 x 2000

run() { # run PLATFORM MODE
	case $1 in
	qemu) sh scripts/qemu-run.sh --timeout 600 --icount --cmdline "ubench pti=$2" "$kernel" ;;
	vessel) timeout 600 "$vessel" run --kernel "$kernel" --cmdline "ubench pti=$2" --stats ;;
	esac </dev/null 2>&1 | tr -d '\r' >"$work/$1-$2.log"
	grep -a '^pti:' "$work/$1-$2.log"
}

ticks() { # ticks LOG PATH-PREFIX
	awk -v p="$2" 'index($0, "ubench: " p) == 1 { print $NF }' "$1"
}

switched() { # switched LOG PATH-PREFIX: switched entries per call, 2 decimals
	awk -v p="$2" 'BEGIN { sub(/ +$/, "", p); p = p ":" }
	index($0, "ubench-pti: " p) == 1 {
		for (i = 1; i <= NF; i++) if ($i == "calls,") c = $(i - 1);
		for (i = 1; i <= NF; i++) if ($i == "with") s = $(i - 1);
		printf "%.2f", s / c }' "$1"
}

table() { # table PLATFORM UNIT
	p=$1
	printf '\n## %s: per null call (%s)\n' "$p" "$2"
	printf '%-34s %10s %10s %8s %18s\n' path "pti=off" "pti=on" "on-off" "switches/call on"
	for path in "syscall (probe's choice)" "syscall via ud2 stub" "int \$0x80  " \
		"int \$0x80, 32-bit process"; do
		off=$(ticks "$work/$p-off.log" "$path") on=$(ticks "$work/$p-on.log" "$path")
		printf '%-34s %10s %10s %8s %18s\n' "$path" "$off" "$on" \
			"$(awk -v a="$on" -v b="$off" 'BEGIN { print a - b }')" \
			"$(switched "$work/$p-on.log" "$path")"
	done
}

for m in on off; do run qemu $m; done
table qemu "guest instructions, QEMU -icount shift=0"
if [ -w /dev/kvm ] && [ -x "$vessel" ]; then
	for m in on off; do run vessel $m; done
	table vessel "TSC ticks at 2.6 GHz, wall time of emulated kernel code"
	printf '\n## vessel: KVM binary statistics of the whole run (%d calls + boot)\n' $calls
	for m in on off; do
		echo "pti=$m: $(grep -a 'vessel: stats: kvm:' "$work/vessel-$m.log" | sed 's/.*kvm: //')"
	done
	for s in exits pf_guest tlb_flush insn_emulation; do
		on=$(grep -a 'stats: kvm:' "$work/vessel-on.log" | awk -v s=$s '{ for (i = 1; i < NF; i++) if ($i == s) print $(i + 1) }')
		off=$(grep -a 'stats: kvm:' "$work/vessel-off.log" | awk -v s=$s '{ for (i = 1; i < NF; i++) if ($i == s) print $(i + 1) }')
		awk -v s=$s -v a="$on" -v b="$off" -v n=$calls \
			'BEGIN { printf "%s per call, on - off: %.3f\n", s, (a - b) / n }'
	done
else
	echo "vessel: skipped (no /dev/kvm or $vessel not built)"
fi
