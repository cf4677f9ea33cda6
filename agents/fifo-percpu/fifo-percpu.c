/* agents/fifo-percpu/fifo-percpu.c: a per-CPU FIFO ghOSt agent.
 *
 * Policy: every enclave CPU has an agent thread, a message queue and a FIFO run
 * queue of its own.  A new thread is dealt to a CPU round-robin and stays there; the
 * agent runs the head of its FIFO until it blocks, yields or is preempted (never
 * committing over its own thread while that still has the CPU), and a thread that
 * becomes runnable again goes to the tail.
 *
 * Mechanism: GHOST_MODE_PERCPU.  Each agent's queue wakes that CPU's agent.  The
 * first enclave CPU's agent also owns the default queue, where new threads are born.
 * Once it has drained that queue (GHOST_ASSOCIATE_QUEUE refuses, -EAGAIN, while the
 * old queue holds any message) it moves each new thread to its CPU's queue, records
 * the owner, passes a THREAD_CREATED on through that agent's inbox and pings it;
 * after a few refusals in a row it keeps the thread.  An agent commits its own CPU
 * with GHOST_COMMIT_WAIT: the thread runs and the agent sleeps until a message or a
 * ping arrives.  The Aseq is read before the queue is drained, so a message that
 * lands during the decision fails the commit (AGENT_STALE) instead of being missed.
 * After a queue overflow an agent rebuilds its table from the status words, taking
 * only the threads the owner records give it.  At start, once every agent's queue
 * exists, the first CPU's agent adopts the enclave's threads from the status words
 * and deals them like new ones: a live upgrade starts like this.
 *
 * Affinity: a new thread is dealt only to a CPU it may use.  A thread whose
 * affinity comes to exclude its CPU (the kernel takes it off that CPU: AFFINITY,
 * then PREEMPTED) is passed on by its agent the same way, to the next CPU it may
 * use; one that may use none of the enclave's CPUs waits, set aside, until its
 * affinity changes again.
 *
 * Weaknesses: no time slice (a thread that never blocks or yields keeps its CPU);
 * no balancing (a CPU with a long FIFO never gives work to an idle one); the first
 * CPU's agent deals every new thread, which serializes creation.
 *
 * Usage: fifo-percpu ENCLAVE_ID [upgrade] [[exit-when-empty] N]: with upgrade it
 * takes over from the agent in charge; with N it exits after N of the enclave's
 * threads have died, printing one line of totals. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/lib/ghostlib.h"

#define QUEUE_SLOTS	1024
#define INBOX_SLOTS	256		/* a power of two */
#define BUSY_WAIT_NS	100000		/* a native thread is taking the CPU: let it */
#define DEAL_TRIES	4		/* ASSOCIATE refusals before a thread is kept */

/* One enclave CPU's agent: everything but the inbox belongs to its thread alone. */
struct pcpu {
	struct ga_table *tab;
	struct ga_fifo rq;
	struct ga_fifo newq;		/* first CPU: new threads not dealt yet */
	struct ga_fifo stray;		/* waiting, but not allowed here: to pass on */
	struct ga_thread *cur;		/* committed here last; runs while cur->on_cpu */
	uint64_t cur_tid;
	struct ghost_queue *q;
	int qid;			/* -1 until the queue exists (release store) */
	uint64_t overflow_seen;
	wisp_mutex_t inbox_lock;	/* any agent pushes (pass_to), this one pops */
	uint32_t in_head, in_tail;	/* [inbox_lock] */
	struct ghost_msg inbox[INBOX_SLOTS];	/* [inbox_lock] THREAD_CREATED passed here */
};

static struct ghost_agent agent;
static struct pcpu *pcpus;		/* indexed by CPU */
static int first_cpu;			/* its agent owns the default queue */
static int deal_cursor = -1;		/* [first_cpu's agent] CPU dealt to last */
static wisp_mutex_t owner_lock = WISP_MUTEX_INIT;	/* guards owner: */
static struct owner {
	uint64_t tid;
	int cpu;
} *owner;				/* [GHOST_MAX_THREADS] who a dealt thread went to */
static uint64_t per_cpu[GHOST_MAX_CPUS];	/* atomic: decisions per CPU */
static uint64_t decisions;	/* atomic, all agents together */
static int ready;		/* atomic: agents whose queue exists */

