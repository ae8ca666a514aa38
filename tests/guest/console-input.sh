#!/bin/sh
# console-input.sh VESSEL KERNEL INITRD: console input under QEMU TCG and
# (with /dev/kvm) under the Vessel VMM. Prints TAP.
#
#  - piped input reaches the shell whole, from its very first byte: input
#    that arrives before the kernel programs the UART (QEMU holds the first
#    byte in the receiver) must not be lost. The shell's output line may
#    follow its prompt or part of the typed-ahead `poweroff`: input typed
#    ahead is echoed as it arrives. The line ends in `$?` so that echo's
#    output (ending in 0) differs from the echo of the typing.
#  - Ctrl-C (issue 9): typed at a live console (a FIFO, each step sent once
#    the previous one's output is there), it kills the program the shell
#    waits for: one asleep (memtest -i), one computing (memtest -i 0), one
#    reading the console (cat); the shell reports SIGINT and prompts again;
#    a background job survives all of it.
#    At the prompt Ctrl-C drops the line being typed and the shell prompts
#    again. memtest refuses the arguments that used to hang the shell.
set -u
. tests/guest/lib.sh
vessel=$1 kernel=$2 initrd=$3
out=$(mktemp)
fifo=$(mktemp -u)
trap 'rm -f "$out" "$fifo"' EXIT
n=0

check() { # name status
	n=$((n + 1))
	# The typed line ends in `$?`, echo's output in the status (0), so the
	# echo of the typing (which may have the banner or a prompt inside it,
	# as typed-ahead input is echoed as it arrives) never passes for it.
	if [ "$2" = 0 ] && tr -d '\r' <"$out" |
		grep -q 'first-byte-kept and a line longer than the sixteen-byte FIFO 0$' &&
		! grep -q 'command not found' "$out"; then
		echo "ok $n - $1: piped input arrives whole"
	else
		echo "not ok $n - $1: status $2, console:"
		sed 's/^/# /' "$out" | tail -n 30
	fi
}

# lines N REGEX: 0 if at least N console lines match REGEX (extended). The
# shell's prompts ("$ ") are taken out first: a prompt printed while a line
# is typed ahead lands inside that line's echo.
lines() {
	[ "$(tr -d '\r' <"$out" | sed 's/\$ //g' | grep -cE -- "$2")" -ge "$1" ]
}

# await N REGEX: until `lines N REGEX` holds; fails when the VM is gone or
# after 60 s (a bound against a hang, not a timing check)
await() {
	i=0
	until lines "$1" "$2"; do
		# gone: its last output may have come after the check above
		kill -0 "$vm" 2>/dev/null || { lines "$1" "$2"; return; }
		i=$((i + 1))
		[ $i -gt 600 ] && return 1
		sleep 0.1
	done
}

# step INPUT N REGEX: types INPUT (printf format) once the steps before it
# passed, then awaits N lines matching REGEX; records the first failure.
step() {
	[ -n "$why" ] && return
	printf "$1" >&3
	await "$2" "$3" || why="after typing '$1': no $2 line(s) matching '$3'"
}

# ctrl_c NAME RUNNER...: one console session on a FIFO, the runner in a
# session of its own (so that a hung VM can be killed with its wrappers)
ctrl_c() {
	name=$1
	shift
	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$out"
	setsid "$@" <"$fifo" >"$out" 2>&1 &
	vm=$!
	exec 3>"$fifo"
	why=
	await 1 'Vessel shell' || why="the shell did not start"
	step 'memtest -m 1 -n 1 -i 0 -d 18446744073709551615\n' 1 \
		"memtest: -d 18446744073709551615: at most 256 pages per round"
	step 'memtest -m 1 -i 3600000 &\n' 1 '^memtest: page ' # survives every Ctrl-C
	step 'memtest -m 1 -i 3600000\n' 2 '^memtest: page '
	step '\003' 1 '^sh: memtest \(pid [0-9]+\) killed by SIGINT \(2\)$'
	step 'memtest -m 8 -n 0 -i 0\n' 1 '^memtest: round 1 ok'
	step '\003' 2 '^sh: memtest \(pid [0-9]+\) killed by SIGINT \(2\)$'
	step 'cat\n' 1 'cat$'
	step 'from-cat\n' 2 'from-cat$' # the echo of the typing, then cat's copy
	step '\003' 1 '^sh: cat \(pid [0-9]+\) killed by SIGINT \(2\)$'
	step 'echo dropped-by-ctrl-c\003' 1 'dropped-by-ctrl-c\^C$'
	step 'echo still-here\n' 1 '^(\$ )*still-here$'
	step 'ps\n' 1 '^ +[0-9]+ +[0-9]+ +(sleep|ready|run) .* memtest$'
	step 'poweroff\n' 1 'sh: powering off'
	exec 3>&-
	i=0
	while [ -z "$why" ] && kill -0 "$vm" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	pkill -KILL -s "$vm" 2>/dev/null # the session: timeout(1) makes a group of its own
	wait "$vm"
	st=$?
	n=$((n + 1))
	# every kill report is followed by the prompt within two lines (the echo
	# of the next step, typed once the report is out, may come first or hold
	# the prompt inside it), no typed-ahead line ran
	if [ -z "$why" ] && [ "$st" != 0 ]; then
		why="exit status $st"
	elif [ -z "$why" ] && [ "$(tr -d '\r' <"$out" | awk '
		/killed by SIGINT/ { left = 2; next }
		left > 0 { left--; if (index($0, "$ ")) { n++; left = 0 } }
		END { print n + 0 }')" != 3 ]; then
		why="not three kills, each followed by the prompt"
	elif [ -z "$why" ] && lines 1 '^(\$ )*dropped-by-ctrl-c$'; then
		why="the line cut by Ctrl-C ran"
	fi
	if [ -z "$why" ]; then
		echo "ok $n - $name: Ctrl-C kills the foreground program, the shell prompts again"
	else
		printf 'not ok %s - %s: Ctrl-C: %s; console:\n' "$n" "$name" "$why"
		tr -d '\r' <"$out" | grep -v '^memtest: round' | sed 's/^/# /' | tail -n 30
	fi
}

input='echo first-byte-kept and a line longer than the sixteen-byte FIFO $?\npoweroff\n'
printf "$input" | sh scripts/qemu-run.sh --timeout 120 --initrd "$initrd" "$kernel" >"$out" 2>&1
check qemu $?
ctrl_c qemu sh scripts/qemu-run.sh --timeout 240 --initrd "$initrd" "$kernel"
if ! vessel_unavailable "$vessel"; then
	printf "$input" | timeout 120 "$vessel" run --kernel "$kernel" --initrd "$initrd" >"$out" 2>&1
	check vessel $?
	ctrl_c vessel timeout 240 "$vessel" run --kernel "$kernel" --initrd "$initrd"
fi
