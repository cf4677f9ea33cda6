/* boot/trampoline.S: where an application processor starts.  The boot CPU copies
 * this blob to TRAMPOLINE_PA (below 1 MiB, page aligned) and sends INIT-SIPI-SIPI
 * with vector TRAMPOLINE_PA >> 12: "the AP starts executing in real mode at address
 * 000VV000H" (SDM Vol. 3A §9.4.4.1, §11.6.1 "Start-Up IPI").  From there: protected
 * mode, then long mode with the page tables the boot CPU left in tramp_cr3 (an
 * identity map of this page plus the kernel half), then a jump to ap_entry(cpu) in
 * the higher half on the stack the boot CPU allocated.  Code here is position
 * dependent on TRAMPOLINE_PA: every absolute address is written as AT(label). */

#include <arch/layout.h>

#define AT(x)	(TRAMPOLINE_PA + (x) - trampoline_start)

	.section .rodata
	.balign 16
	.global trampoline_start, trampoline_end
	.global tramp_cr3, tramp_stack, tramp_entry, tramp_cpu
	.code16
trampoline_start:
	cli
	cld
	xor	%ax, %ax
	mov	%ax, %ds
	lgdtl	AT(tramp_gdt_ptr)
	mov	%cr0, %eax
	or	$1, %eax			/* PE */
	mov	%eax, %cr0
	ljmpl	$0x08, $AT(tramp_pm32)

	.code32
tramp_pm32:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%cr4, %eax
	or	$((1 << 5) | (1 << 7)), %eax	/* PAE | PGE */
	mov	%eax, %cr4
	mov	AT(tramp_cr3), %eax
	mov	%eax, %cr3
	mov	$0xc0000080, %ecx		/* IA32_EFER: LME | NXE */
	rdmsr
	or	$((1 << 8) | (1 << 11)), %eax
	wrmsr
	mov	%cr0, %eax
	or	$((1 << 31) | (1 << 16)), %eax	/* PG | WP */
	mov	%eax, %cr0
	ljmp	$0x18, $AT(tramp_lm64)

	.code64
tramp_lm64:
	xor	%eax, %eax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	AT(tramp_stack), %rsp
	mov	AT(tramp_cpu), %rdi
	xor	%ebp, %ebp
	mov	AT(tramp_entry), %rax
	call	*%rax
1:	cli
	hlt
	jmp	1b

	.balign 8
tramp_gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad	0x00cf92000000ffff	/* 0x10: data */
	.quad	0x00af9a000000ffff	/* 0x18: 64-bit code */
tramp_gdt_ptr:
	.short	tramp_gdt_ptr - tramp_gdt - 1
	.long	AT(tramp_gdt)
	.balign 8
tramp_cr3:	.quad 0		/* filled in by the boot CPU, per AP */
tramp_stack:	.quad 0
tramp_entry:	.quad 0
tramp_cpu:	.quad 0
trampoline_end:
