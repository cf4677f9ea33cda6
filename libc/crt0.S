/* libc/crt0.S: where user code starts. _start begins a task's first thread
 * ("Program start" in kernel/uapi/syscall.h), wisp_thread_entry every thread that
 * wisp_thread_create starts (libc/thread.c). */

	.text

/* rsp -> argc, argv[0..argc-1], NULL; rsp % 16 == 0. Runs the constructors, then
 * exit(main(argc, argv, environ)): newlib's exit runs atexit handlers, flushes stdio
 * and ends the task with SYS_exit through _exit (libc/syscalls.c). */
	.globl _start
	.type _start, @function
_start:
	xor	%ebp, %ebp		/* the outermost frame: backtraces stop here */
	mov	(%rsp), %rbx		/* argc and argv in callee-saved registers */
	lea	8(%rsp), %r12
	and	$-16, %rsp		/* already aligned by the ABI; keep it true anyway */
	/* Registered first, so it runs last: after handlers that constructors add. */
	mov	$__libc_fini_array, %edi
	call	atexit
	call	__libc_init_array
	mov	%ebx, %edi
	mov	%r12, %rsi
	mov	environ(%rip), %rdx
	call	main
	mov	%eax, %edi
	call	exit
	ud2
	.size _start, . - _start

/* SYS_thread_create jumps here with rdi = the argument and rsp = the stack top the
 * creator chose; the ABI does not promise the C entry alignment (rsp % 16 == 8), so
 * set it up here. wisp_thread_start never returns (it ends in SYS_thread_exit). */
	.globl wisp_thread_entry
	.type wisp_thread_entry, @function
wisp_thread_entry:
	xor	%ebp, %ebp
	and	$-16, %rsp
	call	wisp_thread_start
	ud2
	.size wisp_thread_entry, . - wisp_thread_entry

/* newlib's __libc_init_array calls _init before .init_array and __libc_fini_array
 * calls _fini after .fini_array; wisp programs have no .init/.fini code. */
	.globl _init
	.type _init, @function
_init:
	ret
	.size _init, . - _init

	.globl _fini
	.type _fini, @function
_fini:
	ret
	.size _fini, . - _fini

	.section .note.GNU-stack, "", @progbits
