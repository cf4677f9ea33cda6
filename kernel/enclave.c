/* kernel/enclave.c: enclaves, their shared memory, messages and status words,
 * transactions, agents, and the ghost and agent classes.  See enclave.h. */
#include <kernel/enclave.h>
#include <kernel/coresched.h>
#include <kernel/args.h>
#include <kernel/ghost_txn.h>
#include <kernel/kmalloc.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/trace.h>
#include <kernel/vm.h>
#include <kernel/uapi/errno.h>
#include <kernel/uapi/syscall.h>
#include <arch/arch.h>

_Static_assert(MAX_THREADS == GHOST_MAX_THREADS, "one thread status word per thread slot");
_Static_assert(MAX_CPUS <= GHOST_MAX_CPUS, "CPU masks are one uint64_t");

static struct spinlock enclaves_lock = SPINLOCK_INIT("enclaves");
static struct list enclaves = { &enclaves, &enclaves };	/* [enclaves_lock] */
static struct enclave *table[MAX_CPUS];		/* [enclaves_lock] by index */
static int next_id = 1;
static unsigned nenclaves;
static bool ghost_idle_poll;	/* the default for new enclaves */

static int set_idle(const char *v)
{
	if (v && !strcmp(v, "poll"))
		ghost_idle_poll = true;
	else if (v && !strcmp(v, "halt"))
		ghost_idle_poll = false;
	else
		return -EINVAL;
	return 0;
}
KERNEL_ARG_NAMED(ghost_idle, "ghost.idle",
		 "ghost.idle=halt|poll: idle enclave CPUs halt (commits send an IPI) or poll", set_idle);

uint32_t enclave_aseq(struct enclave *e, unsigned cpu)
{
	return __atomic_load_n(&e->status->cpu[cpu].aseq, __ATOMIC_ACQUIRE);
}

unsigned enclave_count(void)
{
	return READ_ONCE(nenclaves);
}

uint32_t enclave_tseq(const struct thread *t)
{
	return READ_ONCE(t->tseq);
}

/* Deferred agent wakeups: per CPU, per enclave index, a mask of agent CPUs. */
static uint64_t pending_wakes[MAX_CPUS][MAX_CPUS];
static uint64_t pending_enclaves[MAX_CPUS];

static void defer_wake(struct enclave *e, unsigned cpu)
{
	unsigned me = this_cpu()->id;
	pending_wakes[me][e->index] |= 1ull << cpu;
	pending_enclaves[me] |= 1ull << e->index;
}

static void wake_slot(struct agent_slot *s, bool kick)
{
	unsigned long flags = spin_lock_irqsave(&s->wq.lock);
	if (kick)
		s->kick = true;
	waitq_wake_all_locked(&s->wq);
	spin_unlock_irqrestore(&s->wq.lock, flags);
}

/* An enclave is freed only after every CPU has taken an interrupt since it left the
 * table (enclave_put), so the pointers read here with interrupts off stay good. */
void ghost_flush_wakes(void)
{
	unsigned me = this_cpu()->id;

	while (pending_enclaves[me]) {
		unsigned i = (unsigned)__builtin_ctzll(pending_enclaves[me]);
		uint64_t mask = pending_wakes[me][i];
		pending_wakes[me][i] = 0;
		pending_enclaves[me] &= ~(1ull << i);
		struct enclave *e = table[i];
		while (e && mask) {
			unsigned cpu = (unsigned)__builtin_ctzll(mask);
			mask &= mask - 1;
			wake_slot(&e->slots[cpu], false);
		}
	}
}

/* Status words: a seqcount per word, odd while the kernel writes it. */
static void seq_begin(uint32_t *seq)
{
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void seq_end(uint32_t *seq)
{
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELEASE);
}

static struct ghost_thread_status *tsw(struct enclave *e, struct thread *t)
{
	return &e->status->thread[GHOST_THREAD_INDEX(t->tid)];
}

/* t->lock held. */
static void thread_status(struct enclave *e, struct thread *t, uint32_t flags, uint64_t now)
{
	/* The watchdog's clock: runnable and on no CPU since when. */
	if ((flags & (GHOST_SW_RUNNABLE | GHOST_SW_ON_CPU)) != GHOST_SW_RUNNABLE)
		t->ghost_waiting = 0;
	else if (!t->ghost_waiting)
		t->ghost_waiting = now ? now : 1;
	struct ghost_thread_status *w = tsw(e, t);
	seq_begin(&w->seq);
	w->flags = flags | (t->ghost_batch && !(flags & GHOST_SW_DEAD) ? GHOST_SW_BATCH : 0);
	w->tid = t->tid;
	w->tseq = t->tseq;
	w->cpu = t->cpu;
	w->runtime_ns = t->runtime_ns;
	w->switch_ns = now;
	w->cookie = t->cookie;
	w->affinity = t->affinity.bits[0];	/* GHOST_MAX_CPUS is 64 */
	seq_end(&w->seq);
}

/* Post m to q; the queue's agent is woken once no lock is held.  Any lock order
 * position before qlock. */
static uint64_t post(struct enclave *e, struct gqueue *q, struct ghost_msg *m)
{
	spin_lock(&q->lock);
	ghost_queue_push(&q->prod, m);
	uint64_t head = q->prod.head;
	__atomic_add_fetch(&e->messages, 1, __ATOMIC_RELAXED);
	int w = READ_ONCE(q->wake_cpu);
	if (w >= 0)
		__atomic_add_fetch(&e->status->cpu[w].aseq, 1, __ATOMIC_RELEASE);
	spin_unlock(&q->lock);
	if (w >= 0)
		defer_wake(e, (unsigned)w);
	return head;
}

/* An event about thread t: Tseq moves, the status word says so, one message.
 * t->lock held, t in e. */
static void thread_event(struct enclave *e, struct thread *t, uint16_t type, uint32_t flags,
			 uint64_t now)
{
	t->tseq++;
	thread_status(e, t, flags, now);
	bool where = type == GHOST_MSG_THREAD_CREATED || type == GHOST_MSG_THREAD_AFFINITY;
	struct ghost_msg m = { .type = type, .cpu = (uint16_t)t->cpu, .tseq = t->tseq,
			       .tid = t->tid, .time_ns = now,
			       .arg = where ? t->affinity.bits[0] : t->runtime_ns };
	t->gq_head = post(e, t->gq, &m);	/* read until there: ASSOCIATE_QUEUE */
}

/* The queue that wakes cpu's agent, else the default one.  qlock held. */
static struct gqueue *cpu_queue(struct enclave *e, unsigned cpu)
{
	for (int i = 0; i < GHOST_MAX_QUEUES; i++)
		if (e->queues[i] && e->queues[i]->wake_cpu == (int)cpu)
			return e->queues[i];
	return e->def;
}

static void cpu_event(struct enclave *e, unsigned cpu, uint16_t type, uint64_t arg)
{
	uint64_t now = clock_ns();
	struct ghost_msg m = { .type = type, .cpu = (uint16_t)cpu, .time_ns = now, .arg = arg };
	spin_lock(&e->qlock);
	struct gqueue *q = cpu_queue(e, cpu);
	spin_unlock(&e->qlock);
	/* Aseq moves for the CPU itself, whichever queue carries the news. */
	if (q->wake_cpu != (int)cpu)
		__atomic_add_fetch(&e->status->cpu[cpu].aseq, 1, __ATOMIC_RELEASE);
	post(e, q, &m);
}

/* Queues. */
static struct gqueue *queue_new(struct enclave *e, uint32_t nslots)
{
	struct gqueue *q = kzalloc(sizeof(*q));
	if (!q)
		return NULL;
	q->shm = shm_create(GHOST_QUEUE_BYTES(nslots));
	if (!q->shm) {
		kfree(q);
		return NULL;
	}
	q->lock = (struct spinlock)SPINLOCK_INIT("ghost queue");
	q->q = q->shm->va;
	q->wake_cpu = -1;
	return q;
}

static void queue_free(struct gqueue *q)
{
	shm_put(q->shm);
	kfree(q);
}

/* Lifetime. */
static void enclave_free(struct enclave *e)
{
	for (int i = 0; i < GHOST_MAX_QUEUES; i++)
		if (e->queues[i])
			queue_free(e->queues[i]);
	if (e->status_shm)
		shm_put(e->status_shm);
	if (e->agent_shm)
		shm_put(e->agent_shm);
	kfree(e);
}

