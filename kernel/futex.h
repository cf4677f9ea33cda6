/* kernel/futex.h: futex wait and wake on user words (kernel/futex.c). */
#pragma once

#include <stdint.h>

void futex_init(void);
/* Sleep while *addr == expected, until woken, timeout_ns passes (0: no timeout) or
 * the task ends.  0, -EAGAIN (the word differed), -ETIMEDOUT, -EINTR, -EFAULT. */
long futex_wait(uintptr_t addr, uint32_t expected, uint64_t timeout_ns);
/* Wake up to n waiters on addr; returns how many. */
long futex_wake(uintptr_t addr, int n);
