/* tests/agents/broken-spin.c: every agent thread spins on its CPU (above the ghost
 * threads) and never commits.  Expected: the watchdog ejects it. */
#include "tests/agents/broken.h"

static void spin(struct ghost_agent *a, int cpu, void *arg)
{
	while (ga_enclave_alive(a))
		__builtin_ia32_pause();
}

int main(int argc, char **argv)
{
	prog = "broken-spin";
	int id = argc > 1 ? atoi(argv[1]) : 0;
	int err = ga_attach(&agent, id, GHOST_MODE_PERCPU);
	if (err < 0)
		wrong("GHOST_ATTACH", err);
	if (ga_start_agents(&agent, spin, NULL))
		return 1;
	ga_join_agents(&agent);
	return 0;
}
