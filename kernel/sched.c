/* kernel/sched.c: the scheduler core: choosing the next thread, switching to it,
 * blocking and waking, preemption points, and the idle loop.  See sched.h for the
 * class contract and thread.h for the thread lifecycle.
 *
 * Invariants (docs/TRICKS.md, "The switch"):
 *   - a CPU switches threads holding its rq_lock with interrupts off; the thread
 *     switched to releases it (finish_switch), on the same CPU;
 *   - a thread's on_cpu is set from the moment a CPU picks it until the next thread
 *     on that CPU runs; nobody else may then run it, since its stack is in use;
 *   - exactly one party puts a runnable thread on a queue: schedule() for a thread
 *     that stays runnable, sched_wake() for one that had blocked (decided under the
 *     thread's lock through on_rq). */
#include <kernel/sched.h>
#include <kernel/coresched.h>
#include <kernel/enclave.h>
#include <kernel/kmalloc.h>
#include <kernel/page.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/task.h>
#include <kernel/trace.h>
#include <arch/arch.h>

void arch_switch(uintptr_t *save_sp, uintptr_t new_sp);
void arch_fpu_save(void *area);
void arch_fpu_restore(const void *area);
void thread_reap(struct thread *t);	/* thread.c */

/* Highest priority first: a native thread preempts an agent, which preempts a ghost
 * thread. */
static const struct sched_class *const classes[] = { &native_class, &agent_class, &ghost_class,
						      &idle_class };

static bool started;

void sched_set_need_resched(struct cpu *c)
{
	/* An idle CPU polling need_resched sees the store: no IPI.  It clears
	 * idle_polling before it last checks need_resched, and this store is ordered
	 * before the load below (a full barrier): one of the two sees the other. */
	__atomic_store_n(&c->need_resched, 1, __ATOMIC_SEQ_CST);
	if (c != this_cpu() && !__atomic_load_n(&c->idle_polling, __ATOMIC_SEQ_CST))
		arch_send_resched(c->id);
}

/* On the CPU we switched to, in the thread we switched to: let go of the thread we
 * left and of the run queue lock it took. */
static void finish_switch(void)
{
	struct cpu *c = this_cpu();
	struct thread *prev = c->prev, *move = c->migrate;
	struct task *ended = NULL;

	c->prev = NULL;
	c->migrate = NULL;
	/* Once on_cpu is clear a joiner may free prev: touch nothing of it after.  A
	 * thread to move keeps on_cpu until it is requeued, below: nobody may run it
	 * (and it may not end) before then. */
	if (prev->state == THREAD_DEAD) {
		if (prev->ends_task)
			ended = prev->task;
		thread_reap(prev);
	} else if (prev != move) {
		__atomic_store_n(&prev->on_cpu, 0, __ATOMIC_RELEASE);
	}
	c->curr->class->run_start(c, c->curr);
	spin_unlock(&c->rq_lock);
	ghost_arrive(c->curr);
	core_after_switch(c);
	ghost_flush_wakes();	/* agents told of what happened during the switch */
	if (ended)
		task_ended(ended);	/* after the unlock: it wakes threads */
	/* A runnable thread whose affinity no longer allows the CPU it left: requeued
	 * under its lock, which enclave code changes its class under.  Moved into an
	 * enclave meanwhile, it is its agent's to place: it is only let go. */
	if (move) {
		spin_lock(&move->lock);
		bool requeue = move->class != &ghost_class;
		__atomic_store_n(&move->on_cpu, 0, __ATOMIC_RELEASE);
		if (requeue)
			sched_enqueue_on(move, move->class->select_cpu(move));
		spin_unlock(&move->lock);
	}
}

/* A new thread's first code (arch_thread_start calls it). */
void sched_thread_entry(struct thread *t, void (*fn)(void *), void *arg);
void sched_thread_entry(struct thread *t, void (*fn)(void *), void *arg)
{
	finish_switch();
	sti();
	fn(arg);
	thread_exit(0);
}

static struct thread *pick(struct cpu *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
		struct thread *t = classes[i]->pick_next(c);
		if (t)
			return t;
	}
	panic("sched: no thread to run on cpu %u, not even idle", c->id);
}

static int rank(const struct sched_class *cls)
{
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
		if (classes[i] == cls)
			return (int)i;
	return (int)ARRAY_SIZE(classes);
}

/* An idle CPU other than busy in allowed (any, if NULL) is asked to come and steal. */
static void kick_idle_cpu(const cpumask_t *allowed, unsigned busy)
{
	for (unsigned i = 0; i < ncpus; i++) {
		struct cpu *o = &cpus[i];
		if (i != busy && (!allowed || cpumask_test(allowed, i)) && READ_ONCE(o->curr) == o->idle &&
		    !READ_ONCE(o->need_resched)) {
			sched_set_need_resched(o);
			return;
		}
	}
}

