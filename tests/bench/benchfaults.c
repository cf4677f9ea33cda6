/* tests/bench/benchfaults.c: bench=faults, what an agent's death and an agent
 * upgrade cost the threads of its enclave.  One JSON object per line.
 *
 * The threads: SPINNERS threads of this program, each looping "note the time, spin
 * SPIN_NS, yield", moved into an enclave over CPUs 1-2 (this program stays on CPU
 * 0).  A FIFO agent without a time slice still round-robins them, since they yield.
 *
 *	death_to_native_ns	the agent is killed (SYS_kill) at t0; the time until
 *				every spinner has run again after t0, natively
 *	upgrade_live_blackout_ns   GHOST_ENCLAVE_BLACKOUT over a live upgrade (a new
 *				agent `AGENT ID upgrade` takes over), per agent
 *	upgrade_live_ns		from starting the new agent until every spinner has
 *				run under it
 *	upgrade_recreate_blackout_ns  the same over the other path: destroy the enclave
 *				(spinners go native), make it again, start the agent,
 *				move the spinners back in
 *	upgrade_recreate_ns	from the destroy until every spinner has run again
 *				in the new enclave
 * Blackout is the kernel's measure (kernel/uapi/ghost.h, GHOST_ENCLAVE_BLACKOUT):
 * the longest a thread waited to run while one of the enclave's CPUs was free. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kernel/uapi/ghost.h>
#include <kernel/uapi/syscall.h>
#include <wisp.h>

#define CPUS		0x6ull		/* 1, 2 */
#define SPINNERS	8
#define SPIN_NS		50000
#define ROUNDS		7
#define WAIT_NS		20000000000ull

static volatile uint64_t seen[SPINNERS];	/* when each last ran */
static volatile long tids[SPINNERS];
static volatile int stop;

static void *spinner(void *arg)
{
	long i = (long)arg;
	wisp_set_affinity(0, ~0ull);
	tids[i] = wisp_gettid();
	while (!stop) {
		uint64_t t = wisp_clock_ns();
		seen[i] = t;
		while (wisp_clock_ns() - t < SPIN_NS)
			;
		wisp_yield();
	}
	return NULL;
}

/* Every spinner has run since t: the time that happened, 0 on timeout. */
static uint64_t all_ran_since(uint64_t t)
{
	uint64_t end = t + WAIT_NS;
	for (;;) {
		bool all = true;
		for (int i = 0; i < SPINNERS; i++)
			all &= seen[i] > t;
		uint64_t now = wisp_clock_ns();
		if (all)
			return now;
		if (now > end)
			return 0;
		wisp_sleep_ns(20000);
	}
}

static bool agents_up(int id)
{
	struct ghost_enclave_info info;
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (!wisp_enclave_info(id, &info) && info.agents < 2 && wisp_clock_ns() < end)
		wisp_sleep_ns(200000);
	return !wisp_enclave_info(id, &info) && info.agents >= 2;
}

/* An enclave over CPUS with agent `prog` (and extra args) and the spinners in it. */
static long start_agent(int id, const char *prog, const char *extra)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "%s %d%s%s", prog, id, extra ? " " : "", extra ? extra : "");
	return wisp_spawn_caps(cmd, CAP_AGENT);
}

static int enclave_with(const char *prog, long *agent)
{
	int id = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, (long)CPUS, 0, 0);
	if (id <= 0)
		return -1;
	*agent = start_agent(id, prog, NULL);
	if (*agent <= 0 || !agents_up(id))
		return -1;
	for (int i = 0; i < SPINNERS; i++)
		if (wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, id, tids[i], 0) != 0)
			return -1;
	return all_ran_since(wisp_clock_ns()) ? id : -1;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *metric, const char *agent, uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp);
	printf("{\"bench\":\"faults\",\"metric\":\"%s\",\"agent\":\"%s\",\"threads\":%d,"
	       "\"samples\":%d,\"median\":%llu,\"p99\":%llu,\"min\":%llu}\n", metric, agent,
	       SPINNERS, n, (unsigned long long)v[n / 2], (unsigned long long)v[n * 99 / 100],
	       (unsigned long long)v[0]);
}