/* First CPU's agent: a thread it has not dealt or kept yet (ga_thread.user 0) goes
 * to newq when it wants a CPU. */
#define KEPT	1

static struct ga_fifo *fifo_for(struct pcpu *p, struct ga_thread *t)
{
	if (p == &pcpus[first_cpu] && t->user != KEPT)
		return &p->newq;
	return ga_allowed(t, (int)(p - pcpus)) ? &p->rq : &p->stray;
}

/* The enclave CPU after `after` (round robin) that t may use, -1 if none. */
static int next_allowed(struct ga_thread *t, int after)
{
	uint64_t ok = agent.cpus & t->affinity;
	uint64_t later = after + 1 < GHOST_MAX_CPUS ? ok & (~0ull << (after + 1)) : 0;

	if (!ok)
		return -1;
	return __builtin_ctzll(later ? later : ok);
}

/* The agent whose queue tid's messages go to: the one it was dealt to, or ours. */
static int owner_of(uint64_t tid)
{
	struct owner *o = &owner[GHOST_THREAD_INDEX(tid)];
	int cpu;

	wisp_mutex_lock(&owner_lock);
	cpu = o->tid == tid ? o->cpu : first_cpu;
	wisp_mutex_unlock(&owner_lock);
	return cpu;
}

/* After lost messages: keep what we knew, take what was dealt to us (its CREATED
 * may be lost), forget the rest: another agent has it. */
static void adopt(struct ga_thread *t, bool known, void *arg)
{
	struct pcpu *p = arg;

	if (!known && owner_of(t->tid) != (int)(p - pcpus)) {
		ga_forget(p->tab, t);
		return;
	}
	if (ga_thread_waiting(t) && !t->fifo)
		ga_fifo_push_tail(fifo_for(p, t), t);
}

/* A waiting thread is filed where it belongs now (its affinity may have changed). */
static void handle(struct pcpu *p, const struct ghost_msg *m)
{
	struct ga_thread *t = ga_track_msg(p->tab, m);

	if (t && ga_thread_waiting(t) && t->fifo != fifo_for(p, t))
		ga_fifo_push_tail(fifo_for(p, t), t);
}

static void drain_queue(struct pcpu *p, int self)
{
	struct ghost_msg m;

	if (ga_overflowed(p->q, &p->overflow_seen))
		ga_resync(p->tab, adopt, p);
	while (ga_pop(p->q, &m)) {
		if (m.type == GHOST_MSG_CPU_AVAILABLE && m.cpu != self && ga_cpu_in(&agent, m.cpu))
			ga_ping(m.cpu);
		handle(p, &m);
	}
}

/* Hand waiting thread t of agent p to cpu's agent: 0, or why not (-EAGAIN: our
 * queue has messages about it again; -EBUSY: that agent has no queue or no room
 * yet).  The inbox lock is held from the room check to the push: any agent may
 * pass threads on. */
static int pass_to(struct pcpu *p, int cpu, struct ga_thread *t)
{
	struct pcpu *to = &pcpus[cpu];
	struct ghost_msg m = { .type = GHOST_MSG_THREAD_CREATED, .tid = t->tid,
			       .tseq = t->tseq, .cpu = (uint16_t)cpu, .arg = t->affinity };
	int qid = __atomic_load_n(&to->qid, __ATOMIC_ACQUIRE);
	int err = -EBUSY;

	wisp_mutex_lock(&to->inbox_lock);
	if (qid >= 0 && to->in_head - to->in_tail < INBOX_SLOTS)
		err = ga_associate(t->tid, qid);
	if (!err) {
		wisp_mutex_lock(&owner_lock);
		owner[GHOST_THREAD_INDEX(t->tid)] = (struct owner){ .tid = t->tid, .cpu = cpu };
		wisp_mutex_unlock(&owner_lock);
		ga_forget(p->tab, t);
		to->inbox[to->in_head++ % INBOX_SLOTS] = m;
	}
	wisp_mutex_unlock(&to->inbox_lock);
	if (!err)
		ga_ping(cpu);
	return err;
}

