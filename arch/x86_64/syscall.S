/* arch/x86_64/syscall.S: the SYSCALL entry and the way into user mode.
 *
 * SYSCALL (SDM Vol. 2B) saves RIP in RCX and RFLAGS in R11, loads CS/SS from
 * IA32_STAR[47:32], masks RFLAGS with IA32_FMASK (IF among them) and jumps to
 * IA32_LSTAR; it does not switch stacks.  The entry swaps GS to reach this CPU's
 * struct cpu, parks the user RSP there, moves to the thread's kernel stack and builds
 * a struct trap_frame (vector SYSCALL_VECTOR) so the C side sees one frame shape for
 * every way into the kernel.  The way back is SYSRET when the frame is one SYSRET can
 * restore, IRETQ (return_to_user) otherwise. */

#include <arch/frame.h>
#include <arch/traps.h>

	.text
	.global syscall_entry
	.type syscall_entry, @function
syscall_entry:
	swapgs
	movq	%rsp, %gs:16		/* struct cpu.user_rsp */
	movq	%gs:8, %rsp		/* struct cpu.kstack_top */
	pushq	$(GDT_UDATA | 3)	/* ss */
	pushq	%gs:16			/* rsp */
	pushq	%r11			/* rflags */
	pushq	$(GDT_UCODE | 3)	/* cs */
	pushq	%rcx			/* rip */
	pushq	$0			/* error code */
	pushq	$SYSCALL_VECTOR
	PUSH_GPRS
	xorl	%ebp, %ebp		/* the kernel backtrace ends here */
	movq	%rsp, %rdi
	sti
	call	syscall_dispatch
	cli
	/* SYSRET when the frame allows it: a canonical user RIP (SYSRET with a
	 * non-canonical RCX faults in ring 0 on the user stack: SDM Vol. 2B SYSRET,
	 * and the Intel SYSRET advisory, CVE-2012-0217) and unchanged selectors. */
	movq	17*8(%rsp), %rcx		/* rip */
	shrq	$47, %rcx
	jnz	return_to_user
	cmpq	$(GDT_UCODE | 3), 18*8(%rsp)	/* cs */
	jne	return_to_user
	cmpq	$(GDT_UDATA | 3), 21*8(%rsp)	/* ss */
	jne	return_to_user
	POP_GPRS
	addq	$16, %rsp		/* vector, error code */
	movq	(%rsp), %rcx		/* rip: SYSRET's destination */
	movq	16(%rsp), %r11		/* rflags: what SYSRET loads */
	movq	24(%rsp), %rsp		/* the user stack; interrupts stay off until SYSRET */
	swapgs
	sysretq
	.size syscall_entry, . - syscall_entry

/* Leave the kernel for user mode with the trap frame at the top of this stack:
 * also a new user thread's first exit (arch_enter_user). */
	.global return_to_user
	.type return_to_user, @function
return_to_user:
	POP_GPRS
	addq	$16, %rsp
	swapgs
	iretq
	.size return_to_user, . - return_to_user

/* void arch_enter_user(struct trap_frame *f): f is at the top of the kernel stack. */
	.global arch_enter_user
	.type arch_enter_user, @function
arch_enter_user:
	cli
	movq	%rdi, %rsp
	jmp	return_to_user
	.size arch_enter_user, . - arch_enter_user

/* Copy between kernel and user memory.  long arch_copy_user(void *dst, const void
 * *src, size_t n): 0, or the fault vector if an access faulted (exception table). */
	.global arch_copy_user
	.type arch_copy_user, @function
arch_copy_user:
	movq	%rdx, %rcx
	cmpb	$0, smap_enabled(%rip)
	je	1f
	stac
1:
2:	rep movsb
	xorl	%eax, %eax
3:	cmpb	$0, smap_enabled(%rip)
	je	4f
	clac
4:	ret
	.pushsection .extable, "a"
	.balign 8
	.quad	2b, 3b
	.popsection
	.size arch_copy_user, . - arch_copy_user
