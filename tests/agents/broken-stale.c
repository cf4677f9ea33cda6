/* tests/agents/broken-stale.c: commits every thread it hears of with a stale
 * sequence number, forever: one Tseq behind, or one Aseq behind.  Expected: never
 * COMPLETE (THREAD_STALE and AGENT_STALE), then the watchdog ejects it. */
#include "tests/agents/broken.h"

static void stale(struct ghost_agent *a, int cpu, void *arg)
{
	long thread_stale = 0, agent_stale = 0;
	struct ghost_msg m;
	bool have = false;
	while (ga_enclave_alive(a)) {
		if (!latest_runnable(&m, &have))
			continue;
		bool old_aseq = (thread_stale + agent_stale) & 1;
		uint32_t aseq = ga_aseq(a, cpu) - old_aseq;
		uint32_t st = commit_one(cpu, m.tid, m.tseq - !old_aseq, aseq);
		if (st == GHOST_TXN_THREAD_STALE && !old_aseq)
			thread_stale++;
		else if (st == GHOST_TXN_AGENT_STALE)
			agent_stale++;
		else if (st != GHOST_TXN_CPU_BUSY && st != GHOST_TXN_NOT_IN_ENCLAVE &&
			 ga_enclave_alive(a))
			wrong("a commit with a stale sequence number", st);
	}
	if (!thread_stale || !agent_stale)
		wrong("THREAD_STALE and AGENT_STALE not both seen", thread_stale);
	printf("broken-stale: rejected %ld THREAD_STALE, %ld AGENT_STALE\n", thread_stale,
	       agent_stale);
}

int main(int argc, char **argv)
{
	return run_broken(argc, argv, "broken-stale", stale);
}
