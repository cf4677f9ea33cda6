/* arch/x86_64/switch.S: switching kernel stacks between threads.
 *
 * void arch_switch(uintptr_t *save_sp, uintptr_t new_sp)
 *   Pushes the callee-saved registers the System V AMD64 ABI requires a function to
 *   preserve (rbx, rbp, r12-r15; §3.2.1), saves the stack pointer in *save_sp, loads
 *   new_sp and pops the other thread's registers: returning from here returns from
 *   the arch_switch call the other thread made, or enters arch_thread_start for a
 *   thread that never ran.  The FPU state is switched in C (fpu.c) beforehand. */

	.text
	.global arch_switch
	.type arch_switch, @function
arch_switch:
	pushq	%rbp
	movq	%rsp, %rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size arch_switch, . - arch_switch

/* A new thread's first return lands here with entry(r13, r14, r15) to call in r12
 * (arch_thread_stack_init in fpu.c lays the stack out so). */
	.global arch_thread_start
	.type arch_thread_start, @function
arch_thread_start:
	movq	%r13, %rdi
	movq	%r14, %rsi
	movq	%r15, %rdx
	xorl	%ebp, %ebp		/* the backtrace ends here */
	call	*%r12
	ud2				/* the entry function never returns */
	.size arch_thread_start, . - arch_thread_start
