#!/bin/sh
# Live migration of a 1 GiB guest over loopback, Vessel versus QEMU
# (qemu-system-x86_64 -accel kvm, Debian's package, the same kernel booted
# through Multiboot), in one run: total migration time, downtime and bytes on
# the wire, median of RUNS runs each. Workloads:
#   idle       the kernel at its prompt
#   dirty      memtest re-writing DIRTY_PAGES pages every 100 ms in a 64 MiB buffer
#   populated  POP_MIB MiB of random bytes in use in the guest, idle while it
#              migrates: an initrd holding the usual programs and a POP_MIB
#              MiB file (the kernel keeps its initrd, so those pages are in
#              use, never free); the VMM loads it at host speed, where
#              `memtest -m 512` would take minutes here (every first touch of
#              a page is a guest page fault, emulated: 2-4 ms each)
#   fastdirty  memtest re-writing its 64 MiB buffer (4096 pages every 50 ms)
#              while the source may send FAST_CAP MiB/s: faster than the
#              wire, pre-copy cannot converge; Vessel only, pre-copy against
#              post-copy (QEMU is not run: it would iterate forever)
# The raw loopback TCP throughput (bench/migrate_transport: 1 GiB through one
# socket pair, no VM) is measured first and last: the physical limit of a
# migration between two processes here; the populated migration is given as
# a fraction of it. VMMs:
#   vessel           pre-copy (the default)
#   vessel-classic   pre-copy with the classic dirty log (VESSEL_DIRTY_LOG=classic)
#   vessel-tls       pre-copy over TLS (certificates by tests/migrate/tls-creds.sh)
#   vessel-prealloc  pre-copy into a destination started with --mem-prealloc
#                    (its memory allocated before the migration begins)
#   vessel-postcopy  post-copy at once (migrate --postcopy): total time, the
#                    pause until the destination runs the VM, and the latency
#                    of the faults that had to wait for the source (measured
#                    by the destination: from reading the fault to the page
#                    installed)
#   qemu             QEMU pre-copy, one stream
#   qemu-multifd     QEMU pre-copy, multifd with 2 channels
# QEMU's bandwidth cap is lifted (max-bandwidth 10 GiB/s; its default is
# 128 MiB/s); its downtime limit stays at the default 300 ms.
#   B=build sh bench/migrate.sh     RUNS=3 MEM=1024 WORKLOADS="idle dirty populated fastdirty"
#                                   VMMS="vessel vessel-prealloc vessel-classic vessel-tls vessel-postcopy qemu qemu-multifd"
set -u
B=${B:-build}
RUNS=${RUNS:-3}
MEM=${MEM:-1024}
WORKLOADS=${WORKLOADS:-idle dirty populated fastdirty}
VMMS=${VMMS:-vessel vessel-prealloc vessel-classic vessel-tls vessel-postcopy qemu qemu-multifd}
DIRTY_PAGES=${DIRTY_PAGES:-1024}
POP_MIB=${POP_MIB:-512}
FAST_CAP=${FAST_CAP:-32}
VESSEL=$B/vessel
QMP=$B/bench/migrate_qmp
kernel=$B/guest/vessel.elf
initrd=$B/user/initrd.img
W=$B/bench-migrate
PORT=$((30000 + $$ % 20000))
[ -e /dev/kvm ] || { echo "migrate bench: no /dev/kvm, skipped"; exit 0; }
rm -rf "$W"
mkdir -p "$W"
sh "$(dirname "$0")/../tests/migrate/tls-creds.sh" "$W/tls" >/dev/null || exit 1
has() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }
if has populated "$WORKLOADS"; then
	head -c $((POP_MIB << 20)) /dev/urandom >"$W/ballast.bin"
	"$B/mkinitrd" -o "$W/populated.img" "$B"/user/bin/* ballast="$W/ballast.bin" >/dev/null ||
		exit 1
	rm -f "$W/ballast.bin"
fi

start() { # NAME CMD...: console in W/NAME.out, stdin from a fifo
	name=$1
	shift
	rm -f "$W/$name.in"
	mkfifo "$W/$name.in"
	: >"$W/$name.out"
	: >"$W/$name.err"
	"$@" <"$W/$name.in" >"$W/$name.out" 2>"$W/$name.err" &
	echo $! >"$W/$name.pid"
	sleep 1000 >"$W/$name.in" &
	echo $! >"$W/$name.hold"
}
stop() {
	kill -9 "$(cat "$W/$1.pid")" 2>/dev/null
	wait "$(cat "$W/$1.pid")" 2>/dev/null
	kill "$(cat "$W/$1.hold")" 2>/dev/null
}
wait_for() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "migrate bench: timed out waiting for '$2' in $1" >&2
	return 1
}
field() { # JSON-TEXT KEY: first number after "KEY":
	printf '%s' "$1" | tr -d ' \n' | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" | head -n 1
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
num() { # TEXT REGEX-BEFORE: the number after it in TEXT, or "-"
	v=$(printf '%s\n' "$1" | sed -n "s/.*$2\([0-9.][0-9.]*\).*/\1/p" | head -n 1)
	echo "${v:--}"
}

