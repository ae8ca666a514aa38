#!/bin/sh
# x86_seeds.sh DIR: seed inputs for the x86 lookahead fuzzer, the code
# between two system calls as compilers and our libc lay it out.
set -eu
d=$1
mkdir -p "$d"
# cat: mov %rax,%rdx; test; jg; mov %rsp,%rsi; mov $1,%edi; call; push ...; syscall
printf '\110\211\302\110\205\300\177\002\017\013\110\211\346\277\001\000\000\000\350\002\000\000\000\017\013\125\110\211\325\270\001\000\000\000\017\005' >"$d/seed-cat"
# getpid loop: ret; add $1,%rbx; cmp %rbp,%rbx; jne; call; mov $5,%eax; syscall
printf '\110\203\303\001\110\071\353\165\000\270\005\000\000\000\017\005' >"$d/seed-getpid"
# imul/shl groups and int $0x80
printf '\110\017\257\303\110\211\301\110\205\311\110\301\340\003\110\001\330\315\200' >"$d/seed-flags"
# rip-relative load and store, movzx, setcc, cmov
printf '\110\213\005\020\000\000\000\211\005\000\001\000\000\017\266\300\017\224\300\110\017\104\301\017\005' >"$d/seed-riprel"
