/* tests/agents/broken-exit-busy.c: puts threads on the enclave's other CPUs and,
 * while one runs there, exits.  Expected: GHOST_END_AGENT_EXITED with status 0 and
 * threads in the enclave; the running ones go on natively, no thread lost. */
#include "tests/agents/broken.h"

/* Once thread tid runs (its status word says ON_CPU), exit at once; false if it has
 * not within a few ms. */
static bool exit_when_running(struct ghost_agent *a, uint64_t tid)
{
	struct ghost_thread_status sw;
	uint64_t end = wisp_clock_ns() + 5000000;
	while (wisp_clock_ns() < end)
		if (ga_thread_status(a, tid, &sw) && (sw.flags & GHOST_SW_ON_CPU))
			exit(0);	/* with tid on one of our CPUs */
	return false;
}

static void exit_busy(struct ghost_agent *a, int cpu, void *arg)
{
	uint64_t end = wisp_clock_ns() + 10000000000ull;
	long states[GHOST_TXN_ABORTED + 1] = { 0 };
	struct ghost_msg m;
	while (wisp_clock_ns() < end) {
		if (!next_runnable(&m))
			continue;
		ga_for_each_cpu(c, a) {
			if (c == cpu)
				continue;
			uint32_t st = commit_one(c, m.tid, m.tseq, ga_aseq(a, c));
			states[st <= GHOST_TXN_ABORTED ? st : 0]++;
			if (st == GHOST_TXN_COMPLETE && !exit_when_running(a, m.tid))
				break;
		}
	}
	for (int i = 0; i <= GHOST_TXN_ABORTED; i++)
		fprintf(stderr, "broken-exit-busy: %ld commits ended %s\n", states[i],
			ga_txn_state_name((uint32_t)i));
	wrong("no thread ever ran on another CPU", 0);
}

int main(int argc, char **argv)
{
	return run_broken(argc, argv, "broken-exit-busy", exit_busy);
}
