#!/bin/sh
# Live migration of a 1 GiB guest over loopback, Vessel versus QEMU
# (qemu-system-x86_64 -accel kvm, Debian's package, the same kernel booted
# through Multiboot), in one run: total migration time, downtime and bytes on
# the wire, median of RUNS runs each, printed as ratios. Three workloads:
#   idle   the kernel at its prompt
#   dirty  memtest re-writing DIRTY_PAGES pages every 100 ms in a 64 MiB buffer
#   data   an idle guest holding DATA_MIB MiB of random bytes (loaded by the
#          VMM as an initrd the kernel rejects, so it stays in RAM): the
#          migration is bulk transfer (for the throughput cost of TLS)
# Vessel is also measured with the classic dirty log (VESSEL_DIRTY_LOG=classic)
# against its default (manual protect + initially-all-set), and over TLS
# (tls:, certificates made by tests/migrate/tls-creds.sh) against plain TCP.
# QEMU's bandwidth cap is lifted (max-bandwidth 10 GiB/s; its default is
# 128 MiB/s); its downtime limit stays at the default 300 ms.
#   B=build sh bench/migrate.sh          RUNS=3 MEM=1024 WORKLOADS="idle dirty data"
#                                        VMMS="vessel vessel-classic vessel-tls qemu"
set -u
B=${B:-build}
RUNS=${RUNS:-3}
MEM=${MEM:-1024}
WORKLOADS=${WORKLOADS:-idle dirty data}
DIRTY_PAGES=${DIRTY_PAGES:-1024}
DATA_MIB=${DATA_MIB:-512}
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
case " $WORKLOADS " in *" data "*) head -c $((DATA_MIB << 20)) /dev/urandom >"$W/data.img" ;; esac

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
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# guest_ready NAME WORKLOAD: booted, and for dirty memtest running
guest_ready() {
	wait_for "$W/$1.out" "vessel: ready" 120 || return 1
	[ "$2" != dirty ] && return 0
	sleep 1
	printf 'memtest -m 64 -i 100 -d %s &\n' "$DIRTY_PAGES" >"$W/$1.in"
	wait_for "$W/$1.out" "memtest: round 3 ok" 120
}

# vessel_once WORKLOAD -> "total_ms resume_ms bytes source_downtime_ms"
# (over TLS with certificates when TLS=1)
vessel_once() {
	PORT=$((PORT + 1))
	extra=--no-initrd
	[ "$1" = dirty ] && extra="--initrd $initrd"
	[ "$1" = data ] && extra="--initrd $W/data.img"
	scheme=tcp creds=
	[ "${TLS:-0}" = 1 ] && scheme=tls creds="--tls-creds $W/tls/good"
	rm -f "$W/vs.sock"
	start vs "$VESSEL" run --mem "${MEM}M" --kernel "$kernel" $extra --control "$W/vs.sock" $creds
	guest_ready vs "$1" || { stop vs; return 1; }
	start vd "$VESSEL" run --mem "${MEM}M" --incoming "$scheme:127.0.0.1:$PORT" $creds
	wait_for "$W/vd.err" "waiting for an incoming" 10
	"$VESSEL" ctl "$W/vs.sock" migrate "$scheme:127.0.0.1:$PORT" >/dev/null
	i=0
	while [ $i -lt 600 ]; do
		st=$("$VESSEL" ctl "$W/vs.sock" migrate-status 2>/dev/null) || break
		case $st in *'"status": "failed"'*) break ;; esac
		sleep 0.1
		i=$((i + 1))
	done
	# the source exits after the hand-over; its summary has the numbers
	i=0
	while kill -0 "$(cat "$W/vs.pid")" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	stop vs
	line=$(grep "migrated to" "$W/vs.err" | tail -n 1)
	stop vd
	[ -n "$line" ] || { echo "migrate bench: vessel migration failed" >&2; cat "$W/vs.err" >&2; return 1; }
	# "migrated to URI: N passes, X MiB (B bytes) in T ms (R MiB/s), downtime D ms
	#  (stream sent after S ms), ..."
	printf '%s\n' "$line" |
		sed -n 's/.* MiB (\([0-9]*\) bytes) in \([0-9.]*\) ms.*downtime \([0-9.]*\) ms (stream sent after \([0-9.]*\) ms).*/\2 \3 \1 \4/p'
}

qemu_once() { # WORKLOAD -> "total_ms - bytes source_downtime_ms"
	PORT=$((PORT + 1))
	extra=
	[ "$1" = dirty ] && extra="-initrd $initrd"
	[ "$1" = data ] && extra="-initrd $W/data.img"
	rm -f "$W/q.sock"
	start qs qemu-system-x86_64 -accel kvm -smp 2 -m "$MEM" -display none -monitor none \
		-serial stdio -no-reboot -kernel "$kernel" $extra -qmp "unix:$W/q.sock,server=on,wait=off"
	guest_ready qs "$1" || { stop qs; return 1; }
	start qd qemu-system-x86_64 -accel kvm -smp 2 -m "$MEM" -display none -monitor none \
		-serial stdio -no-reboot -kernel "$kernel" $extra -incoming "tcp:127.0.0.1:$PORT"
	sleep 1
	"$QMP" "$W/q.sock" \
		'{"execute":"migrate-set-parameters","arguments":{"max-bandwidth":10737418240}}' \
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
	echo "$(field "$st" total-time) - $(field "$st" transferred) $(field "$st" downtime)"
}

