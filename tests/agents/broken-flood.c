/* tests/agents/broken-flood.c: thousands of invalid calls and bad pointers, in a
 * random order: unknown ops, bad flags and sizes, kernel and unmapped addresses,
 * queues and threads that do not exist, control ops without the capability,
 * garbage in every transaction slot and hint ring.  Expected: each fails with the
 * errno or transaction state the ABI names, nothing else happens, and the agent
 * then exits 0 (GHOST_END_AGENT_EXITED). */
#include <errno.h>

#include "tests/agents/broken.h"

#define KERNEL_ADDR	0xffff800000001000l
#define UNMAPPED_ADDR	0x00007f0000000000l
#define ROUNDS		300

static uint64_t rnd = 88172645463325252ull;

static uint64_t next_rnd(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return rnd;
}

static void expect(long got, long want, const char *what)
{
	if (got != want) {
		fprintf(stderr, "broken-flood: %s: got %ld, wanted %ld\n", what, got, want);
		exit(1);
	}
}

static long calls;

static void bad_call(int id, int cpu, int which)
{
	struct ghost_attach at;
	calls++;
	switch (which) {
	case 0: expect(wisp_ghost(999 + (int)(next_rnd() % 1000), 0, 0, 0), -EINVAL, "unknown op"); break;
	case 1: expect(wisp_ghost(GHOST_COMMIT, 1l << cpu, 1 << 9, 0), -EINVAL, "commit flags"); break;
	case 2: expect(wisp_ghost(GHOST_QUEUE_CREATE, 64, KERNEL_ADDR, 0), -EFAULT, "queue out ptr"); break;
	case 3: expect(wisp_ghost(GHOST_QUEUE_CREATE, 3, 0, 0), -EINVAL, "queue size"); break;
	case 4: expect(wisp_ghost(GHOST_ATTACH, id, GHOST_MODE_PERCPU, (long)&at), -EBUSY, "attach twice"); break;
	case 5: expect(wisp_ghost(GHOST_ATTACH, id, 77, UNMAPPED_ADDR), -EINVAL, "attach mode"); break;
	case 6: expect(wisp_ghost(GHOST_ENCLAVE_LIST, KERNEL_ADDR, 4, 0), -EFAULT, "list ptr"); break;
	case 7: expect(wisp_ghost(GHOST_ASSOCIATE_QUEUE, (long)((next_rnd() | 1) << 20 >> 1), 0, 0), -ENOENT, "associate tid"); break;
	case 8: expect(wisp_ghost(GHOST_ASSOCIATE_QUEUE, 1, 999, 0), -ENOENT, "associate queue"); break;
	case 9: expect(wisp_ghost(GHOST_CONFIG_QUEUE_WAKEUP, 0, 63, 0), -EINVAL, "wakeup cpu"); break;
	case 10: expect(wisp_ghost(GHOST_PING, 64 + (long)(next_rnd() % 1000), 0, 0), -EINVAL, "ping cpu"); break;
	case 11: expect(wisp_ghost(GHOST_WAIT, -1, 0, 0), -EINVAL, "wait timeout"); break;
	case 12: expect(wisp_ghost(GHOST_AGENT_INIT, cpu, 0, 0), -EBUSY, "agent init twice"); break;
	case 13: expect(wisp_ghost(GHOST_ENCLAVE_DESTROY, id, 0, 0), -EPERM, "destroy"); break;
	case 14: expect(wisp_ghost(GHOST_ENCLAVE_CREATE, 1, 0, 0), -EPERM, "create"); break;
	case 15: expect(wisp_ghost(GHOST_ENCLAVE_BLACKOUT, id, 1, 0), -EPERM, "blackout"); break;
	case 16: expect(wisp_ghost(GHOST_ENCLAVE_ADD_TASK, id, 999999, 0), -ENOENT, "add task"); break;
	case 17: expect(wisp_ghost(GHOST_ENCLAVE_FATE, id, KERNEL_ADDR, 0), -EBUSY, "fate alive"); break;
	case 18: expect(wisp_ghost(GHOST_SET_TICK, 5, 0, 0), -EINVAL, "tick"); break;
	case 19: expect(wisp_ghost(GHOST_SET_IDLE_POLL, 7, 0, 0), -EINVAL, "idle poll"); break;
	case 20: expect(wisp_ghost(GHOST_QUEUE_DESTROY, 0, 0, 0), -EBUSY, "destroy default queue"); break;
	case 21: expect(wisp_ghost(GHOST_QUEUE_DESTROY, 77, 0, 0), -ENOENT, "destroy queue"); break;
	case 22: expect(wisp_ghost(GHOST_ENCLAVE_WATCHDOG, id, 1000, 0), -EINVAL, "watchdog"); break;
	case 23: expect(wisp_kill(1), -1, "kill"); expect(errno, EPERM, "kill errno"); break;
	default: {
		/* Garbage in every slot, all 64 CPUs committed: nothing may complete. */
		for (int c = 0; c < GHOST_MAX_CPUS; c++) {
			uint64_t *w = (uint64_t *)&agent.agent->txn[c];
			for (unsigned i = 0; i < sizeof(struct ghost_txn) / 8; i++)
				w[i] = next_rnd();
			agent.agent->txn[c].tid |= 1ull << 40;	/* no such thread */
			uint64_t *h = (uint64_t *)&agent.agent->hints[c].hint[next_rnd() % GHOST_HINTS];
			h[0] = next_rnd() | 1ull << 40;
			h[1] = next_rnd();
		}
		__atomic_store_n(&agent.agent->hints[cpu].head, next_rnd(), __ATOMIC_RELEASE);
		expect(wisp_ghost(GHOST_COMMIT, -1l, 0, 0), 0, "garbage commit");
		for (int c = 0; c < GHOST_MAX_CPUS; c++)
			if (agent.agent->txn[c].state == GHOST_TXN_COMPLETE)
				expect(c, -1, "a garbage slot completed on CPU");
		break;
	}
	}
}

static void flood(struct ghost_agent *a, int cpu, void *arg)
{
	for (int i = 0; i < ROUNDS; i++)
		for (int k = 0; k < 25; k++)
			bad_call(a->enclave_id, cpu, (int)(next_rnd() % 25));
	printf("broken-flood: %ld bad calls, each refused as the ABI says\n", calls);
	exit(0);		/* the other CPUs' agents would wait for the enclave to go */
}

int main(int argc, char **argv)
{
	return run_broken(argc, argv, "broken-flood", flood);
}
