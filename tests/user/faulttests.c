/* tests/user/faulttests.c: test=faults, fault isolation.  Broken agents
 * (tests/agents/) run against a live workload while a healthy enclave runs its own
 * next door; live-upgrade corner cases; 100 enclave lifetimes.  The kernel adds the
 * leak check of the whole run (pages, threads, tasks, heap objects).
 *
 * CPUs: 0 for this program, enclave A over 1-2 (the agent under test), enclave B
 * over 3 (fifo-percpu with a workload and one thread of ours, the "victim", which
 * broken-other-enclave tries to steal).  4 CPUs at least. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kernel/uapi/ghost.h>
#include <kernel/uapi/syscall.h>
#include <wisp.h>

#include "tests/user/runner.h"

#define A_CPUS		0x6ull		/* CPUs 1, 2 */
#define B_CPUS		0x8ull		/* CPU 3 */
#define WAIT_NS		20000000000ull	/* bound on any wait: a hang fails, never blocks */
#define B_THREADS	40

/* Wait until enclave id has n agent threads; false if it went or time ran out. */
static bool agents_up(int id, uint32_t n)
{
	struct ghost_enclave_info info;
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (!wisp_enclave_info(id, &info) && info.agents < n && wisp_clock_ns() < end)
		wisp_sleep_ns(1000000);
	return !wisp_enclave_info(id, &info) && info.agents >= n;
}

/* Enclave B, the bystander: fifo-percpu, a workload, and our victim thread. */
static int b_id;
static long b_agent, b_work;
static volatile long victim_tid;
static volatile int victim_stop;
static wisp_thread_t victim;

static void *victim_main(void *arg)
{
	wisp_set_affinity(0, ~0ull);
	victim_tid = wisp_gettid();
	while (!victim_stop)
		wisp_sleep_ns(1000000);
	return NULL;
}

static int bystander_start(void)
{
	char cmd[64];
	b_id = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, (long)B_CPUS, 0, 0);
	CHECK(b_id > 0);
	snprintf(cmd, sizeof(cmd), "fifo-percpu %d %d", b_id, B_THREADS + 2);
	b_agent = wisp_spawn_caps(cmd, CAP_AGENT);
	CHECK(b_agent > 0 && agents_up(b_id, 1));
	snprintf(cmd, sizeof(cmd), "workload %d 8 11", B_THREADS);
	b_work = wisp_spawn_enclave(cmd, 0, b_id);
	CHECK(b_work > 0);
	victim_stop = 0;
	victim_tid = 0;
	CHECK(wisp_thread_create(&victim, victim_main, NULL) == 0);
	while (!victim_tid)
		wisp_yield();
	CHECK(wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, b_id, victim_tid, 0) == 0);
	return 0;
}

/* B saw nothing: same agent, no thread sent native, everything done. */
static int bystander_check_and_stop(void)
{
	struct ghost_enclave_info info;
	int status;
	CHECK(!wisp_enclave_info(b_id, &info) && info.agent_task == (uint32_t)b_agent && info.natives == 0);
	victim_stop = 1;
	CHECK(wisp_thread_join(victim, NULL) == 0);
	CHECK(wisp_wait(b_work, &status) == b_work && status == 0);
	/* Its agent stops after the last death, which ends B. */
	CHECK(wisp_wait(b_agent, &status) == b_agent && status == 0);
	struct ghost_enclave_end end;
	CHECK(wisp_ghost(GHOST_ENCLAVE_FATE, b_id, (long)&end, 0) == 0);
	CHECK(end.reason == GHOST_END_AGENT_EXITED && end.status == 0 && end.nthreads == 0);
	return 0;
}

/* Run broken agent prog on enclave A against a live workload (started natively,
 * moved into A once the agent is up, so its threads come in every state), next to
 * B: the agent ends with agent_status, A with (reason, end_status), every thread of
 * both completes. */
