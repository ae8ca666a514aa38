#!/bin/sh
# Live-migration integration tests: real `vessel run` processes, real TCP
# and TLS, real poison (UFFDIO_POISON). Prints TAP. Needs /dev/kvm (skips
# without). TLS credentials are made for the run by tls-creds.sh in $W/tls.
#   B=build sh tests/migrate/run.sh [TEST...]
set -u
B=${B:-build}
VESSEL=${VESSEL:-$B/vessel}
PEER=$B/tests/migrate/mig_peer
W=$B/migrate-work
PORT=$((20000 + $$ % 20000))
MEM=256M
FREE_GPA=0xc800000 # 200 MiB: not used by an idle kernel
TLS=$W/tls
NS= # command prefix for start_vm, e.g. "ip netns exec NAME"
n=0
rm -rf "$W"
mkdir -p "$W"

. tests/lib/vm.sh

# boot_src NAME [ARGS]: a VM with a control socket, booted to "ready"
boot_src() {
	name=$1
	shift
	start_vm "$name" --mem $MEM --no-initrd --control "$W/$name.sock" "$@"
	wait_for "$W/$name.out" "ready" 60
}



# memtest lines after byte offset $2 of NAME's console
memtest_rounds_after() {
	tail -c +"$(($2 + 1))" "$W/$1.out" | grep -c "memtest: round [0-9]* ok"
}

