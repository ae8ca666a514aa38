#!/bin/sh
# Page-table traces end to end (docs/sptmodel.md): real `vessel run
# --pt-trace` processes with a kernel booted with pttrace=on, the control
# commands around them, usertests with tracing on, and the model on the
# traces they write. Prints TAP.
#   B=build sh tests/sptmodel/run.sh
#   SPTMODEL_USERTESTS=all ...   the whole of usertests instead of the subset
set -u

. tests/lib/vm.sh
vm_suite sptmodel 64M
SPT=${SPT:-$B/sptmodel}

# the usertests that exercise page tables, address spaces and TLB flushes
SUBSET="mmap_anon mmap_fixed munmap mprotect brk spawn_many exit_status threads_smp
tlb_shootdown exit_threads fault_isolation no_exec"

echo "1..9"
if [ ! -w /dev/kvm ]; then
	for i in 1 2 3 4 5 6 7 8 9; do skip "sptmodel $i" "no usable /dev/kvm"; done
	exit 0
fi

# idle NAME: wait until the shell has finished what it was given (its
# builtin `help`, which starts no process, answers after it)
idle() {
	before=$(grep -c "builtins: help" "$W/$1.out")
	say "$1" help
	i=0
	while [ $i -lt 600 ]; do
		[ "$(grep -c "builtins: help" "$W/$1.out")" -gt "$before" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# model_row TRACE WORKLOAD COUNTER: "KVM MODEL" from the validation table
model_row() {
	"$SPT" --only validation "$1" | awk -F'|' -v w=" $2 " -v c=" $3 " \
		'$2 == w && $3 == c { gsub(/ /, "", $4); gsub(/ /, "", $5); print $4, $5 }'
}

# within A B PCT: |A - B| <= PCT% of A
within() {
	[ -n "$1" ] && [ -n "$2" ] && [ "$1" -gt 0 ] &&
		[ $(( ($1 - $2) * ($1 - $2) * 10000 )) -le $(( $1 * $1 * $3 * $3 )) ]
}

t_trace() {
	# lookahead=off: system-call lookahead emulates the user code after a
	# call in the kernel, and its stores into the fresh mapping fault the
	# pages in without a guest #PF, so the mmap workload's fault count would
	# depend on how far each chain ran. pti=off: the model has one page
	# table per address space; page-table isolation's user tables are a
	# second root KVM shadows, and their switches are not in the trace
	# (docs/sptmodel.md)
	if ! boot_shell a --control "$W/a.sock" --pt-trace "$W/a.ptr" \
		--cmdline "pttrace=on lookahead=off pti=off"; then
		notok "boot with pttrace=on" "$W/a.out" "$W/a.err"
		stop_vm a
		return
	fi
	idle a
	ctl a pt-mark boot >"$W/mark1" 2>&1
	say a "ptwork mmap 5 8"
	wait_for "$W/a.out" "ptwork: mmap 5 x 8 done" 120 && idle a
	ctl a pt-mark mmap >"$W/mark2" 2>&1
	ctl a kvmstats >"$W/kvmstats" 2>&1
	say a poweroff
	wait_exit a 60
	if [ "$status" = 0 ] && grep -q "pttrace: on, 2 CPUs" "$W/a.out" &&
		grep -q '"marks": 2' "$W/mark2" && grep -q '"pf_fixed"' "$W/kvmstats" &&
		grep -q "pt-trace $W/a.ptr: [0-9]* records (0 lost) from 2 CPUs, 3 marks" "$W/a.err"; then
		ok "pttrace=on with --pt-trace: the kernel traces, pt-mark drains and marks, kvmstats answers, the VMM finishes the file"
	else
		notok "tracing a VM" "$W/a.out" "$W/a.err" "$W/mark2" "$W/kvmstats"
	fi
	"$SPT" "$W/a.ptr" >"$W/model.md" 2>"$W/model.err"
	if [ $? = 0 ] && [ ! -s "$W/model.err" ] && grep -q "^| mmap | [1-9]" "$W/model.md" &&
		grep -q "^| \*\*all\*\* |" "$W/model.md"; then
		ok "sptmodel reads the trace (complete, nothing lost) and models boot, mmap and the end"
	else
		notok "sptmodel on the trace" "$W/model.err" "$W/model.md"
	fi
	# the model of this host's shadow MMU against KVM's own counters for
	# the mmap workload: guest page faults are one-to-one; fixed shadow
	# faults and shadow pages created within 10% (docs/sptmodel.md)
	set -- $(model_row "$W/a.ptr" mmap pf_guest) $(model_row "$W/a.ptr" mmap pf_fixed) \
		$(model_row "$W/a.ptr" mmap mmu_cache_miss)
	echo "# mmap workload, KVM vs model: pf_guest $1/$2 pf_fixed $3/$4 mmu_cache_miss $5/$6"
	if [ $# = 6 ] && [ "$1" = "$2" ] && [ "$1" -ge 40 ] && within "$3" "$4" 10 &&
		within "$5" "$6" 10; then
		ok "the model predicts KVM's pf_guest exactly and pf_fixed, mmu_cache_miss within 10%"
	else
		notok "model vs KVM" "$W/model.md"
	fi
}

t_usertests() {
	args=$SUBSET
	[ "${SPTMODEL_USERTESTS:-}" = all ] && args=
	USERTESTS_ARGS=$(echo $args) USERTESTS_TIMEOUT=900 B=$B sh tests/guest/usertests.sh \
		"$VESSEL" run --mem 128M --cmdline pttrace=on --pt-trace "$W/ut.ptr" >"$W/ut.tap" 2>&1
	passed=$(grep -c "^ok" "$W/ut.tap")
	if ! grep -q "^not ok" "$W/ut.tap" && [ "$passed" -ge 2 ] &&
		"$SPT" --only trace "$W/ut.ptr" >"$W/ut.md" 2>"$W/ut.err" && [ ! -s "$W/ut.err" ]; then
		ok "usertests pass with pttrace=on ($((passed - 1)) tests${args:+: the page-table subset}), and their trace reads back"
	else
		notok "usertests with pttrace=on" "$W/ut.tap" "$W/ut.err"
	fi
}

t_refused() {
	boot_shell b --cmdline pttrace=on || true
	say b poweroff
	wait_exit b 60
	if [ "$status" = 0 ] &&
		grep -q "pttrace: the VMM refused cpu 0's buffer (error -19): run vessel with --pt-trace FILE" "$W/b.out"; then
		ok "pttrace=on without --pt-trace: the VMM answers -ENODEV, the kernel says why and runs on"
	else
		notok "pttrace=on without --pt-trace" "$W/b.out" "$W/b.err"
	fi
}

t_untraced() {
	boot_shell c --control "$W/c.sock" --pt-trace "$W/c.ptr" || true
	ctl c pt-mark idle >/dev/null 2>&1
	say c poweroff
	wait_exit c 60
	"$SPT" --only trace "$W/c.ptr" >"$W/c.md" 2>&1
	if [ "$status" = 0 ] && grep -q "0 records (0 lost), 2 workloads" "$W/c.md" &&
		grep -q "^| idle | 0 |" "$W/c.md"; then
		ok "--pt-trace without pttrace=on: a complete, empty trace with the marks and statistics"
	else
		notok "--pt-trace alone" "$W/c.md" "$W/c.err"
	fi
}

t_ctl_without() {
	boot_shell d --control "$W/d.sock" || true
	ctl d pt-mark x >"$W/d.mark" 2>&1
	mark_rc=$?
	ctl d kvmstats >"$W/d.stats" 2>&1
	stats_rc=$?
	stop_vm d
	if [ $mark_rc = 1 ] && grep -q "no page-table trace is recorded (vessel run --pt-trace FILE)" "$W/d.mark" &&
		[ $stats_rc = 0 ] && grep -q '"mmu_shadow_zapped"' "$W/d.stats" &&
		grep -q '"pf_fixed"' "$W/d.stats"; then
		ok "without --pt-trace: pt-mark says why it cannot, kvmstats still answers"
	else
		notok "control commands without a trace" "$W/d.mark" "$W/d.stats"
	fi
}

t_cli() {
	"$VESSEL" run --pt-trace >"$W/e1" 2>&1
	r1=$?
	"$VESSEL" run --pt-trace "$W/x" --incoming tcp:127.0.0.1:1 >"$W/e2" 2>&1
	r2=$?
	"$VESSEL" run --pt-trace /nonexistent/dir/t </dev/null >"$W/e3" 2>&1
	r3=$?
	if [ $r1 = 2 ] && grep -q "option --pt-trace needs a value" "$W/e1" &&
		[ $r2 = 2 ] && grep -q "not with --incoming" "$W/e2" &&
		[ $r3 = 1 ] && grep -q -- "--pt-trace /nonexistent/dir/t: No such file or directory" "$W/e3"; then
		ok "vessel run --pt-trace: a missing value, --incoming and an unwritable file are refused"
	else
		notok "vessel run --pt-trace errors" "$W/e1" "$W/e2" "$W/e3"
	fi
}

t_model_cli() {
	head -c 300 "$W/a.ptr" >"$W/cut.ptr"
	printf 'not a trace at all, not even close.....' >"$W/junk.ptr"
	"$SPT" "$W/cut.ptr" >"$W/cut.md" 2>"$W/cut.err"
	r1=$?
	"$SPT" "$W/junk.ptr" >/dev/null 2>"$W/junk.err"
	r2=$?
	"$SPT" --set c_exit=-1 "$W/a.ptr" >/dev/null 2>"$W/set.err"
	r3=$?
	if [ $r1 = 0 ] && grep -q "warning: .*cut short at offset" "$W/cut.err" &&
		grep -q "(incomplete trace)" "$W/cut.md" &&
		[ $r2 = 1 ] && grep -q "not a page-table trace (no VSLPTRC1 magic)" "$W/junk.err" &&
		[ $r3 = 2 ] && grep -q "unknown parameter or bad value" "$W/set.err"; then
		ok "sptmodel: a cut trace is modelled with a warning, junk and bad parameters are refused"
	else
		notok "sptmodel command line" "$W/cut.err" "$W/junk.err" "$W/set.err"
	fi
}

t_trace
t_usertests
t_refused
t_untraced
t_ctl_without
t_cli
t_model_cli