static int run_broken(const char *prog, int agent_status, int reason, int end_status)
{
	/* The watchdog is what ends the agents expected to end that way; the others
	 * (crash, exit, flood) run without it, since a loaded host can stretch what they
	 * do past any bound. */
	long watchdog = reason == GHOST_END_WATCHDOG ? 200000000 : 0;
	char cmd[96];
	int status;
	struct ghost_enclave_end end;
	CHECK(bystander_start() == 0);
	int a_id = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, (long)A_CPUS, 0, 0);
	CHECK(a_id > 0 && wisp_ghost(GHOST_ENCLAVE_WATCHDOG, a_id, watchdog, 0) == 0);
	long work = wisp_spawn("workload 60 8 5");
	snprintf(cmd, sizeof(cmd), "%s %d %ld", prog, a_id, victim_tid);
	long agent = wisp_spawn_caps(cmd, CAP_AGENT);
	CHECK(agent > 0 && work > 0 && agents_up(a_id, 2));
	CHECK(wisp_ghost(GHOST_ENCLAVE_ADD_TASK, a_id, work, 0) > 0);
	CHECK(wisp_wait(agent, &status) == agent);
	if (status != agent_status)
		printf("    %s: exit status %d, wanted %d\n", prog, status, agent_status);
	CHECK(status == agent_status);
	CHECK(wisp_wait(work, &status) == work && status == 0);
	CHECK(wisp_ghost(GHOST_ENCLAVE_FATE, a_id, (long)&end, 0) == 0);
	if (end.reason != (uint32_t)reason || end.status != end_status)
		printf("    enclave %d ended: reason %u status %d\n", a_id, end.reason, end.status);
	CHECK(end.reason == (uint32_t)reason && end.status == end_status);
	CHECK(end.agent_task == (uint32_t)agent);
	if (reason == GHOST_END_WATCHDOG)
		CHECK(end.tid != 0 && end.wait_ns > 200000000);
	return bystander_check_and_stop();
}

static int c_broken_never(void)
{
	return run_broken("broken-never", 0, GHOST_END_WATCHDOG, 0);
}

static int c_broken_spin(void)
{
	return run_broken("broken-spin", 0, GHOST_END_WATCHDOG, 0);
}

static int c_broken_wrong_cpu(void)
{
	return run_broken("broken-wrong-cpu", 0, GHOST_END_WATCHDOG, 0);
}

static int c_broken_other_enclave(void)
{
	return run_broken("broken-other-enclave", 0, GHOST_END_WATCHDOG, 0);
}

static int c_broken_stale(void)
{
	return run_broken("broken-stale", 0, GHOST_END_WATCHDOG, 0);
}

/* Also: an agent crash while the other enclave runs its workload to the end. */
static int c_broken_crash_commit(void)
{
	return run_broken("broken-crash-commit", WAIT_FAULT_BASE + 14, GHOST_END_AGENT_FAULT, 14);
}

static int c_broken_exit_busy(void)
{
	return run_broken("broken-exit-busy", 0, GHOST_END_AGENT_EXITED, 0);
}

static int c_broken_flood(void)
{
	return run_broken("broken-flood", 0, GHOST_END_AGENT_EXITED, 0);
}

/* Wait until task is enclave id's successor. */
static bool successor_is(int id, long task)
{
	struct ghost_enclave_info info;
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (!wisp_enclave_info(id, &info) && info.successor != (uint32_t)task && wisp_clock_ns() < end)
		wisp_sleep_ns(1000000);
	return !wisp_enclave_info(id, &info) && info.successor == (uint32_t)task;
}

/* Live upgrade corners, with an agent that never steps down: a successor's calls
 * wait (EAGAIN) until it is in charge; a second successor is refused; a successor
 * that ends first changes nothing; killing the old agent hands over; destroying the
 * enclave releases a waiting successor. */
