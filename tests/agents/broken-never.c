/* tests/agents/broken-never.c: attaches, reads its messages, never schedules
 * anything.  Expected: the watchdog ejects it (GHOST_END_WATCHDOG). */
#include "tests/agents/broken.h"

static void never(struct ghost_agent *a, int cpu, void *arg)
{
	struct ghost_msg m;
	while (ga_enclave_alive(a)) {
		while (ga_pop(a->default_queue, &m))
			;
		ga_wait(10000000);
	}
}

int main(int argc, char **argv)
{
	return run_broken(argc, argv, "broken-never", never);
}
