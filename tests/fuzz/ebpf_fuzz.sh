#!/bin/sh
# ebpf_fuzz.sh BUILD SECONDS: run the libebpf libFuzzer target for a bounded
# time, seeded with the data-file corpus; print TAP. The corpus grows in
# BUILD/ebpf/fuzz-corpus across runs; crashes land in BUILD/ebpf/fuzz-crash-*.
# A verification that runs past its work budget is a crash too; with
# EBPF_FUZZ_SLOW_MS=N in the environment, so is one taking over N ms of CPU
# (for long runs by hand, not in make check: timing decides no test there).
set -u
B=${1:-build}
secs=${2:-60}
fuzzer=$B/ebpf/fuzz_ebpf
corpus=$B/ebpf/fuzz-corpus
seeds=$B/ebpf/fuzz-seeds
mkdir -p "$corpus" "$seeds"
# seeds: every program of the data-file corpus, in the fuzzer's raw format
"$B/ebpf/datatest" -d "$seeds" tests/ebpf/semantics/*.data tests/ebpf/verifier/*.data \
	>/dev/null 2>&1
for o in "$B"/ebpf/c/*.o; do
	[ -f "$o" ] || continue
	{ printf '\010\377'; cat "$o"; } >"$seeds/elf-$(basename "$o")"
done
log=$B/ebpf/fuzz.log
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$B/ebpf/fuzz-" "$corpus" "$seeds" >"$log" 2>&1
status=$?
tail -n 30 "$log"
stats=$(grep -a 'ebpf_fuzz:' "$log" | tail -n 1)
execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}')
if [ "$status" = 0 ]; then
	echo "ok 1 - libFuzzer ran ${secs}s without a sanitizer report or a verification past its work budget ($execs executions; $stats)"
else
	echo "not ok 1 - libFuzzer found a failure (exit $status), see $log"
fi