# the guest's extra boot arguments and the memtest a workload runs
guest_args() { # WORKLOAD VMM(vessel|qemu)
	f=--initrd
	[ "$2" = qemu ] && f=-initrd
	case $1 in
	idle) [ "$2" = qemu ] || echo --no-initrd ;;
	populated) echo "$f $W/populated.img" ;;
	*) echo "$f $initrd" ;;
	esac
}
memtest_of() {
	case $1 in
	dirty) echo "memtest -m 64 -i 100 -d $DIRTY_PAGES" ;;
	fastdirty) echo "memtest -m 64 -i 50 -d 16384" ;;
	esac
}

# guest_ready NAME WORKLOAD: booted, and for dirty and fastdirty memtest running
guest_ready() {
	wait_for "$W/$1.out" "vessel: ready" 300 || return 1
	mt=$(memtest_of "$2")
	[ -z "$mt" ] && return 0
	sleep 1
	printf '%s &\n' "$mt" >"$W/$1.in"
	wait_for "$W/$1.out" "memtest: round 3 ok" 300
}

# the raw loopback limit: MiB/s through one TCP socket pair
loopback() {
	"$B/bench/migrate_transport" "$W/tls" "${TRANSPORT_MIB:-1024}" tcp |
		sed -n 's/.* ms, \([0-9]*\) MiB\/s.*/\1/p'
}

# paired_loopback WORKLOAD: for populated, the loopback limit measured now
# (both VMs up, right before the migration), else "-"; paired_fraction
# BYTES TOTAL_MS LOOPBACK: the run's throughput as a fraction of it
paired_loopback() {
	[ "$1" = populated ] || { echo -; return; }
	v=$(TRANSPORT_MIB=${PAIR_MIB:-512} loopback)
	echo "${v:--}"
}
paired_fraction() {
	awk -v b="$1" -v t="$2" -v l="$3" 'BEGIN {
		if (b == "-" || t == "-" || l == "-" || t == 0 || l == 0) print "-"
		else printf "%.3f", b / 1048576 / (t / 1000) / l }'
}

