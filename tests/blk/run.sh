#!/bin/sh
# virtio-blk end to end (docs/blk.md): real `vessel run` processes with
# raw image files, the guest's blktest/blkbench through the console, the
# images checked from the host after power-off. Prints TAP.
#   B=build sh tests/blk/run.sh [t_name...]
# With BLK_MONITOR=--monitor=sandboxed (suite blk-monitor) every VM runs
# its disks in the sandboxed monitor process (docs/monitor.md).
set -u

. tests/lib/vm.sh
MON=${BLK_MONITOR:-}
if [ -n "$MON" ]; then vm_suite blk-monitor 128M 24000; else vm_suite blk 128M 23000; fi

CHECK="python3 tests/blk/check.py"

image() { rm -f "$1" && truncate -s "$2" "$1"; }

# devstat NAME KEY [INSTANCE]: a virtio-blk counter from `vessel ctl NAME stats`
devstat() {
	ctl "$1" stats | python3 -c 'import json, sys
d = [x for x in json.load(sys.stdin)["devices"] if x["device"] == "virtio-blk"]
print(d[int(sys.argv[2])][sys.argv[1]])' "$2" "${3:-0}"
}

# vmm_mmio_exits NAME: the MMIO exits so far (`vessel ctl NAME stats`), the
# VMM's count and KVM's (its binary statistics)
vmm_mmio_exits() {
	ctl "$1" stats | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d["exits_by_kind"]["mmio"], d["kvm"]["mmio_exits"])'
}

# kv LINE KEY: the value of KEY=VALUE in LINE
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# guest_stats NAME: the shell's `stats` output into $W/NAME.stats;
# named COUNTER: a kernel named counter from it
guest_stats() {
	mark=$(wc -c <"$W/$1.out")
	run_cmd "$1" stats 60
	tail -c +"$((mark + 1))" "$W/$1.out" | tr -d '\r' >"$W/$1.stats"
}
named() { awk -v k="$2" '$1 == k { print $2 }' "$W/$1.stats" | tail -n 1; }

# poweroff NAME: power the guest off and wait for the VMM to exit ($status)
poweroff() {
	say "$1" poweroff
	wait_exit "$1" 60
}

t_suite() {
	image "$W/a.img" 16M
	boot_shell a $MON --disk "$W/a.img" || { notok "boot with a disk" "$W/a.err" "$W/a.out"; stop_vm a; return; }
	if grep -q "vda: virtio-blk at 0xfeb00000 irq 16: 32768 sectors (16 MiB), interrupts calibrated" "$W/a.out"; then
		ok "the kernel finds the disk in the boot info: vda, 16 MiB, calibrated interrupts"
	else
		notok "vda found at boot" "$W/a.out"
	fi
	run_cmd a "blktest" 600
	if grep -q "^8 passed, 0 failed" "$W/a.out"; then
		ok "blktest in the guest: 8 passed (sync, random, split, 32 async in flight, fsync, errors, reclaim)"
	else
		notok "blktest" "$W/a.out"
	fi
	run_cmd a "blktest fill /dev/vda 42 16384 2048" 300
	poweroff a
	if [ "$status" = 0 ] && grep -q "blktest: fill done /dev/vda seed 42" "$W/a.out" &&
		$CHECK verify "$W/a.img" 42 16384 2048 >"$W/check" 2>&1; then
		ok "1 MiB written by the guest (32 requests in flight) is in the image file after power-off"
	else
		notok "image content after power-off (status $status)" "$W/check" "$W/a.out" "$W/a.err"
	fi
}

t_two_disks() {
	image "$W/a.img" 8M
	image "$W/b.img" 12M
	boot_shell a $MON --disk "$W/a.img" --disk "$W/b.img,io=threads" ||
		{ notok "boot with two disks" "$W/a.err"; stop_vm a; return; }
	run_cmd a "blktest -d /dev/vdb -s 5" 600
	suite=$(grep -c "^8 passed, 0 failed" "$W/a.out")
	run_cmd a "blktest fill /dev/vda 1 0 512" 120
	run_cmd a "blktest fill /dev/vdb 2 0 512" 120
	label=$(devstat a label 1)
	poweroff a
	if grep -q "vdb: virtio-blk at 0xfeb01000 irq 17: 24576 sectors" "$W/a.out" && [ "$suite" = 1 ] &&
		[ "$label" = vdb ] && $CHECK verify "$W/a.img" 1 0 512 >"$W/check" 2>&1 &&
		$CHECK verify "$W/b.img" 2 0 512 >>"$W/check" 2>&1; then
		ok "two disks (io_uring and worker-pool backends): blktest on vdb, each image holds its own data"
	else
		notok "two disks" "$W/check" "$W/a.out"
	fi
}

