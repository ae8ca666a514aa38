#!/bin/sh
# mig_run.sh FUZZER...: run each libFuzzer target for $RUNS inputs from a
# seed corpus (made by mig_seedgen) and print one TAP line per target.
# A crash, leak or sanitizer report is a failure; the reproducer is kept in
# $B/fuzz/ and named in the output.
set -u
B=${B:-build}
RUNS=${RUNS:-100000}
work=$B/fuzz/work
rm -rf "$work"
mkdir -p "$work/stream" "$work/ctl"
"$B/fuzz/mig_seedgen" "$work/stream" "$work/ctl" || exit 1
n=0
for f in "$@"; do
	n=$((n + 1))
	name=$(basename "$f")
	case $name in
	mig_*) corpus=$work/stream ;;
	*) corpus=$work/ctl ;;
	esac
	log=$work/$name.log
	if "$f" -runs="$RUNS" -max_len=16384 -rss_limit_mb=1024 -artifact_prefix="$B/fuzz/$name-" \
		-print_final_stats=1 "$corpus" >"$log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
		echo "ok $n - $name ($execs inputs, no crash)"
	else
		echo "not ok $n - $name (see $log)"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5 | sed 's/^/# /'
	fi
done
