#!/bin/sh
# Tests of the `vessel` command line: help, option errors, file errors, and
# (with /dev/kvm) booting tiny ELF kernels: exit status, console both ways,
# stdin EOF, signals, triple fault, terminal restored. Prints TAP.
set -u
VESSEL_BIN=${VESSEL_BIN:-build/vessel}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check NAME EXPECTED_STATUS PATTERN CMD...: status and a pattern in stdout+stderr
check() {
	name=$1 want=$2 pat=$3
	shift 3
	"$@" >"$tmp/out" 2>&1 </dev/null
	got=$?
	if [ "$got" = "$want" ] && grep -qE -- "$pat" "$tmp/out"; then
		ok "$name"
	else
		nok "$name"
		echo "# status $got (want $want), output:"
		sed 's/^/#   /' "$tmp/out" | head -20
	fi
}

V=$VESSEL_BIN
check "vessel --help" 0 "vessel run" $V --help
check "vessel run --help" 0 "--cpus N" $V run --help
check "vessel ctl --help" 0 "usage: vessel ctl SOCKET COMMAND" $V ctl --help
check "vessel ctl SOCKET [COMMAND] --help" 0 "inject-ume GPA" $V ctl /nonexistent.sock status --help
check "vessel ctl: unknown command named before connecting" 2 \
	"unknown command 'bogus'" $V ctl /nonexistent.sock bogus
check "no command: usage, status 2" 2 "usage: vessel" $V
check "unknown command" 2 "unknown command 'bogus'" $V bogus
check "unknown option" 2 "unknown option '--bogus'" $V run --bogus
check "bad --mem" 2 "--mem '12X': not a size" $V run --mem 12X
check "--mem too small" 2 "--mem '1M': must be between 4M and 64G" $V run --mem 1M
check "--mem not 4K aligned" 2 "multiple of 4K" $V run --mem 5001K
check "bad --cpus" 2 "--cpus '0': must be between 1 and 64" $V run --cpus 0
check "--incoming tls: needs --tls-creds" 2 "--incoming tls:127.0.0.1:1 needs --tls-creds DIR" \
	$V run --incoming tls:127.0.0.1:1
check "--incoming-timeout needs --incoming" 2 "--incoming-timeout without --incoming" \
	$V run --incoming-timeout 5
check "--no-postcopy needs --incoming" 2 "--no-postcopy without --incoming" $V run --no-postcopy
check "--mem-prealloc takes no value" 2 "option --mem-prealloc takes no value" \
	$V run --mem-prealloc=yes
# more guest memory than the host has: refused before anything is allocated
# (only where 64G is more than the host has: elsewhere it would allocate it)
avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
if [ -n "$avail" ] && [ "$avail" -lt 67108864 ]; then
	check "--mem-prealloc beyond the host's memory" 1 "MiB of guest memory requested, the host has" \
		$V run --mem 64G --mem-prealloc
fi
check "vessel run --help documents TLS migration" 0 "--tls-creds DIR" $V run --help
check "option without value" 2 "option --kernel needs a value" $V run --kernel
check "missing kernel names the file" 1 "kernel $tmp/nope.elf: No such file or directory" \
	$V run --kernel "$tmp/nope.elf"
printf "not an elf at all, just text: %080d\n" 0 >"$tmp/text"
check "invalid kernel names the file and problem" 1 "kernel $tmp/text: not an ELF file" \
	$V run --kernel "$tmp/text"
printf '\177ELF: the files are read (and their first bytes checked) first\n' >"$tmp/fake.elf"
check "missing initrd names the file" 1 "initrd $tmp/nope.img: No such file" \
	$V run --kernel "$tmp/fake.elf" --initrd "$tmp/nope.img"
check "--help=VALUE: the option takes no value" 2 "option --help takes no value" \
	$V run --help=foo
check "a bad --incoming address is a usage error before the VM is built" 2 \
	"--incoming 'tcp:nope': bad address" $V run --incoming tcp:nope
# a huge file that is not a kernel is refused from its first bytes: with
# 256 MiB of address space, reading 900 MiB first would fail differently
truncate -s 900M "$tmp/huge"
check "a huge non-ELF kernel is refused before it is read" 1 \
	"kernel $tmp/huge: not an ELF file" sh -c "ulimit -v 262144; exec $V run --kernel $tmp/huge"