t_readonly() {
	image "$W/a.img" 8M
	image "$W/r.img" 1M
	$CHECK fill "$W/r.img" 7 0 2048
	ro_sum=$(sha256sum <"$W/r.img")
	boot_shell a $MON --disk "$W/a.img" --disk "$W/r.img,readonly" ||
		{ notok "boot with a read-only disk" "$W/a.err"; stop_vm a; return; }
	run_cmd a "blktest -r -d /dev/vdb" 120
	run_cmd a "blktest verify /dev/vdb 7 0 2048" 120
	poweroff a
	after=$(sha256sum <"$W/r.img")
	echo "# read-only image before: $ro_sum, after: $after"
	if grep -q "vdb: .*, read-only," "$W/a.out" && grep -q "^2 passed, 0 failed" "$W/a.out" &&
		grep -q "blktest: verify ok /dev/vdb seed 7" "$W/a.out" && [ "$after" = "$ro_sum" ]; then
		ok "read-only disk: opening for writing is EROFS, writes EBADF, the guest reads the host's bytes, image unchanged"
	else
		notok "read-only disk" "$W/a.out"
	fi
}

# The guest's driver makes a descriptor chain that loops (kernel self-test
# blk_bad_chain): the device refuses it with NEEDS_RESET and one log line,
# the request fails with EIO in the guest, the VM goes on to power off by
# itself with the self-test's result, the image is untouched.
t_bad_chain() {
	image "$W/a.img" 1M
	$CHECK fill "$W/a.img" 5 0 256
	sum=$(sha256sum <"$W/a.img")
	start_vm a $MON --mem $MEM --disk "$W/a.img" --cmdline "selftest=blk_bad_chain"
	wait_exit a 180
	after=$(sha256sum <"$W/a.img")
	line=$(grep -o "vda: device needs reset: .*" "$W/a.err" | head -n 1)
	echo "# exit status $status; VMM: $line"
	tr -d '\r' <"$W/a.out" >"$W/a.txt"
	if [ "$status" = 0 ] && [ -n "$line" ] && grep -q "^ok [0-9]* - blk_bad_chain$" "$W/a.txt" &&
		grep -q "vda: the device needs a reset: failing every request" "$W/a.txt" &&
		[ "$after" = "$sum" ]; then
		ok "a looping descriptor chain: NEEDS_RESET with a log line, EIO in the guest, the VM goes on, image unchanged"
	else
		notok "bad chain (exit status $status)" "$W/a.out" "$W/a.err"
	fi
}