# memtest_verifies NAME MARK N: wait (10 s at most) until NAME's console has
# N memtest rounds after byte MARK; false if fewer came or one MISMATCHed
memtest_verifies() {
	i=0
	while [ "$(memtest_rounds_after "$1" "$2")" -lt "$3" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(memtest_rounds_after "$1" "$2")" -ge "$3" ] && ! grep -q MISMATCH "$W/$1.out"
}

# memtest_moves_on FROM TO TEST [ARGS]: pre-copy from VM FROM (running
# memtest) into a new destination TO (started with ARGS); TEST passes if
# FROM exits 0 and memtest verifies twice more on TO. TO is stopped after.
memtest_moves_on() {
	from=$1
	to=$2
	what=$3
	shift 3
	next_port
	incoming "$to" "$uri" "$@"
	ctl "$from" migrate "$uri" >/dev/null
	wait_exit "$from" 60
	mark=$(wc -c <"$W/$to.out")
	if [ $status = 0 ] && memtest_verifies "$to" "$mark" 2; then
		ok "$what"
	else
		notok "$what (status $status)" "$W/$from.err" "$W/$to.err" "$W/$to.out"
	fi
	stop_vm "$to"
}

t_memtest() {
	next_port
	if ! boot_shell a; then
		notok "memtest: boot with the initrd" "$W/a.err" "$W/a.out"
		stop_vm a
		return
	fi
	say a "memtest -m 16 -i 300 -d 64 &"
	if ! wait_for "$W/a.out" "memtest: round 2 ok" 30; then
		grep -q "memtest" "$W/a.out" || { skip "migration with memtest running" "no memtest in the initrd"; stop_vm a; return; }
		notok "memtest starts" "$W/a.out"
		stop_vm a
		return
	fi
	incoming b "$uri"
	ctl a migrate "$uri" >/dev/null
	wait_exit a 60
	wait_for "$W/b.err" "incoming migration complete" 10
	mark=$(wc -c <"$W/b.out")
	if [ $status = 0 ] && memtest_verifies b "$mark" 3 && grep -q "migrated to" "$W/a.err"; then
		ok "migration while memtest dirties memory: its checksum holds on the destination"
	else
		notok "memtest across migration (status $status)" "$W/a.err" "$W/b.err" "$W/b.out"
	fi
	say b ps
	if wait_for "$W/b.out" "memtest" 5 && responds b; then
		ok "the shell works on the destination"
	else
		notok "shell on the destination" "$W/b.out"
	fi
	memtest_moves_on b c "migrated back again: memtest still verifies"
}

# Four migrations in a row while memtest dirties memory: every hop keeps the
# guest's memory, CPU, interrupt and timer state intact.
t_hops() {
	if ! boot_shell h0; then
		notok "four hops: boot" "$W/h0.err"
		stop_vm h0
		return
	fi
	say h0 "memtest -m 16 -i 200 -d 32 &"
	if ! wait_for "$W/h0.out" "memtest: round 3 ok" 30; then
		skip "four migrations in a row" "no memtest in the initrd"
		stop_vm h0
		return
	fi
	cur=h0
	good=0
	for hop in 1 2 3 4; do
		next_port
		# hops 2 and 3 into --mem-prealloc destinations (hop 4 leaves one)
		pre=
		[ $hop = 2 ] || [ $hop = 3 ] && pre=--mem-prealloc
		incoming "h$hop" "$uri" $pre
		ctl $cur migrate "$uri" >/dev/null
		wait_exit $cur 60
		mark=$(wc -c <"$W/h$hop.out")
		[ $status = 0 ] && memtest_verifies "h$hop" "$mark" 2 && good=$((good + 1))
		cur=h$hop
	done
	if [ $good = 4 ] && responds $cur; then
		ok "four migrations in a row under memtest (two into preallocated memory): checksum holds after every hop"
	else
		notok "four hops ($good of 4 good)" "$W/$cur.err" "$W/$cur.out"
	fi
	stop_vm $cur
}

# UME on a page of a running process before migration: after migration the
# process dies when it touches the page, the rest of the VM is fine.
t_ume_process() {
	next_port
	if ! boot_shell a; then
		notok "UME on a process page: boot" "$W/a.err" "$W/a.out"
		stop_vm a
		return
	fi
	say a "memtest -m 4 -i 4000 &"
	if ! wait_for "$W/a.out" "memtest: round 1 ok" 30; then
		skip "UME on a process page" "no memtest in the initrd"
		stop_vm a
		return
	fi
	gpa=$(sed -n 's/.*memtest: page [0-9]* va 0x[0-9a-f]* gpa \(0x[0-9a-f]*\).*/\1/p' "$W/a.out" | head -n 1)
	# into preallocated memory: the poisoned page must still be poisoned there
	incoming b "$uri" --mem-prealloc
	ctl a inject-ume "$gpa" >/dev/null
	ctl a migrate "$uri" >/dev/null
	wait_exit a 60
	wait_for "$W/b.out" "killed pid [0-9]* (memtest)" 15
	ctl b stats >"$W/b.stats" 2>&1
	if [ $status = 0 ] && grep -q "killed pid [0-9]* (memtest), page retired" "$W/b.out" &&
		grep -q '"machine_checks_injected": 1' "$W/b.stats" &&
		grep -q '"mem_prealloc_mib": [1-9]' "$W/b.stats" && responds b && ! grep -q panic "$W/b.out"; then
		ok "UME on memtest's page before migration (preallocated destination, counted in mem_prealloc_mib): memtest killed on the destination when it touches it, VM fine"
	else
		notok "UME on a process page across migration (gpa $gpa, status $status)" "$W/a.err" "$W/b.err" "$W/b.out" "$W/b.stats"
	fi
	say b "memtest -m 4 -i 200 -n 3"
	if wait_for "$W/b.out" "memtest: round 3 ok" 30; then
		ok "after the kill a new memtest runs fine (the page stays retired)"
	else
		notok "memtest after the kill" "$W/b.out"
	fi
	stop_vm b
}

# The control socket on a live VM: status, pause/resume, stats, bad requests, quit.
t_control() {
	boot_src a || { notok "control socket: boot" "$W/a.err"; stop_vm a; return; }
	ctl a pause >/dev/null && ctl a status >"$W/a.status"
	before=$(wc -c <"$W/a.out")
	say a help
	sleep 1
	after=$(wc -c <"$W/a.out")
	ctl a resume >/dev/null
	if grep -q '"state": "paused"' "$W/a.status" && [ "$before" = "$after" ] &&
		wait_for "$W/a.out" "commands" 5; then
		ok "control: pause stops the guest (no console output), resume continues it"
	else
		notok "control: pause/resume" "$W/a.status" "$W/a.out"
	fi
	ctl a stats >"$W/a.stats"
	"$VESSEL" ctl "$W/a.sock" --json '{"command":"inject-ume","gpa":"0xzz"}' >"$W/bad1" 2>&1
	bad1=$?
	"$VESSEL" ctl "$W/a.sock" --json '[oops' >"$W/bad2" 2>&1
	bad2=$?
	"$VESSEL" ctl "$W/a.sock" inject-ume 0x7fffffffff000 >"$W/bad3" 2>&1
	bad3=$?
	if grep -q '"exits": [1-9]' "$W/a.stats" && [ $bad1 = 1 ] && [ $bad2 = 1 ] && [ $bad3 = 1 ] &&
		grep -q "not an address" "$W/bad1" && grep -q "bad JSON" "$W/bad2" &&
		grep -q "not guest RAM" "$W/bad3" && responds a; then
		ok "control: stats, and bad requests get a JSON error while the VM runs on"
	else
		notok "control: stats and bad requests" "$W/a.stats" "$W/bad1" "$W/bad2" "$W/bad3"
	fi
	ctl a quit >/dev/null
	wait_exit a 20
	[ $status = 0 ] && ok "control: quit stops the VM, vessel exits 0" ||
		notok "control: quit (status $status)" "$W/a.err"
}

t_idle_and_back() {
	next_port
	boot_src a && incoming b "$uri" || { notok "idle VM: setup" "$W/a.err" "$W/b.err"; stop_vm a; stop_vm b; return; }
	ctl a migrate "$uri" >/dev/null
	wait_exit a 30
	if [ $status = 0 ] && grep -q "migrated to $uri" "$W/a.err" && wait_for "$W/b.err" "incoming migration complete" 5 && responds b; then
		ok "idle VM migrates: source exits 0, destination guest continues"
	else
		notok "idle VM migrates (source status $status)" "$W/a.err" "$W/b.err" "$W/b.out"
	fi
	next_port
	incoming c "$uri" || { notok "migrate back: setup" "$W/c.err"; stop_vm b; stop_vm c; return; }
	ctl b migrate "$uri" >/dev/null
	wait_exit b 30
	if [ $status = 0 ] && wait_for "$W/c.err" "incoming migration complete" 5 && responds c; then
		ok "migrated VM migrates again, still answers"
	else
		notok "migrate again (status $status)" "$W/b.err" "$W/c.err"
	fi
	say c poweroff
	wait_exit c 20
	[ $status = 0 ] && ok "guest powers off on the second destination (exit 0)" ||
		notok "poweroff after two migrations (status $status)" "$W/c.err" "$W/c.out"
}

# The guest's #MC handler (kernel code, emulated here: milliseconds) may
# still be printing when the migration hands the VM over: its message then
# appears on the destination's console, or begins on the source's and ends
# on the destination's ("free page reti" + "red"). Wait for it on the two
# consoles joined.
free_page_retired() {
	i=0
	while [ $i -lt 100 ]; do
		cat "$W/a.out" "$W/b.out" | grep -q "free page retired" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# A slow first pass (the source capped at 4 MiB/s while memtest fills 64 MiB):
# migrate-status shows the bytes sent so far during it; a quit then stops the
# source, and its log says the migration was cancelled, not that the
# destination closed the connection or that the VM keeps running.
t_progress_quit() {
	next_port
	NS="env VESSEL_MIG_MAX_MIBS=4" boot_shell a || { notok "progress: setup" "$W/a.err"; stop_vm a; return; }
	say a "memtest -m 64 -i 500 &"
	wait_for "$W/a.out" "memtest: round 1 ok" 60
	incoming b "$uri" || { notok "progress: destination" "$W/b.err"; stop_vm a; stop_vm b; return; }
	ctl a migrate "$uri" >/dev/null
	i=0 seen=
	while [ $i -lt 100 ] && [ -z "$seen" ]; do
		ctl a migrate-status >"$W/ms.json" 2>&1
		if grep -q '"pass": 1,' "$W/ms.json" && grep -q '"status": "pre-copy"' "$W/ms.json" &&
			grep -q '"bytes": [1-9]' "$W/ms.json"; then
			seen=1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	[ -n "$seen" ] && ok "migrate-status shows the bytes sent during the first pass" ||
		notok "migrate-status during the first pass" "$W/ms.json" "$W/a.err"
	ctl a quit >/dev/null
	wait_exit a 30
	if [ $status = 0 ] && grep -q "cancelled: the VM stopped here" "$W/a.err" &&
		! grep -q "keeps running" "$W/a.err" && ! grep -q "closed the connection" "$W/a.err"; then
		ok "quit during a migration: the source stops and says the migration was cancelled"
	else
		notok "quit during a migration (status $status)" "$W/a.err"
	fi
	stop_vm b
}

t_ume_free_page() {
	next_port
	boot_src a && incoming b "$uri" || { notok "UME free page: setup" "$W/a.err"; stop_vm a; stop_vm b; return; }
	ctl a inject-ume $FREE_GPA >"$W/inject.json" 2>&1
	ctl a migrate "$uri" >/dev/null
	wait_exit a 30
	ctl b stats >"$W/b.stats" 2>&1
	if [ $status = 0 ] && grep -q '"newly_poisoned": true' "$W/inject.json" &&
		grep -q '"poisoned_pages": 1' "$W/b.stats" && grep -q "\"$FREE_GPA\"" "$W/b.stats" &&
		grep -q "1 poisoned pages sent as POISONED" "$W/a.err" &&
		free_page_retired && responds b; then
		ok "UME on a free page: sent as POISONED, re-poisoned on the destination, guest fine"
	else
		notok "UME on a free page (status $status)" "$W/inject.json" "$W/a.err" "$W/b.err" "$W/b.stats" "$W/a.out" "$W/b.out"
	fi
	stop_vm b
}

# The read path is what this tests: without the guest's free-pages callback
# every page is read (t_ume_latent_free has the callback's case).
t_ume_latent() {
	next_port
	boot_src a --no-hyper-callbacks && incoming b "$uri" ||
		{ notok "latent UME: setup" "$W/a.err"; stop_vm a; stop_vm b; return; }
	ctl a inject-ume $FREE_GPA latent >/dev/null 2>&1
	ctl a status >"$W/a.status"
	ctl a migrate "$uri" >/dev/null
	wait_exit a 30
	ctl b stats >"$W/b.stats" 2>&1
	if [ $status = 0 ] && grep -q '"poisoned_pages": 0' "$W/a.status" &&
		grep -q "memory error while reading guest page $FREE_GPA" "$W/a.err" &&
		grep -q '"poisoned_pages": 1' "$W/b.stats" && responds b; then
		ok "UME striking during the migration read: source survives, page sent POISONED"
	else
		notok "latent UME during the read (status $status)" "$W/a.err" "$W/b.err" "$W/b.stats"
	fi
	stop_vm b
}

# wait_source_failed: poll VM a's migrate-status (into $W/a.mstat) until the
# migration has failed, for at most 10 s.
wait_source_failed() {
	i=0
	while [ $i -lt 100 ]; do
		ctl a migrate-status >"$W/a.mstat" 2>&1
		grep -q '"status": "failed"' "$W/a.mstat" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# slow_memtest_source TEST: boot VM a with its migration capped at 4 MiB/s
# and 16 MiB of memtest data in it, so that a migration takes about 4 s.
# Where that cannot be done, reports TEST as failed (setup) or skipped (no
# memtest) and returns 1.
slow_memtest_source() {
	VESSEL_MIG_MAX_MIBS=4 boot_shell a || { notok "$1: setup" "$W/a.err"; stop_vm a; return 1; }
	say a "memtest -m 16 -i 1000 &"
	if ! wait_for "$W/a.out" "memtest: round 1 ok" 30; then
		skip "$1" "no memtest in the initrd"
		stop_vm a
		return 1
	fi
}

# With the guest's free-pages callback, a free page is not read at all: a
# latent error on it is never met, the page goes as FREE and the destination
# gets a healthy one (the guest never had data there).
t_ume_latent_free() {
	next_port
	boot_src a && incoming b "$uri" || { notok "latent UME, free page: setup" "$W/a.err"; stop_vm a; stop_vm b; return; }
	ctl a inject-ume $FREE_GPA latent >/dev/null 2>&1
	ctl a migrate "$uri" >/dev/null
	wait_exit a 30
	ctl b stats >"$W/b.stats" 2>&1
	if [ $status = 0 ] && ! grep -q "memory error while reading" "$W/a.err" &&
		grep -q "0 poisoned pages sent as POISONED, [1-9][0-9]* free pages sent as FREE" "$W/a.err" &&
		grep -q '"poisoned_pages": 0' "$W/b.stats" && responds b; then
		ok "latent UME on a free page: not read, sent as FREE, the destination's page is healthy"
	else
		notok "latent UME on a free page (status $status)" "$W/a.err" "$W/b.stats"
	fi
	stop_vm b
}

t_ume_in_flight() {
	next_port
	# 16 MiB of memtest data at 4 MiB/s: the migration takes about 4 s
	slow_memtest_source "UME injected while the migration is in flight" || return
	incoming b "$uri"
	ctl a migrate "$uri" >/dev/null
	sleep 1
	ctl a migrate-status >"$W/a.mstat"
	ctl a inject-ume $FREE_GPA >/dev/null
	wait_exit a 60
	ctl b stats >"$W/b.stats" 2>&1
	if [ $status = 0 ] && grep -q '"status": "pre-copy"' "$W/a.mstat" &&
		grep -q '"poisoned_pages": 1' "$W/b.stats" && responds b &&
		! grep -q MISMATCH "$W/b.out"; then
		ok "UME injected while the migration is in flight: handled, migration completes"
	else
		notok "UME in flight (status $status)" "$W/a.mstat" "$W/a.err" "$W/b.err" "$W/b.stats"
	fi
	stop_vm b
}

t_dest_killed() {
	next_port
	VESSEL_MIG_TIMEOUT_MS=20000 boot_src a && incoming b "$uri" || { notok "destination killed: setup" "$W/a.err"; stop_vm a; stop_vm b; return; }
	kill -STOP "$(pid_of b)"
	ctl a migrate "$uri" >/dev/null
	sleep 1
	kill -9 "$(pid_of b)"
	kill -CONT "$(pid_of b)" 2>/dev/null
	wait_exit b 5
	wait_source_failed
	ctl a status >"$W/a.status" 2>&1
	if grep -q '"status": "failed"' "$W/a.mstat" && grep -q '"state": "running"' "$W/a.status" &&
		alive a && responds a; then
		ok "destination killed mid-migration: the source VM keeps running"
	else
		notok "destination killed" "$W/a.mstat" "$W/a.status" "$W/a.err"
	fi
	stop_vm a
}

# The source dies mid-stream: the destination exits non-zero, says why, and
# never starts a half-received VM.
t_source_killed() {
	next_port
	slow_memtest_source "source killed mid-migration" || return
	incoming b "$uri"
	ctl a migrate "$uri" >/dev/null
	sleep 1
	kill -9 "$(pid_of a)"
	wait_exit a 5
	wait_exit b 30
	if [ $status != 0 ] && [ $status != 124 ] &&
		grep -q "incoming migration failed: truncated migration stream" "$W/b.err" &&
		! grep -q "incoming migration complete" "$W/b.err"; then
		ok "source killed mid-migration: the destination exits $status with a clear error"
	else
		notok "source killed (destination status $status)" "$W/b.err"
	fi
}

t_conn_cut() {
	next_port
	boot_src a || { notok "connection cut: setup" "$W/a.err"; stop_vm a; return; }
	"$PEER" cut $PORT 100000 >"$W/peer.out" 2>&1 &
	peer=$!
	wait_for "$W/peer.out" listening 5
	ctl a migrate "$uri" >/dev/null
	wait $peer
	wait_source_failed
	if grep -q '"status": "failed"' "$W/a.mstat" && alive a && responds a; then
		ok "connection cut mid-stream: the source VM keeps running"
	else
		notok "connection cut" "$W/a.mstat" "$W/a.err" "$W/peer.out"
	fi
	# a second attempt to a real destination still works afterwards
	next_port
	incoming b "$uri"
	ctl a migrate "$uri" >/dev/null
	wait_exit a 30
	if [ $status = 0 ] && responds b; then
		ok "after a failed migration the source migrates successfully"
	else
		notok "retry after a failed migration (status $status)" "$W/a.err" "$W/b.err"
	fi
	stop_vm b
}

t_bad_streams() {
	next_port
	VESSEL_MIG_TIMEOUT_MS=3000 boot_src a || { notok "bad streams: setup" "$W/a.err"; stop_vm a; return; }
	"$PEER" record $PORT "$W/stream.bin" >"$W/peer.out" 2>&1 &
	peer=$!
	wait_for "$W/peer.out" listening 5
	ctl a migrate "$uri" >/dev/null
	wait $peer
	wait_source_failed
	if grep -q '"status": "failed"' "$W/a.mstat" && alive a && responds a; then
		ok "no ACK from the destination: the source resumes its VM"
	else
		notok "no ACK: source resumes" "$W/a.mstat" "$W/a.err"
	fi
	stop_vm a
	size=$(wc -c <"$W/stream.bin")
	# a recorded valid stream is accepted by a real destination
	for variant in valid truncated corrupt garbage wrongmem; do
		next_port
		mem=$MEM
		file=$W/stream.bin
		limit=
		want=
		case $variant in
		truncated) limit=$((size / 2)) want="truncated" ;;
		corrupt)
			file=$W/corrupt.bin
			cp "$W/stream.bin" "$file"
			printf 'X' | dd of="$file" bs=1 seek=$((size / 3)) conv=notrunc 2>/dev/null
			want="checksum mismatch"
			;;
		garbage)
			file=$W/garbage.bin
			head -c 100000 /dev/urandom >"$file"
			;;
		wrongmem) mem=128M want="same --mem" ;;
		esac
		start_vm d --mem $mem --incoming "$uri"
		wait_for "$W/d.err" "waiting for an incoming migration" 10
		"$PEER" send $PORT "$file" $limit >"$W/send.out" 2>&1
		if [ $variant = garbage ]; then
			# not a source: turned away, and the real one still gets in
			"$PEER" send $PORT "$W/stream.bin" >"$W/send2.out" 2>&1
			if grep -q "turned away a connection from 127.0.0.1:[0-9]*: not a Vessel migration stream (bad magic)" "$W/d.err" &&
				wait_for "$W/d.err" "incoming migration complete" 10 && responds d; then
				ok "garbage from a stray connection is turned away; the destination then takes a real stream"
			else
				notok "garbage, then a real stream" "$W/d.err" "$W/send.out" "$W/send2.out"
			fi
			stop_vm d
			continue
		fi
		if [ $variant = valid ]; then
			if wait_for "$W/d.err" "incoming migration complete" 10 && responds d; then
				ok "replayed valid stream: destination runs the VM"
			else
				notok "replayed valid stream" "$W/d.err" "$W/send.out"
			fi
			stop_vm d
			continue
		fi
		wait_exit d 20
		if [ $status != 0 ] && [ $status != 124 ] && grep -q "incoming migration failed: .*$want" "$W/d.err"; then
			ok "$variant stream: destination exits $status with a clear error"
		else
			notok "$variant stream (status $status)" "$W/d.err" "$W/send.out"
		fi
	done
}

