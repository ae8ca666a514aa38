#!/bin/sh
# The sandboxed monitor (docs/monitor.md) through real `vessel run`
# processes. Prints TAP; skips without /dev/kvm.
#   B=build sh tests/monitor/run.sh
#
#  - the option: listed in --help, a bad value is a usage error (2), twice
#    an error (1)
#  - the console with --monitor=inproc and =sandboxed: piped input arrives
#    whole, output comes out, the exits were routed (--stats); Ctrl-C at a
#    live console kills the shell's foreground program; a stalled stdout
#    loses output (counted, reported), not the VM
#  - the monitor process: no KVM descriptor (nothing but stdin, stdout,
#    stderr), seccomp filter mode, no new privileges, other namespaces; the
#    VM answers; a destination without --monitor refuses it (it runs on
#    at the source); it migrates to a sandboxed destination and powers
#    off; no monitor process is left behind
#  - a virtio-blk disk in it (data in the image after power-off; the
#    monitor holds the image and guest RAM but no KVM descriptor; the
#    disk's counters come from there) and, next to it, a memory error on a
#    free page (retired by the guest) work as before
#  - SIGTERM to vessel: status 143 (the monitor's death is not reported as
#    a failure); the monitor killed from outside: status 3 and the reason
#  - fault injection (VESSEL_MONITOR_TEST): an allowed read and an allowed
#    write go through;
#    a denied field read, a denied MSR write, a write outside guest memory
#    are refused; opening a file and a forbidden system call kill the
#    monitor: each time the VM stops with status 3 (VESSEL_EXIT_MONITOR) and
#    a reason, the monitor is gone and the file was not created; a monitor
#    that never answers does not keep SIGTERM from stopping vessel; one
#    that dies before the VM started is reported too
set -u
B=${B:-build}
VESSEL=${VESSEL:-$B/vessel}
W=$B/monitor-work
MEM=256M
NS=
PORT=$((40000 + $$ % 20000))
n=0
rm -rf "$W"
mkdir -p "$W"
. tests/lib/vm.sh

if [ ! -w /dev/kvm ]; then
	echo "ok 1 - monitor # SKIP no usable /dev/kvm"
	exit 0
fi

# the monitor_pid of a --stats line or a `vessel ctl stats` answer
monitor_pid() {
	grep -o 'monitor_pid[": ]*[0-9]*' "$1" | grep -o '[0-9]*$' | head -n 1
}

t_option() {
	"$VESSEL" run --help >"$W/help" 2>&1
	"$VESSEL" run --monitor=bogus >"$W/bad" 2>&1
	st=$?
	"$VESSEL" run --monitor=inproc --monitor=sandboxed </dev/null >"$W/twice" 2>&1
	st2=$?
	st3=0
	for v in sandboxed,timeout=0 sandboxed,timeout= sandboxed,timeout=5x sandboxed,fast \
		sandboxedx inproc,timeout=5; do
		"$VESSEL" run --monitor="$v" </dev/null >"$W/bad-opt" 2>&1
		rc=$?
		if [ $rc != 2 ] || ! grep -q -- "--monitor" "$W/bad-opt"; then
			st3=$rc
			echo "# --monitor=$v: status $rc"
			sed 's/^/#   /' "$W/bad-opt"
		fi
	done
	if grep -q -- "--monitor inproc|sandboxed\[,timeout=MS\]" "$W/help" && [ $st = 2 ] &&
		grep -q "must be inproc or sandboxed" "$W/bad" && [ $st2 = 1 ] &&
		grep -q -- "--monitor given twice" "$W/twice" && [ $st3 = 0 ]; then
		ok "--monitor: in --help; bad values (and timeouts) are usage errors (2); given twice, an error (1)"
	else
		notok "--monitor option (status $st)" "$W/help" "$W/bad"
	fi
}

t_console() { # MODE
	input='echo first-byte-kept and a line longer than the sixteen-byte FIFO $?\npoweroff\n'
	printf "$input" | timeout 120 "$VESSEL" run --monitor="$1" --stats >"$W/c-$1" 2>&1
	st=$?
	line=$(grep "stats: monitor $1:" "$W/c-$1")
	if [ $st = 0 ] && tr -d '\r' <"$W/c-$1" |
		grep -q 'first-byte-kept and a line longer than the sixteen-byte FIFO 0$' &&
		echo "$line" | grep -q 'routed_exits [1-9]' &&
		{ [ "$1" = inproc ] || echo "$line" | grep -q 'monitor_console_bytes [1-9].* input_bytes [1-9]\|input_bytes [1-9].*monitor_console_bytes [1-9]'; }; then
		ok "--monitor=$1: piped input arrives whole, the UART's exits are routed, exit 0"
	else
		notok "--monitor=$1 console (status $st)" "$W/c-$1"
	fi
}

