# Post-copy migration tests, sourced by tests/migrate/run.sh (its helpers:
# boot_src, boot_shell, memtest_verifies, memtest_moves_on,
# wait_source_failed, relay_to, free_page_retired, ...; tests/lib/vm.sh's
# incoming, next_port).

# wait_mstat NAME PATTERN SECONDS: poll NAME's migrate-status (into
# $W/NAME.mstat) until it matches PATTERN
wait_mstat() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		ctl "$1" migrate-status >"$W/$1.mstat" 2>&1
		grep -q -- "$2" "$W/$1.mstat" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# memtest_gpa NAME: the guest-physical address memtest printed on NAME's console
memtest_gpa() {
	sed -n 's/.*memtest: page [0-9]* va 0x[0-9a-f]* gpa \(0x[0-9a-f]*\).*/\1/p' "$W/$1.out" | head -n 1
}

# stat_of NAME KEY: the number KEY in $W/NAME.stats (vessel ctl NAME stats)
stat_of() {
	sed -n "s/.*\"$2\": \([0-9.]*\).*/\1/p" "$W/$1.stats"
}

# pc_stats_match NAME: the incoming post-copy counters in NAME's stats agree
# with the summary line of NAME's log: one completed, none active or left,
# as many faults waited for and pages over the second connection
pc_stats_match() {
	line=$(grep "incoming post-copy migration complete" "$W/$1.err")
	faults=$(echo "$line" | sed -n 's/.*; \([0-9]*\) faults waited for the source.*/\1/p')
	second=$(echo "$line" | sed -n 's/.* \([0-9]*\) pages over the second connection.*/\1/p')
	grep -q '"mig_in_postcopy_active": false' "$W/$1.stats" &&
		[ "$(stat_of "$1" mig_in_postcopy_completed)" = 1 ] &&
		[ "$(stat_of "$1" mig_in_postcopy_failed)" = 0 ] &&
		[ "$(stat_of "$1" mig_in_postcopy_pages_left)" = 0 ] &&
		[ "$(stat_of "$1" mig_in_postcopy_faults_waited)" = "${faults:-none}" ] &&
		[ "$(stat_of "$1" mig_in_postcopy_pages_second_conn)" = "${second:-none}" ] &&
		[ "$(stat_of "$1" mig_in_postcopy_pages)" -gt 0 ] &&
		grep -q '"mig_in_postcopy_fault_p99_ms": [0-9]' "$W/$1.stats"
}

# An idle VM: the state goes first, the destination runs it, the pages follow.
t_pc_idle() {
	next_port
	boot_src a && incoming b "$uri" || { notok "post-copy idle: setup" "$W/a.err" "$W/b.err"; stop_vm a; stop_vm b; return; }
	ctl a migrate --postcopy "$uri" >"$W/a.reply"
	wait_exit a 30
	if [ $status = 0 ] && grep -q '"postcopy": true' "$W/a.reply" &&
		grep -q "migrated to $uri with post-copy: .* paused [0-9.]* ms until the destination ran the VM" "$W/a.err" &&
		wait_for "$W/b.err" "incoming post-copy migration complete" 10 && responds b; then
		ok "post-copy of an idle VM: the destination runs it, all pages arrive, it answers"
	else
		notok "post-copy idle (status $status)" "$W/a.reply" "$W/a.err" "$W/b.err"
	fi
	stop_vm b
}

# memtest running while its pages arrive: the source sends the rest at 2
# MiB/s, so memtest's pages are asked for on demand. Its checksum holds, and
# the VM that arrived by post-copy migrates on (pre-copy).
t_pc_memtest() {
	next_port
	VESSEL_MIG_MAX_MIBS=2 boot_shell a || { notok "post-copy memtest: boot" "$W/a.err"; stop_vm a; return; }
	say a "memtest -m 16 -i 200 -d 64 &"
	if ! wait_for "$W/a.out" "memtest: round 2 ok" 30; then
		notok "post-copy memtest: memtest starts" "$W/a.out"
		stop_vm a
		return
	fi
	incoming b "$uri"
	ctl a migrate "$uri" postcopy >/dev/null
	wait_exit a 120
	wait_for "$W/b.err" "incoming post-copy migration complete" 30
	ctl b stats >"$W/b.stats" 2>&1
	mark=$(wc -c <"$W/b.out")
	if [ $status = 0 ] && memtest_verifies b "$mark" 3 &&
		grep -q "incoming post-copy migration complete: .* [1-9][0-9]* pages over the second connection); [1-9][0-9]* faults waited for the source: latency p50" "$W/b.err" &&
		pc_stats_match b &&
		grep -q "with post-copy: .*, [1-9][0-9]* asked for by the destination ([1-9][0-9]* over the second connection)" "$W/a.err"; then
		ok "post-copy under memtest: pages asked for on demand over the second connection, the checksum holds"
	else
		notok "post-copy memtest (status $status)" "$W/a.err" "$W/b.err" "$W/b.out"
	fi
	memtest_moves_on b c "the VM that came by post-copy migrates on with pre-copy, memtest still verifies"
}