static int c_upgrade_corners(void)
{
	char cmd[96];
	int status;
	struct ghost_enclave_info info;
	int id = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, (long)A_CPUS, 0, 0);
	CHECK(id > 0 && wisp_ghost(GHOST_ENCLAVE_WATCHDOG, id, 0, 0) == 0);
	snprintf(cmd, sizeof(cmd), "faulttests never_steps_down %d", id);
	long old = wisp_spawn_caps(cmd, CAP_AGENT);
	CHECK(old > 0 && agents_up(id, 1));
	snprintf(cmd, sizeof(cmd), "faulttests successor %d leave", id);
	long s1 = wisp_spawn_caps(cmd, CAP_AGENT);
	CHECK(s1 > 0 && wisp_wait(s1, &status) == s1 && status == 0);
	CHECK(!wisp_enclave_info(id, &info) && info.agent_task == (uint32_t)old && info.upgrades == 0);
	snprintf(cmd, sizeof(cmd), "faulttests successor %d take", id);
	long s2 = wisp_spawn_caps(cmd, CAP_AGENT);
	CHECK(s2 > 0 && successor_is(id, s2));
	snprintf(cmd, sizeof(cmd), "faulttests successor %d busy", id);
	long s3 = wisp_spawn_caps(cmd, CAP_AGENT);
	CHECK(s3 > 0 && wisp_wait(s3, &status) == s3 && status == 0);
	CHECK(wisp_kill(old) == 0);
	CHECK(wisp_wait(old, &status) == old && status == WAIT_KILLED);
	CHECK(wisp_wait(s2, &status) == s2 && status == 0);	/* it took over, then left */
	struct ghost_enclave_end e;
	CHECK(wisp_ghost(GHOST_ENCLAVE_FATE, id, (long)&e, 0) == 0);
	CHECK(e.reason == GHOST_END_AGENT_EXITED && e.agent_task == (uint32_t)s2);
	/* Destroyed under a waiting successor. */
	id = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, (long)A_CPUS, 0, 0);
	CHECK(id > 0 && wisp_ghost(GHOST_ENCLAVE_WATCHDOG, id, 0, 0) == 0);
	snprintf(cmd, sizeof(cmd), "faulttests never_steps_down %d", id);
	old = wisp_spawn_caps(cmd, CAP_AGENT);
	CHECK(old > 0 && agents_up(id, 1));
	snprintf(cmd, sizeof(cmd), "faulttests successor %d orphan", id);
	long s4 = wisp_spawn_caps(cmd, CAP_AGENT);
	CHECK(s4 > 0 && successor_is(id, s4));
	CHECK(wisp_ghost(GHOST_ENCLAVE_DESTROY, id, 0, 0) == 0);
	CHECK(wisp_wait(s4, &status) == s4 && status == 0);
	CHECK(wisp_wait(old, &status) == old && status == 0);
	CHECK(wisp_kill(old) == -1 && errno == ENOENT);		/* reaped: gone */
	return 0;
}

/* Helpers run as programs by c_upgrade_corners. */
static struct ghost_attach at;

/* An agent of the first enclave CPU that never schedules nor steps down. */
static int never_steps_down(int id)
{
	if (wisp_ghost(GHOST_ATTACH, id, GHOST_MODE_PERCPU, (long)&at) ||
	    wisp_ghost(GHOST_AGENT_INIT, __builtin_ctzll(at.status->hdr.cpus), 0, 0))
		return 1;
	while (wisp_ghost(GHOST_WAIT, 10000000, 0, 0) == 0)
		;
	return at.status->hdr.mode == 0 ? 0 : 1;
}

/* how: "leave" checks that its agent calls wait (EAGAIN) and ends before taking
 * over; "busy" expects EBUSY (another successor waits); "take" takes over when the
 * old agent goes and checks the header says so; "orphan" expects its enclave to be
 * destroyed while it waits. */