/* The watchdog.  A timer per enclave looks for a runnable thread that has waited
 * longer than watchdog_ns while one of the enclave's CPUs had nothing native to run;
 * finding one, it asks the reaper thread to destroy the enclave (which needs a
 * context that may wait: enclave_put's IPI round).  The reaper sleeps otherwise, so
 * it never takes a CPU from anyone. */
static struct waitq reaper_wq;

static void reap_ejected(void *arg)
{
	for (;;) {
		struct enclave *found = NULL;
		unsigned long flags = spin_lock_irqsave(&reaper_wq.lock);
		while (!found) {
			spin_lock(&enclaves_lock);
			list_for_each(p, &enclaves) {
				struct enclave *e = list_entry(p, struct enclave, link);
				if (READ_ONCE(e->eject_reason) && !found) {
					found = e;
					e->refs++;
				}
			}
			spin_unlock(&enclaves_lock);
			if (!found)
				waitq_wait(&reaper_wq);
		}
		spin_unlock_irqrestore(&reaper_wq.lock, flags);
		flags = spin_lock_irqsave(&found->lock);
		long agent = found->agent_task ? found->agent_task->id : 0;
		unsigned n = found->nthreads;
		spin_unlock_irqrestore(&found->lock, flags);
		printk("wisp: enclave %d: agent task %ld ejected: %s (thread %#lx, %lu ms); its "
		       "%u threads go back to native\n", found->id, agent, found->eject_reason,
		       found->eject_tid, (unsigned long)(found->eject_wait_ns / 1000000), n);
		enclave_destroy_for(found, GHOST_END_WATCHDOG, 0);
		enclave_put(found);
	}
}

static bool cpu_free_for_ghosts(unsigned c)
{
	return !READ_ONCE(cpus[c].nr_native) && READ_ONCE(cpus[c].curr)->class != &native_class;
}

static void watchdog_check(struct timer *tm)
{
	struct enclave *e = container_of(tm, struct enclave, watchdog);
	unsigned long flags = spin_lock_irqsave(&e->lock);
	uint64_t now = clock_ns(), limit = e->watchdog_ns;
	bool free_cpu = false;
	for_each_cpu_in(c, &e->cpus)
		free_cpu |= cpu_free_for_ghosts(c);
	if (e->dying || !limit) {
		spin_unlock_irqrestore(&e->lock, flags);
		return;
	}
	if (e->agent_task && free_cpu && !e->eject_reason) {
		list_for_each(p, &e->threads) {
			struct thread *t = list_entry(p, struct thread, enclave_link);
			/* since may be a hair later than now: it was read on another CPU's
			 * clock after ours was, and unsigned now - since would be huge. */
			uint64_t since = READ_ONCE(t->ghost_waiting);
			if (since && now > since && now - since > limit) {
				e->eject_reason = "watchdog: a runnable thread went unscheduled too long";
				e->eject_tid = t->tid;
				e->eject_wait_ns = now - since;
				break;
			}
		}
	}
	bool eject = e->eject_reason != NULL;
	if (!eject)
		timer_arm(&e->watchdog, tm->cpu, now + limit / 4, watchdog_check);
	spin_unlock_irqrestore(&e->lock, flags);
	if (eject)
		waitq_wake_all(&reaper_wq);	/* e stays: only the reaper destroys it */
}

void enclave_init(void)
{
	waitq_init(&reaper_wq, "ghost reaper");
	struct thread *r = thread_create("ghost-reaper", reap_ejected, NULL);
	if (!r)
		panic("enclave: no memory for the reaper thread");
	thread_detach(r);
}

int enclave_set_watchdog(struct enclave *e, uint64_t ns)
{
	if (ns && (ns < 10000000ull || ns > 3600000000000ull))
		return -EINVAL;
	unsigned long flags = spin_lock_irqsave(&e->lock);
	e->watchdog_ns = ns;
	spin_unlock_irqrestore(&e->lock, flags);
	/* Checked every ns / 4 from now on, not at the old period's next check. */
	timer_cancel(&e->watchdog);
	flags = spin_lock_irqsave(&e->lock);
	if (e->watchdog_ns && !e->dying && !e->watchdog.armed)
		timer_arm(&e->watchdog, (unsigned)cpumask_first(&e->cpus),
			  clock_ns() + e->watchdog_ns / 4, watchdog_check);
	spin_unlock_irqrestore(&e->lock, flags);
	return 0;
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
	e->qlock = (struct spinlock)SPINLOCK_INIT("enclave queues");
	e->refs = 1;
	e->idle_poll = ghost_idle_poll;
	list_init(&e->threads);
	waitq_init(&e->handover_wq, "agent handover");
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		waitq_init(&e->slots[c].wq, "agent");
		e->slots[c].e = e;
		e->slots[c].cpu = c;
	}
	e->status_shm = shm_create(sizeof(struct ghost_status_area));
	e->agent_shm = shm_create(sizeof(struct ghost_agent_area));
	e->def = e->status_shm && e->agent_shm ? queue_new(e, GHOST_DEFAULT_QUEUE_SLOTS) : NULL;
	if (!e->def) {
		enclave_free(e);
		*err = -ENOMEM;
		return NULL;
	}
	e->queues[0] = e->def;
	e->status = e->status_shm->va;
	e->agent = e->agent_shm->va;

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
	e->index = -1;
	for (int i = 0; i < MAX_CPUS && !*err && e->index < 0; i++)
		if (!table[i])
			e->index = i;
	if (!*err && e->index < 0)
		*err = -ENOSPC;
	if (!*err) {
		e->id = next_id++;
		struct ghost_enclave_status *h = &e->status->hdr;
		h->magic = GHOST_STATUS_MAGIC;
		h->version = GHOST_ABI_VERSION;
		h->enclave_id = (uint32_t)e->id;
		h->default_queue = 0;
		for_each_cpu_in(c, set) {
			h->cpus |= 1ull << c;
			e->status->cpu[c].flags = GHOST_CPU_AVAILABLE;
		}
		h->global_cpu = (uint32_t)cpumask_first(set);
		ghost_queue_init(&e->def->prod, e->def->q, 0, GHOST_DEFAULT_QUEUE_SLOTS);
		table[e->index] = e;
		for_each_cpu_in(c, set)
			cpus[c].enclave = e;
		list_insert_before(&enclaves, &e->link);
		nenclaves++;
	}
	spin_unlock_irqrestore(&enclaves_lock, flags);
	if (*err) {
		enclave_free(e);
		return NULL;
	}
	/* CPUs busy with native threads now say so at their next switch. */
	for_each_cpu_in(c, set)
		sched_set_need_resched(&cpus[c]);
	enclave_set_watchdog(e, GHOST_WATCHDOG_DEFAULT_NS);
	return e;
}

struct enclave *enclave_get(int id)
{
	struct enclave *found = NULL;
	unsigned long flags = spin_lock_irqsave(&enclaves_lock);
	list_for_each(p, &enclaves) {
		struct enclave *e = list_entry(p, struct enclave, link);
		if (e->id == id) {
			found = e;
			e->refs++;
		}
	}
	spin_unlock_irqrestore(&enclaves_lock, flags);
	return found;
}

static void nothing(void *arg)
{
}

void enclave_put(struct enclave *e)
{
	unsigned long flags = spin_lock_irqsave(&enclaves_lock);
	bool last = --e->refs == 0;
	if (last)
		table[e->index] = NULL;
	spin_unlock_irqrestore(&enclaves_lock, flags);
	if (!last)
		return;
	/* Every CPU takes an interrupt: whatever it read of e with interrupts off (its
	 * CPU's enclave, a deferred wake) it has finished with. */
	assert(arch_irqs_enabled());
	smp_call(&cpus_online, nothing, NULL, true);
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		timer_cancel(&e->slots[c].timeout);
		timer_cancel(&e->slots[c].agent_timer);
	}
	timer_cancel(&e->watchdog);	/* it saw dying: it arms itself no more */
	enclave_free(e);
}

static uint32_t agents(struct enclave *e)
{
	uint32_t n = 0;
	for_each_cpu_in(c, &e->cpus)
		n += READ_ONCE(e->slots[c].t) != NULL;
	return n;
}