t_refused() {
	image "$W/a.img" 1M
	mkdir -p "$W/dir"
	res=
	for spec in "$W/missing.img:No such file" "$W/dir:Is a directory" "$W/a.img,bogus:unknown option 'bogus'"; do
		arg=${spec%%:*}
		want=${spec#*:}
		"$VESSEL" run --mem $MEM --disk "$arg" </dev/null >"$W/r.out" 2>"$W/r.err"
		rc=$?
		if [ $rc = 2 ] && grep -q -- "--disk '$arg'.*$want" "$W/r.err" && ! grep -q ready "$W/r.out"; then
			res="$res ok"
		else
			res="$res bad($arg:$rc)"
			cat "$W/r.err" >>"$W/refused"
		fi
	done
	set --
	for i in 1 2 3 4 5 6 7 8 9; do set -- "$@" --disk "$W/a.img"; done
	"$VESSEL" run --mem $MEM "$@" </dev/null >"$W/r.out" 2>"$W/r.err"
	rc=$?
	if [ "$res" = " ok ok ok" ] && [ $rc = 1 ] && grep -q "at most 8 virtio devices" "$W/r.err"; then
		ok "--disk refuses a missing file, a directory, an unknown option (status 2) and a ninth disk, before boot"
	else
		notok "refused disks:$res, nine disks: $rc" "$W/refused" "$W/r.err"
	fi
}

# irq MODE: a batch of 32 asynchronous writes and sync reads; counts only
# (the timeout is 1 s, so it never fires inside the batch). Mode 'off' is
# calibrated in the guest on a disk with ,cintr=off (the VMM's off switch):
# standard interrupts, one per completion
t_irq_mode() {
	mode=$1
	gmode=$mode dopt= what=blk.irq=$mode
	[ "$mode" = off ] && gmode=calibrated dopt=,cintr=off what="blk.irq=calibrated on a --disk ...,cintr=off"
	image "$W/a.img" 8M
	boot_shell a $MON --disk "$W/a.img$dopt" --cmdline "blk.irq=$gmode blk.timeout_us=1000000" ||
		{ notok "boot $what" "$W/a.err"; stop_vm a; return; }
	every0=$(devstat a irq_every)
	sup0=$(devstat a irq_suppressed)
	run_cmd a "blktest batch /dev/vda 32" 120
	line=$(tr -d '\r' <"$W/a.out" | grep -o "blktest: batch 32 interrupts [0-9]* completions [0-9]*" | tail -n 1)
	irqs=$(echo "$line" | awk '{ print $5 }')
	done=$(echo "$line" | awk '{ print $7 }')
	barrier=$(devstat a irq_barrier)
	threshold=$(devstat a irq_threshold)
	every=$(($(devstat a irq_every) - every0))
	sup=$(($(devstat a irq_suppressed) - sup0))
	n_sync=8
	[ "$mode" = coalesce ] && n_sync=3 # each waits for the 1-s timeout
	set -- $(vmm_mmio_exits a)
	mmio0=$1 kmmio0=$2
	run_cmd a "blkbench -m sync -o read -n $n_sync" 120
	set -- $(vmm_mmio_exits a)
	mmio=$(($1 - mmio0)) kmmio=$(($2 - kmmio0))
	bline=$(tr -d '\r' <"$W/a.out" | grep -o "blkbench: mode=sync .*" | tail -n 1)
	sync_irqs=$(kv "$bline" interrupts)
	urgent=$(devstat a irq_urgent)
	timeout=$(devstat a irq_timeout)
	fast=$(devstat a kvm_fast_paths)
	stop_vm a
	# the driver's count of its register accesses (blk.exits) against the
	# VMM's MMIO exits: the same, less the kicks KVM's ioeventfd took
	gexits=$(kv "$bline" exits)
	kicks=$(kv "$bline" kicks)
	[ "$fast" = 1 ] && gexits=$((gexits - kicks))
	if [ -n "$gexits" ] && [ "$gexits" -gt 0 ] && [ "$gexits" = "$mmio" ] && [ "$kmmio" = "$mmio" ]; then
		ok "$what: the guest's blk.exits ($gexits without $kicks kicks) = the VMM's MMIO exits ($mmio) = KVM's ($kmmio)"
	else
		notok "$what: guest exits '$gexits' (kicks '$kicks', fast paths '$fast'), VMM MMIO exits '$mmio', KVM's '$kmmio'" "$W/a.out"
	fi
	echo "# $what: batch of 32 -> $irqs guest interrupts ($done completions; device: barrier $barrier threshold $threshold every $every suppressed $sup); $n_sync sync reads -> $sync_irqs (urgent $urgent timeout $timeout)"
	case $mode in
	calibrated) want="$irqs $done $barrier $threshold $sync_irqs $urgent" expect="1 32 1 0 $n_sync $n_sync" ;;
	coalesce) want="$irqs $done $barrier $threshold $sync_irqs $timeout" expect="1 32 0 1 $n_sync $n_sync" ;;
	every) want="$done $every ${sync_irqs:-x}" expect="32 32 $n_sync"
		[ -n "$irqs" ] && [ "$irqs" -ge 1 ] && [ "$irqs" -le 32 ] || expect=bad ;;
	off) # the guest still takes EVENT_IDX: each completion is either an
		# interrupt or one the driver said it does not need (suppressed)
		want="$done $((every + sup)) $barrier $threshold $urgent ${sync_irqs:-x}"
		expect="32 32 0 0 0 $n_sync"
		[ -n "$irqs" ] && [ "$irqs" -ge 1 ] && [ "$irqs" -le 32 ] || expect=bad
		tr -d '\r' <"$W/a.out" | grep -q "calibrated (not offered by the device: standard)" ||
			expect="the boot line naming standard interrupts" ;;
	esac
	if [ "$want" = "$expect" ]; then
		ok "$what: interrupts follow the policy (batch of 32: $irqs; $n_sync sync: $sync_irqs)"
	else
		notok "$what: got '$want', want '$expect'" "$W/a.out"
	fi
}