t_netns() {
	# left over from an interrupted run?
	ip netns del vessel-mig-a 2>/dev/null
	ip netns del vessel-mig-b 2>/dev/null
	if ! ip netns add vessel-mig-a 2>/dev/null; then
		skip "migration between two network namespaces" "cannot create network namespaces here"
		return
	fi
	ip netns add vessel-mig-b
	ip link add vm-veth-a type veth peer name vm-veth-b &&
		ip link set vm-veth-a netns vessel-mig-a && ip link set vm-veth-b netns vessel-mig-b &&
		ip -n vessel-mig-a addr add 10.77.0.1/24 dev vm-veth-a &&
		ip -n vessel-mig-b addr add 10.77.0.2/24 dev vm-veth-b &&
		ip -n vessel-mig-a link set vm-veth-a up && ip -n vessel-mig-b link set vm-veth-b up &&
		ip -n vessel-mig-a link set lo up && ip -n vessel-mig-b link set lo up
	if [ $? != 0 ]; then
		skip "migration between two network namespaces" "cannot set up a veth pair"
	else
		NS="ip netns exec vessel-mig-a"
		boot_src a
		NS="ip netns exec vessel-mig-b"
		incoming b "tcp:10.77.0.2:$PORT"
		NS=
		ctl a migrate "tcp:10.77.0.2:$PORT" >/dev/null
		wait_exit a 30
		if [ $status = 0 ] && wait_for "$W/b.err" "incoming migration complete" 5 && responds b; then
			ok "migration between two network namespaces over a veth pair"
		else
			notok "netns migration (status $status)" "$W/a.err" "$W/b.err"
		fi
		stop_vm b
	fi
	ip netns del vessel-mig-a 2>/dev/null
	ip netns del vessel-mig-b 2>/dev/null
}

