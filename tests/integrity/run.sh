#!/bin/sh
# Code integrity end to end (docs/integrity.md): real `vessel run` processes
# with --integrity=on|report|off. Prints TAP.
#   B=build sh tests/integrity/run.sh
set -u
B=${B:-build}
VESSEL=${VESSEL:-$B/vessel}
KERNEL=${KERNEL:-$B/guest/vessel.elf}
INITRD=${INITRD:-$B/user/initrd.img}
W=$B/integrity-work
MEM=128M
NS=
n=0
rm -rf "$W"
mkdir -p "$W"

. tests/lib/vm.sh

echo "1..15"
if [ ! -e /dev/kvm ]; then
	i=0
	while [ $i -lt 15 ]; do skip "integrity" "no /dev/kvm"; i=$((i + 1)); done
	exit 0
fi

# run_once NAME ARGS...: a VM that powers off by itself; status in $status
run_once() {
	name=$1
	shift
	timeout 600 "$VESSEL" run --mem $MEM --kernel "$KERNEL" --initrd "$INITRD" "$@" \
		</dev/null >"$W/$name.out" 2>"$W/$name.err"
	status=$?
}

# A plain write into kernel text: stopped, discarded or done, by mode.
run_once on --integrity=on --cmdline textwrite
if [ $status = 125 ] && grep -q "textwrite: writing kernel text" "$W/on.out" &&
	! grep -q "textwrite: write" "$W/on.out" &&
	grep -q "integrity: guest write of 1 bytes to kernel text at gpa 0x[0-9a-f]* (va 0xffffffff[0-9a-f]*) refused, vCPU 0, RIP after the write 0xffffffff" "$W/on.err"; then
	ok "--integrity=on: a kernel write into its own text stops the VM (status 125) with address and RIP"
else
	notok "--integrity=on textwrite (status $status)" "$W/on.out" "$W/on.err"
fi

run_once report --integrity=report --cmdline textwrite
if [ $status = 0 ] && grep -q "textwrite: write discarded" "$W/report.out" &&
	grep -q "integrity: discarded a guest write of 1 bytes to kernel text" "$W/report.err"; then
	ok "--integrity=report: the write is discarded and logged, the guest goes on"
else
	notok "--integrity=report textwrite (status $status)" "$W/report.out" "$W/report.err"
fi

run_once off --integrity=off --cmdline textwrite
if [ $status = 0 ] && grep -q "textwrite: write landed" "$W/off.out" &&
	! grep -q "integrity" "$W/off.err"; then
	ok "--integrity=off: the write lands (the baseline)"
else
	notok "--integrity=off textwrite (status $status)" "$W/off.out" "$W/off.err"
fi

# The kernel self-tests with integrity on: every patching user goes through the VMM.
run_once selftest --integrity=on --cpus 2 --stats --cmdline selftest
if [ $status = 0 ] && ! grep -q "^not ok" "$W/selftest.out" &&
	grep -q "^ok [0-9]* - integrity_patch_site[[:space:]]*$" "$W/selftest.out" &&
	grep -q "^ok [0-9]* - integrity_patch_refusals[[:space:]]*$" "$W/selftest.out" &&
	grep -q "^ok [0-9]* - text_poke_patches_kernel_text[[:space:]]*$" "$W/selftest.out" &&
	grep -q "^ok [0-9]* - priv_text_patch_stops_the_world[[:space:]]*$" "$W/selftest.out" &&
	grep -q "^ok [0-9]* - jumpswitch_irq_table_under_rewrite[[:space:]]*$" "$W/selftest.out" &&
	grep -q "^ok [0-9]* - domain_call_entries[[:space:]]*$" "$W/selftest.out" &&
	grep -q "^ok [0-9]* - domain_two_vcpus_in_different_domains[[:space:]]*$" "$W/selftest.out"; then
	ok "kernel self-tests pass with integrity on (text_poke, privileged-mode patching, jumpswitch rewrites, domain calls, two vCPUs in different domains at once)"
else
	notok "self-tests with --integrity=on (status $status)" "$W/selftest.out" "$W/selftest.err"
fi

# The VMM's refusals, as it logged them during the self-tests.
refusals=$(grep -c "integrity: patch of [0-9]* bytes at 0x[0-9a-f]* refused" "$W/selftest.err")
if [ "$refusals" = 7 ] &&
	grep -q "refused: not a registered patch site" "$W/selftest.err" &&
	grep -q "refused: byte 0 (0f): not an allowed instruction" "$W/selftest.err" &&
	grep -q "refused: byte 0: mov with a memory operand" "$W/selftest.err" &&
	grep -q "refused: byte 0 (b8): instruction cut off at the end" "$W/selftest.err" &&
	grep -q "refused: byte 0: jmp to 0x[0-9a-f]*, outside kernel text" "$W/selftest.err"; then
	ok "the VMM refuses unregistered sites, wrmsr/cli, memory stores, cut-off code, jumps out of text"