t_irq() {
	for m in calibrated coalesce every off; do
		t_irq_mode $m
	done
}

# blk.irq= as a list, one mode per disk (counts only, no timing): with
# every,calibrated a batch of 32 asynchronous writes is 32 device interrupts
# on vda (one per completion) and exactly 1 on vdb (the BARRIER); blkbench
# -d vda,vdb alternates its synchronous reads between them (each disk takes
# half, vda's interrupts "every", vdb's URGENT). A bad list is refused on the
# boot line and leaves every disk calibrated.
t_irq_list() {
	image "$W/a.img" 8M
	image "$W/b.img" 8M
	boot_shell a --disk "$W/a.img" --disk "$W/b.img" --cmdline "blk.irq=every,calibrated blk.timeout_us=1000000" ||
		{ notok "boot with blk.irq=every,calibrated" "$W/a.err"; stop_vm a; return; }
	tr -d '\r' <"$W/a.out" >"$W/a.txt"
	boot="$(grep -c "vda: virtio-blk .*, interrupts every$" "$W/a.txt") $(grep -c "vdb: virtio-blk .*, interrupts calibrated$" "$W/a.txt")"
	for k in 0 1; do
		eval "i0_$k=\$(devstat a interrupts $k) e0_$k=\$(devstat a irq_every $k) b0_$k=\$(devstat a irq_barrier $k)"
	done
	run_cmd a "blktest batch /dev/vda 32" 120
	run_cmd a "blktest batch /dev/vdb 32" 120
	batches=$(tr -d '\r' <"$W/a.out" | grep -c "blktest: batch 32 interrupts [0-9]* completions 32")
	ia=$(($(devstat a interrupts 0) - i0_0)) ea=$(($(devstat a irq_every 0) - e0_0)) ba=$(($(devstat a irq_barrier 0) - b0_0))
	ib=$(($(devstat a interrupts 1) - i0_1)) eb=$(($(devstat a irq_every 1) - e0_1)) bb=$(($(devstat a irq_barrier 1) - b0_1))
	r0a=$(devstat a requests 0) r0b=$(devstat a requests 1)
	e1a=$(devstat a irq_every 0) u1b=$(devstat a irq_urgent 1)
	run_cmd a "blkbench -m sync -o read -n 8 -d /dev/vda,/dev/vdb" 120
	bline=$(tr -d '\r' <"$W/a.out" | grep -o "blkbench: mode=sync .*" | tail -n 1)
	ra=$(($(devstat a requests 0) - r0a)) rb=$(($(devstat a requests 1) - r0b))
	sea=$(($(devstat a irq_every 0) - e1a)) sub=$(($(devstat a irq_urgent 1) - u1b))
	poweroff a
	echo "# every,calibrated: batch of 32 on vda -> $ia device interrupts (every $ea, barrier $ba), on vdb -> $ib (every $eb, barrier $bb); 8 sync reads over vda,vdb -> requests $ra/$rb, vda every $sea, vdb urgent $sub"
	got="$boot $batches $ia $ea $ba $ib $eb $bb $ra $rb $sea $sub $(kv "$bline" disks)"
	if [ "$got" = "1 1 2 32 32 0 1 0 1 4 4 4 4 2" ]; then
		ok "blk.irq=every,calibrated: vda every (batch of 32: 32 device interrupts), vdb calibrated (1); blkbench -d vda,vdb alternates 4/4"
	else
		notok "blk.irq=every,calibrated: got '$got', want '1 1 2 32 32 0 1 0 1 4 4 4 4 2'" "$W/a.out" "$W/a.err"
	fi
	# a bad list: the boot line says so, every disk calibrated
	boot_shell a --disk "$W/a.img" --disk "$W/b.img" --cmdline "blk.irq=every,bogus" ||
		{ notok "boot with blk.irq=every,bogus" "$W/a.err"; stop_vm a; return; }
	poweroff a
	tr -d '\r' <"$W/a.out" >"$W/a.txt"
	if grep -q "blk: bad blk.irq=every,bogus: 'bogus' is not every, coalesce or calibrated: calibrated for every disk" "$W/a.txt" &&
		[ "$(grep -c "vd[ab]: virtio-blk .*, interrupts calibrated$" "$W/a.txt")" = 2 ]; then
		ok "blk.irq=every,bogus is refused on the boot line, both disks calibrated"
	else
		notok "blk.irq=every,bogus" "$W/a.out"
	fi
}

