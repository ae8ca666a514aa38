#!/bin/sh
# x86_run.sh FUZZER SEED_DIR SECONDS: run the x86 lookahead libFuzzer target
# for a bounded time on a scratch copy of the seeds; prints one TAP line.
# A crash leaves its reproducer next to the fuzzer (x86-crash-*).
set -u
fuzzer=$1 seeds=$2 secs=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$seeds"/seed-* "$work"/
out=$(dirname "$fuzzer")
echo "1..1"
if "$fuzzer" -max_total_time="$secs" -max_len=64 -timeout=10 -rss_limit_mb=1024 \
	-artifact_prefix="$out/x86-" -print_final_stats=1 "$work" >"$work/log" 2>&1; then
	runs=$(grep -E '^stat::number_of_executed_units' "$work/log" | awk '{print $2}')
	echo "ok 1 - x86 decoder/emulator fuzz: ${runs:-?} inputs in ${secs}s, no crash"
else
	tail -n 40 "$work/log"
	echo "not ok 1 - x86 fuzz found a crash (reproducer: $(ls "$out"/x86-* 2>/dev/null | head -n 1))"
	exit 1
fi
