/* tests/agents/broken.h: what the broken agents share.  Each broken agent is a
 * small program, `broken-NAME ENCLAVE_ID [ARG]`, that attaches to an enclave over
 * two or more CPUs in per-CPU mode and misbehaves in one way; tests/user/faulttests.c
 * runs each against a live workload next to a healthy enclave.  An agent exits 0
 * when every kernel answer was the one the ABI promises (a rejection status, an
 * errno), and 1 after printing the first that was not.  One that keeps misbehaving
 * does so until the kernel ejects it (ga_enclave_alive turns false). */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/lib/ghostlib.h"

static struct ghost_agent agent;
static const char *prog = "broken";

static inline void wrong(const char *what, long got)
{
	fprintf(stderr, "%s: %s: got %ld\n", prog, what, got);
	exit(1);
}

/* The final state of cpu's transaction after committing (tid, tseq, aseq) there;
 * GHOST_TXN_EMPTY if the enclave has gone (ejected meanwhile). */
static inline uint32_t commit_one(int cpu, uint64_t tid, uint32_t tseq, uint32_t aseq)
{
	ga_txn_set(&agent, cpu, tid, tseq, aseq, 0);
	long n = ga_commit(&agent, 1ull << cpu, 0);
	if (n < 0 && !ga_enclave_alive(&agent))
		return GHOST_TXN_EMPTY;
	if (n < 0)
		wrong("GHOST_COMMIT failed", n);
	return ga_txn_state(&agent, cpu);
}

/* The next message about a runnable thread on the default queue, waiting up to
 * 10 ms; false if none came. */
static inline bool next_runnable(struct ghost_msg *m)
{
	uint64_t end = wisp_clock_ns() + 10000000;
	while (wisp_clock_ns() < end) {
		if (!ga_pop(agent.default_queue, m)) {
			wisp_sleep_ns(200000);
			continue;
		}
		if (m->tid && m->type != GHOST_MSG_THREAD_BLOCKED && m->type != GHOST_MSG_THREAD_DEAD)
			return true;
	}
	return false;
}

/* *m: the next message about a runnable thread, or, while none comes, the last one
 * again (a misbehaving agent keeps trying).  False until there has been one. */
static inline bool latest_runnable(struct ghost_msg *m, bool *have)
{
	struct ghost_msg n;
	if (next_runnable(&n)) {
		*m = n;
		*have = true;
	}
	return *have;
}

/* Agents on the other CPUs: they sleep until the enclave goes. */
static inline void idle_agent(struct ghost_agent *a, int cpu, void *arg)
{
	while (ga_enclave_alive(a) && ga_wait(10000000) == 0)
		;
}

static ga_agent_fn first_fn;

static inline void dispatch(struct ghost_agent *a, int cpu, void *arg)
{
	(cpu == ga_cpu_next(a, -1) ? first_fn : idle_agent)(a, cpu, arg);
}

/* Attach argv[1] in per-CPU mode and run first(cpu) on the first CPU's agent thread,
 * idle_agent on the others; the exit status once they have all returned. */
static inline int run_broken(int argc, char **argv, const char *name, ga_agent_fn first)
{
	prog = name;
	first_fn = first;
	int id = argc > 1 ? atoi(argv[1]) : 0;
	int err = ga_attach(&agent, id, GHOST_MODE_PERCPU);
	if (err < 0)
		wrong("GHOST_ATTACH", err);
	if (ga_start_agents(&agent, dispatch, argc > 2 ? argv[2] : NULL))
		return 1;
	ga_join_agents(&agent);
	return 0;
}
