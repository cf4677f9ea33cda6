/* libc/syscall.h: the raw `syscall` instruction, as kernel/uapi/syscall.h defines it:
 * number in rax, arguments in rdi rsi rdx r10 r8 r9, result in rax (a negative error
 * number on failure, the same numbers as <errno.h>), rcx and r11 clobbered. */
#pragma once

#include <kernel/uapi/syscall.h>

/* Every wrapper clobbers "memory": the kernel reads and writes user buffers, and a
 * futex wait must not have loads moved across it. */
static inline long wisp_syscall6(long n, long a1, long a2, long a3, long a4, long a5,
				 long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long wisp_syscall3(long n, long a1, long a2, long a3)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a1), "S"(a2), "d"(a3)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long wisp_syscall2(long n, long a1, long a2)
{
	return wisp_syscall3(n, a1, a2, 0);
}

static inline long wisp_syscall1(long n, long a1)
{
	return wisp_syscall3(n, a1, 0, 0);
}

static inline long wisp_syscall0(long n)
{
	return wisp_syscall3(n, 0, 0, 0);
}

/* For the POSIX-style wrappers: a result >= 0 passes through; a negative one is
 * stored in errno (kernel and newlib share Linux's numbers, libc/errno.c) and
 * becomes -1. */
long wisp_syscall_ret(long ret);
