/* kernel/spinlock.c: test-and-test-and-set spinlocks with holder tracking.
 * See spinlock.h for the contract. */
#include <kernel/spinlock.h>
#include <kernel/compiler.h>
#include <kernel/cpu.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <arch/arch.h>

/* Spins before a wait is reported as a suspected deadlock: about a second of pause
 * loops on current hardware, far longer under emulation; no critical section in wisp
 * comes near it. */
#define DEADLOCK_SPINS	(1ul << 27)

static void lock_at(struct spinlock *l, uintptr_t caller)
{
	int me = (int)this_cpu()->id;

	if (l->locked && READ_ONCE(l->holder) == me)
		panic("spinlock %s: recursive acquire at %p, already held from %p",
		      l->name, (void *)caller, (void *)l->caller);
	unsigned long spins = 0;
	bool reported = false;
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		while (READ_ONCE(l->locked)) {
			arch_cpu_relax();
			if (++spins == DEADLOCK_SPINS && !reported) {
				reported = true;
				printk("wisp: spinlock %s: suspected deadlock: cpu %d waiting at %p, "
				       "held by cpu %d from %p\n", l->name, me, (void *)caller,
				       READ_ONCE(l->holder), (void *)READ_ONCE(l->caller));
			}
		}
	}
	l->holder = me;
	l->caller = caller;
}

static void unlock_at(struct spinlock *l, uintptr_t caller)
{
	if (!spin_held(l))
		panic("spinlock %s: released at %p by cpu %u but held by cpu %d (from %p)",
		      l->name, (void *)caller, this_cpu()->id, l->holder, (void *)l->caller);
	l->holder = -1;
	l->caller = 0;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

void spin_lock(struct spinlock *l)
{
	lock_at(l, RETURN_ADDRESS);
}

void spin_unlock(struct spinlock *l)
{
	unlock_at(l, RETURN_ADDRESS);
}

unsigned long spin_lock_irqsave(struct spinlock *l)
{
	unsigned long flags = arch_irq_save();
	lock_at(l, RETURN_ADDRESS);
	return flags;
}

void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags)
{
	unlock_at(l, RETURN_ADDRESS);
	arch_irq_restore(flags);
}

bool spin_held(const struct spinlock *l)
{
	return l->locked && l->holder == (int)this_cpu()->id;
}
