/* kernel/panic.h: stopping the machine when the kernel finds itself wrong.
 * panic() prints the message, the caller and a symbolized backtrace, and leaves the
 * machine with PANIC_STATUS (tools/run returns it).  assert() panics with the
 * expression, file and line. */
#pragma once

#include <kernel/compiler.h>

#define PANIC_STATUS	3	/* exit status of a panicked machine */

noreturn void panic(const char *fmt, ...) __printf(1, 2);
/* Print the return addresses on the frame chain from fp, one per line, symbolized. */
void print_backtrace(uintptr_t fp, int max);
/* Called by panic() and the trap dump once the message is out: stop for good. */
noreturn void panic_stop(void);
/* Claim the panic for this CPU; false if a panic is already under way (then the
 * caller must stop quietly). */
int panic_begin(void);

#define assert(e)							\
	do {								\
		if (unlikely(!(e)))					\
			panic("assertion failed: %s at %s:%d", #e, __FILE__, __LINE__); \
	} while (0)
