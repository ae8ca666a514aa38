#!/bin/sh
# TLB shootdowns (issue 15, docs/kernel.md "Cross-CPU calls and TLB
# shootdowns"), in one run:
#  1. the native replica (bench/tlb_replica.c): the guest's queue, lazy-mode
#     and flush code on the host, two pinned threads, a doorbell for the IPI:
#     single round trips in the split and consolidated layouts, and the
#     cache lines each side touches; `perf stat` cache misses where the
#     host's PMU is available;
#  2. guest counts (not time): a multithreaded usertests workload (a sibling
#     thread per other CPU computing, or sleeping so its CPU idles lazily,
#     while CPU 0 maps and unmaps a page ROUNDS times): shootdowns, IPIs per
#     shootdown and CPUs skipped by lazy mode, on the Vessel VMM (2 CPUs)
#     and QEMU TCG (4 CPUs), in both layouts;
#  3. the privileged mode (K6): one entry's cost in IPIs and stopped TSC
#     cycles (the kernel's `privbench`), Vessel and QEMU -icount.
#   B=build sh bench/tlb.sh            ROUNDS=200
set -u
B=${B:-build}
ROUNDS=${ROUNDS:-200}
kernel=$B/guest/vessel.elf
initrd=$B/user/initrd.img
W=$B/bench-tlb
mkdir -p "$W"

"$B/bench/tlb_replica" || exit 1
echo
if perf stat -x, -e cache-misses true 2>&1 | grep -q '^[0-9]'; then
	for l in consolidated split; do
		echo "perf stat, $l layout only:"
		perf stat -e cache-misses,cycles "$B/bench/tlb_replica" -l $l 2>&1 |
			grep -E 'cache-misses|cycles|median'
	done
else
	echo "perf stat: no hardware cache-miss counter on this host (perf stat -e cache-misses" \
		"is not supported): the line counts above stand in for it"
fi
echo

# guest RUNNER-ARGS... -> the tlbwork lines of one boot (both modes)
guest() {
	printf 'usertests -h tlbwork busy %s\nusertests -h tlbwork sleep %s\npoweroff\n' \
		"$ROUNDS" "$ROUNDS" | timeout -k 5 600 "$@" >"$W/console.log" 2>&1
	tr -d '\r' <"$W/console.log" | sed -n 's/^.*# tlbwork \([a-z]*\), \([0-9]*\) CPUs, \([0-9]*\) munmaps: \(.*\)$/\1 \2 \3 \4/p'
}

# prints one table row per mode from guest()'s lines
rows() {
	awk -v where="$1" -v layout="$2" '{
		mode = $1; ncpu = $2; munmaps = $3
		for (i = 4; i < NF; i += 2) v[$i] = $(i + 1)
		ipis = v["shootdown_ipis"]; sd = v["shootdowns"]
		printf "%-8s %-13s %-6s %4d %8d %11d %6d %11s %10d %9d\n", where, layout, mode, ncpu,
			munmaps, sd, ipis, sd ? sprintf("%.2f", ipis / sd) : "-",
			v["lazy_skipped"], v["lazy_catchups"]
	}'
}

echo "guest counts: a thread per other CPU computing (busy) or sleeping 1 ms at a time (sleep)"
echo "while CPU 0 maps, touches and unmaps a page $ROUNDS times"
printf '%-8s %-13s %-6s %4s %8s %11s %6s %11s %10s %9s\n' where layout mode cpus munmaps \
	"shootdowns" IPIs "IPIs/shoot" "lazy skip" "catch-ups"
for layout in consolidated split; do
	if [ -w /dev/kvm ]; then
		guest "$B/vessel" run --cpus 2 --mem 256M --kernel "$kernel" --initrd "$initrd" \
			--cmdline "tlb.layout=$layout" | rows vessel $layout
	fi
	guest sh scripts/qemu-run.sh --cpus 4 --cmdline "tlb.layout=$layout" --initrd "$initrd" \
		"$kernel" | rows qemu-tcg $layout
done

echo
echo "privileged mode (K6): one entry of a privileged function that does nothing, 20 entries"
echo "(IPIs: the entry's own VEC_PRIV, a stop IPI and a release NMI per other CPU; TSC cycles"
echo "count guest instructions under QEMU -icount, emulated-kernel time under Vessel)"
if [ -w /dev/kvm ]; then
	printf 'vessel 2 CPUs:    '
	timeout -k 5 300 "$B/vessel" run --cpus 2 --mem 256M --kernel "$kernel" --cmdline privbench \
		</dev/null 2>&1 | tr -d '\r' | sed -n 's/^privbench: //p'
fi
for n in 2 4; do
	printf 'qemu -icount %s:  ' $n
	sh scripts/qemu-run.sh --icount --cpus $n --timeout 300 --cmdline privbench "$kernel" \
		</dev/null 2>&1 | tr -d '\r' | sed -n 's/^privbench: //p'
done
