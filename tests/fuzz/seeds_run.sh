#!/bin/sh
# seeds_run.sh NAME FUZZER SEED_DIR SECONDS MAX_LEN: run a libFuzzer target
# for a bounded time on a scratch copy of the seeds (SEED_DIR/seed-*); prints
# one TAP line. A crash leaves its reproducer next to the fuzzer
# (NAME-crash-*), named in the output. Used by initrd-fuzz, lookahead-fuzz
# and vblk-state-fuzz.
set -u
if [ $# -ne 5 ]; then
	echo "usage: seeds_run.sh NAME FUZZER SEED_DIR SECONDS MAX_LEN" >&2
	exit 2
fi
name=$1 fuzzer=$2 seeds=$3 secs=$4 maxlen=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$seeds"/seed-* "$work"/
out=$(dirname "$fuzzer")
echo "1..1"
if "$fuzzer" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=1024 \
	-artifact_prefix="$out/$name-" -print_final_stats=1 "$work" >"$work/log" 2>&1; then
	runs=$(grep -E '^stat::number_of_executed_units' "$work/log" | awk '{print $2}')
	echo "ok 1 - $name fuzz: ${runs:-?} inputs in ${secs}s, no crash"
else
	tail -n 40 "$work/log"
	echo "not ok 1 - $name fuzz found a crash (reproducer: $(ls "$out/$name"-* 2>/dev/null | head -n 1))"
	exit 1
fi
