/* arch/x86_64/probe.S: fault probes for tests (declared in arch/arch.h).
 * Each performs one access that may fault.  The faulting instruction is listed in
 * .extable with the probe's return as its fixup: trap.c then resumes there with the
 * vector in RAX.  Without a fault they return -1. */

.macro EXTABLE insn, fixup
	.pushsection .extable, "a"
	.balign 8
	.quad	\insn, \fixup
	.popsection
.endm

	.text

	.global arch_probe_read
	.type arch_probe_read, @function
arch_probe_read:
1:	movq	(%rdi), %rcx
	mov	$-1, %rax
2:	ret
	EXTABLE 1b, 2b
	.size arch_probe_read, . - arch_probe_read

	.global arch_probe_write
	.type arch_probe_write, @function
arch_probe_write:
1:	movb	$0, (%rdi)
	mov	$-1, %rax
2:	ret
	EXTABLE 1b, 2b
	.size arch_probe_write, . - arch_probe_write

	.global arch_probe_ud
	.type arch_probe_ud, @function
arch_probe_ud:
1:	ud2
	mov	$-1, %rax
2:	ret
	EXTABLE 1b, 2b
	.size arch_probe_ud, . - arch_probe_ud

	.global arch_probe_div0
	.type arch_probe_div0, @function
arch_probe_div0:
	xor	%ecx, %ecx
	mov	$1, %eax
	xor	%edx, %edx
1:	div	%rcx
	mov	$-1, %rax
2:	ret
	EXTABLE 1b, 2b
	.size arch_probe_div0, . - arch_probe_div0
