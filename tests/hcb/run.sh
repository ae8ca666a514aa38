#!/bin/sh
# Hyper-callbacks end to end (docs/hcb.md): the guest kernel registers its
# eBPF callbacks at boot; the VMM uses them for free-page-aware migration,
# reclaim and memory-error reports. Real `vessel run` processes. Prints TAP.
#   B=build sh tests/hcb/run.sh
set -u

. tests/lib/vm.sh
vm_suite hcb 128M 21000

# migrate SRC DST: migrate SRC to a new destination DST; bytes in $bytes
migrate() {
	next_port
	incoming "$2" "$uri" || return 1
	ctl "$1" migrate "$uri" >/dev/null || return 1
	wait_exit "$1" 120
	[ $status = 0 ] || return 1
	bytes=$(sed -n 's/.*migrated to .* MiB (\([0-9]*\) bytes).*/\1/p' "$W/$1.err")
	[ -n "$bytes" ]
}

# run_memtest NAME ARGS: memtest in the foreground until it is done
memtest_done() {
	wait_for "$W/$1.out" "memtest: round $2 ok" "$3"
}

rss_shmem_kib() {
	awk '/^RssShmem:/ { print $2 }' "/proc/$(pid_of "$1")/status"
}

t_register() {
	boot_shell a || { notok "boot" "$W/a.err" "$W/a.out"; stop_vm a; return; }
	if grep -q "hcb: free-pages callback accepted by the VMM" "$W/a.out" &&
		grep -q "hcb: page-owner callback accepted by the VMM" "$W/a.out" &&
		grep -q "hyper-callback free-pages: accepted" "$W/a.err" &&
		[ "$(ctl a stats | sed -n 's/.*"hcb_accepted": \([0-9]*\).*/\1/p')" = 2 ]; then
		ok "the kernel registers its two callbacks at boot; the VMM verifies and accepts them"
	else
		notok "registration at boot" "$W/a.out" "$W/a.err"
	fi
	stop_vm a
}

t_off() {
	boot_shell a --cmdline hcb=off || { notok "boot hcb=off" "$W/a.err"; stop_vm a; return; }
	ctl a reclaim >"$W/reclaim" 2>&1
	if grep -q "hcb: off" "$W/a.out" && ! grep -q "hyper-callback" "$W/a.err" &&
		grep -q "registered no free-pages hyper-callback" "$W/reclaim"; then
		ok "hcb=off: the kernel registers nothing, reclaim says why it cannot"
	else
		notok "hcb=off" "$W/a.out" "$W/a.err" "$W/reclaim"
	fi
	stop_vm a
	boot_shell a --no-hyper-callbacks || { notok "boot --no-hyper-callbacks" "$W/a.err"; stop_vm a; return; }
	if grep -q "free-pages callback refused (error -1): hyper-callbacks are disabled" "$W/a.out" &&
		[ "$(ctl a stats | sed -n 's/.*"hcb_refused": \([0-9]*\).*/\1/p')" = 2 ]; then
		ok "--no-hyper-callbacks: the VMM refuses every registration and the guest is told"
	else
		notok "--no-hyper-callbacks" "$W/a.out" "$W/a.err"
	fi
	stop_vm a
}

t_owner() {
	boot_shell a || { notok "boot" "$W/a.err"; stop_vm a; return; }
	say a "memtest -m 1 -p 0 -i 200 &"
	wait_for "$W/a.out" "memtest: round 1 ok" 30
	gpa=$(sed -n 's/.*memtest: page [0-9]* va 0x[0-9a-f]* gpa \(0x[0-9a-f]*\).*/\1/p' "$W/a.out" | head -n 1)
	pid=$(sed -n 's/.*\[\([0-9]*\)\].*/\1/p' "$W/a.out" | head -n 1)
	ctl a inject-ume "$gpa" >/dev/null
	ctl a status >"$W/status1"
	ctl a inject-ume 0x6000000 >/dev/null
	ctl a status >"$W/status2"
	if grep -q "\"last_memory_error_owner\": \"$gpa: process [0-9]* (memtest)\"" "$W/status1" &&
		grep -q "memory error at guest page $gpa: process [0-9]* (memtest)" "$W/a.err" &&
		grep -q '"last_memory_error_owner": "0x6000000: free"' "$W/status2"; then
		ok "a memory error names the page's owner before the guest handles it: memtest, then free"
	else
		notok "memory-error owner" "$W/status1" "$W/status2" "$W/a.err"
	fi
	stop_vm a
}

