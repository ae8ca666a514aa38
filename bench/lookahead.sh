#!/bin/sh
# bench/lookahead.sh: system-call lookahead on against off (docs/lookahead.md).
# Boots the kernel with lookahead=on and lookahead=off and runs labench's
# pair-heavy loops (getpid; copy = cat of a file in 16-byte reads/writes;
# rr = seek/read/time-stamp rounds):
#   - under QEMU -icount shift=0 (TSC ticks = guest instructions, exact and
#     independent of the host): kernel entries and guest instructions per op;
#   - on the Vessel VMM (skipped without /dev/kvm): entries and wall time per
#     op (kernel code is emulated on this host, so every kernel instruction
#     the emulation costs is paid in time; each saved entry also saves the
#     ud2 erratum trap).
# Prints one table per platform and the divergences: the workloads' results
# (and the copied bytes) must be the same on and off.
set -u
B=${B:-build}
kernel=$B/guest/vessel.elf
initrd=$B/user/initrd.img
vessel=$B/vessel
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
session='labench getpid 2000 copy 20 rr 1000\npoweroff\n'
divergences=0

run() { # run PLATFORM MODE
	case $1 in
	qemu) printf "$session" | sh scripts/qemu-run.sh --timeout 600 --icount \
		--initrd "$initrd" --cmdline "lookahead=$2" "$kernel" ;;
	vessel) printf "$session" | timeout 600 "$vessel" run --kernel "$kernel" \
		--initrd "$initrd" --cmdline "lookahead=$2" ;;
	esac >"$work/$1-$2.log" 2>&1
	tr -d '\r' <"$work/$1-$2.log" | sed 's/^\(\$ \)*//' >"$work/$1-$2.txt"
	grep -a '^labench:' "$work/$1-$2.txt" >"$work/$1-$2.lines"
	grep -a '^Hello from' "$work/$1-$2.txt" >"$work/$1-$2.copy"
}

field() { # field LINEFILE WORKLOAD NAME
	awk -v w="$2" -v f="$3" '$2 == w { for (i = 3; i < NF; i++) if ($i == f) print $(i + 1) }' "$1"
}

table() { # table PLATFORM UNIT FIELD
	p=$1
	echo
	echo "## $p: lookahead on vs off (per operation; entries = system-call entries + interrupts + exceptions)"
	printf '%-7s %8s %9s %9s %7s %9s %9s %7s %7s %11s %11s %7s\n' workload calls \
		"sysent off" "sysent on" fewer "entr off" "entr on" fewer saved "$2 off" "$2 on" ratio
	for w in getpid copy rr; do
		on=$work/$p-on.lines off=$work/$p-off.lines
		if [ -z "$(field "$on" $w entries/op)" ] || [ -z "$(field "$off" $w entries/op)" ]; then
			echo "$w: no result (see the logs)"
			divergences=$((divergences + 1))
			continue
		fi
		awk -v w=$w -v c="$(field "$off" $w calls/op)" \
			-v sa="$(field "$off" $w sysentries/op)" -v sb="$(field "$on" $w sysentries/op)" \
			-v a="$(field "$off" $w entries/op)" -v b="$(field "$on" $w entries/op)" \
			-v s="$(field "$on" $w saved)" -v x="$(field "$off" $w "$3")" \
			-v y="$(field "$on" $w "$3")" 'BEGIN {
			printf "%-7s %8s %9s %9s %6.1f%% %9s %9s %6.1f%% %7s %11s %11s %6.2fx\n",
			w, c, sa, sb, (sa > 0 ? 100 * (sa - sb) / sa : 0), a, b,
			(a > 0 ? 100 * (a - b) / a : 0), s, x, y, (x > 0 ? y / x : 0) }'
		if [ "$(field "$on" $w result)" != "$(field "$off" $w result)" ]; then
			echo "DIVERGENCE: $p $w result on $(field "$on" $w result) off $(field "$off" $w result)"
			divergences=$((divergences + 1))
		fi
	done
	if ! cmp -s "$work/$p-on.copy" "$work/$p-off.copy"; then
		echo "DIVERGENCE: $p copy output differs"
		divergences=$((divergences + 1))
	fi
}

for m in on off; do run qemu $m; done
table qemu "insns/op" ticks/op
if [ -w /dev/kvm ] && [ -x "$vessel" ]; then
	for m in on off; do run vessel $m; done
	table vessel "ns/op" ns/op
else
	echo "vessel: skipped (no /dev/kvm or $vessel not built)"
fi
echo
echo "lookahead: $divergences divergences"
[ "$divergences" = 0 ]
