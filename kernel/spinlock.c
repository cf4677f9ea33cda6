/* kernel/spinlock.c: test-and-test-and-set spinlocks with holder tracking.
 * See spinlock.h for the contract. */
#include <kernel/spinlock.h>
#include <kernel/compiler.h>
#include <kernel/cpu.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/symbols.h>
#include <kernel/thread.h>
#include <arch/arch.h>

/* A wait longer than this is reported as a suspected deadlock; no critical section
 * in wisp comes near it.  Measured on the clock (every 4096 spins) because a pause
 * loop's speed varies a thousandfold between hardware and emulators.  Before the
 * clock is calibrated it reads 0 and nothing is reported. */
#define DEADLOCK_NS	1000000000ull

void preempt_disable(void)
{
	ARCH_PERCPU_ADD(offsetof(struct cpu, preempt_count), 1);
}

void preempt_enable(void)
{
	ARCH_PERCPU_ADD(offsetof(struct cpu, preempt_count), -1);
	struct cpu *c = this_cpu();
	if (c->preempt_count == 0 && READ_ONCE(c->need_resched) && arch_irqs_enabled())
		sched_preempt_point(true);
}

static void lock_at(struct spinlock *l, uintptr_t caller)
{
	preempt_disable();
	int me = (int)this_cpu()->id;

	if (l->locked && READ_ONCE(l->holder) == me) {
		char a[96], b[96];
		symbol_format_return(caller, a, sizeof(a));
		symbol_format_return(l->caller, b, sizeof(b));
		panic("spinlock %s: recursive acquire at %s, already held since %s", l->name, a, b);
	}
	unsigned long spins = 0;
	uint64_t start = 0;
	bool reported = false;
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		while (READ_ONCE(l->locked)) {
			arch_cpu_relax();
			if (++spins % 4096 || reported)
				continue;
			uint64_t now = arch_time_ns();
			if (!start)
				start = now;
			if (now - start > DEADLOCK_NS) {
				reported = true;
				char a[96], b[96];
				symbol_format_return(caller, a, sizeof(a));
				symbol_format_return(READ_ONCE(l->caller), b, sizeof(b));
				printk("wisp: spinlock %s: suspected deadlock: cpu %d waiting at %s, "
				       "held by cpu %d since %s\n", l->name, me, a,
				       READ_ONCE(l->holder), b);
			}
		}
	}
	l->holder = me;
	l->caller = caller;
}

static void unlock_at(struct spinlock *l, uintptr_t caller)
{
	if (!spin_held(l)) {
		char a[96], b[96];
		symbol_format_return(caller, a, sizeof(a));
		symbol_format_return(l->caller, b, sizeof(b));
		panic("spinlock %s: released at %s by cpu %u, but held by cpu %d (since %s)",
		      l->name, a, this_cpu()->id, l->holder, l->caller ? b : "-");
	}
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
	preempt_enable();
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
	preempt_enable();
}

bool spin_held(const struct spinlock *l)
{
	return l->locked && l->holder == (int)this_cpu()->id;
}