check "a non-initrd is refused from its magic" 1 "initrd $tmp/text: not a Vessel initrd" \
	$V run --kernel "$tmp/fake.elf" --initrd "$tmp/text"
check "vessel ctl: a u64 field is sent whole (no signed overflow)" 1 \
	"cannot connect" $V ctl /nonexistent.sock inject-ume 0xffffffffffffffff
check "vessel ctl: a bad number is named before connecting" 2 \
	"'0xzz' is not a number for gpa" $V ctl /nonexistent.sock inject-ume 0xzz

check "--control-group: unknown group is a usage error" 2 \
	"--control-group 'no-such-group-here': no such group" \
	$V run --control "$tmp/x.sock" --control-group no-such-group-here
check "--control-group needs --control" 2 "--control-group needs --control PATH" \
	$V run --control-group 0

if ! as "$here/cli_guests.S" -o "$tmp/g.o" 2>"$tmp/as.log"; then
	nok "assemble test kernels"
	cat "$tmp/as.log"
	exit 1
fi
for e in hello echo spin triple spam; do
	ld -nostdlib -static -z max-page-size=0x1000 -Ttext=0x101000 -e $e "$tmp/g.o" \
		-o "$tmp/$e.elf" || { nok "link $e.elf"; exit 1; }
done

# a FIFO (or a directory) is refused at once: opening a FIFO must not wait for a writer
mkfifo "$tmp/kfifo"
check "kernel is a FIFO: refused, no hang" 1 "kernel .*kfifo: not a regular file" \
	timeout 10 $V run --kernel "$tmp/kfifo"
check "initrd is a directory: refused" 1 "initrd .*: not a regular file" \
	$V run --kernel "$tmp/hello.elf" --initrd "$tmp"

# a 32-bit ELF is refused with a reason
if as --32 "$here/cli_guests.S" -o "$tmp/g32.o" 2>/dev/null &&
	ld -m elf_i386 -nostdlib -static -Ttext=0x101000 -e spin "$tmp/g32.o" -o "$tmp/g32.elf" 2>/dev/null; then
	check "32-bit ELF refused" 1 "not a 64-bit ELF" $V run --kernel "$tmp/g32.elf"
fi

# without /dev/kvm (here, or in a mount namespace that hides it) the error says what to do
if ! [ -e /dev/kvm ]; then
	check "no /dev/kvm: says what to do" 1 "/dev/kvm does not exist.*modprobe" \
		$V run --kernel "$tmp/hello.elf"
elif unshare -m true 2>/dev/null; then
	check "no /dev/kvm: says what to do" 1 "/dev/kvm does not exist.*modprobe" \
		unshare -m sh -c "mount -t tmpfs none /dev && exec $V run --kernel $tmp/hello.elf"
else
	skip "no /dev/kvm: says what to do" "unshare not permitted"
fi

if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	for t in "boot: console and status" "initrd too large" "--stats" "stdin pipe reaches the guest" "stdin EOF keeps the VM" \
		"SIGTERM stops the VM" "SIGTERM with stdout blocked" "stdout blocked: ctl answers" \
		"ls output complete" "control socket owner-only" "--control-group member" "triple fault" "terminal restored" \
		"memory error on a terminal" "inject-ume on the page a vCPU executes" \
		"--tls-creds: a missing directory is named"; do
		skip "$t" "no /dev/kvm"
	done
	echo "1..$n"
	exit 0
fi

check "boot: console output and poweroff status" 7 "^hello from vessel" \
	$V run --kernel "$tmp/hello.elf" --cpus 1 --mem 16M
check "--tls-creds: a missing directory is named" 1 "TLS credentials directory $tmp/nocreds: No such file" \
	$V run --incoming tls:127.0.0.1:1 --tls-creds "$tmp/nocreds" --mem 16M

{ printf VSLINRD1; head -c $((5 * 1024 * 1024)) /dev/zero; } >"$tmp/big.img"
check "initrd larger than RAM: clear error" 1 "initrd $tmp/big.img: initrd of 5242888 bytes does not fit in guest RAM" \
	$V run --kernel "$tmp/hello.elf" --initrd "$tmp/big.img" --mem 4M
check "--stats counts exits by kind" 7 "vCPU 0: 19 exits: pio 18 hypercall 1 mmio 0" \
	$V run --kernel "$tmp/hello.elf" --cpus 1 --mem 16M --stats

