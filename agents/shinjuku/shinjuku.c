/* agents/shinjuku/shinjuku.c: Shinjuku, a centralized FIFO with µs-scale
 * preemption (Kaffes et al., NSDI 2019), as the ghOSt paper ran it (§4.2).
 *
 * Policy: one FIFO of runnable threads for the whole enclave.  A free CPU (any
 * enclave CPU but the global agent's own) runs the head of the FIFO at once.  A
 * thread that has run for a time slice (default 30 µs) while others wait is
 * preempted and goes to the back; one that blocks, yields or is preempted by a
 * native thread goes to the back when it is runnable again.  Short requests thus
 * never wait behind a long one for more than a slice per thread ahead of them.
 *
 * Mechanism: GHOST_MODE_CENTRAL.  The global agent spins on the default queue (which
 * wakes nobody) and the clock.  Per CPU it keeps the thread it sent there and when
 * the commit completed; preempting is committing the FIFO head onto that CPU, which
 * the kernel carries out by taking the running thread off (THREAD_PREEMPTED, which
 * puts it at the back).  Every free CPU and every expired slice is served by one
 * group commit per round, each with the CPU's Aseq read before the queue was
 * drained.  Outcomes as in fifo-central: AGENT_STALE retries, THREAD_STALE and
 * NOT_RUNNABLE drop the thread until its message comes (unless it is only still
 * leaving a CPU), CPU_BUSY retries shortly.  The first round rebuilds the table from
 * the status words (threads already in the enclave, or a live upgrade).
 *
 * The other CPUs' agents sleep until the kernel makes one of them global (a native
 * thread took the global agent's CPU); ga_central_loop keeps their steps apart.
 *
 * With `batch`, threads that call themselves batch work (GHOST_THREAD_BATCH, seen in
 * their status word) wait in a second FIFO and get only CPUs the first leaves idle,
 * as in ghOSt's Shinjuku-Shenango: a batch thread is preempted as soon as a
 * latency-sensitive one waits, and batch threads share what is left a slice at a
 * time.  Without it, batch threads are ordinary ones.
 *
 * Weaknesses: the global agent's CPU runs no enclave thread and burns its time
 * polling; a slice is measured from the commit, so it includes the switch; a thread
 * whose affinity keeps it off the free CPUs waits, and is looked past, at the head
 * of its FIFO.
 *
 * Usage: shinjuku ENCLAVE_ID [upgrade] [[exit-when-empty] N] [slice=US] [batch]:
 * slice in µs (default 30); with N it exits after N of the enclave's threads have
 * died, printing one line of totals (decisions, preemptions, batch decisions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/lib/ghostlib.h"

#define RETRY_NS	20000	/* CPU_BUSY, or a thread still leaving a CPU */

static struct ghost_agent agent;
static struct ga_table *tab;
static struct ga_fifo rq, batchq;
static uint64_t running[GHOST_MAX_CPUS];	/* tid sent there, 0: free */
static bool running_batch[GHOST_MAX_CPUS];	/* ... and it is batch work */
static uint64_t started[GHOST_MAX_CPUS];	/* when its commit completed */
static uint64_t slice_ns = 30000;
static bool batch_mode;
static uint64_t retry_at, overflow_seen;
static uint64_t decisions, preemptions, batch_decisions;

/* ga_thread.user: what the status word said the first time we saw the thread. */
#define LATENCY	1
#define BATCH	2

static struct ga_fifo *fifo_of(struct ga_thread *t)
{
	if (!t->user) {
		struct ghost_thread_status sw;
		t->user = ga_thread_status(&agent, t->tid, &sw) && (sw.flags & GHOST_SW_BATCH) ?
			  BATCH : LATENCY;
	}
	return batch_mode && t->user == BATCH ? &batchq : &rq;
}

/* Where cpu's next thread comes from now, NULL if it keeps what it runs (or stays
 * idle): a free CPU takes latency work first, then batch work; a batch thread gives
 * way to any latency thread at once; a slice over gives way to the same kind. */
static struct ga_fifo *next_for(int cpu, uint64_t now)
{
	bool lat = ga_fifo_first_for(&rq, cpu), bat = ga_fifo_first_for(&batchq, cpu);

	if (!running[cpu])
		return lat ? &rq : bat ? &batchq : NULL;
	if (running_batch[cpu])
		return lat ? &rq : bat && now - started[cpu] >= slice_ns ? &batchq : NULL;
	return lat && now - started[cpu] >= slice_ns ? &rq : NULL;
}

static void handle(const struct ghost_msg *m)
{
	struct ga_thread *t = ga_track_msg(tab, m);

	if (!t)
		return;			/* stale, duplicate, or a CPU event */
	if (!t->on_cpu && m->cpu < GHOST_MAX_CPUS && running[m->cpu] == t->tid)
		running[m->cpu] = 0;
	if (ga_thread_waiting(t) && !t->fifo)
		ga_fifo_push_tail(fifo_of(t), t);
}

static void resync_one(struct ga_thread *t, bool known, void *arg)
{
	if (t->on_cpu && ga_cpu_in(&agent, t->cpu)) {
		running[t->cpu] = t->tid;
		running_batch[t->cpu] = fifo_of(t) == &batchq;
		started[t->cpu] = wisp_clock_ns();
	} else if (ga_thread_waiting(t) && !t->fifo) {
		ga_fifo_push_tail(fifo_of(t), t);
	}
}

static void resync(void)
{
	memset(running, 0, sizeof(running));
	ga_resync(tab, resync_one, NULL);
}