else
	notok "refusal reports ($refusals of 7)" "$W/selftest.err"
fi

# Every patch went through the secure domain: one TCB call (one exit) each.
line=$(grep "stats: integrity:" "$W/selftest.err")
patches=$(echo "$line" | sed -n 's/.*integrity: \([0-9]*\) patches.*/\1/p')
calls=$(echo "$line" | sed -n 's/.*secure domain: \([0-9]*\) calls.*/\1/p')
exits=$(echo "$line" | sed -n 's/.*calls, \([0-9]*\) exits.*/\1/p')
# calls = patches + the self-tests' own calls (2 echo + 1 handshake)
if [ -n "$patches" ] && [ "$patches" -gt 0 ] && [ "$calls" = $((patches + 3)) ] &&
	[ "$exits" = "$calls" ] &&
	grep -q "domain: call of TCB entry 0 from the root domain refused: not callable from the root" "$W/selftest.err" &&
	grep -q "domain: call of TCB entry 8 from the root domain refused: no such entry" "$W/selftest.err"; then
	ok "every patch was written by the TCB in the secure domain ($patches patches, $calls calls, one exit each); unknown and VMM-only entries refused"
else
	notok "secure-domain counts: $line" "$W/selftest.err"
fi

# The root domain reading the secure domain's memory: the VM stops.
run_once secureread --integrity=on --cmdline secureread
if [ $status = 125 ] && grep -q "secureread: reading" "$W/secureread.out" &&
	! grep -q "secureread: read 0x" "$W/secureread.out" &&
	grep -q "domain: the root domain read 8 bytes of the secure domain's memory at gpa 0x[0-9a-f]* (vCPU 0, RIP 0xffffffff[0-9a-f]*): refused" "$W/secureread.err"; then
	ok "the root domain cannot read the secure domain's memory: the VM stops with a report"
else
	notok "secureread (status $status)" "$W/secureread.out" "$W/secureread.err"
fi

# A TCB altered after the build is refused at boot (one byte of its code).
off=$(readelf -SW "$KERNEL" | sed -n 's/.* \.tcb  *PROGBITS  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1/p')
cp "$KERNEL" "$W/altered.elf"
if [ -n "$off" ]; then
	# the header's first byte: 'V' of the magic becomes 'W'
	printf 'W' | dd of="$W/altered.elf" bs=1 seek=$((0x$off)) conv=notrunc 2>/dev/null
fi
timeout 60 "$VESSEL" run --mem $MEM --kernel "$W/altered.elf" --initrd "$INITRD" --integrity=on \
	</dev/null >"$W/altered.out" 2>"$W/altered.err"
st=$?
run_once altered-off --kernel "$W/altered.elf" --integrity=off --cmdline textwrite
if [ -n "$off" ] && [ $st = 1 ] && [ ! -s "$W/altered.out" ] &&
	grep -q "integrity: the TCB (.tcb, [0-9]* bytes at gpa 0x[0-9a-f]*) measures sha256 [0-9a-f]\{64\} but the image records [0-9a-f]\{64\}: refusing to run it" "$W/altered.err" &&
	[ $status = 0 ]; then
	ok "a TCB altered after the build is refused at boot (the kernel never runs); integrity off ignores the TCB"
else
	notok "altered TCB (offset '$off', status $st, off: $status)" "$W/altered.err" "$W/altered-off.err"
fi

# Counters on both sides, while the shell runs (jumpswitch rewrites its trampolines).
boot_shell a --kernel "$KERNEL" --initrd "$INITRD" --integrity=on || {
	notok "boot with --integrity=on" "$W/a.err" "$W/a.out"
	stop_vm a
}
if alive a; then
	say a "ls"
	say a "stats"
	wait_for "$W/a.out" "integrity.vmm_patches" 120
	ctl a stats >"$W/a.stats" 2>&1
	guest_on=$(sed -n 's/.*integrity\.on *\([0-9]*\).*/\1/p' "$W/a.out" | tail -1)
	# the kernel's patch sites, as registered (the migration test expects as many)
	SITES=$(sed -n 's/.*"integrity_sites": \([0-9]*\).*/\1/p' "$W/a.stats")
	if grep -q '"integrity_mode": "on"' "$W/a.stats" &&
		grep -q '"integrity_sites": [1-9]' "$W/a.stats" &&
		grep -q '"integrity_writes_refused": 0' "$W/a.stats" &&
		grep -q '"domain_tcb_bytes": [1-9]' "$W/a.stats" &&
		[ "$guest_on" = 1 ]; then
		ok "counters: vessel ctl stats (integrity_mode, the patch sites registered) and the guest's stats (integrity.on 1)"
	else
		notok "counters (guest integrity.on '$guest_on')" "$W/a.stats" "$W/a.out"
	fi
	stop_vm a