/* Give up the CPU.  The current thread's state says what happens to it: RUNNABLE
 * threads are requeued, BLOCKED and DEAD ones are not.  Callable with interrupts on
 * or off and no spinlocks held; returns when the thread runs again (maybe on
 * another CPU) with the interrupt state it had. */
void schedule(void)
{
	unsigned long flags = arch_irq_save();
	struct cpu *c = this_cpu();
	struct thread *prev = c->curr;

	assert(c->preempt_count == 0);
	spin_lock(&prev->lock);
	bool stays = prev->state == THREAD_RUNNABLE;
	if (!stays)
		prev->on_rq = false;
	/* Read under the lock enclave code changes it under: the class that requeues. */
	const struct sched_class *cls = prev->class;
	uint64_t now = clock_ns();
	if (cls == &ghost_class)
		ghost_leave_cpu(prev, now);	/* blocked, preempted or yielded: a message */
	prev->yielding = false;
	spin_unlock(&prev->lock);

	spin_lock(&c->rq_lock);
	__atomic_store_n(&c->need_resched, 0, __ATOMIC_RELAXED);
	prev->runtime_ns += now - prev->last_start;
	/* The class that requeues is read again here: enclave code changes it under
	 * this lock too, and decides under it whether it requeues the thread itself. */
	cls = prev->class;
	if (stays && prev != c->idle) {
		/* A ghost thread goes where its agent commits it, whatever its affinity. */
		if (cls == &ghost_class || cpumask_test(&prev->affinity, c->id))
			cls->put_prev(c, prev);
		else
			c->migrate = prev;	/* finish_switch requeues it elsewhere */
	}
	/* Core scheduling may hold next back for an SMT sibling: then c idles. */
	struct thread *next = core_switch(c, pick(c), now);
	if (c->nr_native && next != c->idle)
		kick_idle_cpu(NULL, c->id);	/* others wait here: an idle CPU may steal */
	ghost_switch(c, prev, next);
	next->class->set_next(c, next);
	next->last_start = now;
	next->cpu = c->id;
	if (next == prev) {
		/* Requeued and picked again (a thread to move is on no queue, so it is
		 * never picked here). */
		trace_switch(c, next, now);	/* recorded if its class changed */
		next->class->run_start(c, next);
		spin_unlock(&c->rq_lock);
		ghost_arrive(next);	/* a ghost thread committed again where it was */
		core_after_switch(c);
		ghost_flush_wakes();
		arch_irq_restore(flags);
		return;
	}
	__atomic_store_n(&next->on_cpu, 1, __ATOMIC_RELEASE);
	c->curr = next;
	c->prev = prev;
	c->switches++;
	trace_switch(c, next, now);
	if (next->stack)
		arch_set_kernel_stack((uintptr_t)next->stack + KSTACK_SIZE);
	struct vm *vm = next->task ? READ_ONCE(next->task->vm) : NULL;	/* NULL once ending */
	arch_uvm_activate(vm ? vm->root : 0);
	arch_fpu_save(prev->fpu);
	arch_fpu_restore(next->fpu);
	arch_switch(&prev->sp, next->sp);
	finish_switch();
	arch_irq_restore(flags);
}