/* The final state of the transaction that sent t to cpu, preempting if it was. */
static void outcome(int cpu, struct ga_thread *t, bool preempting, uint64_t now)
{
	switch (ga_txn_state(&agent, cpu)) {
	case GHOST_TXN_COMPLETE:
		running[cpu] = t->tid;
		running_batch[cpu] = fifo_of(t) == &batchq;
		started[cpu] = now;
		t->on_cpu = true;
		t->cpu = cpu;
		decisions++;
		batch_decisions += running_batch[cpu];
		preemptions += preempting;
		return;
	case GHOST_TXN_THREAD_STALE:	/* its newer message will bring it back */
	case GHOST_TXN_NOT_IN_ENCLAVE:	/* gone */
		return;
	case GHOST_TXN_NOT_RUNNABLE:
		if (!ga_runnable_now(&agent, t))
			return;		/* blocked or dead: its message is coming */
		retry_at = now + RETRY_NS;
		break;
	case GHOST_TXN_AGENT_STALE:
		retry_at = 1;
		break;
	default:			/* CPU_BUSY: a native thread has it; CORE_CONFLICT:
					 * core-isolated, the sibling runs another domain;
					 * CPU_NOT_ALLOWED: one it may use will take it */
		retry_at = now + RETRY_NS;
		break;
	}
	ga_fifo_push_head(fifo_of(t), t);
}

/* One round: drain, then fill free CPUs and preempt expired slices, in one group
 * commit. */
static void step(int self, bool first)
{
	uint32_t aseq[GHOST_MAX_CPUS];
	struct ga_thread *sent[GHOST_MAX_CPUS];
	bool preempting[GHOST_MAX_CPUS];
	uint64_t before = tab->deaths, mask = 0, n = ga_pending(agent.default_queue);
	struct ghost_msg m;

	struct ga_thread *mine = ga_take_back(tab, &running[self]);

	if (mine)			/* sent here before this CPU became global */
		ga_fifo_push_head(fifo_of(mine), mine);
	retry_at = 0;
	ga_for_each_cpu(cpu, &agent)
		aseq[cpu] = ga_aseq(&agent, cpu);	/* before reading what they cover */
	if (ga_overflowed(agent.default_queue, &overflow_seen) || first)
		resync();
	while (n-- && ga_pop(agent.default_queue, &m))
		handle(&m);
	ga_count_deaths(&agent, self, tab->deaths - before);
	uint64_t now = wisp_clock_ns();
	ga_for_each_cpu(cpu, &agent) {
		struct ga_fifo *from = cpu == self ? NULL : next_for(cpu, now);
		if (!from || !ga_cpu_available(&agent, cpu))
			continue;
		struct ga_thread *t = ga_fifo_pop_for(from, cpu);
		ga_txn_set(&agent, cpu, t->tid, t->tseq, aseq[cpu], 0);
		sent[cpu] = t;
		preempting[cpu] = running[cpu] != 0;
		mask |= 1ull << cpu;
	}
	if (!mask)
		return;
	if (ga_commit(&agent, mask, 0) < 0 && ga_enclave_alive(&agent))
		fprintf(stderr, "shinjuku: GHOST_COMMIT failed\n");
	now = wisp_clock_ns();
	for (int cpu = GHOST_MAX_CPUS - 1; cpu >= 0; cpu--)	/* keeps the FIFO order */
		if (mask >> cpu & 1)
			outcome(cpu, sent[cpu], preempting[cpu], now);
}

/* Is there anything to do: a message, a retry due, or a slice over with others
 * waiting? */
static bool work(int self)
{
	uint64_t now = wisp_clock_ns();

	if (ga_pending(agent.default_queue) || (retry_at && now >= retry_at))
		return true;
	if (ga_fifo_empty(&rq) && ga_fifo_empty(&batchq))
		return false;
	ga_for_each_cpu(cpu, &agent)
		if (cpu != self && next_for(cpu, now))
			return true;
	return false;
}

static void central_agent(struct ghost_agent *a, int self, void *arg)
{
	ga_central_loop(a, self, "shinjuku", work, step);
}

int main(int argc, char **argv)
{
	int id, flags, err;
	uint64_t exit_after;

	for (; argc > 2; argc--) {
		if (!strncmp(argv[argc - 1], "slice=", 6))
			slice_ns = strtoull(argv[argc - 1] + 6, NULL, 10) * 1000;
		else if (!strcmp(argv[argc - 1], "batch"))
			batch_mode = true;
		else
			break;
	}
	if (ga_parse_args(argc, argv, &id, &flags, &exit_after) < 0 || slice_ns == 0)
		return 2;
	err = ga_attach(&agent, id, GHOST_MODE_CENTRAL | flags);
	if (err < 0) {
		fprintf(stderr, "shinjuku: cannot attach to enclave %d: %s\n", id, strerror(-err));
		return 1;
	}
	agent.exit_after = exit_after;
	tab = ga_table_create(&agent);
	if (!tab || agent.ncpus < 2) {
		fprintf(stderr, "shinjuku: %s\n", tab ? "the enclave needs two CPUs or more" :
			"out of memory");
		return 1;
	}
	err = ga_start_agents(&agent, central_agent, NULL);
	if (err) {
		fprintf(stderr, "shinjuku: cannot start agent threads: %s\n", strerror(err));
		return 1;
	}
	ga_join_agents(&agent);
	printf("shinjuku: %llu decisions, %llu preemptions, %llu threads done, slice %llu us, "
	       "%llu batch decisions%s\n", (unsigned long long)decisions,
	       (unsigned long long)preemptions, (unsigned long long)agent.deaths,
	       (unsigned long long)(slice_ns / 1000), (unsigned long long)batch_decisions,
	       ga_successor_waiting(&agent) ? "; stepped down for a successor" : "");
	return 0;
}
