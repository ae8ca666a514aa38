/*
 * Tiny ELF kernels for tests/vmm/cli_test.sh, one per entry symbol; linked
 * at 0x101000 (entry physical, as the boot protocol requires).
 *   hello: print "hello from vessel\n", power off with status 7
 *   echo:  copy COM1 input to output until '\n', power off with 0
 *   spin:  loop forever (stopped by a signal)
 *   triple: triple fault
 *   spam:  print 'x' forever
 */
	.code64
	.text
	.globl hello, echo, spin, triple, spam
hello:
	lea msg(%rip), %rsi
	mov $0x3f8, %dx
1:	lodsb
	test %al, %al
	jz 2f
	out %al, %dx
	jmp 1b
2:	movq $7, arg(%rip)
	jmp poweroff

echo:
	mov $0x3fa, %dx		/* FCR: enable and clear the FIFOs, as a driver does */
	mov $7, %al
	out %al, %dx
1:	mov $0x3fd, %dx
	in %dx, %al
	test $1, %al
	jz 1b
	mov $0x3f8, %dx
	in %dx, %al
	out %al, %dx
	cmp $10, %al
	jne 1b
	movq $0, arg(%rip)
	jmp poweroff

spin:
	pause
	jmp spin

triple:
	lidt nullidt(%rip)
	ud2

spam:
	mov $0x3f8, %dx
	mov $'x', %al
1:	out %al, %dx
	jmp 1b

poweroff:
	lea arg(%rip), %rax
	mov $0x500, %dx
	out %eax, %dx
	ud2

	.data
	.align 8
arg:	.quad 0
nullidt: .word 0
	.quad 0
msg:	.asciz "hello from vessel\n"
