/* arch/x86_64/trapentry.S: entry stubs for all 256 vectors: the 32 exceptions, then
 * device interrupts and IPIs (which never push an error code).
 * The CPU pushes SS, RSP, RFLAGS, CS, RIP and, for some vectors, an error code
 * (SDM Vol. 3A §6.13 and Table 6-1); each stub pushes a zero in its place where the
 * CPU does not, then the vector, so every frame has the shape of struct trap_frame
 * (arch/traps.h).  The stack is 16-byte aligned at the call (SDM §6.14.2: the CPU
 * aligns RSP before pushing; 22 quadwords keep it aligned). */

#include <arch/frame.h>

.macro STUB vec, has_error
	.type trap_stub_\vec, @function
trap_stub_\vec:
	.if \has_error == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	trap_common
	.size trap_stub_\vec, . - trap_stub_\vec
.endm

	.text
/* Vectors with an error code: 8 #DF, 10 #TS, 11 #NP, 12 #SS, 13 #GP, 14 #PF,
 * 17 #AC, 21 #CP, 29 #VC, 30 #SX. */
.irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	STUB \v, 0
.endr
.irp v, 8,10,11,12,13,14,17,21,29,30
	STUB \v, 1
.endr
.altmacro
.set vec, 32
.rept 224
	STUB %vec, 0
	.set vec, vec + 1
.endr
.noaltmacro

	.type trap_common, @function
trap_common:
	/* From user mode (CPL 3 in the saved CS), switch GS to this CPU's struct cpu. */
	testb	$3, 24(%rsp)
	jz	1f
	swapgs
1:	PUSH_GPRS
	cld
	mov	%rsp, %rdi
	call	trap_dispatch
	POP_GPRS
	add	$16, %rsp		/* vector, error code */
	testb	$3, 8(%rsp)
	jz	2f
	swapgs
2:	iretq
	.size trap_common, . - trap_common

	.section .rodata
	.balign 8
	.global trap_stubs
trap_stubs:
.macro STUB_ADDR v
	.quad	trap_stub_\v
.endm
.altmacro
.set vec, 0
.rept 256
	STUB_ADDR %vec
	.set vec, vec + 1
.endr
.noaltmacro