printf 'ping\n' | $V run --kernel "$tmp/echo.elf" --mem 16M >"$tmp/out" 2>&1
st=$?
if [ $st = 0 ] && [ "$(cat "$tmp/out")" = ping ]; then ok "stdin pipe reaches the guest"; else
	nok "stdin pipe reaches the guest"; echo "# status $st: $(cat "$tmp/out")"; fi

# stdin at EOF at once: the VM must keep running until a signal stops it
$V run --kernel "$tmp/spin.elf" --mem 16M </dev/null >"$tmp/out" 2>&1 &
pid=$!
sleep 1
if kill -0 $pid 2>/dev/null; then ok "stdin EOF keeps the VM running"; else
	nok "stdin EOF keeps the VM running"; fi
kill -TERM $pid 2>/dev/null
wait $pid
st=$?
if [ $st = 143 ] && grep -q "stopped by signal 15" "$tmp/out"; then ok "SIGTERM stops the VM (status 143)"; else
	nok "SIGTERM stops the VM (status 143)"; echo "# status $st"; sed 's/^/#   /' "$tmp/out"; fi

# a signal stops the VM even while a vCPU is blocked writing to a full stdout
# pipe, with input arriving all the time (the console thread must not block)
mkfifo "$tmp/fifo"
sleep 30 <"$tmp/fifo" &
reader=$!
yes | $V run --kernel "$tmp/spam.elf" --mem 16M >"$tmp/fifo" 2>"$tmp/err" &
pid=$!
sleep 4 # 64 KiB of pipe at ~12 us per exit: full after about a second
kill -TERM $pid 2>/dev/null
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then
	nok "SIGTERM stops a VM blocked on a full stdout"
	kill -KILL $pid
else
	wait $pid
	st=$?
	if [ $st = 143 ]; then ok "SIGTERM stops a VM blocked on a full stdout"; else
		nok "SIGTERM stops a VM blocked on a full stdout"; echo "# status $st"; fi
fi
kill $reader 2>/dev/null
wait $reader 2>/dev/null

# pause, resume and quit answer while stdout is blocked: before, the vCPU sat
# in write() on the full pipe, vm_pause() waited for it and the control
# thread waited in vm_pause(), so pause, then every request, hung for good
mkfifo "$tmp/bfifo"
sleep 120 <"$tmp/bfifo" &
reader=$!
$V run --kernel "$tmp/spam.elf" --mem 16M --stats --control "$tmp/blk.sock" \
	</dev/null >"$tmp/bfifo" 2>"$tmp/blk.err" &
