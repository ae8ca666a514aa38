#!/bin/sh
# Memory-error bursts (real UFFDIO_POISON, real KVM machine checks): many
# uncorrectable errors reported in quick succession must not shut the guest
# down (a machine check while the guest still handles the previous one,
# MCG_STATUS.MCIP set, is a shutdown on x86). The VMM queues the reports and
# delivers the next only when the guest has finished the last one.
#   B=build sh tests/memerr/run.sh [TEST...]
set -u
FREE_BASE=$((0xc800000)) # 200 MiB: not used by an idle kernel

. tests/lib/vm.sh
vm_suite memerr 256M

# guest_counter NAME COUNTER: the value of a named kernel counter (`stats`)
guest_counter() {
	alive "$1" || { echo -1; return; } # no 3-minute wait on a dead VM
	before=$(wc -c <"$W/$1.out")
	say "$1" stats
	wait_for_after "$1" "$before" "mce.retired_on_free" 180 || { echo -1; return; }
	tail -c +"$((before + 1))" "$W/$1.out" | tr -d '\r' | awk -v c="$2" '$1 == c { print $2; exit }'
}

# wait_for_after NAME OFFSET PATTERN SECONDS: PATTERN after byte OFFSET of the console
wait_for_after() {
	i=0
	while [ $i -lt $(($4 * 10)) ]; do
		tail -c +"$(($2 + 1))" "$W/$1.out" | grep -q -- "$3" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# cpu_ticks NAME: "cpuN TICKS" for each CPU, from a fresh `stats`
cpu_ticks() {
	alive "$1" || return 1
	before=$(wc -c <"$W/$1.out")
	say "$1" stats
	wait_for_after "$1" "$before" "mce.retired_on_free" 180 || return 1
	tail -c +"$((before + 1))" "$W/$1.out" | tr -d '\r' | awk '$1 ~ /^cpu[0-9]+$/ { print $1, $NF }'
}

# cpus_alive NAME: every CPU still takes timer interrupts: its tick count
# grows between two `stats` (polled for at most a minute). The console alone
# proves nothing: one CPU answers it while the other spins with interrupts
# off, as a CPU did when a machine check overwrote another's frame.
cpus_alive() {
	cpu_ticks "$1" >"$W/ticks0" || return 1
	tries=0 # not i: wait_for_after uses it
	while [ $tries -lt 60 ]; do
		sleep 1
		cpu_ticks "$1" >"$W/ticks1" || return 1
		awk 'NR == FNR { t[$1] = $2; next } { n++; if ($2 > t[$1]) g++ }
			END { exit !(n > 0 && g == n) }' "$W/ticks0" "$W/ticks1" && return 0
		tries=$((tries + 1))
	done
	echo "# CPUs without timer ticks since: $(cat "$W/ticks0" "$W/ticks1" | tr '\n' ' ')"
	return 1
}

# host_stat NAME FIELD: an integer field of `vessel ctl stats`
host_stat() {
	ctl "$1" stats | sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p"
}

# wait_delivered NAME COUNT: until COUNT scrub reports are injected and none waits
wait_delivered() {
	i=0
	while [ $i -lt 3000 ]; do # an upper bound only: a loaded machine is slow
		[ "$(host_stat "$1" scrub_reports_injected)" = "$2" ] &&
			[ "$(host_stat "$1" scrub_reports_pending)" = 0 ] && return 0
		alive "$1" || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# fail NAME MESSAGE: a failed test with what explains it: the VMM's
# counters, every vCPU's registers (where a stuck one spins), the logs
fail() {
	ctl "$1" stats >"$W/$1.stats" 2>&1
	ctl "$1" regs >"$W/$1.regs" 2>&1
	notok "$2" "$W/$1.regs" "$W/$1.err" "$W/$1.stats" "$W/$1.ctl" "$W/$1.out"
}

# burst_free COUNT: COUNT free pages poisoned back to back
burst_free() {
	count=$1
	boot_shell a || { notok "burst of $count on free pages: boot" "$W/a.err" "$W/a.out"; stop_vm a; return; }
	i=0
	while [ $i -lt "$count" ]; do
		ctl a inject-ume $(printf '%#x' $((FREE_BASE + i * 4096))) >/dev/null 2>>"$W/a.ctl" || break
		i=$((i + 1))
	done
	wait_delivered a "$count"
	delivered=$?
	retired=$(guest_counter a mce.retired_free)
	events=$(guest_counter a mce.events)
	poisoned=$(host_stat a poisoned_pages)
	nested=$(guest_counter a mce.nested)
	alive=1
	cpus_alive a && alive=0
	echo "# delivered $delivered, guest: $events machine checks ($nested nested), $retired free pages retired;" \
		"host: $poisoned poisoned; CPUs alive $alive"
	if [ $delivered = 0 ] && [ "$retired" = "$count" ] && [ "$events" = "$count" ] &&
		[ "$poisoned" = "$count" ] && [ $alive = 0 ] && ! grep -q "triple fault" "$W/a.err"; then
		ok "burst of $count memory errors on free pages: every page retired, VM fine"
	else
		fail a "burst of $count on free pages"
	fi
	say a poweroff
	wait_exit a 20
}

# burst_process COUNT: COUNT pages of one process poisoned back to back
burst_process() {
	count=$1
	boot_shell a || { notok "burst of $count on a process: boot" "$W/a.err" "$W/a.out"; stop_vm a; return; }
	say a "memtest -m 4 -p 0 -g $count -i 100 &"
	if ! wait_for "$W/a.out" "memtest: round 1 ok" 60; then
		notok "burst of $count on a process: memtest" "$W/a.out"
		stop_vm a
		return
	fi
	sed -n 's/.*memtest: page [0-9]* va 0x[0-9a-f]* gpa \(0x[0-9a-f]*\).*/\1/p' "$W/a.out" >"$W/gpas"
	for g in $(cat "$W/gpas"); do
		ctl a inject-ume "$g" >/dev/null 2>>"$W/a.ctl" || break
	done
	# each page: the owner killed and the page unmapped (retired_user), or
	# the owner already dying, the page retired when it is freed
	wait_delivered a "$count"
	delivered=$?
	wait_for "$W/a.out" "killed pid [0-9]* (memtest)" 20
	events=$(guest_counter a mce.events)
	user=$(guest_counter a mce.retired_user)
	onfree=$(guest_counter a mce.retired_on_free)
	free=$(guest_counter a mce.retired_free)
	killed=$(guest_counter a mce.killed)
	nested=$(guest_counter a mce.nested)
	# a vCPU may also consume a page before its report arrives: an
	# action-required machine check on top of the reports
	ar=$(host_stat a machine_checks_injected)
	alive=1
	cpus_alive a && alive=0
	echo "# delivered $delivered, guest: $events machine checks ($ar action-required," \
		"$nested nested), $killed killed; pages: $user retired by the kill, $onfree when freed," \
		"$free free; CPUs alive $alive"
	if [ "$(wc -l <"$W/gpas")" = "$count" ] && [ $delivered = 0 ] &&
		[ "$events" = $((count + ar)) ] && [ $((user + onfree + free)) = "$count" ] &&
		[ "$killed" -ge 1 ] && [ $alive = 0 ] && ! grep -q "triple fault" "$W/a.err"; then
		ok "burst of $count memory errors on a process's pages: owner killed, every page retired"
	else
		say a stats
		sleep 1
		fail a "burst of $count on a process"
	fi
	say a poweroff
	wait_exit a 20
}

# t_nested: reports that arrive while the previous handler is finishing.
# With mce.test=tail-exit the guest makes one VM exit right after each
# handler cleared MCIP; reports queued while the VM was paused are then
# delivered there, each in the tail of the previous handler, on the same
# #MC stack. Before the #MC stub moved handlers off the top of that stack
# (guest/arch/x86_64/entry.S, mc_kernel), the second frame overwrote the
# first and the vCPU looped on its own iretq with interrupts off: the
# guest stopped, as bursts did on a loaded machine where the window is hit
# by chance.
t_nested() {
	count=3
	boot_shell a --cmdline mce.test=tail-exit ||
		{ notok "nested machine checks: boot" "$W/a.err" "$W/a.out"; stop_vm a; return; }
	ctl a pause >/dev/null 2>>"$W/a.ctl"
	i=0
	while [ $i -lt $count ]; do
		ctl a inject-ume $(printf '%#x' $((FREE_BASE + i * 4096))) >/dev/null 2>>"$W/a.ctl" || break
		i=$((i + 1))
	done
	ctl a resume >/dev/null 2>>"$W/a.ctl"
	wait_delivered a "$count"
	delivered=$?
	nested=$(guest_counter a mce.nested) # -1: the guest does not answer
	retired=-1 events=-1
	if [ "$nested" != -1 ]; then
		retired=$(guest_counter a mce.retired_free)
		events=$(guest_counter a mce.events)
	fi
	alive=1
	[ "$nested" != -1 ] && cpus_alive a && alive=0
	echo "# delivered $delivered, guest: $events machine checks, $nested nested, $retired pages retired; CPUs alive $alive"
	if [ $delivered = 0 ] && [ "$events" = "$count" ] && [ "$nested" = $((count - 1)) ] &&
		[ "$retired" = "$count" ] && [ $alive = 0 ] && ! grep -q "triple fault" "$W/a.err"; then
		ok "machine checks delivered in the tail of the previous handler: all handled, VM fine"
	else
		fail a "nested machine checks"
	fi
	# the dump used above on failures: every vCPU, and the VM runs on
	ctl a regs >"$W/a.regs" 2>&1
	if [ "$(grep -o 'vCPU [0-9] registers:\\nRIP ' "$W/a.regs" | wc -l)" = 2 ] &&
		[ "$(ctl a status | sed -n 's/.*"state": "\(.*\)".*/\1/p')" = running ] && responds a; then
		ok "ctl regs: a register dump of each vCPU, the VM resumed"
	else
		notok "ctl regs" "$W/a.regs"
	fi
	say a poweroff
	wait_exit a 20
}

t_free_2() { burst_free 2; }
t_free_5() { burst_free 5; }
# the big bursts: MEMERR_BURST reports (default 200; 0 skips them), some
# seconds each. On a loaded machine they stopped the guest until a report
# delivered in the tail of the previous handler no longer overwrote its frame
# (t_nested makes that window certain), and the one on a process's pages
# ended in a triple fault until the VMM stopped delivering a queued report to
# a vCPU inside an action-required check (vmm-guests covers that one).
t_free_big() { burst_free "$MEMERR_BURST"; }
t_process_2() { burst_process 2; }
t_process_5() { burst_process 5; }
t_process_big() { burst_process "$MEMERR_BURST"; }

MEMERR_BURST=${MEMERR_BURST:-200}
big="t_free_big t_process_big"
[ "$MEMERR_BURST" = 0 ] && big=
tests=${*:-"t_nested t_free_2 t_free_5 t_process_2 t_process_5 $big"}
if [ ! -c /dev/kvm ] || [ ! -w /dev/kvm ]; then
	for t in $tests; do skip "$t" "no /dev/kvm"; done
	echo "1..$n"
	exit 0
fi
for t in $tests; do
	echo "# $t"
	$t
done
echo "1..$n"
