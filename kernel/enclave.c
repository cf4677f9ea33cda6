/* kernel/enclave.c: enclaves and the ghost class.  See enclave.h.
 * Lock order: enclaves_lock, then an enclave's lock, then a thread's lock, then a
 * run queue lock. */
#include <kernel/enclave.h>
#include <kernel/ghost_txn.h>
#include <kernel/kmalloc.h>
#include <kernel/panic.h>
#include <kernel/sched.h>
#include <kernel/uapi/errno.h>

static struct spinlock enclaves_lock = SPINLOCK_INIT("enclaves");
static struct list enclaves = { &enclaves, &enclaves };	/* [enclaves_lock] */
static int next_id = 1;
static unsigned nenclaves;

unsigned enclave_count(void)
{
	return READ_ONCE(nenclaves);
}

uint32_t enclave_tseq(const struct thread *t)
{
	return READ_ONCE(t->tseq);
}

struct enclave *enclave_create(const cpumask_t *set, int *err)
{
	struct enclave *e = kzalloc(sizeof(*e));

	*err = 0;
	if (!e) {
		*err = -ENOMEM;
		return NULL;
	}
	e->cpus = *set;
	e->lock = (struct spinlock)SPINLOCK_INIT("enclave");
	list_init(&e->threads);
	unsigned long flags = spin_lock_irqsave(&enclaves_lock);
	for (unsigned c = 0; c < MAX_CPUS && !*err; c++) {
		if (!cpumask_test(set, c))
			continue;
		if (!cpumask_test(&cpus_online, c))
			*err = -EINVAL;
		else if (cpus[c].enclave)
			*err = -EBUSY;
	}
	if (!*err && !cpumask_count(set))
		*err = -EINVAL;
	if (!*err) {
		for_each_cpu_in(c, set)
			cpus[c].enclave = e;
		e->id = next_id++;
		list_insert_before(&enclaves, &e->link);
		nenclaves++;
	}
	spin_unlock_irqrestore(&enclaves_lock, flags);
	if (*err) {
		kfree(e);
		return NULL;
	}
	return e;
}

/* Drop a latch t holds on some CPU, if any.  e->lock and t->lock held. */
static void unlatch(struct thread *t)
{
	if (!t->latched_cpu)
		return;
	struct cpu *c = &cpus[t->latched_cpu - 1];
	spin_lock(&c->rq_lock);
	if (c->ghost_next == t)
		c->ghost_next = NULL;
	spin_unlock(&c->rq_lock);
	t->latched_cpu = 0;
}

/* Back to native: a runnable thread that no CPU holds is queued again.  e->lock
 * held; takes t->lock. */
static void to_native(struct enclave *e, struct thread *t)
{
	spin_lock(&t->lock);
	unlatch(t);
	list_remove(&t->enclave_link);
	e->nthreads--;
	t->enclave = NULL;
	t->class = &native_class;
	bool requeue = t->state == THREAD_RUNNABLE && t->on_rq &&
		       !__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE);
	spin_unlock(&t->lock);
	/* A running one is requeued by schedule() under its new class; a blocked one
	 * by its wakeup. */
	if (requeue)
		sched_enqueue_on(t, native_class.select_cpu(t));
}

void enclave_destroy(struct enclave *e)
{
	unsigned long flags = spin_lock_irqsave(&e->lock);
	e->dying = true;
	while (!list_empty(&e->threads))
		to_native(e, list_entry(e->threads.next, struct thread, enclave_link));
	spin_unlock_irqrestore(&e->lock, flags);

	flags = spin_lock_irqsave(&enclaves_lock);
	for_each_cpu_in(c, &e->cpus)
		cpus[c].enclave = NULL;
	list_remove(&e->link);
	nenclaves--;
	spin_unlock_irqrestore(&enclaves_lock, flags);
	kfree(e);
}