pid=$!
# wait (at most 20 s) until a thread of the VMM is blocked writing to the pipe
i=0
while [ $i -lt 200 ] && ! cat /proc/$pid/task/*/wchan 2>/dev/null | grep -q pipe_write; do
	sleep 0.1
	i=$((i + 1))
done
blocked_ok=1
for c in pause status resume stats quit; do
	timeout 10 $V ctl "$tmp/blk.sock" $c >"$tmp/blk.$c" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		blocked_ok=0
		echo "# ctl $c with stdout blocked: status $rc (124: no answer in 10 s): $(cat "$tmp/blk.$c")"
	fi
done
grep -q '"state": "paused"' "$tmp/blk.status" || { blocked_ok=0; echo "# status: $(cat "$tmp/blk.status")"; }
grep -q '"console_dropped"' "$tmp/blk.stats" || { blocked_ok=0; echo "# stats: no console_dropped"; }
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then
	blocked_ok=0
	echo "# the VMM did not exit after quit"
	kill -KILL $pid
fi
wait $pid
st=$?
if [ $blocked_ok = 1 ] && [ $st = 0 ] &&
	grep -qE "stats: console: [1-9][0-9]* bytes of output dropped" "$tmp/blk.err"; then
	ok "stdout blocked: pause, status, resume, stats, quit answer; exit 0, dropped bytes counted"
else
	nok "stdout blocked: pause, status, resume, stats, quit answer; exit 0, dropped bytes counted"
	echo "# status $st"; sed 's/^/#   /' "$tmp/blk.err" | head -10
fi
kill $reader 2>/dev/null
wait $reader 2>/dev/null

# who may drive the VM: the socket is owner-only whatever the umask, and a
# client of another uid is refused by its credentials even when the file was
# opened to everyone by hand; with --control-group, members are admitted
# (before: srwxrwxrwx under umask 000, and any local user could quit it)
as_nobody() { setpriv --reuid=65534 --regid=65534 "$@"; }
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	chmod 711 "$tmp" # others may reach the socket; its own mode decides
	(umask 000 && exec $V run --kernel "$tmp/spin.elf" --mem 16M --control "$tmp/own.sock" \
		</dev/null >"$tmp/own.out" 2>&1) &
	pid=$!
	i=0
	while [ $i -lt 100 ] && ! [ -S "$tmp/own.sock" ]; do sleep 0.1; i=$((i + 1)); done
	mode=$(stat -c %a "$tmp/own.sock" 2>/dev/null)
	as_nobody --clear-groups $V ctl "$tmp/own.sock" quit >"$tmp/own.1" 2>&1
	st1=$?
	chmod 777 "$tmp/own.sock"
	as_nobody --clear-groups $V ctl "$tmp/own.sock" quit >"$tmp/own.2" 2>&1
	st2=$?
	$V ctl "$tmp/own.sock" status >"$tmp/own.3" 2>&1
	if [ "$mode" = 600 ] && [ $st1 = 1 ] && grep -q "Permission denied" "$tmp/own.1" &&
		[ $st2 = 1 ] && grep -q "error: permission denied: uid 65534 is not the VM's owner" "$tmp/own.2" &&
		grep -q '"state": "running"' "$tmp/own.3"; then
		ok "control socket 0600 under umask 000; another uid refused, also with the file 0777"
	else
		nok "control socket 0600 under umask 000; another uid refused, also with the file 0777"
		echo "# mode $mode; as nobody: $st1 $(cat "$tmp/own.1"); after chmod 777: $st2 $(cat "$tmp/own.2")"
		sed 's/^/#   /' "$tmp/own.3"
	fi
	kill -TERM $pid 2>/dev/null
	wait $pid 2>/dev/null

	$V run --kernel "$tmp/spin.elf" --mem 16M --control "$tmp/grp.sock" --control-group 4242 \
		</dev/null >"$tmp/grp.out" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 100 ] && ! [ -S "$tmp/grp.sock" ]; do sleep 0.1; i=$((i + 1)); done
	mode=$(stat -c %a:%g "$tmp/grp.sock" 2>/dev/null)
	as_nobody --groups=4242 $V ctl "$tmp/grp.sock" status >"$tmp/grp.1" 2>&1
	st1=$?
	as_nobody --clear-groups $V ctl "$tmp/grp.sock" status >"$tmp/grp.2" 2>&1
	st2=$?
	if [ "$mode" = 660:4242 ] && [ $st1 = 0 ] && grep -q '"state": "running"' "$tmp/grp.1" &&
		[ $st2 = 1 ]; then
		ok "--control-group 4242: socket 0660 of group 4242, a member is admitted, others not"
	else
		nok "--control-group 4242: socket 0660 of group 4242, a member is admitted, others not"
		echo "# mode $mode; member: $st1 $(cat "$tmp/grp.1"); non-member: $st2 $(cat "$tmp/grp.2")"
		sed 's/^/#   /' "$tmp/grp.out" | head -5
	fi
	kill -TERM $pid 2>/dev/null
	wait $pid 2>/dev/null
else
	skip "control socket 0600 under umask 000; another uid refused" "not root or no setpriv"
	skip "--control-group: a member is admitted" "not root or no setpriv"
fi

# the console's output buffer loses nothing when stdout is read: the shell's
# ls lists every file of the initrd, and poweroff's last words arrive
kernel=$(dirname "$V")/guest/vessel.elf
if [ -f "$kernel" ] && [ -f "$(dirname "$V")/user/initrd.img" ]; then
	printf 'ls\npoweroff\n' | timeout 120 $V run | cat >"$tmp/ls.out" 2>&1
	files=$(tr -d '\r' <"$tmp/ls.out" | sed -n 's/^initrd: \([0-9]*\) files.*/\1/p')
	listed=$(tr -d '\r' <"$tmp/ls.out" | grep -cE '^(\$ )?[^ ]+ +[0-9]+ +(program|file)$')
	if [ -n "$files" ] && [ "$files" = "$listed" ] &&
		tr -d '\r' <"$tmp/ls.out" | grep -q 'powering off (status 0)$'; then
		ok "ls, poweroff piped into vessel run | cat: output complete ($listed files listed)"
	else
		nok "ls, poweroff piped into vessel run | cat: output complete"
		echo "# initrd files: $files, listed: $listed"; sed 's/^/#   /' "$tmp/ls.out" | tail -15
	fi