# ---- TLS (tls:HOST:PORT, --tls-creds) and the listener ----

# A string of the kernel's read-only data: in guest memory, so in every
# stream that carries guest memory in clear.
KSTRING="page in use, its owner is killed if it touches it"

# relay_to FILE: a relay (mig_peer relay) on a fresh $PORT to the current
# one, recording what goes through it towards the destination in FILE; its
# pid in $relay
relay_to() {
	dport=$PORT
	next_port
	"$PEER" relay $PORT $dport "$1" >"$W/relay.out" 2>&1 &
	relay=$!
	wait_for "$W/relay.out" listening 5
}

# A VM migrated over TLS (certificates) while memtest dirties its memory; a
# silent stray connection made before the source does not keep it out; on
# the wire (recorded by a relay) neither the stream nor guest memory is
# readable, while the same checks find both in a tcp: migration.
t_tls_memtest() {
	next_port
	if ! boot_shell a --tls-creds "$TLS/good"; then
		notok "TLS migration: boot" "$W/a.err" "$W/a.out"
		stop_vm a
		return
	fi
	say a "memtest -m 16 -i 300 -d 64 &"
	if ! wait_for "$W/a.out" "memtest: round 2 ok" 30; then
		skip "migration over TLS with memtest running" "no memtest in the initrd"
		stop_vm a
		return
	fi
	incoming b "tls:127.0.0.1:$PORT" --tls-creds "$TLS/good"
	"$PEER" stray $PORT 60 >"$W/stray.out" 2>&1 &
	stray=$!
	wait_for "$W/stray.out" connected 5
	relay_to "$W/wire-tls.bin"
	ctl a migrate "tls:127.0.0.1:$PORT" >/dev/null
	wait_exit a 60
	wait_for "$W/b.err" "incoming migration complete" 10
	mark=$(wc -c <"$W/b.out")
	if [ $status = 0 ] && memtest_verifies b "$mark" 3 &&
		grep -q "migrated to tls:127.0.0.1:$PORT" "$W/a.err" &&
		grep -q "incoming migration complete: .* over tls" "$W/b.err"; then
		ok "TLS with certificates: a VM migrated while memtest dirties memory, its checksum holds"
	else
		notok "TLS migration under memtest (status $status)" "$W/a.err" "$W/b.err" "$W/b.out"
	fi
	wait $stray
	if grep -q "closed by the destination" "$W/stray.out" &&
		grep -q "turned away a connection from 127.0.0.1:[0-9]*: another source was admitted first" "$W/b.err"; then
		ok "a silent stray connection made before the source did not keep the source out"
	else
		notok "silent stray connection" "$W/stray.out" "$W/b.err"
	fi
	wait $relay
	# back over plain TCP through a relay too: the control for the wire check
	next_port
	incoming c "tcp:127.0.0.1:$PORT"
	relay_to "$W/wire-tcp.bin"
	ctl b migrate "tcp:127.0.0.1:$PORT" >/dev/null
	wait_exit b 60
	wait $relay
	tls_size=$(wc -c <"$W/wire-tls.bin")
	if [ "$tls_size" -gt 1000000 ] && ! grep -qa VESSLMIG "$W/wire-tls.bin" &&
		! grep -qa "$KSTRING" "$W/wire-tls.bin" &&
		grep -qa VESSLMIG "$W/wire-tcp.bin" && grep -qa "$KSTRING" "$W/wire-tcp.bin"; then
		ok "on the wire a tls: stream ($tls_size bytes) shows neither the stream nor guest memory; a tcp: one shows both"
	else
		notok "wire contents (tls $tls_size bytes)" "$W/relay.out"
	fi
	if [ $status = 0 ] && wait_for "$W/c.err" "incoming migration complete: .* over tcp" 10 &&
		responds c; then
		ok "the VM that came over TLS migrates on over plain TCP"
	else
		notok "TLS then TCP (status $status)" "$W/b.err" "$W/c.err"
	fi
	stop_vm c
}