static int fail(const char *what)
{
	printf("{\"bench\":\"faults\",\"error\":\"%s\"}\n", what);
	return 1;
}

static int bench_death(const char *prog)
{
	uint64_t v[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		long agent;
		int status;
		int id = enclave_with(prog, &agent);
		if (id < 0)
			return fail("cannot set up an enclave");
		uint64_t t0 = wisp_clock_ns();
		wisp_kill(agent);
		uint64_t t1 = all_ran_since(t0);
		if (!t1) {
			for (int i = 0; i < SPINNERS; i++)
				if (seen[i] <= t0)
					printf("bench: spinner %#lx has not run since the kill\n", tids[i]);
			return fail("the spinners did not come back");
		}
		if (wisp_wait(agent, &status) != agent)
			return fail("the agent was not reaped");
		v[r] = t1 - t0;
	}
	report("death_to_native_ns", prog, v, ROUNDS);
	return 0;
}

static int bench_upgrade(const char *prog, bool live)
{
	uint64_t blackout[ROUNDS], took[ROUNDS];
	long agent;
	int status;
	int id = enclave_with(prog, &agent);
	if (id < 0)
		return fail("cannot set up an enclave");
	for (int r = 0; r < ROUNDS; r++) {
		struct ghost_enclave_info before, now;
		uint64_t t0 = wisp_clock_ns();
		long next;
		if (live) {
			if (wisp_enclave_info(id, &before))
				return fail("the enclave went");
			wisp_ghost(GHOST_ENCLAVE_BLACKOUT, id, 1, 0);
			next = start_agent(id, prog, "upgrade");
			while (!wisp_enclave_info(id, &now) && now.upgrades == before.upgrades &&
			       wisp_clock_ns() - t0 < WAIT_NS)
				wisp_sleep_ns(20000);
			if (!agents_up(id) || now.natives != before.natives)
				return fail("the live upgrade did not take");
		} else {
			wisp_ghost(GHOST_ENCLAVE_DESTROY, id, 0, 0);
			id = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, (long)CPUS, 0, 0);
			next = id > 0 ? start_agent(id, prog, NULL) : -1;
			if (next <= 0 || !agents_up(id))
				return fail("the enclave could not be made again");
			wisp_ghost(GHOST_ENCLAVE_BLACKOUT, id, 1, 0);
			for (int i = 0; i < SPINNERS; i++)
				wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, id, tids[i], 0);
		}
		/* Every spinner has run under the new agent (or in the new enclave). */
		uint64_t t1 = all_ran_since(wisp_clock_ns());
		if (!t1 || wisp_wait(agent, &status) != agent)
			return fail("the spinners did not run after the upgrade");
		agent = next;
		took[r] = t1 - t0;
		blackout[r] = (uint64_t)wisp_ghost(GHOST_ENCLAVE_BLACKOUT, id, 0, 0);
	}
	report(live ? "upgrade_live_blackout_ns" : "upgrade_recreate_blackout_ns", prog,
	       blackout, ROUNDS);
	report(live ? "upgrade_live_ns" : "upgrade_recreate_ns", prog, took, ROUNDS);
	wisp_ghost(GHOST_ENCLAVE_DESTROY, id, 0, 0);
	return wisp_wait(agent, &status) == agent ? 0 : fail("the last agent did not end");
}

int main(void)
{
	wisp_thread_t t[SPINNERS];
	int err = 0;
	wisp_set_affinity(0, 1);
	for (long i = 0; i < SPINNERS; i++)
		if (wisp_thread_create(&t[i], spinner, (void *)i))
			return fail("cannot make the spinners");
	for (int i = 0; i < SPINNERS; i++)
		while (!tids[i])
			wisp_yield();
	const char *agents[] = { "fifo-percpu", "fifo-central" };
	for (int a = 0; a < 2 && !err; a++) {
		err = bench_death(agents[a]);
		err = err ? err : bench_upgrade(agents[a], true);
		err = err ? err : bench_upgrade(agents[a], false);
	}
	stop = 1;
	for (int i = 0; i < SPINNERS; i++)
		wisp_thread_join(t[i], NULL);
	return err;
}
