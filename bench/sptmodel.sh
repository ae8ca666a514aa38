#!/bin/sh
# make bench BENCH=sptmodel: trapless shadow page tables, modelled on real
# page-table traces (docs/sptmodel.md).
#
# One VM booted with pttrace=on runs the workloads one after the other, each
# closed by a `pt-mark` (the KVM statistics of that moment go into the
# trace): boot, cost (the shadow-fault cost measurement), spawn, mmap,
# mprotect, memtest, usertests (the page-table subset; USERTESTS=all for
# all of them). Then sptmodel prices the trace twice:
#   host       the per-trap costs measured here by `ptwork cost` (a shadow
#              fault from native user code; a system call of emulated kernel
#              code divided by its instruction count);
#   hardware   the model's defaults, typical of hardware virtualisation;
# and prints the three modes, the validation against KVM and the
# sensitivity. The plot goes to $PLOT (default docs/sptmodel.png).
set -u
B=${B:-build}
VESSEL=${VESSEL:-$B/vessel}
SPT=${SPT:-$B/sptmodel}
W=$B/sptmodel-bench
MEM=${MEM:-128M}
PLOT=${PLOT:-docs/sptmodel.png}
NS=
n=0
# instructions of a getpid round trip through the syscall erratum path,
# counted exactly under QEMU -icount (docs/results.md, "Null system call")
SYSCALL_INSNS=219
SUBSET="mmap_anon mmap_fixed munmap mprotect brk spawn_many exit_status threads_smp
tlb_shootdown exit_threads fault_isolation no_exec"

. tests/lib/vm.sh
rm -rf "$W"
mkdir -p "$W"

die() {
	echo "bench sptmodel: $*" >&2
	[ -f "$W/a.err" ] && tail -n 5 "$W/a.err" >&2
	stop_vm a 2>/dev/null
	exit 1
}

[ -w /dev/kvm ] || die "needs /dev/kvm"
command -v gnuplot >/dev/null || die "needs gnuplot (Debian package gnuplot-nox)"

idle() {
	before=$(grep -c "builtins: help" "$W/a.out")
	say a help
	i=0
	while [ $i -lt 3000 ]; do
		[ "$(grep -c "builtins: help" "$W/a.out")" -gt "$before" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# workload NAME PATTERN SECONDS COMMAND: run it, wait for PATTERN and for
# the shell, mark the trace
workload() {
	wl=$1 pat=$2 secs=$3
	shift 3
	t0=$(date +%s.%N)
	say a "$*"
	wait_for "$W/a.out" "$pat" "$secs" || die "$wl: no '$pat' within ${secs}s"
	idle a || die "$wl: the shell did not come back"
	t1=$(date +%s.%N)
	ctl a pt-mark "$wl" >/dev/null || die "$wl: pt-mark failed"
	printf '%-10s %6.1f s  (%s)\n' "$wl" "$(echo "$t1 - $t0" | bc)" "$*"
}

echo "== workloads (wall time is emulation-dominated: information only)"
t0=$(date +%s.%N)
# lookahead=off: lookahead's emulated stores fault pages in without a guest
# #PF; pti=off: the model has one page table per address space
# (docs/sptmodel.md)
start_vm a --mem "$MEM" --control "$W/a.sock" --pt-trace "$W/trace.ptr" \
	--cmdline "pttrace=on lookahead=off pti=off"
wait_for "$W/a.out" "vessel: ready" 120 || die "no boot"
idle a || die "no shell"
ctl a pt-mark boot >/dev/null || die "boot: pt-mark failed"
printf '%-10s %6.1f s\n' boot "$(echo "$(date +%s.%N) - $t0" | bc)"
workload cost "ptwork: cost pages" 300 ptwork cost 256
workload spawn "ptwork: spawn 40 done" 600 ptwork spawn 40
workload mmap "ptwork: mmap 40 x 16 done" 600 ptwork mmap 40 16
workload mprotect "ptwork: mprotect 20 x 32 done" 600 ptwork mprotect 20 32
workload memtest "memtest: round 1 ok" 600 memtest -m 4 -n 1 -i 0
args=$(echo $SUBSET)
[ "${USERTESTS:-}" = all ] && args=
workload usertests "# usertests: [0-9]* passed" 1800 usertests $args
grep -q "# usertests: [0-9]* passed, 0 failed" "$W/a.out" || die "usertests failed under tracing"
say a poweroff
wait_exit a 60
[ "$status" = 0 ] || die "the VM exited with status $status"
grep "pt-trace" "$W/a.err"

# ---- the costs measured on this host ----
set -- $(sed -n 's/.*ptwork: cost pages [0-9]* first \([0-9]*\) again \([0-9]*\) syscall \([0-9]*\).*/\1 \2 \3/p' "$W/a.out")
[ $# = 3 ] || die "no cost line from ptwork"
c_exit=$(($1 - $2))
c_emul=$(($3 / SYSCALL_INSNS))
mhz=$(awk '/^cpu MHz/ { print $4; exit }' /proc/cpuinfo)
echo
echo "== costs measured on this host (TSC cycles, ${mhz} MHz)"
echo "shadow fault round trip (first user touch of a kernel-mapped page - second touch): $1 - $2 = $c_exit"
echo "emulated kernel instruction (null syscall $3 / $SYSCALL_INSNS instructions): $c_emul"

"$SPT" --set c_exit=$c_exit --set c_emul=$c_emul --csv "$W/host.csv" "$W/trace.ptr" >"$W/host.md" ||
	die "sptmodel failed"
"$SPT" --csv "$W/hw.csv" "$W/trace.ptr" >"$W/hw.md" || die "sptmodel failed"
echo
echo "== priced with this host's costs (c_exit=$c_exit, c_emul=$c_emul)"
cat "$W/host.md"
echo "== priced with hardware-typical costs (the model's defaults: sptmodel --params)"
sed -n '/^## Modes/,/^## Validation/p' "$W/hw.md" | sed '$d'
sed -n '/^## Sensitivity/,$p' "$W/hw.md"

# ---- the plot ----
mkdir -p "$(dirname "$PLOT")"
gnuplot <<EOF || die "gnuplot failed"
set terminal pngcairo size 1200,560 font "sans,10"
set output "$PLOT"
set datafile separator ","
set multiplot layout 1,2 title "Modelled MMU-virtualisation cost per workload (real page-table traces)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set ylabel "Mcycles (log scale)"
set xtics rotate by -30
set key below horizontal
set grid ytics
set title "costs measured on this host (shadow fault $c_exit cycles)"
plot "$W/host.csv" every ::1 using 9:xtic(1) title "(a) trapping shadow", \
     "" every ::1 using 13 title "(a) with unsync (KVM)", \
     "" every ::1 using 10 title "(b) trapless accelerator", \
     "" every ::1 using 11 title "(c) nested (compulsory misses)"
set title "hardware-typical costs (sptmodel defaults)"
plot "$W/hw.csv" every ::1 using 9:xtic(1) title "(a) trapping shadow", \
     "" every ::1 using 13 title "(a) with unsync (KVM)", \
     "" every ::1 using 10 title "(b) trapless accelerator", \
     "" every ::1 using 11 title "(c) nested (compulsory misses)"
unset multiplot
EOF
echo "plot: $PLOT"