t_isolation() {
	boot_shell a --monitor=sandboxed || { notok "sandboxed: boot" "$W/a.err" "$W/a.out"; stop_vm a; return; }
	ctl a stats >"$W/a.stats"
	pid=$(monitor_pid "$W/a.stats")
	fds=$(ls -l "/proc/$pid/fd" 2>/dev/null | grep -c -- '->')
	kvm=$(ls -l "/proc/$pid/fd" 2>/dev/null | grep -c 'kvm')
	if [ -n "$pid" ] && [ "$fds" -le 3 ] && [ "$kvm" = 0 ] &&
		grep -q '^Seccomp:[[:space:]]*2' "/proc/$pid/status" &&
		grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status" &&
		[ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ]; then
		ok "sandboxed: the monitor (pid $pid) holds $fds descriptors, none of KVM; seccomp filter, no new privileges, its own network namespace"
	else
		ls -l "/proc/$pid/fd" >"$W/a.fds" 2>&1
		grep -E 'Seccomp|NoNewPrivs' "/proc/$pid/status" >>"$W/a.fds" 2>&1
		notok "sandboxed: monitor isolation (pid '$pid', $fds fds, $kvm of KVM)" "$W/a.fds" "$W/a.stats"
	fi
	next_port
	incoming p "$uri" || { notok "sandboxed: mismatched migration setup" "$W/p.err"; stop_vm a; stop_vm p; return; }
	ctl a migrate "$uri" >/dev/null
	if wait_for "$W/a.err" "STATE record 'monitor' (instance 0): no such device in this VM; the VM keeps running here" 60 &&
		alive a && responds a; then
		ok "sandboxed: a destination without --monitor refuses the VM, which runs on at the source"
	else
		notok "sandboxed: mismatched migration" "$W/a.err" "$W/p.err"
	fi
	stop_vm p
	next_port
	incoming b "$uri" --monitor=sandboxed || { notok "sandboxed: migration setup" "$W/b.err"; stop_vm a; stop_vm b; return; }
	ctl a migrate "$uri" >/dev/null
	wait_exit a 60
	src=$status
	if [ $src = 0 ] && ! kill -0 "$pid" 2>/dev/null &&
		wait_for "$W/b.err" "incoming migration complete" 10 && responds b; then
		ok "sandboxed: migrates to a sandboxed destination, whose console answers; the source's monitor is gone"
	else
		notok "sandboxed: migration (source status $src)" "$W/a.err" "$W/b.err" "$W/b.out"
	fi
	ctl b stats >"$W/b.stats"
	bpid=$(monitor_pid "$W/b.stats")
	say b poweroff
	wait_exit b 30
	if [ $status = 0 ] && [ -n "$bpid" ] && ! kill -0 "$bpid" 2>/dev/null; then
		ok "sandboxed: poweroff exits 0 and leaves no monitor process"
	else
		notok "sandboxed: poweroff (status $status, monitor '$bpid')" "$W/b.err"
	fi
}

t_signals() {
	boot_shell s --monitor=sandboxed || { notok "signals: boot" "$W/s.err"; stop_vm s; return; }
	ctl s stats >"$W/s.stats"
	pid=$(monitor_pid "$W/s.stats")
	kill -TERM "$(pid_of s)"
	wait_exit s 30
	if [ $status = 143 ] && ! grep -q "monitor:" "$W/s.err" && ! kill -0 "$pid" 2>/dev/null; then
		ok "sandboxed: SIGTERM stops vessel with 143, the monitor goes quietly"
	else
		notok "sandboxed: SIGTERM (status $status)" "$W/s.err"
	fi
	boot_shell k --monitor=sandboxed || { notok "monitor killed: boot" "$W/k.err"; stop_vm k; return; }
	ctl k stats >"$W/k.stats"
	pid=$(monitor_pid "$W/k.stats")
	kill -KILL "$pid"
	say k help # a routed exit, if the death alone did not stop it yet
	wait_exit k 30
	if [ $status = 3 ] && grep -q "monitor: process $pid killed by signal 9" "$W/k.err"; then
		ok "sandboxed: the monitor killed from outside stops the VM with status 3 and says so"
	else
		notok "sandboxed: monitor killed (status $status)" "$W/k.err"
	fi
}

# fault CASE STATUS PATTERN: one fault-injection run
fault() {
	file=$W/created-by-monitor
	rm -f "$file"
	printf 'poweroff\n' | VESSEL_MONITOR_TEST=$1 VESSEL_MONITOR_TEST_FILE=$file \
		timeout 120 "$VESSEL" run --monitor=sandboxed --stats >"$W/f-$1" 2>&1
	st=$?
	pid=$(monitor_pid "$W/f-$1")
	if [ $st = "$2" ] && grep -q -- "$3" "$W/f-$1" && [ -n "$pid" ] &&
		! kill -0 "$pid" 2>/dev/null && [ ! -e "$file" ]; then
		ok "fault injection $1: status $st, '$3'"
	else
		notok "fault injection $1 (status $st, expected $2)" "$W/f-$1"
	fi
}