measure() { # LABEL WORKLOAD FUNC: medians of RUNS runs of each of the 4 fields
	: >"$W/runs"
	r=0
	while [ $r -lt "$RUNS" ]; do
		res=$($3 "$2")
		[ -n "$res" ] && echo "$res" >>"$W/runs" &&
			echo "  $1 $2 run $((r + 1)): total_ms resume_ms bytes source_downtime_ms = $res" >&2
		r=$((r + 1))
	done
	[ -s "$W/runs" ] || { echo "- - - -"; return; }
	echo "$(cut -d' ' -f1 "$W/runs" | median) $(cut -d' ' -f2 "$W/runs" | median)" \
		"$(cut -d' ' -f3 "$W/runs" | median) $(cut -d' ' -f4 "$W/runs" | median)"
}

# the transports alone first: what TLS costs per byte, without a VM
if [ -x "$B/bench/migrate_transport" ]; then
	"$B/bench/migrate_transport" "$W/tls" "${TRANSPORT_MIB:-1024}" || echo "migrate bench: transport measurement failed"
fi
echo "total_ms: migrate command to completion; downtime_ms: vCPUs paused until the stream is"
echo "sent (QEMU's definition); resume_ms: paused until the destination acknowledged, i.e. the"
echo "guest runs again (Vessel only: QEMU does not wait for its destination)"
printf '%-8s %-16s %10s %12s %10s %10s\n' workload vmm total_ms downtime_ms resume_ms wire_MiB
# VMMS="vessel vessel-classic" skips QEMU (e.g. to compare the dirty-log modes)
VMMS=${VMMS:-vessel vessel-classic vessel-tls qemu}
has() { case " $VMMS " in *" $1 "*) return 0 ;; esac; return 1; }
for wl in $WORKLOADS; do
	v="- - - -" c="- - - -" t="- - - -" q="- - - -"
	has vessel && v=$(measure vessel "$wl" vessel_once)
	has vessel-classic && c=$(VESSEL_DIRTY_LOG=classic measure vessel-classic "$wl" vessel_once)
	has vessel-tls && t=$(TLS=1 measure vessel-tls "$wl" vessel_once)
	has qemu && q=$(measure qemu "$wl" qemu_once)
	for row in "vessel:$v" "vessel-classic:$c" "vessel-tls:$t" "qemu-kvm:$q"; do
		set -- ${row#*:}
		printf '%-8s %-16s %10s %12s %10s %10s\n' "$wl" "${row%%:*}" "$1" "$4" "$2" \
			"$(awk -v b="$3" 'BEGIN { if (b == "-") print "-"; else printf "%.2f", b / 1048576 }')"
	done
	set -- $v
	vt=$1 vd=$4 vb=$3 vr=$2
	set -- $t
	awk -v vt="$vt" -v vd="$vd" -v vb="$vb" -v vr="$vr" -v tt="$1" -v td="$4" -v tb="$3" -v tr="$2" -v wl="$wl" 'BEGIN {
		if (vt == "-" || tt == "-") { print wl ": no tls/tcp ratio (a migration failed or was not run)"; exit }
		printf "%s: tls/tcp total time %.2fx (%.0f vs %.0f ms), downtime %.2fx, resume %.2fx; throughput %.0f vs %.0f MiB/s (tls/tcp %.2fx)\n",
			wl, tt / vt, tt, vt, (vd > 0 ? td / vd : 0), (vr > 0 ? tr / vr : 0),
			tb / 1048576 / (tt / 1000), vb / 1048576 / (vt / 1000), (tb / tt) / (vb / vt) }'
	set -- $q
	awk -v vt="$vt" -v vd="$vd" -v vb="$vb" -v vr="$vr" -v qt="$1" -v qd="$4" -v qb="$3" -v wl="$wl" 'BEGIN {
		if (vt == "-" || qt == "-") { print wl ": no qemu/vessel ratio (a migration failed or was not run)"; exit }
		printf "%s: qemu/vessel total time %.2fx, downtime %.2fx, bytes %.2fx (higher: vessel better)\n",
			wl, qt / vt, (vd > 0 ? qd / vd : 0), (vb > 0 ? qb / vb : 0)
		printf "%s: qemu downtime / vessel resume (Vessel counting until its guest runs again) %.2fx\n",
			wl, (vr > 0 ? qd / vr : 0) }'
done
