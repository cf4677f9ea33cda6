/* kernel/smp.c: cross-CPU function calls and reschedule requests.
 * Each CPU has a queue of calls under its call_lock (a leaf lock); a call-function IPI
 * makes it drain the queue.  Entries come from kmalloc and are freed by the CPU that
 * ran them; a waiting caller counts completions in a counter on its own stack. */
#include <kernel/smp.h>
#include <kernel/cpu.h>
#include <kernel/kmalloc.h>
#include <kernel/list.h>
#include <kernel/panic.h>
#include <kernel/uapi/errno.h>
#include <arch/arch.h>

cpumask_t cpus_online;

struct smp_call {
	struct list link;
	void (*fn)(void *arg);
	void *arg;
	int *pending;		/* decremented after fn returns; NULL when nobody waits */
};

void smp_init_cpu(void)
{
	struct cpu *c = this_cpu();

	c->call_lock = (struct spinlock)SPINLOCK_INIT("call");
	list_init(&c->calls);
}

int smp_call(const cpumask_t *mask, void (*fn)(void *arg), void *arg, bool wait)
{
	int pending = 0;

	if (wait)
		assert(arch_irqs_enabled());
	preempt_disable();	/* "this CPU" must stay this CPU while the calls go out */
	unsigned me = this_cpu()->id;
	for_each_cpu_in(cpu, mask) {
		if (cpu == me || !cpumask_test(&cpus_online, cpu))
			continue;
		struct smp_call *call = kmalloc(sizeof(*call));
		if (!call) {
			preempt_enable();
			return -ENOMEM;	/* calls already queued still run */
		}
		*call = (struct smp_call){ .fn = fn, .arg = arg, .pending = wait ? &pending : NULL };
		if (wait)
			__atomic_add_fetch(&pending, 1, __ATOMIC_RELAXED);
		struct cpu *c = &cpus[cpu];
		unsigned long flags = spin_lock_irqsave(&c->call_lock);
		list_insert_before(&c->calls, &call->link);
		spin_unlock_irqrestore(&c->call_lock, flags);
		arch_send_call(cpu);
	}
	if (cpumask_test(mask, me)) {
		unsigned long flags = arch_irq_save();
		fn(arg);
		arch_irq_restore(flags);
	}
	preempt_enable();
	while (wait && __atomic_load_n(&pending, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	return 0;
}

void smp_call_interrupt(void)
{
	struct cpu *c = this_cpu();

	__atomic_add_fetch(&c->ipi_call, 1, __ATOMIC_RELAXED);
	for (;;) {
		spin_lock(&c->call_lock);
		struct smp_call *call = list_empty(&c->calls) ? NULL :
			list_entry(c->calls.next, struct smp_call, link);
		if (call)
			list_remove(&call->link);
		spin_unlock(&c->call_lock);
		if (!call)
			return;
		int *pending = call->pending;
		call->fn(call->arg);
		kfree(call);
		if (pending)
			__atomic_sub_fetch(pending, 1, __ATOMIC_RELEASE);
	}
}

void smp_resched(unsigned cpu)
{
	arch_send_resched(cpu);
}

/* The sender set need_resched (sched_set_need_resched) or only wanted this CPU out
 * of hlt; the preemption point on the way out of the interrupt acts on it.  Counted
 * so tests can see every IPI arrive. */
void smp_resched_interrupt(void)
{
	__atomic_add_fetch(&this_cpu()->ipi_resched, 1, __ATOMIC_RELAXED);
}
