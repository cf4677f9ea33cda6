/* tests/agents/broken-wrong-cpu.c: sends every thread it hears of to a CPU outside
 * its enclave (one another enclave or nobody owns, and one past the last CPU).
 * Expected: each commit ends GHOST_TXN_CPU_NOT_IN_ENCLAVE, then the watchdog ejects
 * it. */
#include "tests/agents/broken.h"

static void wrong_cpu(struct ghost_agent *a, int cpu, void *arg)
{
	int outside = 0;
	while (ga_cpu_in(a, outside))
		outside++;
	long rejected = 0;
	struct ghost_msg m;
	bool have = false;
	while (ga_enclave_alive(a)) {
		if (!latest_runnable(&m, &have))
			continue;
		int to = rejected & 1 ? GHOST_MAX_CPUS - 1 : outside;
		uint32_t st = commit_one(to, m.tid, m.tseq, ga_aseq(a, to));
		if (st != GHOST_TXN_CPU_NOT_IN_ENCLAVE && ga_enclave_alive(a))
			wrong("a commit to a CPU outside the enclave", st);
		rejected++;
	}
	if (rejected == 0)
		wrong("no thread to send anywhere", 0);
	printf("broken-wrong-cpu: %ld commits rejected: CPU_NOT_IN_ENCLAVE\n", rejected);
}

int main(int argc, char **argv)
{
	return run_broken(argc, argv, "broken-wrong-cpu", wrong_cpu);
}
