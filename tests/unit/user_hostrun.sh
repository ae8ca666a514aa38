#!/bin/sh
# user_hostrun.sh HOSTRUN INITRD: the user programs run on the Linux host
# under build/user-hostrun (ptrace syscall translation, see
# user/hostrun/hostrun.c). Checks the user side alone: crt0, libc, the
# shell's parsing/status/builtins, init's power-off status, echo, cat,
# memtest, and the usertests whose semantics Linux provides alike. The
# kernel's own semantics are checked by usertests in the VM suites.
set -u
run=$1 img=$2
n=0 fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

ok() { n=$((n + 1)); echo "ok $n - hostrun: $1"; }
bad() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - hostrun: $1"; sed 's/^/# /' "$out" | tail -n 20; }
# expect NAME STATUS TEXT... : the last session's status, and TEXTs in its output
expect() {
	name=$1 want=$2 got=$3
	shift 3
	if [ "$got" != "$want" ]; then
		bad "$name (status $got, want $want)"
		return
	fi
	for pat in "$@"; do
		if ! grep -qF -- "$pat" "$out"; then
			bad "$name (missing line: $pat)"
			return
		fi
	done
	ok "$name"
}

if ! "$run" "$img" echo probe >/dev/null 2>&1; then
	echo "ok 1 - hostrun # SKIP ptrace not permitted here"
	exit 0
fi

"$run" "$img" echo hello "two words" >"$out" 2>&1
expect "echo" 0 $? "hello two words"

"$run" "$img" cat hello.txt nofile >"$out" 2>&1
expect "cat a file and a missing one" 1 $? "Hello from the Vessel initrd." \
	"cat: nofile: ENOENT (no such file)"

printf '%s\n' 'echo a "b c"   '"'d e'" '# a comment' 'nosuch' 'usertests -h exit 4' \
	'echo status $?' 'usertests -h crash null' 'echo $?' 'ls' 'help' 'exit 3' 'echo unreachable' |
	"$run" "$img" sh >"$out" 2>&1
expect "sh: quoting, status, crash report, builtins, exit N" 3 $? \
	'$ a b c d e' \
	'sh: nosuch: command not found (try `ls`)' \
	'$ sh: usertests: exit status 4' \
	'$ status 4' \
	"\$ 139" \
	'hello.txt                        30  file'
grep -q 'killed by SIGSEGV (11)' "$out" && ! grep -q unreachable "$out" ||
	bad "sh: crash not reported or ran past exit"

# a line longer than the shell's buffer is refused whole: its tail never runs
long=$(printf '%01018d' 0)
printf 'echo %spoweroff 3\necho after\n' "$long" | "$run" "$img" sh >"$out" 2>&1
expect "sh: an over-long line is refused, its tail not run" 0 $? \
	'sh: line too long (at most 1022 characters)' '$ after'

printf 'usertests -h sleep 200 &\necho fg\n' | "$run" "$img" sh >"$out" 2>&1
expect "sh: background job, end of input" 0 $? '] usertests' '$ fg' 'sh: end of input'

printf 'usertests -h exit 6\npoweroff $?\necho unreachable\n' | "$run" "$img" init >"$out" 2>&1
expect "init+sh: poweroff \$? ends the tree with that status" 6 $? '$ sh: powering off (status 6)'

printf 'echo bye\n' | "$run" "$img" init >"$out" 2>&1
expect "init+sh: end of input powers off with 0" 0 $? '$ bye'

# physical addresses come from /proc/PID/pagemap, which hides them from non-root
root=1
[ "$(id -u)" = 0 ] || root=0
"$run" "$img" memtest -m 2 -n 3 -i 1 -d 16 >"$out" 2>&1
st=$?
if [ $root = 0 ]; then
	n=$((n + 1))
	echo "ok $n - hostrun: memtest # SKIP not root: no physical addresses in pagemap"
elif [ $st = 0 ] && grep -q '^memtest: page 256 va 0x[0-9a-f]* gpa 0x[0-9a-f]*$' "$out" &&
	[ "$(grep -c '^memtest: round [123] ok checksum' "$out")" = 3 ]; then
	ok "memtest: gpa line and 3 verified rounds"
else
	bad "memtest (status $st)"
fi

"$run" "$img" memtest -m 0 >"$out" 2>&1
expect "memtest: bad size refused" 2 $? "memtest: -m 0: size must be 1..1024 MiB"

# issue 9: `-d 2^64-1` used to spin in one round for good (Ctrl-C could not stop it)
"$run" "$img" memtest -m 1 -n 1 -i 0 -d 18446744073709551615 >"$out" 2>&1
expect "memtest: -d beyond the buffer refused" 2 $? \
	"memtest: -d 18446744073709551615: at most 256 pages per round (the buffer's size)"
"$run" "$img" memtest -m 1 -i 99999999999999999999 >"$out" 2>&1
expect "memtest: -i beyond an hour refused" 2 $? \
	"memtest: -i 18446744073709551615: at most 3600000 ms between rounds"
"$run" "$img" memtest -n 1000000001 >"$out" 2>&1
expect "memtest: -n beyond 10^9 refused" 2 $? "memtest: -n 1000000001: at most 1000000000 rounds"
"$run" "$img" memtest -n -1 >"$out" 2>&1
expect "memtest: a negative count refused" 2 $? "memtest: -n -1: not a number" "usage: memtest"
"$run" "$img" memtest -m 1 -n 1 -i 0 -d 256 -p 255 >"$out" 2>&1
st=$?
if [ $root = 0 ] && grep -q "virt_to_phys" "$out"; then
	n=$((n + 1))
	echo "ok $n - hostrun: memtest at its limits # SKIP not root: no physical addresses in pagemap"
else
	expect "memtest: the largest -d and -p still run" 0 $st "memtest: round 1 ok checksum"
fi

# usertests whose checked behaviour Linux provides the same way
"$run" "$img" usertests read_args open_read_close open_errors fd_limit lseek \
	readdir getpid_gettid regs_preserved unknown_syscall spawn_wait spawn_argv spawn_errors \
	wait_errors wait_nohang exit_status kill_errors yield nanosleep clock_gettime mmap_errors \
	munmap malloc libc $([ $root = 1 ] && echo virt_to_phys) fpu_context fault_isolation no_exec \
	>"$out" 2>&1
st=$?
grep -E '^(not )?ok [0-9]+ - ' "$out" | while read -r line; do
	n=$((n + 1))
	case $line in
	"not ok"*) echo "not ok - hostrun usertests: ${line#not ok * - }" ;;
	*) echo "ok - hostrun usertests: ${line#ok * - }" ;;
	esac
done
grep "^#" "$out" || true
[ $st = 0 ] || fail=$((fail + 1))
[ "$fail" = 0 ]