unsigned enclave_list(struct ghost_enclave_info *out, unsigned n)
{
	unsigned i = 0;
	unsigned long flags = spin_lock_irqsave(&enclaves_lock);
	list_for_each(p, &enclaves) {
		struct enclave *e = list_entry(p, struct enclave, link);
		if (i < n) {
			spin_lock(&e->lock);	/* the agent task stays while we read it */
			out[i] = (struct ghost_enclave_info){
				.id = (uint32_t)e->id, .mode = (uint32_t)e->mode,
				.cpus = e->status->hdr.cpus, .nthreads = e->nthreads,
				.agent_task = e->agent_task ? (uint32_t)e->agent_task->id : 0,
				.global_cpu = e->status->hdr.global_cpu,
				.global_gen = e->status->hdr.global_gen,
				.agents = agents(e),
				.upgrades = e->upgrades,
				.messages = READ_ONCE(e->messages),
				.commits = READ_ONCE(e->commits),
				.natives = e->natives,
				.successor = e->successor ? (uint32_t)e->successor->id : 0,
			};
			spin_unlock(&e->lock);
		}
		i++;
	}
	spin_unlock_irqrestore(&enclaves_lock, flags);
	return i;
}

static const char *const state_names[] = { "runnable", "blocked", "dead" };

void enclave_dump(struct enclave *e)
{
	unsigned long flags = spin_lock_irqsave(&e->lock);
	printk("enclave %d: mode %d, %u threads, agent task %ld, global cpu %u\n", e->id, e->mode,
	       e->nthreads, e->agent_task ? e->agent_task->id : 0, e->status->hdr.global_cpu);
	for_each_cpu_in(c, &e->cpus) {
		struct cpu *cp = &cpus[c];
		struct thread *a = e->slots[c].t;
		printk("  cpu %u: curr %s %#lx, latched %#lx, aseq %u, native %u, agent %#lx %s%s\n",
		       c, cp->curr->class->name, cp->curr->tid,
		       cp->ghost_next ? cp->ghost_next->tid : 0, e->status->cpu[c].aseq,
		       cp->nr_native, a ? a->tid : 0, a ? state_names[a->state] : "-",
		       e->slots[c].kick ? " kick" : "");
	}
	for (int i = 0; i < GHOST_MAX_QUEUES; i++) {
		struct gqueue *q = e->queues[i];
		if (q)
			printk("  queue %d: wakes cpu %d, %u threads, head %lu tail %lu overflow %lu\n",
			       i, q->wake_cpu, q->nthreads, (unsigned long)q->q->head,
			       (unsigned long)q->q->tail, (unsigned long)q->q->overflow);
	}
	int n = 0;
	list_for_each(p, &e->threads) {
		struct thread *t = list_entry(p, struct thread, enclave_link);
		if (n++ < 40)
			printk("  thread %#lx: %s tseq %u queue %d cpu %u%s%s%s\n", t->tid,
			       state_names[t->state], t->tseq, t->gq ? t->gq->id : -1, t->cpu,
			       t->latched_cpu ? " latched" : "", t->ghost_running ? " running" : "",
			       t->on_cpu ? " on_cpu" : "");
	}
	spin_unlock_irqrestore(&e->lock, flags);
}

/* Drop a latch t holds on some CPU, if any.  t->lock held.  A latch is held from
 * the commit until the thread arrives on that CPU: if that CPU has picked it
 * already, it is that CPU's current thread once we hold its run queue lock. */
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
	thread_status(e, t, GHOST_SW_DEAD, clock_ns());
	list_remove(&t->enclave_link);
	e->nthreads--;
	e->natives++;
	e->status->hdr.nthreads = e->nthreads;
	t->gq->nthreads--;
	t->gq = NULL;
	t->enclave = NULL;
	t->ghost_running = false;
	/* Under the run queue lock of its CPU, which schedule() requeues under with the
	 * class it reads there: either that CPU still has it as current and requeues
	 * it as native, or it has let it go and we queue it. */
	struct cpu *c = &cpus[t->cpu];
	spin_lock(&c->rq_lock);
	t->class = &native_class;
	bool requeue = t->state == THREAD_RUNNABLE && t->on_rq && t->born && c->curr != t;
	spin_unlock(&c->rq_lock);
	spin_unlock(&t->lock);
	/* A running one is requeued by schedule() under its new class; a blocked one
	 * by its wakeup. */
	if (requeue)
		sched_enqueue_on(t, native_class.select_cpu(t));
}

/* An agent thread becomes an ordinary native thread.  e->lock held. */
static void agent_to_native(struct enclave *e, unsigned cpu)
{
	struct thread *t = e->slots[cpu].t;
	if (!t)
		return;
	e->slots[cpu].t = NULL;
	unsigned long flags = spin_lock_irqsave(&t->lock);
	t->agent_of = NULL;
	t->affinity = cpus_online;
	/* Decided under its CPU's run queue lock, which schedule() requeues it under
	 * with the class it reads there: if it sits in the agent queue now, it moves to
	 * a native one here; if it is running, schedule() requeues it as native later.
	 * (Left in the agent queue as a native thread, it would starve behind every
	 * native thread of that CPU.) */
	struct cpu *c = &cpus[t->cpu];
	spin_lock(&c->rq_lock);
	bool queued = t->class == &agent_class && !list_empty(&t->rq_link);
	if (queued)
		list_remove(&t->rq_link);
	t->class = &native_class;
	spin_unlock(&c->rq_lock);
	spin_unlock_irqrestore(&t->lock, flags);
	if (queued)
		sched_enqueue_on(t, native_class.select_cpu(t));
	wake_slot(&e->slots[cpu], true);
}

/* The last GHOST_ENCLAVE_ENDS ends, for GHOST_ENCLAVE_FATE.  [enclaves_lock] */
static struct ghost_enclave_end ends[GHOST_ENCLAVE_ENDS];
static unsigned nends;

int enclave_fate(int id, struct ghost_enclave_end *out)
{
	int err = -ENOENT;
	unsigned long flags = spin_lock_irqsave(&enclaves_lock);
	list_for_each(p, &enclaves)
		if (list_entry(p, struct enclave, link)->id == id)
			err = -EBUSY;
	for (unsigned i = 0; i < GHOST_ENCLAVE_ENDS && err == -ENOENT; i++)
		if (ends[i].id == (uint32_t)id) {
			*out = ends[i];
			err = 0;
		}
	spin_unlock_irqrestore(&enclaves_lock, flags);
	return err;
}

void enclave_destroy(struct enclave *e)
{
	enclave_destroy_for(e, GHOST_END_DESTROYED, 0);
}

void enclave_destroy_for(struct enclave *e, int reason, int status)
{
	unsigned long flags = spin_lock_irqsave(&e->lock);
	if (e->dying) {
		spin_unlock_irqrestore(&e->lock, flags);
		return;
	}
	e->dying = true;
	struct ghost_enclave_end end = {
		.id = (uint32_t)e->id, .reason = (uint32_t)reason, .status = status,
		.agent_task = e->agent_task ? (uint32_t)e->agent_task->id : 0,
		.nthreads = e->nthreads,
	};
	if (reason == GHOST_END_WATCHDOG) {
		end.tid = e->eject_tid;
		end.wait_ns = e->eject_wait_ns;
	}
	__atomic_store_n(&e->status->hdr.mode, 0, __ATOMIC_RELEASE);	/* agents: it is over */
	if (e->agent_task)
		e->agent_task->ghost_enclave = NULL;
	if (e->successor)
		e->successor->ghost_enclave = NULL;	/* its GHOST_AGENT_INIT fails */
	e->successor = NULL;
	e->status->hdr.successor = 0;
	while (!list_empty(&e->threads))
		to_native(e, list_entry(e->threads.next, struct thread, enclave_link));
	for (unsigned c = 0; c < MAX_CPUS; c++)
		agent_to_native(e, c);
	e->agent_task = NULL;
	spin_unlock_irqrestore(&e->lock, flags);
	waitq_wake_all(&e->handover_wq);

	flags = spin_lock_irqsave(&enclaves_lock);
	for_each_cpu_in(c, &e->cpus)
		cpus[c].enclave = NULL;
	list_remove(&e->link);
	nenclaves--;
	ends[nends++ % GHOST_ENCLAVE_ENDS] = end;
	spin_unlock_irqrestore(&enclaves_lock, flags);
	enclave_put(e);		/* the table's reference */
}

