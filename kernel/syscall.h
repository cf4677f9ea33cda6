/* kernel/syscall.h: the system call entry from the architecture (kernel/syscall.c). */
#pragma once

/* Run call n with its six arguments; the result for rax.  -ENOSYS for an unknown n.
 * Interrupts on; may block. */
long syscall_invoke(unsigned long n, const long a[6]);
