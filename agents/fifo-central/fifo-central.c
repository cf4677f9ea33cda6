/* agents/fifo-central/fifo-central.c: a centralized FIFO ghOSt agent.
 *
 * Policy: one FIFO of runnable threads for the whole enclave.  Whenever an enclave
 * CPU other than the global agent's own is free, the head of the FIFO runs there
 * until it blocks, yields or is preempted; if still runnable it goes to the tail.
 *
 * Mechanism: GHOST_MODE_CENTRAL.  Every enclave CPU has an agent thread; the one on
 * hdr.global_cpu is the global agent.  It polls the default queue (which wakes
 * nobody), keeps the thread table, the FIFO and which thread it put on each CPU
 * (learned back from BLOCKED, YIELD, PREEMPTED and DEAD, whose cpu says where), and
 * fills every free CPU in one group commit, with each CPU's Aseq read before the
 * queue was drained.  A CPU whose status word lacks GHOST_CPU_AVAILABLE belongs to a
 * native thread for now and is skipped.  The other agents sleep in GHOST_WAIT until
 * the kernel makes one of them global.  Commit outcomes: AGENT_STALE drains and
 * retries; THREAD_STALE drops the thread (its newer message brings it back), and so
 * does NOT_RUNNABLE unless its status word says it is merely still leaving a CPU;
 * CPU_BUSY puts it back at the head and retries shortly.
 *
 * The global agent's state is touched only in a step; ga_central_loop runs one step
 * at a time: an agent demoted while preempted mid-step finishes that step when it
 * runs again, and the new global agent waits for it, so the queue never has two
 * consumers.
 * Duplicate messages are dropped by Tseq (ga_track_msg).  The first global step
 * rebuilds the table from the status words, so threads already in the enclave (a
 * live upgrade) are picked up.
 *
 * Weaknesses: no time slice; the global agent's CPU runs no enclave thread (so an
 * enclave of one CPU runs nothing) and burns its time polling; a free CPU takes the
 * first thread its affinity allows, looking past the others, one by one; a
 * new global agent may wait on an old one that a native thread keeps off its CPU.
 *
 * Usage: fifo-central ENCLAVE_ID [upgrade] [[exit-when-empty] N]: with upgrade it
 * takes over from the agent in charge; with N it exits after N of the enclave's
 * threads have died, printing one line of totals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/lib/ghostlib.h"

#define RETRY_NS	20000	/* CPU_BUSY, or a thread still leaving a CPU: try again */

static struct ghost_agent agent;
static uint64_t per_cpu[GHOST_MAX_CPUS];	/* atomic: decisions per CPU */
static uint64_t decisions;	/* atomic */
static uint64_t retry_at;		/* atomic: step at this time without messages, 0: no */

/* The global agent's state: only a step touches it (ga_central_loop). */
static struct ga_table *tab;
static struct ga_fifo rq;
static uint64_t running[GHOST_MAX_CPUS];	/* tid sent there, 0: free */
static uint64_t overflow_seen;

static void retry(uint64_t delay_ns)
{
	uint64_t at = delay_ns ? wisp_clock_ns() + delay_ns : 1;
	uint64_t old = __atomic_load_n(&retry_at, __ATOMIC_RELAXED);

	if (!old || at < old)
		__atomic_store_n(&retry_at, at, __ATOMIC_RELAXED);
}

/* tid is off the CPU it was sent to (where names it, normally). */
static void release_cpu(uint64_t tid, int where)
{
	if (where >= 0 && where < GHOST_MAX_CPUS && running[where] == tid) {
		running[where] = 0;
		return;
	}
	ga_for_each_cpu(cpu, &agent)
		if (running[cpu] == tid)
			running[cpu] = 0;
}

static void handle(const struct ghost_msg *m)
{
	struct ga_thread *t = ga_track_msg(tab, m);

	if (!t)
		return;			/* stale, duplicate, or a CPU event */
	if (!t->on_cpu)
		release_cpu(t->tid, m->cpu);
	if (ga_thread_waiting(t) && !t->fifo)
		ga_fifo_push_tail(&rq, t);
}

static void resync_one(struct ga_thread *t, bool known, void *arg)
{
	if (t->on_cpu && ga_cpu_in(&agent, t->cpu))
		running[t->cpu] = t->tid;
	else if (ga_thread_waiting(t) && !t->fifo)
		ga_fifo_push_tail(&rq, t);
}

/* Messages were lost: who runs where, and who waits, from the status words. */
static void resync(void)
{
	memset(running, 0, sizeof(running));
	ga_resync(tab, resync_one, NULL);
}