int enclave_add_thread(struct enclave *e, struct thread *t)
{
	if (t->class == &idle_class || t->agent_of)
		return -EINVAL;
	unsigned long flags = spin_lock_irqsave(&e->lock);
	if (e->dying || t->enclave) {
		spin_unlock_irqrestore(&e->lock, flags);
		return -EBUSY;
	}
	spin_lock(&t->lock);
	/* A thread on its way out (its exit would not see it join: it would stay a
	 * member after it was freed), or whose affinity allows none of the enclave's
	 * CPUs (it could never run). */
	if (t->state == THREAD_DEAD || t->dying || t->agent_of ||
	    !cpumask_intersects(&t->affinity, &e->cpus)) {
		spin_unlock(&t->lock);
		spin_unlock_irqrestore(&e->lock, flags);
		return -EINVAL;
	}
	t->enclave = e;
	t->tseq = 0;
	t->latched_cpu = 0;
	t->gq = e->def;
	e->def->nthreads++;
	list_insert_before(&e->threads, &t->enclave_link);
	e->nthreads++;
	e->status->hdr.nthreads = e->nthreads;
	if (!t->born) {
		/* Never started: it is born runnable, in the enclave, on none of its CPUs. */
		t->born = true;
		t->state = THREAD_RUNNABLE;
		t->on_rq = true;
		t->cpu = (unsigned)cpumask_first(&e->cpus);
	}
	/* A queued native thread is taken off its queue now; a running one changes
	 * class at its next schedule(), which reads the class under t->lock. */
	struct cpu *c = &cpus[t->cpu];
	spin_lock(&c->rq_lock);
	if (t->class == &native_class && !list_empty(&t->rq_link)) {
		list_remove(&t->rq_link);
		c->nr_native--;
	}
	t->class = &ghost_class;
	bool running = c->curr == t;
	spin_unlock(&c->rq_lock);
	/* A running thread is told to leave its CPU: from the agent's side it waits
	 * for a decision, and a commit may name it at once (the CPU that picks it waits
	 * until it has left the old one). */
	t->ghost_running = false;
	uint32_t sw = t->state == THREAD_RUNNABLE ? GHOST_SW_RUNNABLE : 0;
	thread_event(e, t, GHOST_MSG_THREAD_CREATED, sw, clock_ns());
	spin_unlock(&t->lock);
	spin_unlock_irqrestore(&e->lock, flags);
	if (running)
		sched_set_need_resched(c);	/* it leaves the CPU for the agent's decision */
	flags = arch_irq_save();
	ghost_flush_wakes();
	arch_irq_restore(flags);
	return 0;
}

