/* tests/agents/broken-crash-commit.c: the first CPU's agent fills every enclave CPU
 * in group commits, round after round; after 30 of them the second CPU's agent
 * dereferences a null pointer, while the first is mid-round (filling slots, in
 * the commit call, or waiting for the next).  Expected: the task dies of a page fault, the enclave with it
 * (GHOST_END_AGENT_FAULT, vector 14); its threads finish natively. */
#include "tests/agents/broken.h"

static uint64_t rounds;		/* atomic */
static int *volatile null;

static void committer(struct ghost_agent *a, int cpu, void *arg)
{
	struct ga_table *tab = ga_table_create(a);
	struct ga_fifo rq = { 0 };
	struct ghost_msg m;
	if (!tab)
		wrong("out of memory", 0);
	for (;;) {
		uint32_t aseq[GHOST_MAX_CPUS];
		struct ga_thread *sent[GHOST_MAX_CPUS];
		uint64_t mask = 0;
		ga_for_each_cpu(c, a)
			aseq[c] = ga_aseq(a, c);
		while (ga_pop(a->default_queue, &m)) {
			struct ga_thread *t = ga_track_msg(tab, &m);
			if (t && !t->on_cpu && ga_thread_waiting(t) && !t->fifo)
				ga_fifo_push_tail(&rq, t);
		}
		ga_for_each_cpu(c, a) {
			struct ga_thread *t = ga_fifo_pop(&rq);
			if (!t)
				break;
			ga_txn_set(a, c, t->tid, t->tseq, aseq[c], 0);
			sent[c] = t;
			mask |= 1ull << c;
		}
		if (mask && ga_commit(a, mask, 0) > 0)
			__atomic_add_fetch(&rounds, 1, __ATOMIC_RELAXED);
		for (int c = 0; c < GHOST_MAX_CPUS; c++)
			if ((mask >> c & 1) && ga_txn_state(a, c) != GHOST_TXN_COMPLETE)
				ga_fifo_push_tail(&rq, sent[c]);	/* try again */
		ga_wait(200000);	/* what it sent to this CPU runs meanwhile */
	}
}

static void crasher(struct ghost_agent *a, int cpu, void *arg)
{
	uint64_t end = wisp_clock_ns() + 10000000000ull;	/* never hang a test */
	while (__atomic_load_n(&rounds, __ATOMIC_RELAXED) < 30 && wisp_clock_ns() < end)
		wisp_sleep_ns(100000);	/* off the CPU: its ghost threads run */
	*null = 1;		/* dies here, mid-round of the other */
}

static void agents(struct ghost_agent *a, int cpu, void *arg)
{
	int first = ga_cpu_next(a, -1);
	if (cpu == first)
		committer(a, cpu, arg);
	else if (cpu == ga_cpu_next(a, first))
		crasher(a, cpu, arg);
	else
		idle_agent(a, cpu, arg);
}

int main(int argc, char **argv)
{
	prog = "broken-crash-commit";
	int err = ga_attach(&agent, argc > 1 ? atoi(argv[1]) : 0, GHOST_MODE_PERCPU);
	if (err < 0)
		wrong("GHOST_ATTACH", err);
	if (agent.ncpus < 2)
		wrong("the enclave needs two CPUs, it has", agent.ncpus);
	if (ga_start_agents(&agent, agents, NULL))
		return 1;
	ga_join_agents(&agent);
	return 1;		/* never: the crash ends the task */
}
