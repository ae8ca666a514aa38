#!/bin/sh
# pttrace_run.sh FUZZER SEEDGEN: fuzz the page-table trace reader and the
# model for $SECONDS_ (SPTMODEL_FUZZ_SECONDS, default 15) from seeds written
# by the VMM's trace writer; TAP. A crash or sanitizer report is a failure;
# the reproducer is kept in $B/fuzz/ and named in the output.
set -u
B=${B:-build}
fuzzer=$1 seedgen=$2
secs=${SPTMODEL_FUZZ_SECONDS:-15}
corpus=$B/fuzz/pttrace-corpus
log=$B/fuzz/pttrace_fuzz.log
mkdir -p "$corpus"
"$seedgen" "$corpus" || { echo "not ok 1 - pttrace_fuzz: no seeds"; exit 1; }
if "$fuzzer" -max_total_time="$secs" -max_len=8192 -rss_limit_mb=1024 \
	-artifact_prefix="$B/fuzz/pttrace-" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	echo "ok 1 - pttrace_fuzz: trace reader and model, no crash in ${secs}s (${execs:-?} inputs)"
else
	echo "not ok 1 - pttrace_fuzz found a crash (see $log)"
	grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5 | sed 's/^/# /'
	exit 1
fi
