#!/bin/sh
# vmm_elf_fuzz.sh FUZZER CORPUS_DIR: run the ELF-loader fuzzer briefly
# (FUZZ_SECONDS, default 20) from a seed corpus of real ELF kernels; TAP.
set -u
fuzzer=$1 corpus=$2
here=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_SECONDS:-20}
mkdir -p "$corpus"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# seeds: the CLI test kernels (valid ELF64 executables) and a truncated one
if as "$here/../vmm/cli_guests.S" -o "$tmp/g.o" 2>/dev/null; then
	for e in hello echo; do
		ld -nostdlib -static -z max-page-size=0x1000 -Ttext=0x101000 -e $e "$tmp/g.o" \
			-o "$corpus/seed-$e.elf" 2>/dev/null
	done
	head -c 100 "$corpus/seed-hello.elf" >"$corpus/seed-truncated" 2>/dev/null
fi
log=$tmp/fuzz.log
if "$fuzzer" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 "$corpus" >"$log" 2>&1; then
	runs=$(grep -oE 'Done [0-9]+ runs' "$log" | tail -n 1)
	echo "ok 1 - vmm_elf_fuzz: no crash in ${secs}s (${runs:-?})"
else
	echo "not ok 1 - vmm_elf_fuzz found a crash"
	tail -n 40 "$log" | sed 's/^/# /'
	exit 1
fi