# vessel_once WORKLOAD -> "total_ms resume_ms bytes source_downtime_ms
# sender_cpu_ms receiver_cpu_ms faults lat_p50 lat_p90 lat_p99 lat_max
# of_loopback" (of_loopback: paired_fraction, populated only)
# (over TLS when TLS=1, post-copy at once when POSTCOPY=1)
vessel_once() {
	PORT=$((PORT + 1))
	scheme=tcp creds= margs= cap= dargs=
	[ "${PREALLOC:-0}" = 1 ] && dargs=--mem-prealloc
	[ "${TLS:-0}" = 1 ] && scheme=tls creds="--tls-creds $W/tls/good"
	[ "${POSTCOPY:-0}" = 1 ] && margs=--postcopy
	[ "$1" = fastdirty ] && cap="env VESSEL_MIG_MAX_MIBS=$FAST_CAP"
	rm -f "$W/vs.sock"
	start vs $cap "$VESSEL" run --mem "${MEM}M" --kernel "$kernel" $(guest_args "$1" vessel) \
		--control "$W/vs.sock" $creds
	guest_ready vs "$1" || { stop vs; return 1; }
	start vd "$VESSEL" run --mem "${MEM}M" --incoming "$scheme:127.0.0.1:$PORT" $creds $dargs
	wait_for "$W/vd.err" "waiting for an incoming" 60
	plo=$(paired_loopback "$1")
	"$VESSEL" ctl "$W/vs.sock" migrate $margs "$scheme:127.0.0.1:$PORT" >/dev/null
	# the source exits once the hand-over (post-copy: the last page) is done;
	# its summary has the numbers
	i=0
	while kill -0 "$(cat "$W/vs.pid")" 2>/dev/null && [ $i -lt 1200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	line=$(grep "migrated to" "$W/vs.err" | tail -n 1)
	[ -n "$line" ] && wait_for "$W/vd.err" "incoming.* migration complete" 30
	stop vs
	dline=$(grep "incoming.* migration complete" "$W/vd.err" | tail -n 1)
	stop vd
	[ -n "$line" ] || { echo "migrate bench: vessel migration failed" >&2; cat "$W/vs.err" >&2; return 1; }
	# pre-copy: "migrated to URI: N passes, X MiB (B bytes) in T ms (R MiB/s),
	#   downtime D ms (stream sent after S ms), ..., sender CPU C ms"
	# post-copy: "migrated to URI with post-copy: X MiB (B bytes) in T ms (R
	#   MiB/s), paused P ms until the destination ran the VM, ..."
	# destination: "... N faults waited for the source: latency p50 A ms, p90
	#   B ms, p99 C ms, max D ms; ...; receiver CPU E ms"
	resume=$(num "$line" "downtime ")
	[ "$resume" = - ] && resume=$(num "$line" "paused ")
	faults=$(num "$dline" " ")
	case $dline in *"faults waited"*) faults=$(printf '%s\n' "$dline" | sed -n 's/.*; \([0-9]*\) faults waited.*/\1/p') ;; *) faults=0 ;; esac
	total=$(num "$line" " in ")
	bytes=$(num "$line" "MiB (")
	echo "$total $resume $bytes $(num "$line" "stream sent after ")" \
		"$(num "$line" "sender CPU ") $(num "$dline" "receiver CPU ") $faults" \
		"$(num "$dline" "p50 ") $(num "$dline" "p90 ") $(num "$dline" "p99 ") $(num "$dline" "max ")" \
		"$(paired_fraction "$bytes" "$total" "$plo")"
}

qemu_once() { # WORKLOAD -> "total_ms - bytes source_downtime_ms" (MULTIFD=1: 2 channels)
	PORT=$((PORT + 1))
	wl=$1 # (the positional parameters carry QMP commands below)
	caps=
	[ "${MULTIFD:-0}" = 1 ] &&
		caps='{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"multifd","state":true}]}}'
	rm -f "$W/q.sock" "$W/qd.sock"
	start qs qemu-system-x86_64 -accel kvm -smp 2 -m "$MEM" -display none -monitor none \
		-serial stdio -no-reboot -kernel "$kernel" $(guest_args "$1" qemu) \
		-qmp "unix:$W/q.sock,server=on,wait=off"
	guest_ready qs "$1" || { stop qs; return 1; }
	start qd qemu-system-x86_64 -accel kvm -smp 2 -m "$MEM" -display none -monitor none \
		-serial stdio -no-reboot -kernel "$kernel" $(guest_args "$1" qemu) -incoming defer \
		-qmp "unix:$W/qd.sock,server=on,wait=off"
	i=0
	while [ ! -S "$W/qd.sock" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	set -- '{"execute":"migrate-set-parameters","arguments":{"max-bandwidth":10737418240,"multifd-channels":2}}'
	[ -n "$caps" ] && set -- "$caps" "$@"
	"$QMP" "$W/qd.sock" "$@" \
		"{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"tcp:127.0.0.1:$PORT\"}}" >/dev/null
	plo=$(paired_loopback "$wl")
	"$QMP" "$W/q.sock" "$@" \
		"{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:127.0.0.1:$PORT\"}}" >/dev/null
	i=0
	st=
	while [ $i -lt 1200 ]; do
		st=$("$QMP" "$W/q.sock" '{"execute":"query-migrate"}' 2>/dev/null)
		case $st in *'"status":"completed"'* | *'"status":"failed"'*) break ;; esac
		sleep 0.1
		i=$((i + 1))
	done
	stop qs
	stop qd
	case $st in *'"status":"completed"'*) ;; *)
		echo "migrate bench: qemu migration did not complete: $st" >&2
		return 1
		;;
	esac
	# QEMU's "downtime" ends when the source has sent the last of the stream
	total=$(field "$st" total-time)
	bytes=$(field "$st" transferred)
	echo "$total - $bytes $(field "$st" downtime) - - - - - - - $(paired_fraction "$bytes" "$total" "$plo")"
}