else
	skip "ls, poweroff piped into vessel run | cat: output complete" "no bundled kernel/initrd"
fi

check "triple fault: register dump, status 125" 125 "RIP 0000000000" \
	$V run --kernel "$tmp/triple.elf" --mem 16M


# the terminal is raw while the VM runs and restored afterwards, also on a signal
if command -v script >/dev/null 2>&1; then
	cat >"$tmp/tty.sh" <<EOS
stty -g >"$tmp/before"
$V run --kernel "$tmp/hello.elf" --mem 16M >/dev/null 2>&1
stty -g >"$tmp/after1"
$V run --kernel "$tmp/spin.elf" --mem 16M </dev/tty >/dev/null 2>&1 &
sleep 1
stty -g >"$tmp/during"
kill -TERM \$!
wait
stty -g >"$tmp/after2"
EOS
	script -qec "sh $tmp/tty.sh" /dev/null >/dev/null 2>&1 </dev/null
	if [ -s "$tmp/before" ] && cmp -s "$tmp/before" "$tmp/after1" &&
		cmp -s "$tmp/before" "$tmp/after2" && ! cmp -s "$tmp/before" "$tmp/during"; then
		ok "terminal raw while running, restored after poweroff and SIGTERM"
	else
		nok "terminal raw while running, restored after poweroff and SIGTERM"
		for f in before during after1 after2; do echo "# $f: $(cat "$tmp/$f" 2>/dev/null)"; done
	fi
	# with a terminal, memory errors are still handled: a vCPU touching a
	# page poisoned with inject-ume gets a machine check; the VMM is not
	# killed by SIGBUS (the terminal's fatal-signal handler used to replace
	# the memory-error handlers)
	cat >"$tmp/ume.sh" <<EOS
$V run --kernel "$tmp/spin.elf" --mem 16M --control "$tmp/ctl.sock" </dev/tty >"$tmp/ume.out" 2>&1 &
sleep 1
$V ctl "$tmp/ctl.sock" inject-ume 0x101000 >"$tmp/ume.ctl" 2>&1
sleep 1
kill -TERM \$! 2>/dev/null
wait \$!
echo \$? >"$tmp/ume.st"
EOS
	script -qec "sh $tmp/ume.sh" /dev/null >/dev/null 2>&1 </dev/null
	st=$(cat "$tmp/ume.st" 2>/dev/null)
	if grep -q "newly_poisoned" "$tmp/ume.ctl" && { [ "$st" = 125 ] || [ "$st" = 143 ]; }; then
		ok "memory error on a terminal: VM stopped or running, VMM not killed by SIGBUS"
	else
		nok "memory error on a terminal: VM stopped or running, VMM not killed by SIGBUS"
		echo "# status $st"; cat "$tmp/ume.ctl" "$tmp/ume.out" | sed 's/^/#   /' | head -10
	fi
else
	skip "terminal restored" "no script(1)"
	skip "memory error on a terminal" "no script(1)"
fi

# inject-ume on the page a vCPU is executing from: the poison must win the
# race against the vCPU mapping the page again (before the fix, 1 try in 4
# failed with "UFFDIO_POISON ... File exists")
races=0
for i in 1 2 3 4 5 6 7 8; do
	rm -f "$tmp/race.sock"
	$V run --kernel "$tmp/spin.elf" --mem 16M --control "$tmp/race.sock" </dev/null >"$tmp/race.out" 2>&1 &
	pid=$!
	for w in 1 2 3 4 5 6 7 8 9 10; do [ -S "$tmp/race.sock" ] && break; sleep 0.1; done
	$V ctl "$tmp/race.sock" inject-ume 0x101000 >"$tmp/race.ctl" 2>&1
	grep -q "newly_poisoned" "$tmp/race.ctl" || { races=$((races + 1)); cp "$tmp/race.ctl" "$tmp/race.bad"; }
	kill -TERM $pid 2>/dev/null
	wait $pid 2>/dev/null
done
if [ $races = 0 ]; then ok "inject-ume on the page a vCPU executes: poisoned every time (8 tries)"; else
	nok "inject-ume on the page a vCPU executes: poisoned every time (8 tries)"
	echo "# $races of 8 failed, e.g.:"; sed 's/^/#   /' "$tmp/race.bad"; fi

echo "1..$n"
[ $failed = 0 ]