# memtest dirties its buffer faster than the 8 MiB/s the source may send:
# with a downtime limit pre-copy does not converge (its dirty set stays
# large pass after pass); migrate-start-postcopy finishes the migration.
t_pc_converge() {
	next_port
	VESSEL_MIG_MAX_MIBS=8 boot_shell a || { notok "post-copy convergence: boot" "$W/a.err"; stop_vm a; return; }
	say a "memtest -m 16 -i 50 -d 4096 &"
	if ! wait_for "$W/a.out" "memtest: round 3 ok" 60; then
		notok "post-copy convergence: memtest starts" "$W/a.out"
		stop_vm a
		return
	fi
	# a preallocated destination: pre-copy's pages are copied into its mapping,
	# and at the switch the pending ones must become holes again, or the
	# guest would read zeros instead of faulting for them
	incoming b "$uri" --mem-prealloc
	ctl a migrate "$uri" --max_downtime_ms 20 >/dev/null
	if wait_mstat a '"pass": 4,' 120 && grep -q '"status": "pre-copy"' "$W/a.mstat" &&
		[ "$(sed -n 's/.*"dirty_pages_left": \([0-9]*\).*/\1/p' "$W/a.mstat")" -gt 100 ]; then
		ok "pre-copy does not converge on a guest dirtying faster than the wire (pass 4, still pre-copy)"
	else
		notok "pre-copy convergence" "$W/a.mstat" "$W/a.err"
	fi
	ctl a migrate-start-postcopy >"$W/a.reply" 2>&1
	wait_exit a 120
	wait_for "$W/b.err" "incoming post-copy migration complete" 30
	mark=$(wc -c <"$W/b.out")
	if [ $status = 0 ] && grep -q '"switching": true' "$W/a.reply" &&
		grep -q "with post-copy" "$W/a.err" && memtest_verifies b "$mark" 3; then
		ok "migrate-start-postcopy completes it: memtest's checksum holds on the (preallocated) destination"
	else
		notok "switch to post-copy (status $status)" "$W/a.reply" "$W/a.err" "$W/b.err" "$W/b.out"
	fi
	stop_vm b
}

# A UME on memtest's page before a post-copy migration: the page goes as
# POISONED with the state; memtest is killed on the destination when it
# touches it, as after pre-copy.
t_pc_ume_process() {
	next_port
	boot_shell a || { notok "post-copy UME on a process page: boot" "$W/a.err"; stop_vm a; return; }
	say a "memtest -m 4 -i 1000 &"
	wait_for "$W/a.out" "memtest: round 1 ok" 30 || { notok "post-copy UME: memtest" "$W/a.out"; stop_vm a; return; }
	gpa=$(memtest_gpa a)
	incoming b "$uri"
	ctl a inject-ume "$gpa" >/dev/null
	ctl a migrate "$uri" postcopy >/dev/null
	wait_exit a 60
	wait_for "$W/b.out" "killed pid [0-9]* (memtest)" 30
	ctl b stats >"$W/b.stats" 2>&1
	if [ $status = 0 ] && grep -q "killed pid [0-9]* (memtest), page retired" "$W/b.out" &&
		grep -q '"machine_checks_injected": 1' "$W/b.stats" && responds b &&
		! grep -q panic "$W/b.out"; then
		ok "post-copy, UME on memtest's page: memtest killed on the destination when it touches it, VM fine"
	else
		notok "post-copy UME on a process page (gpa $gpa, status $status)" "$W/a.err" "$W/b.err" "$W/b.out" "$W/b.stats"
	fi
	stop_vm b
}

# A UME on a free page before a post-copy migration: re-poisoned on the
# destination, the guest retires the page, nothing else happens.
t_pc_ume_free() {
	next_port
	boot_src a && incoming b "$uri" || { notok "post-copy UME free page: setup" "$W/a.err"; stop_vm a; stop_vm b; return; }
	ctl a inject-ume $FREE_GPA >/dev/null 2>&1
	ctl a migrate "$uri" postcopy >/dev/null
	wait_exit a 30
	wait_for "$W/b.err" "incoming post-copy migration complete" 10
	ctl b stats >"$W/b.stats" 2>&1
	if [ $status = 0 ] && grep -q '"poisoned_pages": 1' "$W/b.stats" &&
		grep -q "\"$FREE_GPA\"" "$W/b.stats" && grep -q "1 poisoned pages sent as POISONED" "$W/a.err" &&
		free_page_retired && responds b; then
		ok "post-copy, UME on a free page: sent as POISONED, re-poisoned on the destination, guest fine"
	else
		notok "post-copy UME on a free page (status $status)" "$W/a.err" "$W/b.err" "$W/b.stats"
	fi
	stop_vm b
}