/* Pass on the threads set aside here; true if one could go but had to wait. */
static bool pass_strays(struct pcpu *p, int self)
{
	struct ga_fifo keep = { 0 };
	struct ga_thread *t;
	bool later = false;

	while ((t = ga_fifo_pop(&p->stray))) {
		int to = next_allowed(t, self);
		if (to < 0 || to == self || pass_to(p, to, t) != 0) {
			later |= to >= 0 && to != self;
			ga_fifo_push_tail(&keep, t);
		}
	}
	while ((t = ga_fifo_pop(&keep)))
		ga_fifo_push_tail(ga_allowed(t, self) ? &p->rq : &p->stray, t);
	return later;
}

/* First CPU's agent, its queue drained: deal the new threads round-robin over the
 * CPUs each may use, draining again after each refusal; what cannot move stays
 * here (set aside if it may not run here either). */
static void deal(struct pcpu *p, int self)
{
	struct ga_thread *t;
	int refused = 0;

	while ((t = ga_fifo_pop(&p->newq))) {
		int to = next_allowed(t, deal_cursor);
		if (to >= 0)
			deal_cursor = to;
		int err = to < 0 || to == self ? -EBUSY : pass_to(p, to, t);
		if (err == -EAGAIN && refused++ < DEAL_TRIES) {
			ga_fifo_push_head(&p->newq, t);
			drain_queue(p, self);
		} else if (err) {
			t->user = KEPT;
			ga_fifo_push_tail(fifo_for(p, t), t);
		}
	}
}

/* The queue first, then the inbox entries that were there before: a dealt thread
 * may reuse the slot of one whose last messages are in our queue. */
static void drain(struct pcpu *p, int self)
{
	struct ghost_msg m;
	uint32_t n;

	wisp_mutex_lock(&p->inbox_lock);
	n = p->in_head - p->in_tail;
	wisp_mutex_unlock(&p->inbox_lock);
	drain_queue(p, self);
	if (self == first_cpu)
		deal(p, self);
	while (n--) {
		wisp_mutex_lock(&p->inbox_lock);
		m = p->inbox[p->in_tail++ % INBOX_SLOTS];
		wisp_mutex_unlock(&p->inbox_lock);
		handle(p, &m);
	}
}

/* Our last thread still has the CPU (no message said it left): committing another
 * over it would preempt it, and that message would wake us to undo it. */
static bool cpu_taken(struct pcpu *p)
{
	return p->cur && p->cur->tid == p->cur_tid && p->cur->on_cpu;
}

/* Run t here until a message wakes us again. */
static void run(struct pcpu *p, int self, struct ga_thread *t, uint32_t aseq)
{
	long n;

	ga_txn_set(&agent, self, t->tid, t->tseq, aseq, 0);
	n = ga_commit(&agent, 1ull << self, GHOST_COMMIT_WAIT);
	if (n < 0) {
		if (ga_enclave_alive(&agent))	/* else: destroyed, the policy ends */
			fprintf(stderr, "fifo-percpu: CPU %d: GHOST_COMMIT failed: %s\n", self,
				strerror((int)-n));
		ga_finish(&agent, self);
		return;
	}
	switch (ga_txn_state(&agent, self)) {
	case GHOST_TXN_COMPLETE:
		t->on_cpu = true;
		t->cpu = self;
		p->cur = t;
		p->cur_tid = t->tid;
		__atomic_add_fetch(&decisions, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&per_cpu[self], 1, __ATOMIC_RELAXED);
		break;
	case GHOST_TXN_AGENT_STALE:	/* a message came: read it, decide again */
		ga_fifo_push_head(&p->rq, t);
		break;
	case GHOST_TXN_CPU_BUSY:
	case GHOST_TXN_CORE_CONFLICT:	/* core-isolated: the sibling runs another domain */
		ga_fifo_push_head(&p->rq, t);
		ga_wait(BUSY_WAIT_NS);
		break;
	case GHOST_TXN_NOT_RUNNABLE:
		if (!ga_runnable_now(&agent, t))
			break;		/* blocked or dead: its message is coming */
		ga_fifo_push_head(&p->rq, t);	/* still leaving a CPU */
		ga_wait(BUSY_WAIT_NS);
		break;
	case GHOST_TXN_CPU_NOT_ALLOWED:	/* cannot be, as its affinity was told: */
		ga_fifo_push_tail(&p->stray, t);	/* believe the kernel */
		t->affinity &= ~(1ull << self);
		break;
	default:			/* THREAD_STALE: a message is coming; or gone */
		break;
	}
}

