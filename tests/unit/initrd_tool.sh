#!/bin/sh
# initrd_tool.sh MKINITRD INITRD_IMG: the mkinitrd command line and the
# initrd the build produced (every file's checksum verified by the reader).
set -u
mk=$1 img=$2
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
n=0 fail=0
check() { # NAME EXPECTED_STATUS COMMAND...
	name=$1 want=$2
	shift 2
	"$@" >"$t/out" 2>&1
	got=$?
	n=$((n + 1))
	if [ "$got" = "$want" ]; then
		echo "ok $n - mkinitrd: $name"
	else
		echo "not ok $n - mkinitrd: $name (status $got, want $want)"
		sed 's/^/# /' "$t/out"
		fail=1
	fi
}
has() { # NAME TEXT: the last command's output contains TEXT
	n=$((n + 1))
	if grep -qF -- "$2" "$t/out"; then
		echo "ok $n - mkinitrd: $1"
	else
		echo "not ok $n - mkinitrd: $1 (no \"$2\" in output)"
		sed 's/^/# /' "$t/out"
		fail=1
	fi
}

check "the build's initrd verifies" 0 "$mk" -l "$img"
has "it holds init, sh and usertests" "usertests"
printf 'abc' >"$t/a"
printf '\177ELFxyz' >"$t/p"
check "pack with renames" 0 "$mk" -o "$t/x.img" one=$t/a prog=$t/p
check "list it" 0 "$mk" -l "$t/x.img"
has "ELF flagged as a program" "prog                              7 exec"
has "data flagged as data" "one                               3 data"
check "a slash in a name is refused" 1 "$mk" -o "$t/y.img" "a/b=$t/a"
has "the error names the input" "a/b: bad file name"
check "duplicate names are refused" 1 "$mk" -o "$t/y.img" "x=$t/a" "x=$t/p"
has "the error says duplicate" "duplicate file name"
check "a missing input is named" 1 "$mk" -o "$t/y.img" "$t/missing"
has "the error names the file" "$t/missing"
[ ! -e "$t/y.img" ] || { n=$((n + 1)); echo "not ok $n - mkinitrd: no output left after errors"; fail=1; }
check "bad alignment refused" 2 "$mk" -a 12 -o "$t/y.img" "$t/a"
# corrupt one data byte of a copy: -l reports the file, exit 1
cp "$t/x.img" "$t/c.img"
printf 'Z' | dd of="$t/c.img" bs=1 seek=4096 conv=notrunc 2>/dev/null
check "a corrupted file is detected" 1 "$mk" -l "$t/c.img"
has "and named" "CHECKSUM MISMATCH"
# corrupt the header: the reader refuses the image and says why
cp "$t/x.img" "$t/h.img"
printf 'X' | dd of="$t/h.img" bs=1 seek=0 conv=notrunc 2>/dev/null
check "a bad header is refused" 1 "$mk" -l "$t/h.img"
has "with the reason" "bad magic"
# an output that cannot be written is reported and left alone (an empty
# directory, a device), never removed
mkdir "$t/outdir"
check "a directory as input is refused" 1 "$mk" -o "$t/y.img" "$t/outdir"
has "as a directory" "outdir: Is a directory"
check "a directory as output is refused" 1 "$mk" -o "$t/outdir" "$t/a"
[ -d "$t/outdir" ] || { n=$((n + 1)); echo "not ok $n - mkinitrd: it removed the directory"; fail=1; }
# (through a link of our own, so a regression removes the link, not /dev/full)
if [ -c /dev/full ] && [ -w /dev/full ]; then
	ln -s /dev/full "$t/full"
	check "a write error is reported" 1 "$mk" -o "$t/full" "$t/a"
	has "naming the output" "$t/full: No space left on device"
	[ -L "$t/full" ] || { n=$((n + 1)); echo "not ok $n - mkinitrd: it removed the device's link"; fail=1; }
fi
check "usage" 2 "$mk"
exit $fail