NF=12 # fields of a run
measure() { # LABEL WORKLOAD FUNC: medians of RUNS runs of each field
	: >"$W/runs"
	r=0
	while [ $r -lt "$RUNS" ]; do
		res=$($3 "$2")
		[ -n "$res" ] && echo "$res" >>"$W/runs" &&
			echo "  $1 $2 run $((r + 1)): $res" >&2
		r=$((r + 1))
	done
	out=
	f=1
	while [ $f -le $NF ]; do
		if [ -s "$W/runs" ]; then
			out="$out $(cut -d' ' -f$f "$W/runs" | grep -v '^-$' | median)"
		else
			out="$out -"
		fi
		f=$((f + 1))
	done
	echo $out
}

mib() { awk -v b="$1" 'BEGIN { if (b == "-") print "-"; else printf "%.2f", b / 1048576 }'; }
rate() { awk -v b="$1" -v t="$2" 'BEGIN { if (b == "-" || t == "-" || t == 0) print "-"; else printf "%.0f", b / 1048576 / (t / 1000) }'; }

# the transports alone first: the loopback limit and what TLS costs per byte
if [ -x "$B/bench/migrate_transport" ]; then
	"$B/bench/migrate_transport" "$W/tls" "${TRANSPORT_MIB:-1024}" || echo "migrate bench: transport measurement failed"
fi
lo1=$(loopback)
echo "loopback TCP before the migrations: ${lo1:-?} MiB/s"
echo "total_ms: migrate command to completion; downtime_ms: vCPUs paused until the stream is"
echo "sent (QEMU's definition); resume_ms: paused until the destination acknowledged, i.e. the"
echo "guest runs again (Vessel only: QEMU does not wait for its destination); MiB/s: wire"
echo "bytes over total time; CPU: the sending and the receiving thread (Vessel); of_loopback:"
echo "populated: median over the runs of each run's MiB/s over a loopback measurement taken"
echo "right before it (this host's loopback varies 2x from minute to minute), else MiB/s over"
echo "the better of the measurements before and after all migrations"
: >"$W/table"
for wl in $WORKLOADS; do
	for vmm in $VMMS; do
		res="- - - - - - - - - - - -"
		case $vmm in
		vessel) res=$(measure vessel "$wl" vessel_once) ;;
		vessel-classic) [ "$wl" != fastdirty ] &&
			res=$(VESSEL_DIRTY_LOG=classic measure vessel-classic "$wl" vessel_once) ;;
		vessel-tls) [ "$wl" != fastdirty ] && res=$(TLS=1 measure vessel-tls "$wl" vessel_once) ;;
		vessel-postcopy) res=$(POSTCOPY=1 measure vessel-postcopy "$wl" vessel_once) ;;
		vessel-prealloc) res=$(PREALLOC=1 measure vessel-prealloc "$wl" vessel_once) ;;
		qemu) [ "$wl" != fastdirty ] && res=$(measure qemu "$wl" qemu_once) ;;
		qemu-multifd) [ "$wl" != fastdirty ] && res=$(MULTIFD=1 measure qemu-multifd "$wl" qemu_once) ;;
		*) echo "migrate bench: unknown VMM '$vmm'" >&2 ;;
		esac
		echo "$wl $vmm $res" >>"$W/table"
	done
