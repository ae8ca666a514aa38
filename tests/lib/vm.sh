# Shell helpers for tests that drive real `vessel run` processes through
# their console (a FIFO) and control socket. Sourced by tests/*/run.sh,
# which then call vm_suite (or set the same variables themselves): W (work
# directory), VESSEL (the binary), MEM (guest RAM), NS (a command prefix,
# e.g. "ip netns exec NAME", or empty) and n=0 (TAP count).

# vm_suite NAME MEM [PORT_BASE]: a suite's settings (B, VESSEL from the
# environment or their defaults; W=$B/NAME-work, emptied; MEM; NS empty;
# n=0; PORT_BASE plus a number from the pid, for next_port)
vm_suite() {
	B=${B:-build}
	VESSEL=${VESSEL:-$B/vessel}
	W=$B/$1-work
	MEM=$2
	NS=
	n=0
	if [ $# -ge 3 ]; then PORT=$(($3 + $$ % 20000)); fi
	rm -rf "$W"
	mkdir -p "$W"
}

ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
notok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do [ -f "$f" ] && sed 's/^/#   /' "$f" | tail -n 15; done
}

# start_vm NAME ARGS...: `vessel run ARGS` with the console in $W/NAME.out,
# stderr in $W/NAME.err and stdin from the fifo $W/NAME.in.
start_vm() {
	name=$1
	shift
	rm -f "$W/$name.in" "$W/$name.sock" "$W/$name.out" "$W/$name.err"
	mkfifo "$W/$name.in"
	: >"$W/$name.out"
	: >"$W/$name.err"
	$NS "$VESSEL" run "$@" <"$W/$name.in" >"$W/$name.out" 2>"$W/$name.err" &
	echo $! >"$W/$name.pid"
	sleep 1000 >"$W/$name.in" &
	echo $! >"$W/$name.hold"
}

pid_of() { cat "$W/$1.pid"; }
alive() { kill -0 "$(pid_of "$1")" 2>/dev/null; }
say() { printf '%s\n' "$2" >"$W/$1.in"; }
ctl() { name=$1; shift; "$VESSEL" ctl "$W/$name.sock" "$@"; }

# wait_for FILE PATTERN SECONDS
wait_for() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# wait_exit NAME SECONDS: the exit status in $status (124: still running, killed)
wait_exit() {
	i=0
	while alive "$1" && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if alive "$1"; then
		kill -9 "$(pid_of "$1")" 2>/dev/null
		wait "$(pid_of "$1")" 2>/dev/null
		status=124
	else
		wait "$(pid_of "$1")" 2>/dev/null
		status=$?
	fi
	kill "$(cat "$W/$1.hold")" 2>/dev/null
	return 0
}

stop_vm() {
	if alive "$1"; then kill -9 "$(pid_of "$1")" 2>/dev/null; fi
	wait "$(pid_of "$1")" 2>/dev/null
	kill "$(cat "$W/$1.hold")" 2>/dev/null
}

# The guest answers on its console: a line in, new output out.
# (the output of `help` itself, from the shell or the kernel prompt: the
# console echoes the typed line at once, so new bytes alone prove nothing)
responds() {
	before=$(wc -c <"$W/$1.out")
	say "$1" help
	i=0
	while [ $i -lt 1200 ]; do # at most 2 minutes: the machine may be loaded
		tail -c +"$((before + 1))" "$W/$1.out" | grep -q "builtins: help\|commands: help" &&
			return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# boot_shell NAME [ARGS]: like boot_src, with the bundled initrd (init -> sh)
boot_shell() {
	name=$1
	shift
	start_vm "$name" --mem $MEM --control "$W/$name.sock" "$@"
	wait_for "$W/$name.out" "ready" 180 && responds "$name"
}

# fg_done NAME SECONDS: wait for the output of an `echo FG-DONE-<pid>` typed
# after a foreground command: the shell runs it only once the command has
# exited and been reaped. The console echoes typed lines at once, so the
# typed line itself ("echo FG-DONE-...") must not match: the output stands at
# the start of a line or after the prompt.
fg_done() {
	wait_for "$W/$1.out" "^\(\$ \)*FG-DONE-$$" "$2"
}

# run_fg NAME CMD SECONDS: run CMD in NAME's shell and wait until it is done
run_fg() {
	say "$1" "$2"
	say "$1" "echo FG-DONE-$$"
	fg_done "$1" "$3"
}

# run_cmd NAME CMD SECONDS: run CMD in NAME's shell and wait until it is
# done. Each call echoes a marker of its own (run_fg's is the same every
# time, so a second run_fg in one VM would match the first's)
run_cmd_n=0
run_cmd() {
	run_cmd_n=$((run_cmd_n + 1))
	say "$1" "$2"
	say "$1" "echo CMD-DONE-$$-$run_cmd_n"
	wait_for "$W/$1.out" "^\(\$ \)*CMD-DONE-$$-$run_cmd_n" "$3"
}

# next_port: a fresh port in $PORT (set by the script) and its address in
# $uri (no subshell)
next_port() {
	PORT=$((PORT + 1))
	uri=tcp:127.0.0.1:$PORT
}

# incoming NAME URI [ARGS]: a destination waiting for a migration at URI
incoming() {
	name=$1
	uri=$2
	shift 2
	start_vm "$name" --mem $MEM --control "$W/$name.sock" --incoming "$uri" "$@"
	wait_for "$W/$name.err" "waiting for an incoming migration" 10
}