# tls_migrates DEST URI WHAT: VM a migrates to URI, DEST runs it, over TLS
tls_migrates() {
	ctl a migrate "$2" >/dev/null
	wait_exit a 30
	if [ $status = 0 ] && wait_for "$W/$1.err" "incoming migration complete: .* over tls" 5 &&
		responds "$1"; then
		ok "$3"
	else
		notok "$3 (status $status)" "$W/a.err" "$W/$1.err"
	fi
	stop_vm "$1"
}

# migrate_fails URI: ask VM a to migrate to URI and wait until that has
# failed; the reason is then in $W/a.mstat
migrate_fails() {
	ctl a migrate "$1" >"$W/a.reply" 2>&1 || { cp "$W/a.reply" "$W/a.mstat"; return 0; }
	wait_source_failed
}

# refused URI SOURCE_SAYS DEST_SAYS WHAT: VM a's migration to URI fails with
# SOURCE_SAYS in its migrate-status, VM d turns the connection away saying
# DEST_SAYS, and both go on
refused() {
	migrate_fails "$1"
	if grep -q -- "$2" "$W/a.mstat" &&
		wait_for "$W/d.err" "turned away a connection from 127.0.0.1:[0-9]*: $3" 5 &&
		alive d && responds a; then
		ok "$4"
	else
		notok "$4" "$W/a.mstat" "$W/a.err" "$W/d.err"
	fi
}