/* This CPU's queue, waking this agent; the task ends if there can be none. */
static void setup(struct pcpu *p, int self)
{
	int qid = agent.default_queue_id;
	int err;

	if (self == first_cpu)
		p->q = agent.default_queue;
	else
		qid = ga_queue_create(QUEUE_SLOTS, &p->q);
	err = qid < 0 ? qid : ga_config_wakeup(qid, self);
	if (err < 0) {
		fprintf(stderr, "fifo-percpu: CPU %d: no queue to wake it: %s\n", self,
			strerror(-err));
		exit(1);
	}
	__atomic_store_n(&p->qid, qid, __ATOMIC_RELEASE);
	__atomic_add_fetch(&ready, 1, __ATOMIC_RELEASE);
}

static void percpu_agent(struct ghost_agent *a, int self, void *arg)
{
	struct pcpu *p = &pcpus[self];
	int err;

	setup(p, self);
	if (self == first_cpu) {
		while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) < a->ncpus && !ga_done(a))
			wisp_sleep_ns(BUSY_WAIT_NS);
		ga_resync(p->tab, adopt, p);	/* threads already there */
	}
	while (!ga_done(&agent)) {
		uint32_t aseq = ga_aseq(a, self);	/* before reading what it covers */
		uint64_t before = p->tab->deaths;
		struct ga_thread *t;

		drain(p, self);
		ga_count_deaths(&agent, self, p->tab->deaths - before);
		if (ga_done(&agent))
			break;
		bool later = !ga_fifo_empty(&p->stray) && pass_strays(p, self);
		t = cpu_taken(p) ? NULL : ga_fifo_pop(&p->rq);
		if (t) {
			run(p, self, t, aseq);
		} else if ((err = ga_wait(later ? BUSY_WAIT_NS : 0)) < 0) {
			if (ga_enclave_alive(&agent))	/* else: destroyed, the policy ends */
				fprintf(stderr, "fifo-percpu: CPU %d: GHOST_WAIT failed: %s\n",
					self, strerror(-err));
			ga_finish(&agent, self);
		}
	}
}

int main(int argc, char **argv)
{
	int id, flags, err;
	uint64_t exit_after;

	if (ga_parse_args(argc, argv, &id, &flags, &exit_after) < 0)
		return 2;
	err = ga_attach(&agent, id, GHOST_MODE_PERCPU | flags);
	if (err < 0) {
		fprintf(stderr, "fifo-percpu: cannot attach to enclave %d: %s\n", id,
			strerror(-err));
		return 1;
	}
	agent.exit_after = exit_after;
	first_cpu = ga_cpu_next(&agent, -1);
	pcpus = calloc(GHOST_MAX_CPUS, sizeof(*pcpus));
	owner = calloc(GHOST_MAX_THREADS, sizeof(*owner));
	if (!pcpus || !owner)
		return 1;
	ga_for_each_cpu(cpu, &agent) {
		pcpus[cpu].qid = -1;
		pcpus[cpu].tab = ga_table_create(&agent);
		if (!pcpus[cpu].tab) {
			fprintf(stderr, "fifo-percpu: out of memory\n");
			return 1;
		}
	}
	err = ga_start_agents(&agent, percpu_agent, NULL);
	if (err) {
		fprintf(stderr, "fifo-percpu: cannot start agent threads: %s\n", strerror(err));
		return 1;
	}
	ga_join_agents(&agent);
	/* Exit status 3: a CPU that could run threads never got one (the tests ask). */
	return ga_print_totals(&agent, "fifo-percpu", decisions, per_cpu, 0);
}
