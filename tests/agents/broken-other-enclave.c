/* tests/agents/broken-other-enclave.c TID: runs thread TID, which belongs to another
 * enclave, on its own CPU, over and over.  Expected: GHOST_TXN_NOT_IN_ENCLAVE (or
 * AGENT_STALE when a message moved the Aseq first), never COMPLETE; then the
 * watchdog ejects it. */
#include "tests/agents/broken.h"

static void other(struct ghost_agent *a, int cpu, void *arg)
{
	uint64_t tid = arg ? strtoull(arg, NULL, 0) : 0;
	long rejected = 0;
	struct ghost_msg m;
	if (!tid)
		wrong("no thread id given", 0);
	while (ga_enclave_alive(a)) {
		while (ga_pop(a->default_queue, &m))
			;
		uint32_t st = commit_one(cpu, tid, 1 + (uint32_t)rejected % 8, ga_aseq(a, cpu));
		if (st == GHOST_TXN_NOT_IN_ENCLAVE)
			rejected++;
		else if (st != GHOST_TXN_AGENT_STALE && st != GHOST_TXN_CPU_BUSY &&
			 ga_enclave_alive(a))
			wrong("a commit of another enclave's thread", st);
		wisp_sleep_ns(500000);
	}
	if (rejected == 0)
		wrong("no commit was refused NOT_IN_ENCLAVE", 0);
	printf("broken-other-enclave: %ld commits rejected: NOT_IN_ENCLAVE\n", rejected);
}

int main(int argc, char **argv)
{
	return run_broken(argc, argv, "broken-other-enclave", other);
}