# A memory error reported on the source after the switch, on a page it has
# not sent yet: the last page of a 12 MiB file at the end of the initrd
# (the kernel keeps its initrd; an idle guest never reads the file), while
# the source sends the rest at 1 MiB/s, so that page's turn comes seconds
# after the report. It goes as POISONED (KNOWN) and the destination
# re-poisons it, as when the error struck before the switch.
t_pc_ume_during() {
	next_port
	head -c $((12 << 20)) /dev/urandom >"$W/ballast.bin"
	"$B/mkinitrd" -o "$W/ballast.img" "$B"/user/bin/* ballast="$W/ballast.bin" >/dev/null ||
		{ notok "post-copy UME during: mkinitrd"; return; }
	VESSEL_MIG_MAX_MIBS=1 start_vm a --mem $MEM --initrd "$W/ballast.img" --control "$W/a.sock"
	wait_for "$W/a.out" "ready" 60 && incoming b "$uri" ||
		{ notok "post-copy UME during: setup" "$W/a.err" "$W/b.err"; stop_vm a; stop_vm b; return; }
	# "initrd: N files, K KiB at 0xADDR": the initrd's last page is the file's
	set -- $(sed -n 's/.*initrd: [0-9]* files, \([0-9]*\) KiB at \(0x[0-9a-f]*\).*/\1 \2/p' "$W/a.out")
	gpa=$(printf '%#x' $((($2 + $1 * 1024 - 1) / 4096 * 4096 - 4096)))
	ctl a migrate --postcopy "$uri" >/dev/null
	wait_for "$W/a.err" "migration switched to post-copy" 30
	ctl a inject-ume "$gpa" >"$W/a.inject" 2>&1
	wait_exit a 120
	wait_for "$W/b.err" "incoming post-copy migration complete" 10
	ctl b stats >"$W/b.stats" 2>&1
	if [ $status = 0 ] && grep -q '"poisoned_pages": 1' "$W/b.stats" &&
		grep -q "\"$gpa\"" "$W/b.stats" && grep -q "1 poisoned pages sent as POISONED" "$W/a.err" &&
		[ "$(stat_of b mig_in_postcopy_repoisoned)" = 1 ] && responds b; then
		ok "post-copy, UME on the source after the switch on a page not sent yet: POISONED, re-poisoned on the destination, guest fine"
	else
		notok "post-copy UME after the switch (gpa $gpa, status $status)" "$W/a.inject" "$W/a.err" "$W/b.err" "$W/b.stats"
	fi
	stop_vm b
}

# A memory error the source finds only while it serves a page in post-copy
# (latent: the VMM was not told; the VM is paused from the injection on, so
# the guest cannot touch the page first): the read is answered POISONED
# (ON_READ), the destination poisons the page, and memtest, which touches
# it, is killed there; the source survives the read.
t_pc_ume_found() {
	next_port
	VESSEL_MIG_MAX_MIBS=2 boot_shell a || { notok "post-copy UME found: boot" "$W/a.err"; stop_vm a; return; }
	say a "memtest -m 8 -i 500 &"
	wait_for "$W/a.out" "memtest: round 1 ok" 30 || { notok "post-copy UME found: memtest" "$W/a.out"; stop_vm a; return; }
	gpa=$(memtest_gpa a)
	incoming b "$uri"
	ctl a pause >/dev/null
	ctl a inject-ume "$gpa" latent >/dev/null
	ctl a migrate "$uri" postcopy >/dev/null
	wait_exit a 120
	wait_for "$W/b.out" "killed pid [0-9]* (memtest)" 30
	ctl b stats >"$W/b.stats" 2>&1
	if [ $status = 0 ] && grep -q "memory error while reading guest page $gpa: sent as POISONED" "$W/a.err" &&
		grep -q "killed pid [0-9]* (memtest), page retired" "$W/b.out" &&
		grep -q '"machine_checks_injected": 1' "$W/b.stats" &&
		[ "$(stat_of b mig_in_postcopy_repoisoned)" = 1 ] && responds b; then
		ok "post-copy, a memory error found by the source's read: POISONED, memtest killed on the destination"
	else
		notok "post-copy UME found on the read (gpa $gpa, status $status)" "$W/a.err" "$W/b.err" "$W/b.out" "$W/b.stats"
	fi
	stop_vm b
}