# Refused peers: a source with a certificate of another CA, a plain TCP
# source and (the other way round) a destination with a certificate of
# another CA. Each side says why, the sources keep running, and the
# destination then admits the real source. The source reads its --tls-creds
# directory again for every migration, so one source plays every part.
t_tls_refused() {
	mkdir -p "$W/acreds"
	cp "$TLS"/rogue-client/* "$W/acreds/"
	next_port
	durl=tls:127.0.0.1:$PORT
	boot_src a --tls-creds "$W/acreds" && incoming d "$durl" --tls-creds "$TLS/good" ||
		{ notok "refused peers: setup" "$W/a.err" "$W/d.err"; stop_vm a; stop_vm d; return; }
	refused "$durl" '"error": "the destination refused this source (TLS alert: Certificate is required)"' \
		"the source presented no certificate issued by the CA" \
		"TLS: a source whose certificate another CA issued is refused; it says why and keeps running"
	refused "tcp:127.0.0.1:$PORT" '"status": "failed"' "the source does not speak TLS" \
		"TLS: a plain TCP source is turned away; it fails and keeps running"
	cp "$TLS"/good/* "$W/acreds/"
	next_port
	incoming e "tls:127.0.0.1:$PORT" --tls-creds "$TLS/rogue-server"
	migrate_fails "tls:127.0.0.1:$PORT"
	if grep -q "the destination's certificate is refused: The certificate is NOT trusted. The certificate issuer is unknown." "$W/a.mstat" &&
		alive e && responds a; then
		ok "TLS: the source refuses a destination whose certificate another CA issued"
	else
		notok "destination of another CA" "$W/a.mstat" "$W/e.err"
	fi
	stop_vm e
	tls_migrates d "$durl" "after the refused peers the destination admits the real source"
}

# A pre-shared key: a wrong key is refused at both ends, the right one migrates.
t_tls_psk() {
	mkdir -p "$W/pcreds"
	cp "$TLS/psk-wrong/keys.psk" "$W/pcreds/"
	next_port
	boot_src a --tls-creds "$W/pcreds" && incoming d "tls:127.0.0.1:$PORT" --tls-creds "$TLS/psk" ||
		{ notok "PSK: setup" "$W/a.err" "$W/d.err"; stop_vm a; stop_vm d; return; }
	grep -q "(TLS, pre-shared key)" "$W/d.err" || notok "PSK: listener kind" "$W/d.err"
	refused "tls:127.0.0.1:$PORT" '"error": "the destination refused the TLS handshake' \
		"TLS handshake with the source failed" \
		"TLS: a source with the wrong pre-shared key is refused and keeps running"
	cp "$TLS/psk/keys.psk" "$W/pcreds/"
	tls_migrates d "tls:127.0.0.1:$PORT" "TLS with a pre-shared key: the VM migrates"
}

# The overall deadline (--incoming-timeout): nobody real comes (only a
# silent stray), or the source is too slow: the destination exits 1 and says
# why; the slow source keeps its VM.
t_incoming_deadline() {
	next_port
	start_vm d --mem $MEM --incoming "tls:127.0.0.1:$PORT" --tls-creds "$TLS/good" --incoming-timeout 2
	wait_for "$W/d.err" "waiting for an incoming migration" 10
	"$PEER" stray $PORT 30 >"$W/stray.out" 2>&1
	wait_exit d 30
	if [ $status = 1 ] && grep -q "no migration source arrived within the --incoming-timeout of 2 s" "$W/d.err" &&
		grep -q "closed by the destination" "$W/stray.out"; then
		ok "--incoming-timeout: with no source (only a silent stray) the destination exits 1 and says why"
	else
		notok "incoming deadline, no source (status $status)" "$W/d.err" "$W/stray.out"
	fi
	next_port
	# 16 MiB of memtest data at 4 MiB/s: at least 4 s, twice the deadline
	slow_memtest_source "--incoming-timeout during a slow migration" || return
	start_vm d --mem $MEM --incoming "tcp:127.0.0.1:$PORT" --incoming-timeout 2
	wait_for "$W/d.err" "waiting for an incoming migration" 10
	ctl a migrate "tcp:127.0.0.1:$PORT" >/dev/null
	wait_exit d 30
	wait_source_failed
	if [ $status = 1 ] && grep -q "within the --incoming-timeout of 2 s" "$W/d.err" &&
		! grep -q "incoming migration complete" "$W/d.err" &&
		grep -q '"status": "failed"' "$W/a.mstat" && responds a; then
		ok "--incoming-timeout: a migration still running at the deadline is abandoned (exit 1), the source keeps its VM"
	else
		notok "incoming deadline mid-stream (status $status)" "$W/d.err" "$W/a.mstat" "$W/a.err"
	fi
	stop_vm a
}

. "$(dirname "$0")/postcopy.sh"

if [ ! -c /dev/kvm ] || ! [ -r /dev/kvm ]; then
	echo "ok 1 - migration tests # SKIP no /dev/kvm"
	exit 0
fi
sh "$(dirname "$0")/tls-creds.sh" "$TLS" >/dev/null || { echo "not ok 1 - TLS credentials (tls-creds.sh)"; exit 1; }
tests=${*:-t_control t_idle_and_back t_memtest t_hops t_ume_process t_ume_free_page t_progress_quit t_ume_latent t_ume_latent_free t_ume_in_flight t_dest_killed t_source_killed t_conn_cut t_bad_streams t_netns t_tls_memtest t_tls_refused t_tls_psk t_incoming_deadline t_pc_idle t_pc_memtest t_pc_converge t_pc_ume_process t_pc_ume_free t_pc_ume_during t_pc_ume_found t_pc_cut t_pc_refused t_pc_tls}
for t in $tests; do
	echo "# $t"
	$t
done
echo "1..$n"