# A virtio-blk disk runs in the sandboxed monitor (tests/blk/run.sh with
# BLK_MONITOR, suite blk-monitor, does the rest); memory errors keep working
# in the core next to it.
t_disk_memerr() {
	rm -f "$W/d.img" && truncate -s 16M "$W/d.img"
	boot_shell d --monitor=sandboxed --disk "$W/d.img" ||
		{ notok "sandboxed with a disk: boot" "$W/d.err" "$W/d.out"; stop_vm d; return; }
	run_cmd d "blktest fill /dev/vda 42 16384 2048" 300
	ctl d stats >"$W/d.stats"
	pid=$(monitor_pid "$W/d.stats")
	ls -l "/proc/$pid/fd" >"$W/d.fds" 2>&1
	set -- $(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["devices"]
b = [x for x in d if x["device"] == "virtio-blk"][0]
m = [x for x in d if x["device"] == "monitor"][0]
print(b["requests"], b["kvm_fast_paths"], m["routed_mmio_exits"])' "$W/d.stats")
	if [ -n "$pid" ] && grep -q "d.img" "$W/d.fds" && grep -q "memfd:vessel-guest-ram" "$W/d.fds" &&
		! grep -q kvm "$W/d.fds" && [ "${1:-0}" -ge 256 ] && [ "${2:-0}" = 1 ] &&
		[ "${3:-0}" -gt 0 ]; then
		ok "sandboxed: the disk runs in the monitor (pid $pid: the image and guest RAM, no KVM descriptor; $1 requests, fast paths wired, $3 routed MMIO exits)"
	else
		notok "sandboxed: the disk in the monitor (pid '$pid', requests '${1:-}', fast paths '${2:-}', MMIO exits '${3:-}')" "$W/d.fds" "$W/d.stats"
	fi
	ctl d inject-ume 0xc800000 >"$W/inject.json" 2>&1 # 200 MiB: free in an idle shell
	if grep -q '"newly_poisoned": true' "$W/inject.json" &&
		wait_for "$W/d.out" "memory error at physical 0xc800000: free page retired" 60 &&
		responds d; then
		ok "sandboxed: a memory error on a free page is retired by the guest, which answers"
	else
		notok "sandboxed: memory error" "$W/inject.json" "$W/d.out" "$W/d.err"
	fi
	say d poweroff
	wait_exit d 60
	if [ "$status" = 0 ] && grep -q "blktest: fill done /dev/vda seed 42" "$W/d.out" &&
		python3 tests/blk/check.py verify "$W/d.img" 42 16384 2048 >"$W/check" 2>&1; then
		ok "sandboxed: 1 MiB the guest wrote to its virtio-blk disk is in the image after power-off"
	else
		notok "sandboxed: disk (status $status)" "$W/check" "$W/d.out" "$W/d.err"
	fi
}

# Ctrl-C typed at a live console crosses the control channel like any input.
t_ctrl_c() {
	boot_shell c --monitor=sandboxed || { notok "sandboxed: Ctrl-C: boot" "$W/c.err"; stop_vm c; return; }
	say c "memtest -m 1 -i 3600000"
	wait_for "$W/c.out" "^memtest: page " 60
	printf '\003' >"$W/c.in"
	if wait_for "$W/c.out" "sh: memtest (pid [0-9]*) killed by SIGINT (2)" 60 && responds c; then
		ok "sandboxed: Ctrl-C typed at the console kills the foreground program, the shell answers"
	else
		notok "sandboxed: Ctrl-C" "$W/c.out"
	fi
	say c poweroff
	wait_exit c 30
}

# A monitor that never answers holds the vCPU waiting for it, not the VMM:
# SIGTERM still stops vessel (143), and the monitor is killed on the way out.
t_hang() {
	export VESSEL_MONITOR_TEST=hang
	# a timeout far beyond this test: SIGTERM must do it
	start_vm h --monitor=sandboxed,timeout=3600000 --stats
	unset VESSEL_MONITOR_TEST
	h=$(pid_of h)
	# the hang is at the first routed exit: the kernel's first byte
	wait_for "$W/h.err" "vessel-monitor: test: hanging" 60
	kill -TERM "$h"
	wait_exit h 30
	pid=$(monitor_pid "$W/h.err")
	if [ $status = 143 ] && [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null &&
		[ ! -s "$W/h.out" ] && grep -q "test: hanging" "$W/h.err"; then
		ok "fault injection hang: SIGTERM stops vessel (143), the hung monitor is killed"
	else
		notok "fault injection hang (status $status, monitor '$pid')" "$W/h.err"
	fi
}

# A monitor that never answers, with a short reply timeout: the core gives
# up on it, kills it and stops the VM with status 3, saying why; nothing
# else has to stop it.
t_hang_timeout() {
	export VESSEL_MONITOR_TEST=hang
	start_vm g --monitor=sandboxed,timeout=500 --stats
	unset VESSEL_MONITOR_TEST
	wait_exit g 60
	pid=$(monitor_pid "$W/g.err")
	if [ $status = 3 ] && [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null &&
		grep -q "no answer on channel [0-9]* within 500 ms: the monitor is hung" "$W/g.err" &&
		grep -q "timeouts 1" "$W/g.err"; then
		ok "fault injection hang with timeout=500: the VM stops by itself (3), the monitor is killed, counted"
	else
		notok "fault injection hang with a timeout (status $status, monitor '$pid')" "$W/g.err"
	fi
}

# stdout stalls (a FIFO nobody reads): once the guest printed more than
# the pipe holds, the control socket still answers and the guest still
# runs; SIGTERM stops vessel (143) and what the monitor could not write out
# is counted and reported.
t_stall() {
	rm -f "$W/t.in" "$W/t.fifo" "$W/t.sock"
	mkfifo "$W/t.in" "$W/t.fifo"
	sleep 600 <"$W/t.fifo" & # opens it for reading, never reads
	reader=$!
	"$VESSEL" run --monitor=sandboxed --stats --control "$W/t.sock" <"$W/t.in" \
		>"$W/t.fifo" 2>"$W/t.err" &
	vp=$!
	exec 4>"$W/t.in"
	printf 'memtest -m 1 -n 0 -i 0\n' >&4 # prints rounds without end
	i=0
	bytes=0
	while [ $i -lt 600 ] && [ "$bytes" -le 131072 ]; do # twice a pipe's buffer
		sleep 1
		bytes=$("$VESSEL" ctl "$W/t.sock" stats 2>/dev/null |
			sed -n 's/.*"monitor_console_bytes": \([0-9]*\).*/\1/p' | head -n 1)
		bytes=${bytes:-0}
		i=$((i + 1))
	done
	kill -TERM "$vp"
	i=0
	while kill -0 "$vp" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$vp" 2>/dev/null
	wait "$vp"
	st=$?
	exec 4>&-
	kill "$reader" 2>/dev/null
	if [ $st = 143 ] && [ "$bytes" -gt 131072 ] &&
		grep -q "monitor sandboxed: .*monitor_console_dropped [1-9]" "$W/t.err" &&
		grep -q "vessel: console: [1-9][0-9]* bytes of output dropped (stdout stalled)" "$W/t.err"; then
		ok "sandboxed: stdout stalled, the guest printed $bytes bytes and the control socket answers; SIGTERM gives 143, the drops are reported"
	else
		notok "sandboxed: stalled stdout (status $st, $bytes bytes printed)" "$W/t.err"
	fi
}

# The monitor dies right after it said it is ready, maybe before the VM
# started: vessel fails to start it (1) or stops it (3), either way naming
# the reason, and leaves no process behind.
t_die_early() {
	printf 'poweroff\n' | VESSEL_MONITOR_TEST=die-early timeout 120 "$VESSEL" run \
		--monitor=sandboxed >"$W/die" 2>&1
	st=$?
	pid=$(sed -n 's/.*monitor: process \([0-9]*\) killed by signal 31.*/\1/p' "$W/die" | head -n 1)
	if { [ $st = 1 ] || [ $st = 3 ]; } && [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null &&
		grep -q "seccomp filter forbids" "$W/die"; then
		ok "fault injection die-early: status $st, the reason named, no monitor left"
	else
		notok "fault injection die-early (status $st)" "$W/die"
	fi
}

t_option
t_console inproc
t_console sandboxed
t_ctrl_c
t_stall
t_disk_memerr
t_isolation
t_signals
fault read-rip 0 "monitor sandboxed: .*state_reads 1 .*denied 0"
fault rw-rax 0 "monitor sandboxed: .*state_reads 1 state_writes 1 .*denied 0"
fault read-cr3 3 "monitor: read of cr3 (vCPU 0) denied: policy violation"
fault write-msr 3 "monitor: write of msr_lstar (vCPU 0) denied: policy violation"
fault mem-write 3 "monitor: write of 8 bytes at guest-physical 0x1000000000000000: outside guest memory"
fault open 3 "killed by signal 31 .*seccomp filter forbids"
fault syscall 3 "killed by signal 31 .*seccomp filter forbids"
t_hang
t_hang_timeout
t_die_early
echo "1..$n"