# The connection dies during post-copy (a relay in between is killed): the
# destination cannot go on and exits 1 saying so (it does not hang on the
# pages that never come); the source keeps its copy paused as at the switch,
# says why, and runs it again when told to (memtest's checksum still holds).
# (The relay takes one connection: the second one is refused, so pages are
# asked for on the main connection here.)
t_pc_cut() {
	next_port
	VESSEL_MIG_MAX_MIBS=1 boot_shell a || { notok "post-copy cut: boot" "$W/a.err"; stop_vm a; return; }
	say a "memtest -m 16 -i 300 &"
	wait_for "$W/a.out" "memtest: round 2 ok" 30 || { notok "post-copy cut: memtest" "$W/a.out"; stop_vm a; return; }
	incoming b "$uri"
	relay_to "$W/wire-pc.bin"
	ctl a migrate "tcp:127.0.0.1:$PORT" postcopy >/dev/null
	wait_mstat a '"status": "post-copy"' 30
	kill -9 $relay
	wait $relay 2>/dev/null
	wait_exit b 30
	wait_source_failed
	ctl a status >"$W/a.status" 2>&1
	ctl a stats >"$W/a.stats" 2>&1
	if [ $status = 1 ] && grep -q "incoming post-copy migration failed: .* pages never arrived, so the VM cannot go on here" "$W/b.err" &&
		[ "$(stat_of a mig_out_failed)" = 1 ] && [ "$(stat_of a mig_out_completed)" = 0 ] &&
		grep -q '"error": "post-copy broke after the destination ran the VM' "$W/a.mstat" &&
		grep -q '"state": "paused"' "$W/a.status" && alive a; then
		ok "connection cut during post-copy: the destination exits 1 and says why, the source keeps its VM paused"
	else
		notok "post-copy cut (destination status $status)" "$W/b.err" "$W/a.mstat" "$W/a.status" "$W/a.err"
	fi
	mark=$(wc -c <"$W/a.out")
	if ctl a resume >/dev/null && memtest_verifies a "$mark" 2 && responds a; then
		ok "after the cut the source's copy resumes when told to; memtest's checksum holds"
	else
		notok "resume after a broken post-copy" "$W/a.err" "$W/a.out"
	fi
	stop_vm a
}

# A destination started with --no-postcopy refuses a post-copy migration
# before the source pauses its VM (the CHANNEL record that announces it
# comes first): it exits 1 saying why, the source's VM keeps running and
# migrates by pre-copy to another --no-postcopy destination.
t_pc_refused() {
	next_port
	boot_shell a || { notok "post-copy refused: boot" "$W/a.err"; stop_vm a; return; }
	say a "memtest -m 4 -i 200 &"
	wait_for "$W/a.out" "memtest: round 1 ok" 30 || { notok "post-copy refused: memtest" "$W/a.out"; stop_vm a; return; }
	incoming b "$uri" --no-postcopy
	ctl a migrate --postcopy "$uri" >/dev/null
	wait_exit b 30
	wait_source_failed
	mark=$(wc -c <"$W/a.out")
	if [ $status = 1 ] &&
		grep -q "incoming migration failed: CHANNEL record #[0-9]*: this destination does not take post-copy (it runs with --no-postcopy)" "$W/b.err" &&
		grep -q '"status": "failed"' "$W/a.mstat" && ! grep -q "switched to post-copy" "$W/a.err" &&
		memtest_verifies a "$mark" 1 && responds a; then
		ok "a --no-postcopy destination refuses post-copy before the pause; the source's VM keeps running"
	else
		notok "post-copy refused (destination status $status)" "$W/b.err" "$W/a.mstat" "$W/a.err"
	fi
	memtest_moves_on a c "and it migrates by pre-copy into a --no-postcopy destination" --no-postcopy
}

# Post-copy over TLS: the source reads page requests while it writes pages
# on the same TLS session, and its second connection is admitted over TLS.
t_pc_tls() {
	next_port
	VESSEL_MIG_MAX_MIBS=2 boot_shell a --tls-creds "$TLS/good" || { notok "post-copy TLS: boot" "$W/a.err"; stop_vm a; return; }
	say a "memtest -m 8 -i 200 &"
	wait_for "$W/a.out" "memtest: round 2 ok" 30 || { notok "post-copy TLS: memtest" "$W/a.out"; stop_vm a; return; }
	incoming b "tls:127.0.0.1:$PORT" --tls-creds "$TLS/good"
	ctl a migrate "tls:127.0.0.1:$PORT" postcopy >/dev/null
	wait_exit a 120
	wait_for "$W/b.err" "incoming post-copy migration complete: .* over tls" 30
	mark=$(wc -c <"$W/b.out")
	if [ $status = 0 ] && memtest_verifies b "$mark" 3 &&
		grep -q "[1-9][0-9]* pages over the second connection); [1-9][0-9]* faults waited for the source" "$W/b.err"; then
		ok "post-copy over TLS under memtest: pages asked for on demand, the checksum holds"
	else
		notok "post-copy over TLS (status $status)" "$W/a.err" "$W/b.err" "$W/b.out"
	fi
	stop_vm b
}