# Two guests fill and free 32 MiB (memtest exits); one migrates with its
# callbacks, one without: the freed pages cross the wire only without.
t_migrate_bytes() {
	boot_shell c && boot_shell d --no-hyper-callbacks ||
		{ notok "migration bytes: boot" "$W/c.err" "$W/d.err"; stop_vm c; stop_vm d; return; }
	say c "memtest -m 32 -n 1 -i 0"
	run_fg d "memtest -m 32 -n 1 -i 0" 240
	say c "echo FG-DONE-$$"
	# FG-DONE: memtest has exited and its memory is free
	if ! memtest_done c 1 240 || ! memtest_done d 1 240 || ! fg_done c 60 || ! fg_done d 60; then
		notok "migration bytes: memtest" "$W/c.out" "$W/d.out"
		stop_vm c; stop_vm d; return
	fi
	migrate c c2 && with=$bytes && migrate d d2 && without=$bytes
	echo "# bytes on the wire after memtest -m 32: $with with callbacks, ${without:-?} without"
	if [ -n "${with:-}" ] && [ -n "${without:-}" ] && [ $((with * 5)) -le "$without" ] &&
		responds c2 && responds d2; then
		ok "free pages are not sent: $with bytes with callbacks, $without without (at most 1/5)"
	else
		notok "migration bytes with and without callbacks" "$W/c.err" "$W/d.err" "$W/c2.err"
	fi
	stop_vm c2
	stop_vm d2
}

# Processes allocate, write and free memory during the migration; every page
# the source did not report free is identical on the destination (test mode
# VESSEL_MIG_CHECKSUMS), and memtest's own checksums still hold.
t_identical() {
	NS="env VESSEL_MIG_CHECKSUMS=$W/e.sum" boot_shell e ||
		{ notok "identical: boot" "$W/e.err"; stop_vm e; return; }
	say e "memtest -m 8 -d 256 -i 0 &"
	wait_for "$W/e.out" "memtest: round 2 ok" 60
	say e "memtest -m 4 -n 20 -i 0 &"
	say e "memtest -m 2 -n 40 -i 0 &"
	sleep 2
	next_port
	NS="env VESSEL_MIG_CHECKSUMS=$W/f.sum" incoming f "$uri" || { notok "identical: destination" "$W/f.err"; stop_vm e; stop_vm f; return; }
	ctl e migrate "$uri" >/dev/null
	wait_exit e 120
	mark=$(wc -c <"$W/f.out")
	sleep 3
	missing=$(sort "$W/e.sum" | comm -23 - "$(sort "$W/f.sum" >"$W/f.sorted"; echo "$W/f.sorted")" | wc -l)
	echo "# $(wc -l <"$W/e.sum") in-use pages checksummed at the hand-over, $missing differ"
	if [ $status = 0 ] && [ -s "$W/e.sum" ] && [ "$missing" = 0 ] &&
		tail -c +"$((mark + 1))" "$W/f.out" | grep -q "memtest: round [0-9]* ok" &&
		! grep -q MISMATCH "$W/f.out"; then
		ok "guest allocating and writing during migration: destination memory identical, memtest checksums hold"
	else
		notok "memory identical across migration (status $status, $missing pages differ)" "$W/e.err" "$W/f.err" "$W/f.out"
	fi
	stop_vm f
}

# reclaim after a 112 MiB memtest: the VMM's shared memory shrinks by at
# least 100 MiB, and the guest uses the reclaimed memory normally.
t_reclaim_start() {
	boot_shell g || { notok "reclaim: boot" "$W/g.err"; stop_vm g; return; }
	say g "memtest -m 112 -n 1 -i 0"
	say g "echo FG-DONE-$$"
}

t_reclaim_finish() {
	if ! memtest_done g 1 400 || ! fg_done g 60; then
		notok "reclaim: memtest" "$W/g.out"
		stop_vm g
		return
	fi
	rss_before=$(rss_shmem_kib g)
	ctl g reclaim >"$W/reclaim.json" 2>&1
	rss_after=$(rss_shmem_kib g)
	mark=$(wc -c <"$W/g.out")
	say g "memtest -m 16 -n 2 -i 0"
	echo "# RssShmem $rss_before KiB -> $rss_after KiB; $(tr -d '\n ' <"$W/reclaim.json")"
	if [ $((rss_before - rss_after)) -ge $((100 * 1024)) ] &&
		wait_for "$W/g.out" "memtest: round 2 ok" 120 &&
		tail -c +"$((mark + 1))" "$W/g.out" | grep -q "memtest: round 2 ok" && responds g; then
		ok "reclaim gives $(((rss_before - rss_after) / 1024)) MiB back to the host; memtest then runs fine on it"
	else
		notok "reclaim ($rss_before -> $rss_after KiB)" "$W/reclaim.json" "$W/g.err" "$W/g.out"
	fi
	stop_vm g
}

if [ ! -c /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip "hyper-callback tests" "no /dev/kvm"
	echo "1..$n"
	exit 0
fi
tests=${*:-"t_reclaim_start t_register t_off t_owner t_migrate_bytes t_identical t_reclaim_finish"}
for t in $tests; do
	echo "# $t"
	$t
done
echo "1..$n"