# A guest writes 4 MiB with 32 requests in flight while it migrates to a
# second VMM on the same image: no request lost (the fill completes on the
# destination), none done twice (the device's request count, which travels
# with its state, equals the guest's), the image holds exactly the data.
t_migrate() {
	image "$W/m.img" 8M
	# a slow disk on the source (50 ms a request, 4 workers): the migration
	# is started while requests are in flight; whether some still are when
	# the stop-and-copy pauses the VM depends on timing, so it is reported,
	# not required (tests/unit/vmm_virtio_blk_test.c checks the drain itself;
	# a request the pause did not wait for would complete into memory that
	# was already sent, and the fill would never end)
	NS="env VESSEL_BLK_TEST_DELAY_US=50000" boot_shell m $MON --disk "$W/m.img,io=threads" ||
		{ notok "migration: boot" "$W/m.err"; stop_vm m; return; }
	next_port
	incoming n "$uri" $MON --disk "$W/m.img,io=threads"
	say m "blktest fill /dev/vda 77 0 8192 &"
	i=0 at_start=0 busy=0
	while [ $i -lt 600 ] && { [ "$at_start" -lt 64 ] || [ "$busy" = 0 ]; }; do
		set -- $(ctl m stats | python3 -c 'import json, sys
d = json.load(sys.stdin)["devices"][0]
print(d["requests"], d["in_flight"])')
		at_start=${1:-0} busy=${2:-0}
		i=$((i + 1))
	done
	ctl m migrate "$uri" >/dev/null
	wait_exit m 120
	msrc=$status
	wait_for "$W/n.out" "blktest: fill done /dev/vda seed 77" 300
	run_cmd n "echo" 60
	run_cmd n "blktest verify /dev/vda 77 0 8192" 300
	guest_stats n
	greq=$(named n blk.requests)
	gdone=$(named n blk.completions)
	dreq=$(devstat n requests)
	drained=$(devstat n drained_at_pause)
	poweroff n
	echo "# device had taken $at_start requests when the migration started, the pause waited for $drained in flight; guest: $greq requests, $gdone completions; device (source + destination): $dreq"
	if [ "$msrc" = 0 ] && [ "${at_start:-0}" -ge 64 ] && [ "${at_start:-0}" -lt 1024 ] &&
		grep -q "blktest: fill done /dev/vda seed 77 sectors 0..8192 requests 1024" "$W/n.out" &&
		grep -q "blktest: verify ok /dev/vda seed 77" "$W/n.out" &&
		[ -n "$greq" ] && [ "$greq" = "$gdone" ] && [ "$greq" = "$dreq" ] &&
		! grep -q "not in flight" "$W/n.out" &&
		$CHECK verify "$W/m.img" 77 0 8192 >"$W/check" 2>&1; then
		ok "migration with I/O in flight: no request lost or done twice ($greq = $dreq), image identical"
	else
		notok "migration with I/O in flight (source $msrc, at $at_start)" "$W/check" "$W/m.err" "$W/n.err" "$W/n.out"
	fi
}

if [ ! -c /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip "virtio-blk tests" "no /dev/kvm"
	echo "1..$n"
	exit 0
fi
tests=${*:-"t_refused t_suite t_two_disks t_readonly t_bad_chain t_irq t_irq_list t_migrate"}
for t in $tests; do
	echo "# $t"
	$t
done
echo "1..$n"