static int successor(int id, const char *how)
{
	long r = wisp_ghost(GHOST_ATTACH, id, GHOST_MODE_PERCPU | GHOST_ATTACH_UPGRADE, (long)&at);
	if (!strcmp(how, "busy"))
		return r == -EBUSY ? 0 : 1;
	if (r)
		return 10;
	volatile struct ghost_enclave_status *h = &at.status->hdr;
	int cpu = __builtin_ctzll(h->cpus);
	if (!strcmp(how, "leave")) {
		if (h->successor != (uint32_t)getpid())
			return 11;
		if (wisp_ghost(GHOST_QUEUE_CREATE, 64, 0, 0) != -EAGAIN ||
		    wisp_ghost(GHOST_COMMIT, 0, 0, 0) != -EAGAIN ||
		    wisp_ghost(GHOST_WAIT, 1, 0, 0) != -EAGAIN)
			return 12;
		return 0;
	}
	r = wisp_ghost(GHOST_AGENT_INIT, cpu, 0, 0);	/* waits */
	if (!strcmp(how, "orphan"))
		return r == -ENOENT ? 0 : 13;
	struct ghost_enclave_info info;
	if (r || h->agent_gen != 1 || h->successor != 0 || h->mode != GHOST_MODE_PERCPU ||
	    wisp_enclave_info(id, &info) || info.upgrades != 1 || info.agent_task != (uint32_t)getpid())
		return 14;
	return 0;
}

/* 100 lifetimes: create, an agent (per-CPU and central in turn), a workload, destroy.
 * The leak check of the run says every page, thread and task came back. */
static int c_cycles(void)
{
	char cmd[96];
	int status;
	for (int i = 0; i < 100; i++) {
		int id = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, (long)A_CPUS, 0, 0);
		CHECK(id > 0);
		snprintf(cmd, sizeof(cmd), "%s %d", i & 1 ? "fifo-central" : "fifo-percpu", id);
		long agent = wisp_spawn_caps(cmd, CAP_AGENT);
		snprintf(cmd, sizeof(cmd), "workload 20 4 %d", i);
		long work = wisp_spawn_enclave(cmd, 0, id);
		CHECK(agent > 0 && work > 0);
		CHECK(wisp_wait(work, &status) == work && status == 0);
		CHECK(wisp_ghost(GHOST_ENCLAVE_DESTROY, id, 0, 0) == 0);
		/* 3: a CPU got no thread, possible with 20 threads; not a failure here. */
		CHECK(wisp_wait(agent, &status) == agent && (status == 0 || status == 3));
	}
	CHECK(wisp_ghost(GHOST_ENCLAVE_LIST, 0, 0, 0) == 0);
	return 0;
}

static const struct test_case cases[] = {
	{ "broken_never", c_broken_never },
	{ "broken_spin", c_broken_spin },
	{ "broken_wrong_cpu", c_broken_wrong_cpu },
	{ "broken_other_enclave", c_broken_other_enclave },
	{ "broken_stale", c_broken_stale },
	{ "broken_crash_commit", c_broken_crash_commit },
	{ "broken_exit_busy", c_broken_exit_busy },
	{ "broken_flood", c_broken_flood },
	{ "upgrade_corners", c_upgrade_corners },
	{ "cycles_100", c_cycles },
};

/* A failed case may leave enclaves behind: the next one starts clean. */
static void clean_enclaves(void)
{
	struct ghost_enclave_info info[16];
	long left = wisp_ghost(GHOST_ENCLAVE_LIST, (long)info, 16, 0);
	for (long k = 0; k < left && k < 16; k++)
		wisp_ghost(GHOST_ENCLAVE_DESTROY, info[k].id, 0, 0);
}

int main(int argc, char **argv)
{
	int n = (int)(sizeof(cases) / sizeof(cases[0]));

	if (argc > 2 && !strcmp(argv[1], "never_steps_down"))
		return never_steps_down(atoi(argv[2]));
	if (argc > 3 && !strcmp(argv[1], "successor"))
		return successor(atoi(argv[2]), argv[3]);
	if (argc > 1) {
		for (int i = 0; i < n; i++)
			if (!strcmp(argv[1], cases[i].name)) {
				wisp_set_affinity(0, 1);	/* off the enclaves' CPUs */
				return cases[i].fn();
			}
		printf("faulttests: no case named %s\n", argv[1]);
		return 2;
	}
	return run_cases("faulttests", "faults", cases, clean_enclaves);
}
