/* kernel/timer.c: per-CPU timer events.  See timer.h.
 * Lock order: a CPU's timer_lock is a leaf; callbacks run with no timer lock held. */
#include <kernel/timer.h>
#include <kernel/cpu.h>
#include <kernel/panic.h>
#include <kernel/uapi/errno.h>
#include <arch/arch.h>

uint64_t clock_ns(void)
{
	return arch_time_ns();
}

void timer_init_cpu(void)
{
	struct cpu *c = this_cpu();

	c->timer_lock = (struct spinlock)SPINLOCK_INIT("timer");
	list_init(&c->timers);
}

static struct timer *first(struct cpu *c)
{
	return list_empty(&c->timers) ? NULL : list_entry(c->timers.next, struct timer, link);
}

int timer_arm(struct timer *t, unsigned cpu, uint64_t deadline, void (*fn)(struct timer *t))
{
	if (cpu >= MAX_CPUS || !__atomic_load_n(&cpus[cpu].online, __ATOMIC_ACQUIRE))
		return -EINVAL;
	struct cpu *c = &cpus[cpu];
	unsigned long flags = spin_lock_irqsave(&c->timer_lock);
	if (t->armed) {
		spin_unlock_irqrestore(&c->timer_lock, flags);
		return -EBUSY;
	}
	t->deadline = deadline;
	t->fn = fn;
	t->cpu = cpu;
	t->armed = true;
	/* Insert after every timer with an earlier or equal deadline: FIFO among equals. */
	struct list *pos = &c->timers;
	list_for_each(p, &c->timers) {
		if (list_entry(p, struct timer, link)->deadline > deadline) {
			pos = p;
			break;
		}
	}
	list_insert_before(pos, &t->link);
	bool earliest = first(c) == t;
	spin_unlock_irqrestore(&c->timer_lock, flags);

	if (earliest) {
		if (cpu == this_cpu()->id)
			arch_timer_program(deadline);
		else
			arch_timer_kick(cpu);	/* it reprograms itself */
	}
	return 0;
}

bool timer_cancel(struct timer *t)
{
	struct cpu *c = &cpus[t->cpu];
	unsigned long flags = spin_lock_irqsave(&c->timer_lock);
	bool was = t->armed;

	if (was) {
		list_remove(&t->link);
		t->armed = false;
	}
	spin_unlock_irqrestore(&c->timer_lock, flags);
	/* Its callback may be running right now on its CPU, or be waiting its turn in
	 * the batch taken off the list: wait for it, so the caller may free what the
	 * callback touches.  Not on that CPU itself, where we interrupted or are the
	 * batch. */
	if (!was && c != this_cpu())
		while (__atomic_load_n(&t->firing, __ATOMIC_ACQUIRE))
			arch_cpu_relax();
	/* The hardware may still fire for it; the interrupt then finds nothing due. */
	return was;
}

/* Due timers are taken off the list and marked disarmed under the lock, in batches,
 * then called without it: a callback may re-arm its own timer, and a timer_cancel()
 * racing with the firing returns false. */
void timer_interrupt(void)
{
	struct cpu *c = this_cpu();
	enum { BATCH = 16 };

	c->timer_irqs++;
	for (;;) {
		struct timer *due[BATCH], *t;
		int n = 0;

		spin_lock(&c->timer_lock);
		uint64_t now = clock_ns();
		while (n < BATCH && (t = first(c)) && t->deadline <= now) {
			list_remove(&t->link);
			t->armed = false;
			__atomic_store_n(&t->firing, 1, __ATOMIC_RELAXED);
			due[n++] = t;
		}
		t = first(c);
		arch_timer_program(t ? t->deadline : 0);
		spin_unlock(&c->timer_lock);

		/* After firing drops to 0 the owner may free the timer: nothing of it is
		 * touched after (and no callback may free its own timer). */
		for (int i = 0; i < n; i++) {
			due[i]->fn(due[i]);
			__atomic_store_n(&due[i]->firing, 0, __ATOMIC_RELEASE);
		}
		if (n < BATCH)
			return;
	}
}
