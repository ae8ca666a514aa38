#!/bin/sh
# initrd_run.sh FUZZER SEED_DIR SECONDS: run the initrd libFuzzer target for a
# bounded time on a scratch copy of the seeds; prints one TAP line.
# A crash leaves its reproducer in build/fuzz/ (crash-*), named in the output.
set -u
fuzzer=$1 seeds=$2 secs=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$seeds"/seed-* "$work"/
out=$(dirname "$fuzzer")
echo "1..1"
if "$fuzzer" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
	-artifact_prefix="$out/initrd-" -print_final_stats=1 "$work" >"$work/log" 2>&1; then
	runs=$(grep -E '^stat::number_of_executed_units' "$work/log" | awk '{print $2}')
	echo "ok 1 - initrd fuzz: ${runs:-?} inputs in ${secs}s, no crash"
else
	tail -n 40 "$work/log"
	echo "not ok 1 - initrd fuzz found a crash (reproducer: $(ls "$out"/initrd-* 2>/dev/null | head -n 1))"
	exit 1
fi