void sched_enqueue_on(struct thread *t, unsigned cpu)
{
	struct cpu *c = &cpus[cpu];

	/* A woken thread may still be leaving the CPU it blocked on: its stack is in use
	 * until that CPU's next thread runs.  Nobody can pick it meanwhile (it is on no
	 * queue), so waiting here, before taking any run queue lock, cannot deadlock. */
	while (__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	unsigned long flags = spin_lock_irqsave(&c->rq_lock);
	t->cpu = cpu;
	t->class->enqueue(c, t);
	bool idle = c->curr == c->idle;
	if (idle || rank(t->class) < rank(c->curr->class))
		sched_set_need_resched(c);
	/* Once the lock is dropped t may run, exit and be freed: copy what we need. */
	bool stealable = t->class->steal != NULL;
	cpumask_t allowed = t->affinity;
	spin_unlock_irqrestore(&c->rq_lock, flags);
	if (!idle && stealable)
		kick_idle_cpu(&allowed, cpu);
}

void sched_wake(struct thread *t)
{
	unsigned long flags = spin_lock_irqsave(&t->lock);
	if (t->state != THREAD_BLOCKED) {
		spin_unlock_irqrestore(&t->lock, flags);
		return;
	}
	t->state = THREAD_RUNNABLE;
	if (t->class == &ghost_class)
		ghost_woken(t);		/* THREAD_WAKEUP */
	bool enqueue = !t->on_rq;	/* still current somewhere: it will see RUNNABLE */
	t->on_rq = true;
	unsigned cpu = enqueue ? t->class->select_cpu(t) : 0;
	if (enqueue)
		sched_enqueue_on(t, cpu);
	spin_unlock(&t->lock);
	ghost_flush_wakes();
	arch_irq_restore(flags);
}

void sched_preempt_point(bool irqs_on)
{
	struct cpu *c = this_cpu();

	if (!started || !irqs_on || c->preempt_count || !READ_ONCE(c->need_resched))
		return;
	schedule();
}

/* Native work this CPU may run now: not a thread waiting for its SMT siblings
 * (kernel/coresched.c), which is rescheduled when they move.  Interrupts off. */
static bool native_work(struct cpu *c)
{
	return READ_ONCE(c->nr_native) && !c->core_native_held;
}

/* An enclave CPU with ghost.idle=poll waits for a decision with interrupts on,
 * watching need_resched (set by a commit, with no IPI while idle_polling is set)
 * and its hint ring. */
static void idle_poll(struct cpu *c)
{
	__atomic_store_n(&c->idle_polling, 1, __ATOMIC_SEQ_CST);
	sti();
	for (int i = 0; i < 100000 && !READ_ONCE(c->need_resched) && !native_work(c); i++)
		arch_cpu_relax();
	__atomic_store_n(&c->idle_polling, 0, __ATOMIC_SEQ_CST);
}

/* What a CPU runs when nothing else is runnable: look for work to steal, else halt
 * until an interrupt says there may be some. */
noreturn void sched_idle_loop(void)
{
	struct cpu *c = this_cpu();

	for (;;) {
		cli();
		if (native_work(c) || READ_ONCE(c->need_resched)) {
			sti();
			schedule();
			continue;
		}
		/* Interrupts stay off from the steal to the enqueue: preempted between
		 * them, this idle thread would hold the stolen thread, on no queue,
		 * until the CPU next had nothing else to run. */
		struct thread *t = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(classes) && !t && !c->core_native_held; i++)
			if (classes[i]->steal)
				t = classes[i]->steal(c);
		if (t) {
			sched_enqueue_on(t, c->id);
			sti();
			continue;
		}
		ghost_idle(c);		/* an enclave CPU runs a hint the agent left */
		if (native_work(c) || READ_ONCE(c->need_resched)) {
			sti();
			continue;
		}
		if (ghost_idle_polls(c)) {
			idle_poll(c);
			continue;
		}
		arch_idle();	/* sti; hlt: no wakeup is lost between them */
	}
}

/* The idle class: one thread per CPU, always there, never queued. */
static struct thread *idle_pick(struct cpu *c)
{
	return c->idle;
}

static void idle_nothing(struct cpu *c, struct thread *t) { }

static unsigned idle_select(struct thread *t)
{
	return t->cpu;
}

const struct sched_class idle_class = {
	.name = "idle",
	.select_cpu = idle_select,
	.enqueue = idle_nothing,
	.pick_next = idle_pick,
	.put_prev = idle_nothing,
	.set_next = idle_nothing,
	.run_start = idle_nothing,
	.steal = NULL,
};

struct thread *thread_adopt_boot_context(const char *name, const struct sched_class *cls);

/* The boot CPU's running context becomes the thread "main" (native); every CPU gets
 * an idle thread. */
void sched_init(void)
{
	struct cpu *c = this_cpu();
	struct thread *main = thread_adopt_boot_context("main", &native_class);

	c->curr = main;
	sched_init_cpu();
	started = true;
	printk("wisp: scheduler: classes native > agent > ghost > idle, time slice %lu us\n",
	       (unsigned long)(sched_slice_ns() / 1000));
}

struct thread *thread_new_idle(unsigned cpu, bool adopt);

/* The boot CPU gets an idle thread with a stack of its own; on an AP, the context
 * running this becomes the idle thread (and then runs sched_idle_loop). */
void sched_init_cpu(void)
{
	struct cpu *c = this_cpu();
	bool ap = c->curr == NULL;

	c->rq_lock = (struct spinlock)SPINLOCK_INIT("rq");
	list_init(&c->native_q);
	list_init(&c->agent_q);
	c->idle = thread_new_idle(c->id, ap);
	if (!c->idle)
		panic("sched: no memory for cpu %u's idle thread", c->id);
	if (ap)
		c->curr = c->idle;
}
