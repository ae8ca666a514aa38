#!/bin/sh
# lookahead-diff.sh VESSEL KERNEL INITRD: system-call lookahead must not
# change what programs compute. On each platform (the Vessel VMM, QEMU TCG)
# the kernel boots twice, with lookahead=on and lookahead=off, and runs the
# same session: `latest` (user/latest: hand-written and compiled windows,
# faults inside windows, kills during chains, a thread writing what the
# windows read), `cat` of a file, and a getpid loop (nullcall). Per
# platform and case, TAP lines say whether both boots printed the same
# `latest:` lines, the same kernel kill lines and the same cat output;
# then that lookahead=on served calls and lookahead=off none.
# Both boots' console logs are kept in $B/test-logs/lookahead-diff-*.log.
set -u
vessel=$1 kernel=$2 initrd=$3
B=${B:-build}
here=$(dirname "$0")
. "$here/lib.sh"
mkdir -p "$B/test-logs"
n=0
# wait_for N REGEX FILE: until FILE has N lines matching REGEX; when the VM
# ($vm) has gone, one last look (the timeout of boot bounds a hang)
wait_for() {
	until [ "$(tr -d '\r' <"$3" | grep -acE -- "$2")" -ge "$1" ]; do
		if ! kill -0 "$vm" 2>/dev/null; then
			[ "$(tr -d '\r' <"$3" | grep -acE -- "$2")" -ge "$1" ]
			return
		fi
		sleep 0.2
	done
}

# The session is typed at a live console (a FIFO), each command once the
# one before it has finished: typed-ahead input is echoed as it arrives and
# could land inside a result line. (latest's copy case prints the file too:
# cat's output is the second 'Hello from'.)
boot() { # boot PLATFORM MODE LOG
	fifo=$(mktemp -u)
	mkfifo "$fifo"
	case $1 in
	vessel) timeout -k 5 600 "$vessel" run --kernel "$kernel" --initrd "$initrd" \
		--cmdline "lookahead=$2" <"$fifo" >"$3.raw" 2>&1 & ;;
	qemu) timeout -k 5 900 sh scripts/qemu-run.sh --initrd "$initrd" \
		--cmdline "lookahead=$2" "$kernel" <"$fifo" >"$3.raw" 2>&1 & ;;
	esac
	vm=$!
	exec 3>"$fifo"
	wait_for 1 'Vessel shell' "$3.raw" && printf 'latest\n' >&3 &&
		wait_for 1 'latest-stats: all' "$3.raw" && printf 'cat hello.txt\n' >&3 &&
		wait_for 2 'Hello from' "$3.raw" && printf 'latest regs riprel\n' >&3 &&
		wait_for 2 'latest-stats: all' "$3.raw" && printf 'poweroff\n' >&3
	exec 3>&-
	wait "$vm"
	st=$?
	rm -f "$fifo"
	tr -d '\r' <"$3.raw" >"$3"
	rm -f "$3.raw"
	return $st
}

# The lines that must agree, one file per case: latest's results by case,
# the kernel's kill lines, cat's output.
extract() { # extract LOG PREFIX
	sed 's/^\(\$ \)*//' "$1" >"$2.all"
	for c in regs riprel cloop copy fault kill selfkill thread recode; do
		grep -a "^latest: \(fault \)*$c" "$2.all" >"$2.$c"
	done
	grep -a "^vessel: killed" "$2.all" >"$2.killed"
	grep -ao "Hello from the Vessel initrd\." "$2.all" >"$2.cat"
	grep -a "^latest-stats: all" "$2.all" >"$2.stats"
}

for platform in vessel qemu; do
	if [ "$platform" = vessel ] && vessel_unavailable "$vessel"; then
		continue
	fi
	ok=1
	for mode in on off; do
		log="$B/test-logs/lookahead-diff-$platform-$mode.log"
		if ! boot "$platform" "$mode" "$log"; then
			n=$((n + 1))
			echo "not ok $n - $platform lookahead=$mode: the VM did not power off cleanly (see $log)"
			ok=0
		fi
		extract "$log" "$B/test-logs/lookahead-diff-$platform-$mode"
	done
	[ "$ok" = 1 ] || continue
	on="$B/test-logs/lookahead-diff-$platform-on"
	off="$B/test-logs/lookahead-diff-$platform-off"
	for c in regs riprel cloop copy fault kill selfkill thread recode killed cat; do
		n=$((n + 1))
		lines=$(wc -l <"$on.$c")
		if [ "$lines" -gt 0 ] && cmp -s "$on.$c" "$off.$c"; then
			echo "ok $n - $platform: $c: lookahead=on and off print the same $lines lines"
		else
			echo "not ok $n - $platform: $c: lookahead=on and off differ (or printed nothing):"
			diff "$on.$c" "$off.$c" | sed 's/^/#   /' | head -n 20
		fi
	done
	n=$((n + 1))
	saved_on=$(awk '{ s += $4 } END { print s + 0 }' "$on.stats")
	saved_off=$(awk '{ s += $4 } END { print s + 0 }' "$off.stats")
	if [ "$saved_on" -gt 0 ] && [ "$saved_off" = 0 ]; then
		echo "ok $n - $platform: lookahead=on served $saved_on calls in latest, lookahead=off none"
	else
		echo "not ok $n - $platform: calls served by lookahead: on $saved_on, off $saved_off"
	fi
	for f in "$on".* "$off".*; do # the console logs (.log) are kept
		case $f in *.log) ;; *) rm -f "$f" ;; esac
	done
done
echo "1..$n"