int enclave_threads(struct enclave *e, uint64_t *out, int n)
{
	int count = 0;
	unsigned long flags = spin_lock_irqsave(&e->lock);
	list_for_each(p, &e->threads) {
		if (count < n)
			out[count] = list_entry(p, struct thread, enclave_link)->tid;
		count++;
	}
	spin_unlock_irqrestore(&e->lock, flags);
	return count;
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

/* A thread latched on the global agent's CPU and not picked there will never run
 * there: that CPU became the global one (a handoff) after the commit, and runs its
 * agent only.  Its latch is taken back, so the agent can send it elsewhere.  e->lock
 * and t->lock held. */
static void reclaim_latch(struct enclave *e, struct thread *t)
{
	if (!t->latched_cpu || e->mode != GHOST_MODE_CENTRAL)
		return;
	unsigned h = (unsigned)t->latched_cpu - 1;
	if (__atomic_load_n(&e->status->hdr.global_cpu, __ATOMIC_ACQUIRE) != h || !e->slots[h].t)
		return;
	struct cpu *c = &cpus[h];
	spin_lock(&c->rq_lock);
	if (c->ghost_next == t) {	/* else picked: h's current thread, it arrives */
		c->ghost_next = NULL;
		t->latched_cpu = 0;
	}
	spin_unlock(&c->rq_lock);
}

/* Check one transaction against the kernel's state.  e->lock held; takes the
 * thread's lock briefly. */
static enum ghost_txn_state decide(struct enclave *e, unsigned cpu, const struct ghost_txn *txn,
				   bool permitted, struct thread **out)
{
	struct txn_view v = { .caller_is_agent = permitted };
	struct cpu *c = cpu < MAX_CPUS ? &cpus[cpu] : NULL;
	struct thread *t = txn->tid ? find(e, txn->tid) : NULL;

	v.cpu_in_enclave = c && cpumask_test(&e->cpus, cpu) && !e->dying;
	if (v.cpu_in_enclave) {
		struct thread *curr = READ_ONCE(c->curr);
		v.cpu_native_busy = READ_ONCE(c->nr_native) > 0 || curr->class == &native_class;
		/* The global agent's own CPU runs it, and nothing else. */
		if (e->mode == GHOST_MODE_CENTRAL &&
		    READ_ONCE(e->status->hdr.global_cpu) == cpu && e->slots[cpu].t)
			v.cpu_native_busy = true;
		v.cpu_aseq = __atomic_load_n(&e->status->cpu[cpu].aseq, __ATOMIC_ACQUIRE);
	}
	if (t) {
		spin_lock(&t->lock);
		reclaim_latch(e, t);
		v.thread_found = v.thread_in_enclave = true;
		v.thread_tseq = t->tseq;
		v.thread_runnable = t->state == THREAD_RUNNABLE && t->on_rq && !t->latched_cpu &&
				    !t->ghost_running;
		v.thread_allowed = c && cpumask_test(&t->affinity, cpu);
		spin_unlock(&t->lock);
	}
	*out = t;
	return txn_decide(txn, &v);
}

/* Make t (NULL: nothing) what cpu runs next.  A thread latched there before and not
 * yet run is told it was preempted.  e->lock held. */
static void latch(struct enclave *e, unsigned cpu, struct thread *t)
{
	struct cpu *c = &cpus[cpu];
	unsigned long flags = arch_irq_save();

	spin_lock(&c->rq_lock);
	struct thread *old = c->ghost_next;
	spin_unlock(&c->rq_lock);
	if (old && old != t) {
		spin_lock(&old->lock);
		spin_lock(&c->rq_lock);
		bool still = c->ghost_next == old;
		if (still) {
			c->ghost_next = NULL;
			old->latched_cpu = 0;
		}
		spin_unlock(&c->rq_lock);
		if (still && old->enclave == e)
			thread_event(e, old, GHOST_MSG_THREAD_PREEMPTED, GHOST_SW_RUNNABLE, clock_ns());
		spin_unlock(&old->lock);
	}
	if (t)
		spin_lock(&t->lock);
	spin_lock(&c->rq_lock);
	c->ghost_next = t;
	if (t) {
		t->latched_cpu = (int)cpu + 1;
		trace_commit(c, t);
	}
	spin_unlock(&c->rq_lock);
	if (t)
		spin_unlock(&t->lock);
	arch_irq_restore(flags);
}

/* Core isolation: would t (NULL: idle) on cpu share a core with another security
 * domain?  Each sibling counts with what it is committed to: its transaction in this
 * sync group (group, targets), else the thread latched there, else what it runs or
 * waits to run (its word, published under its rq_lock, as latches are taken).
 * e->lock held. */
static bool core_clash(struct enclave *e, unsigned cpu, struct thread *t, uint64_t group,
		       struct thread *const *targets)
{
	uint64_t mine = t ? READ_ONCE(t->cookie) : 0;

	if (!e->core_isolated || !mine)
		return false;
	for_each_cpu_in(s, &cpus[cpu].siblings) {
		struct cpu *o = &cpus[s];
		uint64_t theirs;
		if (s == cpu)
			continue;
		if (group >> s & 1) {
			theirs = targets[s] ? READ_ONCE(targets[s]->cookie) : 0;
		} else {
			spin_lock(&o->rq_lock);
			theirs = o->ghost_next ? READ_ONCE(o->ghost_next->cookie)
					       : __atomic_load_n(&o->core_word, __ATOMIC_SEQ_CST);
			spin_unlock(&o->rq_lock);
		}
		if (core_conflict(mine, theirs)) {
			core_count_conflict(cpu);
			return true;
		}
	}
	return false;
}

int enclave_commit_group(struct enclave *e, uint64_t mask, bool sync, bool permitted)
{
	struct thread *target[GHOST_MAX_CPUS];
	enum ghost_txn_state st[GHOST_MAX_CPUS];
	uint64_t kick = 0;
	int done = 0;
	bool failed = false;

	unsigned long flags = spin_lock_irqsave(&e->lock);
	for (uint64_t m = mask; m; m &= m - 1) {
		unsigned cpu = (unsigned)__builtin_ctzll(m);
		struct ghost_txn copy = e->agent->txn[cpu];	/* decide on one copy */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		st[cpu] = decide(e, cpu, &copy, permitted, &target[cpu]);
		/* Two slots naming one thread: the second finds it taken. */
		for (uint64_t k = mask & ((1ull << cpu) - 1); st[cpu] == GHOST_TXN_COMPLETE && target[cpu] && k; k &= k - 1) {
			unsigned o = (unsigned)__builtin_ctzll(k);
			if (st[o] == GHOST_TXN_COMPLETE && target[o] == target[cpu])
				st[cpu] = GHOST_TXN_NOT_RUNNABLE;
		}
		if (st[cpu] == GHOST_TXN_COMPLETE && !sync && core_clash(e, cpu, target[cpu], 0, NULL))
			st[cpu] = GHOST_TXN_CORE_CONFLICT;
		if (st[cpu] != GHOST_TXN_COMPLETE)
			failed = true;
		else if (!sync) {
			latch(e, cpu, target[cpu]);
			kick |= 1ull << cpu;
		}
	}
	/* A sync group is judged as a whole: the siblings it moves count with their
	 * new threads. */
	for (uint64_t m = mask; m && sync && !failed; m &= m - 1) {
		unsigned cpu = (unsigned)__builtin_ctzll(m);
		if (core_clash(e, cpu, target[cpu], mask, target)) {
			st[cpu] = GHOST_TXN_CORE_CONFLICT;
			failed = true;
		}
	}
	for (uint64_t m = mask; m && sync; m &= m - 1) {
		unsigned cpu = (unsigned)__builtin_ctzll(m);
		if (failed && st[cpu] == GHOST_TXN_COMPLETE)
			st[cpu] = GHOST_TXN_ABORTED;
		else if (!failed) {
			latch(e, cpu, target[cpu]);
			kick |= 1ull << cpu;
		}
	}
	spin_unlock_irqrestore(&e->lock, flags);
	uint64_t now = clock_ns();
	for (uint64_t m = mask; m; m &= m - 1) {
		unsigned cpu = (unsigned)__builtin_ctzll(m);
		struct ghost_txn *slot = &e->agent->txn[cpu];
		slot->commit_ns = now;
		__atomic_store_n(&slot->state, st[cpu], __ATOMIC_RELEASE);
		done += st[cpu] == GHOST_TXN_COMPLETE;
	}
	__atomic_add_fetch(&e->commits, (uint64_t)done, __ATOMIC_RELAXED);
	for (uint64_t m = kick; m; m &= m - 1)
		sched_set_need_resched(&cpus[__builtin_ctzll(m)]);
	flags = arch_irq_save();
	ghost_flush_wakes();
	arch_irq_restore(flags);
	return done;
}

enum ghost_txn_state enclave_commit(struct enclave *e, unsigned cpu, struct ghost_txn *txn)
{
	if (cpu >= MAX_CPUS) {
		txn->state = GHOST_TXN_CPU_NOT_IN_ENCLAVE;
		return GHOST_TXN_CPU_NOT_IN_ENCLAVE;
	}
	struct ghost_txn saved = e->agent->txn[cpu];
	e->agent->txn[cpu] = *txn;
	enclave_commit_group(e, 1ull << cpu, false, true);
	*txn = e->agent->txn[cpu];
	e->agent->txn[cpu] = saved;
	return txn->state;
}

/* Agents. */
int enclave_attach(struct enclave *e, struct task *task, int mode)
{
	bool upgrade = mode & GHOST_ATTACH_UPGRADE;
	mode &= ~(int)GHOST_ATTACH_UPGRADE;
	if (mode != GHOST_MODE_PERCPU && mode != GHOST_MODE_CENTRAL)
		return -EINVAL;
	unsigned long flags = spin_lock_irqsave(&e->lock);
	int err = e->dying ? -ENOENT : task->ghost_enclave ? -EBUSY : 0;
	if (!err && !e->agent_task) {
		e->agent_task = task;
		e->mode = mode;
		e->status->hdr.mode = (uint32_t)mode;
		task->ghost_enclave = e;
	} else if (!err && (!upgrade || e->successor)) {
		err = -EBUSY;
	} else if (!err) {
		/* The successor: the agent in charge is told (hdr.successor, and a
		 * ping of every agent thread) and should finish. */
		e->successor = task;
		e->successor_mode = mode;
		task->ghost_enclave = e;
		__atomic_store_n(&e->status->hdr.successor, (uint32_t)task->id, __ATOMIC_RELEASE);
		for_each_cpu_in(c, &e->cpus)
			if (e->slots[c].t)
				wake_slot(&e->slots[c], true);
	}
	spin_unlock_irqrestore(&e->lock, flags);
	return err;
}

/* Live upgrade: old, the agent task, has ended and the successor takes charge.  The
 * threads stay where they are; what the old agent made goes: its queues (every
 * thread's messages go to the default queue), its transactions, decisions latched
 * and not yet run (PREEMPTED), its tick.  Every Aseq moves.  False if the enclave
 * went meanwhile. */
static bool handover(struct enclave *e, struct task *old, const char *why)
{
	struct gqueue *gone[GHOST_MAX_QUEUES];
	int ngone = 0;

	unsigned long flags = spin_lock_irqsave(&e->lock);
	if (e->dying || !e->successor || e->agent_task != old) {
		spin_unlock_irqrestore(&e->lock, flags);
		return false;
	}
	for (unsigned c = 0; c < MAX_CPUS; c++)
		agent_to_native(e, c);
	list_for_each(p, &e->threads) {
		struct thread *t = list_entry(p, struct thread, enclave_link);
		spin_lock(&t->lock);
		if (t->gq != e->def) {
			t->gq->nthreads--;
			e->def->nthreads++;
			t->gq = e->def;
			t->gq_head = 0;
		}
		spin_unlock(&t->lock);
	}
	spin_lock(&e->qlock);
	for (int i = 1; i < GHOST_MAX_QUEUES; i++) {
		if (e->queues[i])
			gone[ngone++] = e->queues[i];
		e->queues[i] = NULL;
	}
	e->def->wake_cpu = -1;
	spin_unlock(&e->qlock);
	for_each_cpu_in(c, &e->cpus) {
		latch(e, c, NULL);	/* its PREEMPTED goes to the default queue */
		__atomic_store_n(&e->agent->txn[c].state, GHOST_TXN_EMPTY, __ATOMIC_RELAXED);
		__atomic_add_fetch(&e->status->cpu[c].aseq, 1, __ATOMIC_RELEASE);
	}
	e->tick_ns = 0;
	e->idle_poll = ghost_idle_poll;
	for_each_cpu_in(c, &e->cpus)
		timer_cancel(&e->slots[c].agent_timer);	/* its callback takes no e->lock */
	old->ghost_enclave = NULL;
	struct task *new = e->successor;
	e->successor = NULL;
	e->agent_task = new;
	e->mode = e->successor_mode;
	e->upgrades++;
	struct ghost_enclave_status *h = &e->status->hdr;
	h->mode = (uint32_t)e->mode;
	__atomic_add_fetch(&h->agent_gen, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&h->global_gen, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&h->successor, 0, __ATOMIC_RELEASE);
	printk("wisp: enclave %d: agent task %ld (%s) %s: task %ld (%s) takes over; its %u "
	       "threads stay in the enclave\n", e->id, old->id, old->name, why, new->id,
	       new->name, e->nthreads);
	spin_unlock_irqrestore(&e->lock, flags);
	/* A CPU event may have picked one of them (cpu_queue) just before and be about
	 * to post into it; it does so with interrupts off, so once every CPU has taken
	 * an interrupt none is in use. */
	if (ngone)
		smp_call(&cpus_online, nothing, NULL, true);
	for (int i = 0; i < ngone; i++)
		queue_free(gone[i]);
	waitq_wake_all(&e->handover_wq);
	flags = arch_irq_save();
	ghost_flush_wakes();
	arch_irq_restore(flags);
	return true;
}

/* A successor's agent threads wait here until it is in charge. */
static int await_charge(struct enclave *e, struct task *task)
{
	int err;
	unsigned long flags = spin_lock_irqsave(&e->handover_wq.lock);
	for (;;) {
		if (READ_ONCE(e->dying) || (READ_ONCE(e->agent_task) != task &&
					     READ_ONCE(e->successor) != task))
			err = -ENOENT;
		else if (READ_ONCE(e->agent_task) == task)
			err = 0;
		else if (READ_ONCE(task->exiting))
			err = -EINTR;
		else {
			waitq_wait(&e->handover_wq);
			continue;
		}
		break;
	}
	spin_unlock_irqrestore(&e->handover_wq.lock, flags);
	return err;
}

struct enclave *enclave_of_agent_task(struct task *task)
{
	return READ_ONCE(task->ghost_enclave);
}

/* Destroy clears task->ghost_enclave before it unlinks the enclave, under the
 * enclaves_lock held here: one still set here names an enclave not yet freed. */
struct enclave *enclave_get_of_agent(struct task *task)
{
	unsigned long flags = spin_lock_irqsave(&enclaves_lock);
	struct enclave *e = task->ghost_enclave;
	if (e)
		e->refs++;
	spin_unlock_irqrestore(&enclaves_lock, flags);
	return e;
}

int enclave_agent_init(struct enclave *e, struct thread *t, unsigned cpu)
{
	if (cpu >= MAX_CPUS || !cpumask_test(&e->cpus, cpu))
		return -EINVAL;
	int err = await_charge(e, t->task);
	if (err)
		return err;
	unsigned long flags = spin_lock_irqsave(&e->lock);
	err = e->dying || e->agent_task != t->task ? -ENOENT :
	      e->slots[cpu].t || t->agent_of || t->enclave ? -EBUSY : 0;
	if (!err) {
		e->slots[cpu].t = t;
		spin_lock(&t->lock);
		t->agent_of = e;
		t->agent_cpu = cpu;
		cpumask_t one = { { 0 } };
		cpumask_set(&one, cpu);
		t->affinity = one;
		t->class = &agent_class;	/* takes effect at the schedule() below */
		spin_unlock(&t->lock);
	}
	spin_unlock_irqrestore(&e->lock, flags);
	if (!err)
		schedule();	/* requeued as an agent, on its CPU */
	return err;
}

static bool agent_should_run(struct enclave *e, unsigned cpu)
{
	struct agent_slot *s = &e->slots[cpu];
	if (s->kick || e->dying || s->t != thread_current())
		return true;
	if (e->mode == GHOST_MODE_CENTRAL &&
	    __atomic_load_n(&e->status->hdr.global_cpu, __ATOMIC_ACQUIRE) == cpu)
		return true;
	bool pending = false;
	unsigned long flags = spin_lock_irqsave(&e->qlock);
	for (int i = 0; i < GHOST_MAX_QUEUES && !pending; i++) {
		struct gqueue *q = e->queues[i];
		pending = q && q->wake_cpu == (int)cpu && ghost_queue_pending(q->q);
	}
	spin_unlock_irqrestore(&e->qlock, flags);
	return pending;
}

static void wait_timeout(struct timer *tm)
{
	wake_slot(container_of(tm, struct agent_slot, timeout), true);
}

int enclave_agent_wait(struct enclave *e, unsigned cpu, uint64_t timeout_ns)
{
	struct agent_slot *s = &e->slots[cpu];
	struct task *task = task_current();

	if (timeout_ns)
		timer_arm(&s->timeout, this_cpu()->id, clock_ns() + timeout_ns, wait_timeout);
	unsigned long flags = spin_lock_irqsave(&s->wq.lock);
	while (!agent_should_run(e, cpu) && !(task && READ_ONCE(task->exiting)))
		waitq_wait(&s->wq);
	s->kick = false;
	spin_unlock_irqrestore(&s->wq.lock, flags);
	if (timeout_ns)
		timer_cancel(&s->timeout);
	return 0;
}

void enclave_ping(struct enclave *e, unsigned cpu)
{
	__atomic_add_fetch(&e->status->cpu[cpu].aseq, 1, __ATOMIC_RELEASE);
	wake_slot(&e->slots[cpu], true);
	sched_set_need_resched(&cpus[cpu]);	/* an idle CPU looks at its hints */
}

static void agent_timer_fired(struct timer *tm)
{
	struct agent_slot *s = container_of(tm, struct agent_slot, agent_timer);
	unsigned long flags = arch_irq_save();
	if (!READ_ONCE(s->e->dying))
		cpu_event(s->e, s->cpu, GHOST_MSG_AGENT_TIMER, READ_ONCE(s->timer_cookie));
	ghost_flush_wakes();
	arch_irq_restore(flags);
}

int enclave_timer_arm(struct enclave *e, unsigned cpu, uint64_t deadline, uint64_t cookie)
{
	if (cpu >= MAX_CPUS || !cpumask_test(&e->cpus, cpu))
		return -EINVAL;
	struct agent_slot *s = &e->slots[cpu];
	unsigned long flags = spin_lock_irqsave(&e->lock);
	timer_cancel(&s->agent_timer);	/* its callback takes no e->lock */
	s->timer_cookie = cookie;
	int err = deadline && !e->dying ? timer_arm(&s->agent_timer, cpu, deadline, agent_timer_fired) : 0;
	spin_unlock_irqrestore(&e->lock, flags);
	return err;
}

int enclave_queue_create(struct enclave *e, uint32_t nslots, uintptr_t *uaddr)
{
	if (nslots < 2 || nslots > GHOST_QUEUE_MAX_SLOTS || (nslots & (nslots - 1)))
		return -EINVAL;
	struct gqueue *q = queue_new(e, nslots);
	if (!q)
		return -ENOMEM;
	unsigned long flags = spin_lock_irqsave(&e->lock);
	struct vm *vm = e->agent_task && !e->dying ? e->agent_task->vm : NULL;
	spin_unlock_irqrestore(&e->lock, flags);
	/* Mapped first (it may allocate page tables), numbered and published after. */
	q->uaddr = vm ? vm_map_shm(vm, q->shm, MAP_WRITE) : 0;
	if (!q->uaddr) {
		queue_free(q);
		return vm ? -ENOMEM : -ENOENT;
	}
	int id = -ENOSPC;
	flags = spin_lock_irqsave(&e->lock);
	spin_lock(&e->qlock);
	for (int i = 1; i < GHOST_MAX_QUEUES && id < 0; i++)
		if (!e->queues[i])
			id = i;
	if (id > 0) {
		q->id = id;
		ghost_queue_init(&q->prod, q->q, (uint32_t)id, nslots);
		e->queues[id] = q;
	}
	spin_unlock(&e->qlock);
	spin_unlock_irqrestore(&e->lock, flags);
	if (id < 0) {
		vm_unmap_shm(vm, q->uaddr);
		queue_free(q);
		return id;
	}
	*uaddr = q->uaddr;
	return id;
}

int enclave_queue_destroy(struct enclave *e, int qid)
{
	if (qid <= 0 || qid >= GHOST_MAX_QUEUES)
		return qid == 0 ? -EBUSY : -ENOENT;	/* the default queue stays */
	unsigned long flags = spin_lock_irqsave(&e->lock);
	struct gqueue *q = e->queues[qid];
	int err = !q ? -ENOENT : q->nthreads ? -EBUSY : 0;
	if (!err) {
		spin_lock(&e->qlock);
		e->queues[qid] = NULL;
		spin_unlock(&e->qlock);
	}
	struct vm *vm = e->agent_task ? e->agent_task->vm : NULL;
	spin_unlock_irqrestore(&e->lock, flags);
	if (err)
		return err;
	/* A CPU event may have picked q (cpu_queue) just before and be about to post
	 * into it, with interrupts off: once every CPU has taken an interrupt, none is. */
	smp_call(&cpus_online, nothing, NULL, true);
	if (vm && q->uaddr)
		vm_unmap_shm(vm, q->uaddr);
	queue_free(q);
	return 0;
}

int enclave_associate(struct enclave *e, uint64_t tid, int qid)
{
	if (qid < 0 || qid >= GHOST_MAX_QUEUES)
		return -ENOENT;
	unsigned long flags = spin_lock_irqsave(&e->lock);
	struct gqueue *q = e->queues[qid];
	struct thread *t = find(e, tid);
	int err = !q || !t ? -ENOENT : 0;
	if (!err) {
		spin_lock(&t->lock);
		struct gqueue *old = t->gq;
		/* Its messages must not overtake each other: refuse while any of the
		 * thread's could still be unread in the old queue. */
		if (old != q && __atomic_load_n(&old->q->tail, __ATOMIC_ACQUIRE) < t->gq_head) {
			err = -EAGAIN;
		} else {
			old->nthreads--;
			q->nthreads++;
			t->gq = q;
			t->gq_head = 0;
		}
		spin_unlock(&t->lock);
	}
	spin_unlock_irqrestore(&e->lock, flags);
	return err;
}

int enclave_config_wakeup(struct enclave *e, int qid, int cpu)
{
	if (qid < 0 || qid >= GHOST_MAX_QUEUES)
		return -ENOENT;
	if (cpu != -1 && (cpu < 0 || cpu >= MAX_CPUS || !cpumask_test(&e->cpus, (unsigned)cpu)))
		return -EINVAL;
	unsigned long flags = spin_lock_irqsave(&e->lock);
	spin_lock(&e->qlock);
	struct gqueue *q = e->queues[qid];
	if (q)
		q->wake_cpu = cpu;
	spin_unlock(&e->qlock);
	spin_unlock_irqrestore(&e->lock, flags);
	return q ? 0 : -ENOENT;
}

void enclave_task_end(struct task *task)
{
	struct enclave *e = READ_ONCE(task->ghost_enclave) ? enclave_get_of_agent(task) : NULL;
	if (!e)
		return;
	unsigned long flags = spin_lock_irqsave(&e->lock);
	bool gone = e->dying;	/* destroyed already (ejected, or by the control program) */
	bool was_successor = e->successor == task;
	if (was_successor) {
		e->successor = NULL;
		__atomic_store_n(&e->status->hdr.successor, 0, __ATOMIC_RELEASE);
		task->ghost_enclave = NULL;
	}
	spin_unlock_irqrestore(&e->lock, flags);
	if (was_successor) {
		printk("wisp: enclave %d: task %ld (%s) ended before it took over: the agent in "
		       "charge stays\n", e->id, task->id, task->name);
		waitq_wake_all(&e->handover_wq);
		enclave_put(e);
		return;
	}
	char why[64];
	int st = task->status, reason = GHOST_END_AGENT_EXITED, status = st;
	if (st >= WAIT_FAULT_BASE && st < WAIT_FAULT_BASE + 32) {
		reason = GHOST_END_AGENT_FAULT;
		status = st - WAIT_FAULT_BASE;
		snprintf(why, sizeof(why), "killed by a fault (vector %d)", status);
	} else if (st == WAIT_KILLED) {
		reason = GHOST_END_AGENT_KILLED;
		snprintf(why, sizeof(why), "killed (SYS_kill)");
	} else {
		snprintf(why, sizeof(why), "exited with status %d", st);
	}
	if (!gone && !handover(e, task, why)) {
		flags = spin_lock_irqsave(&e->lock);
		gone = e->dying;
		unsigned n = e->nthreads;
		spin_unlock_irqrestore(&e->lock, flags);
		/* Nothing to say if already destroyed: whoever destroyed it said why. */
		if (!gone)
			printk("wisp: enclave %d: agent task %ld (%s) %s: its %u threads go back "
			       "to native\n", e->id, task->id, task->name, why, n);
		enclave_destroy_for(e, reason, status);
	}
	enclave_put(e);
}

/* Scheduler hooks. */
void ghost_leave_cpu(struct thread *prev, uint64_t now)
{
	struct enclave *e = prev->enclave;
	if (!e || prev->class != &ghost_class || prev->state == THREAD_DEAD)
		return;
	prev->runtime_ns += now - prev->last_start;	/* the status word reports it */
	prev->last_start = now;
	prev->ghost_running = false;
	if (prev->state == THREAD_BLOCKED)
		thread_event(e, prev, GHOST_MSG_THREAD_BLOCKED, 0, now);
	else if (prev->yielding)
		thread_event(e, prev, GHOST_MSG_THREAD_YIELD, GHOST_SW_RUNNABLE, now);
	else
		thread_event(e, prev, GHOST_MSG_THREAD_PREEMPTED, GHOST_SW_RUNNABLE, now);
}

uint64_t enclave_blackout(struct enclave *e, bool reset)
{
	if (reset)
		return __atomic_exchange_n(&e->blackout_ns, 0, __ATOMIC_RELAXED);
	return __atomic_load_n(&e->blackout_ns, __ATOMIC_RELAXED);
}

/* Blackout: how long c had been free for ghost threads while next, which runs
 * there now, was waiting for a CPU.  rq_lock held. */
static void free_time(struct enclave *e, struct cpu *c, struct thread *next, bool busy)
{
	if (next->class == &ghost_class) {
		uint64_t free = c->ghost_free_since, since = READ_ONCE(next->ghost_waiting);
		uint64_t now = free && since ? clock_ns() : 0, from = MAX(free, since);
		uint64_t gap = now > from ? now - from : 0;
		uint64_t max = __atomic_load_n(&e->blackout_ns, __ATOMIC_RELAXED);
		while (gap > max && !__atomic_compare_exchange_n(&e->blackout_ns, &max, gap, false,
								 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
		c->ghost_free_since = 0;
	} else if (busy || (next->class == &agent_class && e->mode == GHOST_MODE_CENTRAL &&
			    READ_ONCE(e->status->hdr.global_cpu) == c->id)) {
		c->ghost_free_since = 0;	/* native work, or the global agent */
	} else if (!c->ghost_free_since) {
		c->ghost_free_since = clock_ns();
	}
}

void ghost_switch(struct cpu *c, struct thread *prev, struct thread *next)
{
	struct enclave *e = c->enclave;
	if (!e)
		return;
	bool busy = next->class == &native_class;
	free_time(e, c, next, busy);
	struct ghost_cpu_status *w = &e->status->cpu[c->id];
	seq_begin(&w->seq);
	w->flags = busy ? 0 : GHOST_CPU_AVAILABLE;
	w->current_tid = next->class == &ghost_class ? next->tid : 0;
	seq_end(&w->seq);
	if (busy == c->ghost_cpu_busy)
		return;
	c->ghost_cpu_busy = busy;
	cpu_event(e, c->id, busy ? GHOST_MSG_CPU_TAKEN : GHOST_MSG_CPU_AVAILABLE, 0);
	if (!busy || e->mode != GHOST_MODE_CENTRAL || READ_ONCE(e->status->hdr.global_cpu) != c->id)
		return;
	/* The global agent's CPU went to a native thread (whether the agent was
	 * spinning or waiting): another agent takes over, on a CPU without native
	 * work, and reads on from the same queue. */
	for_each_cpu_in(h, &e->cpus) {
		struct cpu *o = &cpus[h];
		if (h == c->id || !e->slots[h].t || READ_ONCE(o->nr_native) ||
		    READ_ONCE(o->curr)->class == &native_class)
			continue;
		struct ghost_enclave_status *hdr = &e->status->hdr;
		__atomic_store_n(&hdr->global_cpu, h, __ATOMIC_RELEASE);
		__atomic_add_fetch(&hdr->global_gen, 1, __ATOMIC_RELEASE);
		e->slots[h].kick = true;	/* read under wq.lock; a late read only delays */
		defer_wake(e, h);
		break;
	}
}

void ghost_arrive(struct thread *t)
{
	if (t->class != &ghost_class)
		return;
	spin_lock(&t->lock);
	struct enclave *e = t->enclave;
	t->latched_cpu = 0;	/* picked: it has arrived */
	if (e && t->class == &ghost_class) {
		t->ghost_running = true;
		thread_status(e, t, GHOST_SW_RUNNABLE | GHOST_SW_ON_CPU, t->last_start);
	}
	spin_unlock(&t->lock);
}

void ghost_woken(struct thread *t)
{
	if (t->enclave && t->class == &ghost_class)
		thread_event(t->enclave, t, GHOST_MSG_THREAD_WAKEUP, GHOST_SW_RUNNABLE, clock_ns());
}

void ghost_affinity_changed(struct thread *t)
{
	if (!t->enclave || t->class != &ghost_class)
		return;
	uint32_t sw = t->state == THREAD_RUNNABLE ? GHOST_SW_RUNNABLE : 0;
	if (t->ghost_running)
		sw |= GHOST_SW_ON_CPU;
	thread_event(t->enclave, t, GHOST_MSG_THREAD_AFFINITY, sw, clock_ns());
	/* Committed to a CPU it may no longer use: taken back if it has not been picked
	 * there yet (PREEMPTED), else (on its way, or running) that CPU is told to
	 * switch, and it leaves with PREEMPTED.  The latch holds until it arrives, and
	 * arriving takes this lock. */
	int cpu = t->latched_cpu ? t->latched_cpu - 1 : t->ghost_running ? (int)t->cpu : -1;
	if (cpu < 0 || cpumask_test(&t->affinity, (unsigned)cpu))
		return;
	struct cpu *c = &cpus[cpu];
	bool taken = false;
	if (t->latched_cpu) {
		spin_lock(&c->rq_lock);
		taken = c->ghost_next == t;
		if (taken) {
			c->ghost_next = NULL;
			t->latched_cpu = 0;
		}
		spin_unlock(&c->rq_lock);
	}
	if (taken)
		thread_event(t->enclave, t, GHOST_MSG_THREAD_PREEMPTED, GHOST_SW_RUNNABLE, clock_ns());
	else
		sched_set_need_resched(c);
}

void ghost_thread_exit(struct thread *t)
{
	if (!READ_ONCE(t->enclave) && !READ_ONCE(t->agent_of))
		return;
	unsigned long flags = spin_lock_irqsave(&enclaves_lock);
	struct enclave *e = t->enclave ? t->enclave : t->agent_of;
	if (e)
		spin_lock(&e->lock);
	spin_unlock(&enclaves_lock);
	if (!e) {
		arch_irq_restore(flags);
		return;
	}
	if (t->agent_of == e) {
		e->slots[t->agent_cpu].t = NULL;
		spin_lock(&t->lock);
		t->agent_of = NULL;
		t->class = &native_class;	/* it is running: nothing to requeue */
		spin_unlock(&t->lock);
	} else if (t->enclave == e) {
		spin_lock(&t->lock);
		unlatch(t);
		list_remove(&t->enclave_link);
		e->nthreads--;
		e->status->hdr.nthreads = e->nthreads;
		uint64_t now = clock_ns();
		t->runtime_ns += now - t->last_start;
		t->last_start = now;
		thread_event(e, t, GHOST_MSG_THREAD_DEAD, GHOST_SW_DEAD, now);
		t->gq->nthreads--;
		t->gq = NULL;
		t->enclave = NULL;
		t->class = &native_class;	/* it is running: nothing to requeue */
		t->ghost_running = false;
		spin_unlock(&t->lock);
	}
	spin_unlock(&e->lock);
	ghost_flush_wakes();
	arch_irq_restore(flags);
}

void ghost_unlatch_cpu(struct cpu *c, uint64_t tid)
{
	unsigned long flags = spin_lock_irqsave(&enclaves_lock);
	struct enclave *e = c->enclave;
	if (e)
		spin_lock(&e->lock);
	spin_unlock(&enclaves_lock);
	if (e) {
		spin_lock(&c->rq_lock);
		bool still = c->ghost_next && c->ghost_next->tid == tid;
		spin_unlock(&c->rq_lock);
		if (still)
			latch(e, c->id, NULL);	/* PREEMPTED, unless it ran meanwhile */
		spin_unlock(&e->lock);
	}
	ghost_flush_wakes();
	arch_irq_restore(flags);
}

int enclave_core_isolate(struct enclave *e, bool on)
{
	for_each_cpu_in(cpu, &e->cpus)
		for_each_cpu_in(s, &cpus[cpu].siblings)
			if (!cpumask_test(&e->cpus, s))
				return -EINVAL;
	unsigned long flags = spin_lock_irqsave(&e->lock);
	WRITE_ONCE(e->core_isolated, on);
	e->status->hdr.core_isolated = on;
	spin_unlock_irqrestore(&e->lock, flags);
	return 0;
}

bool ghost_idle_polls(struct cpu *c)
{
	struct enclave *e = c->enclave;
	return e && READ_ONCE(e->idle_poll);
}

/* The idle fast path: take hints until one runs.  Interrupts off. */
void ghost_idle(struct cpu *c)
{
	struct enclave *e = c->enclave;
	if (!e || c->ghost_next)
		return;
	struct ghost_hint_ring *r = &e->agent->hints[c->id];
	uint64_t tail = r->tail;
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	if (head - tail > GHOST_HINTS)
		tail = head - GHOST_HINTS;	/* a confused agent: only the last ring's worth */
	while (tail != head) {
		struct ghost_hint h = r->hint[tail % GHOST_HINTS];
		tail++;
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
		struct thread *t;
		struct ghost_txn txn = { .state = GHOST_TXN_READY, .tid = h.tid, .tseq = h.tseq };
		spin_lock(&e->lock);
		txn.aseq = __atomic_load_n(&e->status->cpu[c->id].aseq, __ATOMIC_ACQUIRE);
		bool ok = h.tid && decide(e, c->id, &txn, true, &t) == GHOST_TXN_COMPLETE &&
			  !core_clash(e, c->id, t, 0, NULL);
		if (ok)
			latch(e, c->id, t);
		spin_unlock(&e->lock);
		if (ok) {
			r->used++;
			sched_set_need_resched(c);
			return;
		}
		r->stale++;
	}
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

static void tick(struct timer *tm);

static void ghost_run_start(struct cpu *c, struct thread *t)
{
	struct enclave *e = c->enclave;
	if (e && e->tick_ns)
		timer_arm(&c->ghost_tick, c->id, clock_ns() + e->tick_ns, tick);
}

static void tick(struct timer *tm)
{
	struct cpu *c = this_cpu();
	unsigned long flags = arch_irq_save();
	struct enclave *e = c->enclave;
	struct thread *curr = c->curr;
	if (e && e->tick_ns && curr->class == &ghost_class) {
		struct ghost_msg m = { .type = GHOST_MSG_TIMER_TICK, .cpu = (uint16_t)c->id,
				       .tid = curr->tid, .time_ns = clock_ns() };
		spin_lock(&e->qlock);
		struct gqueue *q = cpu_queue(e, c->id);
		spin_unlock(&e->qlock);
		post(e, q, &m);
		timer_arm(&c->ghost_tick, c->id, clock_ns() + e->tick_ns, tick);
	}
	ghost_flush_wakes();
	arch_irq_restore(flags);
}

static struct thread *ghost_pick(struct cpu *c)
{
	struct thread *t = c->ghost_next;

	if (!t)
		return NULL;
	c->ghost_next = NULL;
	if (t->class != &ghost_class || t->state != THREAD_RUNNABLE) {
		t->latched_cpu = 0;
		return NULL;
	}
	/* latched_cpu stays set until it arrives (ghost_arrive): a thread on its way
	 * here is no commit's to take, and unlatch, finding it, learns it is ours now
	 * (curr, under this lock). */
	/* It may still be on the CPU it last ran on (unless that is this one:
	 * committed again while it yielded here, it simply goes on running).  Waiting
	 * for it here, under this lock, could deadlock: that CPU may need this lock
	 * before it lets the thread go (docs/TRICKS.md, "Messages, status words and
	 * deferred wakeups").  So it stays latched and this CPU tries again. */
	if (t != c->curr && __atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE)) {
		c->ghost_next = t;
		__atomic_store_n(&c->need_resched, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	return t;
}

/* The native thread that ran before may have left its slice timer armed. */
static void ghost_set_next(struct cpu *c, struct thread *t)
{
	timer_cancel(&c->slice_timer);
}

const struct sched_class ghost_class = {
	.name = "ghost",
	.select_cpu = ghost_select,
	.enqueue = ghost_nothing,
	.pick_next = ghost_pick,
	.put_prev = ghost_nothing,
	.set_next = ghost_set_next,
	.run_start = ghost_run_start,
	.steal = NULL,
};

/* The agent class: per CPU, the agent threads pinned there, FIFO, no time slice. */
static unsigned agent_select(struct thread *t)
{
	return t->agent_of ? t->agent_cpu : t->cpu;
}

static void agent_enqueue(struct cpu *c, struct thread *t)
{
	list_insert_before(&c->agent_q, &t->rq_link);
}

static struct thread *agent_pick(struct cpu *c)
{
	if (list_empty(&c->agent_q))
		return NULL;
	struct thread *t = list_entry(c->agent_q.next, struct thread, rq_link);
	list_remove(&t->rq_link);
	return t;
}


const struct sched_class agent_class = {
	.name = "agent",
	.select_cpu = agent_select,
	.enqueue = agent_enqueue,
	.pick_next = agent_pick,
	.put_prev = agent_enqueue,
	.set_next = ghost_set_next,
	.run_start = ghost_nothing,
	.steal = NULL,
};