done
lo2=$(loopback)
echo "loopback TCP after the migrations: ${lo2:-?} MiB/s"
lo=$(printf '%s\n%s\n' "${lo1:-0}" "${lo2:-0}" | sort -n | tail -n 1)

printf '\n%-9s %-16s %9s %11s %9s %9s %7s %11s %10s\n' workload vmm total_ms downtime_ms \
	resume_ms wire_MiB MiB/s of_loopback CPU_s/r_ms
while read -r wl vmm t r b d sc rc fl p50 p90 p99 pmax pf; do
	[ "$t" = - ] && [ "$vmm" = vessel-classic -o "$vmm" = vessel-tls -o "$vmm" = qemu -o "$vmm" = qemu-multifd ] &&
		[ "$wl" = fastdirty ] && continue
	rt=$(rate "$b" "$t")
	frac=$(awk -v r="$rt" -v l="$lo" -v p="$pf" 'BEGIN {
		if (p != "-" && p != "") printf "%.2f", p
		else if (r == "-" || l == 0) print "-"
		else printf "%.2f", r / l }')
	printf '%-9s %-16s %9s %11s %9s %9s %7s %11s %10s\n' "$wl" "$vmm" "$t" "$d" "$r" \
		"$(mib "$b")" "$rt" "$frac" "$sc/$rc"
done <"$W/table"

echo
echo "post-copy against pre-copy (Vessel): the pause until the destination runs the VM, and"
echo "the faults that waited for the source (host-measured at the destination, ms)"
printf '%-9s %-16s %9s %9s %7s %8s %8s %8s %8s\n' workload mode total_ms pause_ms faults p50 p90 p99 max
while read -r wl vmm t r b d sc rc fl p50 p90 p99 pmax pf; do
	case $vmm in vessel | vessel-postcopy) ;; *) continue ;; esac
	printf '%-9s %-16s %9s %9s %7s %8s %8s %8s %8s\n' "$wl" "$vmm" "$t" "$r" "$fl" "$p50" "$p90" \
		"$p99" "$pmax"
done <"$W/table"

echo
awk -v lo="$lo" '
	{ t[$1 " " $2] = $3; r[$1 " " $2] = $4; b[$1 " " $2] = $5; d[$1 " " $2] = $6; pf[$1 " " $2] = $14; w[$1] = 1 }
	END {
		for (wl in w) {
			v = wl " vessel"
			if (wl == "populated" && lo > 0) {
				split("vessel vessel-prealloc", vs, " ")
				for (i = 1; i <= 2; i++) {
					x = wl " " vs[i]
					if (t[x] == "" || t[x] == "-") continue
					mibs = b[x] / 1048576 / (t[x] / 1000)
					printf "populated: %s %.0f MiB/s = %.2f of the loopback limit (%.0f MiB/s, the better of before and after); paired with a loopback measurement right before each run: median %s\n",
						vs[i], mibs, mibs / lo, lo, pf[x]
				}
			}
			if (t[v] == "" || t[v] == "-") { print wl ": no ratios (the vessel migration failed or was not run)"; continue }
			x = wl " vessel-tls"
			if (t[x] != "" && t[x] != "-")
				printf "%s: tls/tcp total time %.2fx, resume %.2fx; throughput %.0f vs %.0f MiB/s\n",
					wl, t[x] / t[v], (r[v] > 0 ? r[x] / r[v] : 0),
					b[x] / 1048576 / (t[x] / 1000), b[v] / 1048576 / (t[v] / 1000)
			split("qemu qemu-multifd", qs, " ")
			for (i = 1; i <= 2; i++) {
				q = wl " " qs[i]
				if (t[q] == "" || t[q] == "-") continue
				printf "%s: %s/vessel total time %.2fx, downtime %.2fx, bytes %.2fx; %s downtime / vessel resume %.2fx (higher: vessel better)\n",
					wl, qs[i], t[q] / t[v], (d[v] > 0 ? d[q] / d[v] : 0), (b[v] > 0 ? b[q] / b[v] : 0),
					qs[i], (r[v] > 0 ? d[q] / r[v] : 0)
			}
		}
	}' "$W/table"