int enclave_add_thread(struct enclave *e, struct thread *t)
{
	if (t->class == &idle_class)
		return -EINVAL;
	unsigned long flags = spin_lock_irqsave(&e->lock);
	if (e->dying || t->enclave) {
		spin_unlock_irqrestore(&e->lock, flags);
		return -EBUSY;
	}
	spin_lock(&t->lock);
	t->enclave = e;
	t->tseq = 1;
	t->latched_cpu = 0;
	list_insert_before(&e->threads, &t->enclave_link);
	e->nthreads++;
	/* A queued native thread is taken off its queue now; a running one changes
	 * class at its next schedule(), which reads the class under t->lock. */
	struct cpu *c = &cpus[t->cpu];
	spin_lock(&c->rq_lock);
	if (t->class == &native_class && !list_empty(&t->rq_link)) {
		list_remove(&t->rq_link);
		c->nr_native--;
	}
	t->class = &ghost_class;
	spin_unlock(&c->rq_lock);
	spin_unlock(&t->lock);
	spin_unlock_irqrestore(&e->lock, flags);
	return 0;
}

int enclave_remove_thread(struct enclave *e, struct thread *t)
{
	unsigned long flags = spin_lock_irqsave(&e->lock);
	int err = t->enclave == e ? 0 : -ENOENT;
	if (!err)
		to_native(e, t);
	spin_unlock_irqrestore(&e->lock, flags);
	return err;
}

static struct thread *find(struct enclave *e, uint64_t tid)
{
	list_for_each(p, &e->threads) {
		struct thread *t = list_entry(p, struct thread, enclave_link);
		if (t->tid == tid)
			return t;
	}
	return NULL;
}

enum ghost_txn_state enclave_commit(struct enclave *e, unsigned cpu, struct ghost_txn *txn)
{
	struct ghost_txn copy = *txn;	/* decide on one copy, whatever the slot does */
	struct txn_view v = { .caller_is_agent = true };
	unsigned long flags = spin_lock_irqsave(&e->lock);
	struct cpu *c = cpu < MAX_CPUS ? &cpus[cpu] : NULL;
	struct thread *t = find(e, copy.tid);

	v.cpu_in_enclave = c && cpumask_test(&e->cpus, cpu) && !e->dying;
	if (v.cpu_in_enclave) {
		v.cpu_native_busy = READ_ONCE(c->nr_native) > 0 ||
				    READ_ONCE(c->curr)->class == &native_class;
		v.cpu_aseq = 0;		/* agents and their Aseq come with the messages */
	}
	if (t) {
		spin_lock(&t->lock);
		v.thread_found = v.thread_in_enclave = true;
		v.thread_tseq = t->tseq;
		v.thread_runnable = t->state == THREAD_RUNNABLE && t->on_rq && !t->latched_cpu &&
				    !__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE);
	}
	enum ghost_txn_state st = txn_decide(&copy, &v);
	if (st == GHOST_TXN_COMPLETE && t) {
		spin_lock(&c->rq_lock);
		if (c->ghost_next)
			c->ghost_next->latched_cpu = 0;	/* the newer decision wins */
		c->ghost_next = t;
		t->latched_cpu = (int)cpu + 1;
		spin_unlock(&c->rq_lock);
		sched_set_need_resched(c);
	}
	if (t)
		spin_unlock(&t->lock);
	spin_unlock_irqrestore(&e->lock, flags);
	txn->commit_ns = clock_ns();
	txn->state = st;
	return st;
}

/* The ghost class.  Runnable ghost threads are on no queue: pick_next takes the
 * thread a transaction latched, if it is still runnable. */
static unsigned ghost_select(struct thread *t)
{
	return t->cpu;
}

static void ghost_nothing(struct cpu *c, struct thread *t)
{
}

static struct thread *ghost_pick(struct cpu *c)
{
	struct thread *t = c->ghost_next;

	if (!t)
		return NULL;
	c->ghost_next = NULL;
	t->latched_cpu = 0;
	return t->class == &ghost_class && t->state == THREAD_RUNNABLE ? t : NULL;
}

const struct sched_class ghost_class = {
	.name = "ghost",
	.select_cpu = ghost_select,
	.enqueue = ghost_nothing,
	.pick_next = ghost_pick,
	.put_prev = ghost_nothing,
	.set_next = ghost_nothing,
	.run_start = ghost_nothing,
	.steal = NULL,
};