fi

# Command-line errors.
"$VESSEL" run --integrity=maybe >"$W/bad.out" 2>&1
st=$?
if [ $st = 2 ] && grep -q "integrity 'maybe': must be on, report or off" "$W/bad.out"; then
	ok "--integrity=maybe is refused (status 2)"
else
	notok "bad --integrity value (status $st)" "$W/bad.out"
fi

# Migration carries both domains: the protected text, the secure domain's
# memory (hidden from the root) and the patch sites. Kernel prompt VMs.
PORT=$((30000 + $$ % 20000))
kprompt() { # kprompt NAME ARGS: a VM at the kernel prompt, integrity on
	name=$1
	shift
	start_vm "$name" --mem $MEM --kernel "$KERNEL" --no-initrd --control "$W/$name.sock" "$@"
	wait_for "$W/$name.out" "kernel prompt" 180
}
dst() { # dst NAME ARGS: a destination waiting for a migration
	name=$1
	shift
	next_port
	start_vm "$name" --mem $MEM --control "$W/$name.sock" --incoming "$uri" "$@"
	wait_for "$W/$name.err" "waiting for an incoming migration" 30
}
kprompt a --cpus 2 --integrity=on && say a textpatch &&
	wait_for "$W/a.out" "textpatch: integ_target returned 1, now returns 2 (text_poke 0" 60 &&
	dst b --cpus 2 --kernel "$KERNEL" --integrity=on && ctl a migrate "$uri" >/dev/null
wait_exit a 120
mark=$(wc -c <"$W/b.out")
say b textpatch
if [ $status = 0 ] && wait_for "$W/b.err" "incoming migration complete" 30 &&
	wait_for "$W/b.out" "textpatch: integ_target returned 2, now returns 1 (text_poke 0" 120 &&
	ctl b stats >"$W/b.stats" 2>&1 && grep -qE "\"integrity_sites\": ${SITES:-none}(,|$)" "$W/b.stats" &&
	grep -q '"domain_calls": [1-9]' "$W/b.stats"; then
	ok "migration with --integrity=on: the patched text arrives and patching through the TCB works on the destination"
else
	notok "migrate with integrity (source status $status)" "$W/a.err" "$W/b.err" "$W/b.out" "$W/b.stats"
fi
say b textwrite
wait_exit b 120
if [ $status = 125 ] && grep -q "integrity: guest write of 1 bytes to kernel text at gpa 0x[0-9a-f]* (va 0xffffffff[0-9a-f]*) refused" "$W/b.err"; then
	ok "after the migration a direct write into kernel text is still refused (VM stopped)"
else
	notok "textwrite after migration (status $status)" "$W/b.out" "$W/b.err"
fi
stop_vm b

# A destination without --integrity, or with another mode, refuses the
# stream with a reason; the source keeps running and then migrates for real.
kprompt c --integrity=on || notok "boot c" "$W/c.err"
dst d --kernel "$KERNEL" && ctl c migrate "$uri" >/dev/null
wait_exit d 60
dst e --kernel "$KERNEL" --integrity=report && ctl c migrate "$uri" >/dev/null
st_d=$status
wait_exit e 60
if [ $st_d = 1 ] && [ $status = 1 ] &&
	grep -q "incoming migration failed: .*the source VM runs with --integrity=on; this destination has integrity off" "$W/d.err" &&
	grep -q "incoming migration failed: .*the source VM runs with --integrity=on, this destination with --integrity=report" "$W/e.err" &&
	alive c && responds c; then
	ok "a destination without --integrity or with another mode refuses the stream with a reason; the source keeps running"
else
	notok "refusing destinations (status $st_d, $status)" "$W/d.err" "$W/e.err" "$W/c.err"
fi
dst f --kernel "$KERNEL" --integrity=on && ctl c migrate "$uri" >/dev/null
wait_exit c 120
say f secureread
wait_exit f 120
if [ $status = 125 ] && grep -q "incoming migration complete" "$W/f.err" &&
	grep -q "domain: the root domain read 8 bytes of the secure domain's memory at gpa 0x[0-9a-f]* (vCPU 0, RIP 0xffffffff[0-9a-f]*): refused" "$W/f.err"; then
	ok "after a migration the secure domain's memory is still unreadable from the root domain"
else
	notok "secureread after migration (status $status)" "$W/f.out" "$W/f.err"
fi
stop_vm c
stop_vm f

# patchbench: the same patches work in both modes
run_once pb-on --integrity=on --cmdline patchbench
run_once pb-off --integrity=off --cmdline patchbench
if grep -q "patchbench: integrity on: 20 patches" "$W/pb-on.out" &&
	grep -q "patchbench: integrity off: 20 patches" "$W/pb-off.out"; then
	ok "patchbench runs with integrity on and off"
else
	notok "patchbench" "$W/pb-on.out" "$W/pb-off.out"
fi
