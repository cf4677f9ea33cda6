/* kernel/sched_native.c: the native class: per-CPU FIFO run queues, round robin
 * with a time slice (kernel argument sched.slice_us, default 4000 µs, Linux CFS's
 * order of magnitude), new and woken threads placed on the least loaded allowed CPU,
 * and idle CPUs stealing from the busiest queue. */
#include <kernel/args.h>
#include <kernel/sched.h>
#include <kernel/printk.h>
#include <kernel/uapi/errno.h>

static uint64_t slice_ns = 4000000;

static int set_slice(const char *v)
{
	uint64_t us = 0;

	if (!v || !*v)
		return -EINVAL;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || us > 10000000)
			return -EINVAL;
		us = us * 10 + (uint64_t)(*v - '0');
	}
	/* A slice shorter than a timer interrupt plus a switch makes no progress at all:
	 * every thread is preempted before it runs an instruction.  Under TCG that cost
	 * reaches tens of µs (measured: 20 µs slices livelock, 30 µs do not), so 100 µs is
	 * the floor.  µs-scale preemption is the ghost agents' business, not this class's. */
	if (us < 100 || us > 10000000)
		return -ERANGE;
	slice_ns = us * 1000;
	return 0;
}
KERNEL_ARG_NAMED(sched_slice_us, "sched.slice_us",
		 "sched.slice_us=N: native time slice in microseconds (100..10000000)", set_slice);

uint64_t sched_slice_ns(void)
{
	return slice_ns;
}

/* The least loaded allowed CPU: an idle one if any, the thread's last CPU on ties. */
static unsigned native_select(struct thread *t)
{
	unsigned best = t->cpu, best_load = ~0u;

	for (unsigned i = 0; i < ncpus; i++) {
		if (!cpumask_test(&t->affinity, i) || !cpus[i].online)
			continue;
		struct cpu *c = &cpus[i];
		unsigned load = READ_ONCE(c->nr_native) + (READ_ONCE(c->curr) != c->idle);
		if (load < best_load || (load == best_load && i == t->cpu)) {
			best = i;
			best_load = load;
		}
	}
	return best;
}

static void native_enqueue(struct cpu *c, struct thread *t)
{
	list_insert_before(&c->native_q, &t->rq_link);
	c->nr_native++;
}

/* Back to the head of the queue: picked, but it waits for its SMT siblings
 * (kernel/coresched.c). */
void native_requeue_front(struct cpu *c, struct thread *t)
{
	list_insert_before(c->native_q.next, &t->rq_link);
	c->nr_native++;
}

static struct thread *native_pick(struct cpu *c)
{
	if (list_empty(&c->native_q))
		return NULL;
	struct thread *t = list_entry(c->native_q.next, struct thread, rq_link);
	list_remove(&t->rq_link);
	c->nr_native--;
	return t;
}

static void native_put_prev(struct cpu *c, struct thread *t)
{
	native_enqueue(c, t);
}

static void slice_over(struct timer *tm)
{
	sched_set_need_resched(this_cpu());
}

static void native_set_next(struct cpu *c, struct thread *t)
{
	timer_cancel(&c->slice_timer);
}

/* The slice starts once the thread really runs (see run_start in sched.h). */
static void native_run_start(struct cpu *c, struct thread *t)
{
	timer_cancel(&c->slice_timer);
	t->slice_end = clock_ns() + slice_ns;
	timer_arm(&c->slice_timer, c->id, t->slice_end, slice_over);
}

/* Take the oldest queued thread that may run on c from the CPU with the longest queue. */
static struct thread *native_steal(struct cpu *c)
{
	unsigned victim = c->id, most = 0;

	for (unsigned i = 0; i < ncpus; i++) {
		unsigned n = READ_ONCE(cpus[i].nr_native);
		if (i != c->id && n > most) {
			most = n;
			victim = i;
		}
	}
	if (victim == c->id)
		return NULL;
	struct cpu *v = &cpus[victim];
	struct thread *found = NULL;
	unsigned long flags = spin_lock_irqsave(&v->rq_lock);
	list_for_each(p, &v->native_q) {
		struct thread *t = list_entry(p, struct thread, rq_link);
		if (cpumask_test(&t->affinity, c->id) && !__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE)) {
			found = t;
			break;
		}
	}
	if (found) {
		list_remove(&found->rq_link);
		v->nr_native--;
	}
	spin_unlock_irqrestore(&v->rq_lock, flags);
	return found;
}

const struct sched_class native_class = {
	.name = "native",
	.select_cpu = native_select,
	.enqueue = native_enqueue,
	.pick_next = native_pick,
	.put_prev = native_put_prev,
	.set_next = native_set_next,
	.run_start = native_run_start,
	.steal = native_steal,
};
