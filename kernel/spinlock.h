/* kernel/spinlock.h: spinlocks that know who holds them (kernel/spinlock.c).
 *
 * A lock records its holder CPU and the caller that took it.  Taking a lock this CPU
 * already holds, or releasing one it does not hold, panics with both call sites; a
 * spin that lasts far longer than any critical section should is reported once as a
 * suspected deadlock (with both call sites) and the spin goes on.
 *
 * spin_lock_irqsave() disables interrupts for the critical section; use it for any
 * lock an interrupt handler may take.  Lock order is written where each lock is
 * defined. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct spinlock {
	volatile uint32_t locked;
	int holder;		/* cpu id, -1 when free */
	uintptr_t caller;	/* where the holder took it */
	const char *name;
};

#define SPINLOCK_INIT(n)	{ .locked = 0, .holder = -1, .caller = 0, .name = (n) }

void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
unsigned long spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags);
bool spin_held(const struct spinlock *l);	/* held by this CPU */

#define assert_held(l)	assert(spin_held(l))

/* Every held spinlock counts on its CPU; the scheduler never switches away from a
 * thread while the count is nonzero.  Re-enabling may switch at once if a switch
 * became due meanwhile. */
void preempt_disable(void);
void preempt_enable(void);