/* The final state of the transaction that sent t to cpu. */
static void outcome(int cpu, struct ga_thread *t)
{
	static bool warned;
	uint32_t st = ga_txn_state(&agent, cpu);

	switch (st) {
	case GHOST_TXN_COMPLETE:
		running[cpu] = t->tid;
		t->on_cpu = true;
		t->cpu = cpu;
		__atomic_add_fetch(&decisions, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&per_cpu[cpu], 1, __ATOMIC_RELAXED);
		return;
	case GHOST_TXN_THREAD_STALE:	/* its newer message will bring it back */
	case GHOST_TXN_NOT_IN_ENCLAVE:	/* gone */
		return;
	case GHOST_TXN_NOT_RUNNABLE:
		if (!ga_runnable_now(&agent, t))
			return;		/* blocked or dead: its message is coming */
		retry(RETRY_NS);	/* still leaving a CPU */
		break;
	case GHOST_TXN_AGENT_STALE:	/* drain what moved the Aseq, then again */
		retry(0);
		break;
	case GHOST_TXN_CPU_BUSY:
	case GHOST_TXN_CORE_CONFLICT:	/* core-isolated: the sibling runs another domain */
	case GHOST_TXN_NOT_PERMITTED:	/* demoted: the next global agent will */
	case GHOST_TXN_CPU_NOT_ALLOWED:	/* not its CPU: one it may use will take it */
		retry(RETRY_NS);
		break;
	default:
		if (!warned)
			fprintf(stderr, "fifo-central: CPU %d: unexpected transaction state %s\n",
				cpu, ga_txn_state_name(st));
		warned = true;
		retry(RETRY_NS);
		break;
	}
	ga_fifo_push_head(&rq, t);
}

/* Give each free CPU the next thread, in one group commit. */
static void fill_cpus(int self, const uint32_t *aseq)
{
	struct ga_thread *sent[GHOST_MAX_CPUS];
	uint64_t mask = 0;
	long n;

	ga_for_each_cpu(cpu, &agent) {
		if (cpu == self || running[cpu] || !ga_cpu_available(&agent, cpu))
			continue;
		struct ga_thread *t = ga_fifo_pop_for(&rq, cpu);
		if (!t)
			continue;
		ga_txn_set(&agent, cpu, t->tid, t->tseq, aseq[cpu], 0);
		sent[cpu] = t;
		mask |= 1ull << cpu;
	}
	if (!mask)
		return;
	n = ga_commit(&agent, mask, 0);
	if (n < 0 && ga_enclave_alive(&agent))	/* else: destroyed, the policy ends */
		fprintf(stderr, "fifo-central: GHOST_COMMIT failed: %s\n", strerror((int)-n));
	/* Last CPU first: threads put back at the head keep their order. */
	for (int cpu = GHOST_MAX_CPUS - 1; cpu >= 0; cpu--)
		if (mask >> cpu & 1)
			outcome(cpu, sent[cpu]);
}

/* One round of the global agent; first: the task's first, which resyncs. */
static void global_step(int self, bool first)
{
	uint32_t aseq[GHOST_MAX_CPUS];
	uint64_t before = tab->deaths;
	uint64_t n = ga_pending(agent.default_queue);
	struct ghost_msg m;
	struct ga_thread *mine = ga_take_back(tab, &running[self]);

	if (mine)			/* sent here before this CPU became global */
		ga_fifo_push_head(&rq, mine);

	__atomic_store_n(&retry_at, 0, __ATOMIC_RELAXED);
	ga_for_each_cpu(cpu, &agent)
		aseq[cpu] = ga_aseq(&agent, cpu);	/* before reading what they cover */
	if (ga_overflowed(agent.default_queue, &overflow_seen) || first)
		resync();
	while (n-- && ga_pop(agent.default_queue, &m))	/* bounded: decide now and then */
		handle(&m);
	ga_count_deaths(&agent, self, tab->deaths - before);
	fill_cpus(self, aseq);
}

static bool work_waiting(int self)
{
	uint64_t at = __atomic_load_n(&retry_at, __ATOMIC_RELAXED);

	return ga_pending(agent.default_queue) || (at && wisp_clock_ns() >= at);
}

static void central_agent(struct ghost_agent *a, int self, void *arg)
{
	ga_central_loop(a, self, "fifo-central", work_waiting, global_step);
}

int main(int argc, char **argv)
{
	int id, flags, err;
	uint64_t exit_after;

	if (ga_parse_args(argc, argv, &id, &flags, &exit_after) < 0)
		return 2;
	err = ga_attach(&agent, id, GHOST_MODE_CENTRAL | flags);
	if (err < 0) {
		fprintf(stderr, "fifo-central: cannot attach to enclave %d: %s\n", id,
			strerror(-err));
		return 1;
	}
	agent.exit_after = exit_after;
	if (agent.ncpus < 2)
		fprintf(stderr, "fifo-central: enclave %d has one CPU, which the global agent "
			"takes: nothing will run (give it two or more)\n", id);
	tab = ga_table_create(&agent);
	if (!tab) {
		fprintf(stderr, "fifo-central: out of memory\n");
		return 1;
	}
	err = ga_start_agents(&agent, central_agent, NULL);
	if (err) {
		fprintf(stderr, "fifo-central: cannot start agent threads: %s\n", strerror(err));
		return 1;
	}
	ga_join_agents(&agent);
	/* Exit status 3: a CPU that could run threads never got one (the tests ask);
	 * the global agent's own CPU is the one spare. */
	return ga_print_totals(&agent, "fifo-central", decisions, per_cpu, 1);
}
