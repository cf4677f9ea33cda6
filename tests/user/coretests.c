/* tests/user/coretests.c: core scheduling (kernel/coresched.h) from user space: the
 * commit-time check, the hold at switch time, the audit and the flush counters.  The
 * kernel's test=core runs it; tests/run boots that on --topology 1,2,2 and 2,2,2 with
 * coresched.audit=panic, so one violation on an isolated core ends the run.
 *
 * Like ghosttests, a case is its own control program and agent: an enclave over CPUs
 * 0-3 (two whole cores, {0,1} and {2,3}), this task its agent, the case body on the
 * agent thread of CPU 1.  The core under test is {2,3}.  The threads it schedules are
 * children spawned into the enclave (`coretests spin`, spinning until killed) with a
 * cookie they inherit from the agent thread, which sets its own around the spawn.
 * Needs 4 CPUs with 2 threads per core. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kernel/uapi/errno.h>
#include <kernel/uapi/ghost.h>
#include <wisp.h>

#include "tests/user/runner.h"
#include "tests/user/agentkit.h"

#define ENCLAVE_CPUS	0xfull		/* CPUs 0-3: cores {0,1} and {2,3} */
#define AGENT_CPU	1
#define CORE		0xcull		/* the core under test: CPUs 2 and 3 */

struct child {
	long task;
	uint64_t tid;
};

/* A spinning child in the enclave with cookie: 0, or -1. */
static int spawn(struct child *c, uint32_t cookie)
{
	struct ghost_msg m;
	if (wisp_set_cookie(0, cookie))
		return -1;
	c->task = wisp_spawn_enclave("coretests spin", 0, eid);
	if (wisp_set_cookie(0, 0) || c->task <= 0)
		return -1;
	while (next(at.default_queue, &m, false))
		if (m.type == GHOST_MSG_THREAD_CREATED) {
			c->tid = m.tid;
			return status_of(m.tid).cookie == cookie ? 0 : -1;
		}
	return -1;
}

static uint32_t put(int cpu, uint64_t tid);

/* Kill the children.  A ghost thread ends only where it runs: each is given a CPU of
 * the core until it is dead. */
static int end_children(struct child *c, int n)
{
	int status;
	for (int i = 0; i < n; i++)
		if (wisp_kill(c[i].task))
			return -1;
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	for (int i = 0; i < n; i++) {
		while (!(status_of(c[i].tid).flags & GHOST_SW_DEAD) && wisp_clock_ns() < end) {
			put(2 + i % 2, c[i].tid);
			wisp_sleep_ns(1000000);
		}
		if (wisp_wait(c[i].task, &status) != c[i].task)
			return -1;
	}
	return 0;
}

/* Commit cpus (their slots filled by fill) until the kernel has not moved on under
 * us: stale sequence numbers and a thread still leaving a CPU are retried.  The
 * final state of cpu's slot. */
static uint32_t commit_settled(uint64_t cpus, unsigned flags, const uint64_t *tids)
{
	for (int tries = 0; tries < 200; tries++) {
		for (int c = 0; c < 4; c++)
			if (cpus >> c & 1)
				txn(c, tids[c], tids[c] ? status_of(tids[c]).tseq : 0,
				    tids[c] ? 0 : GHOST_TXN_IDLE);
		commit(cpus, flags);
		uint32_t worst = GHOST_TXN_COMPLETE;
		for (int c = 0; c < 4; c++) {
			uint32_t s = cpus >> c & 1 ? ag->txn[c].state : GHOST_TXN_COMPLETE;
			if (s != GHOST_TXN_COMPLETE && s != GHOST_TXN_ABORTED)
				worst = s;
		}
		if (worst != GHOST_TXN_AGENT_STALE && worst != GHOST_TXN_THREAD_STALE &&
		    worst != GHOST_TXN_NOT_RUNNABLE)
			return worst;
		wisp_sleep_ns(200000);
	}
	return GHOST_TXN_NOT_RUNNABLE;
}

static uint32_t put(int cpu, uint64_t tid)
{
	uint64_t tids[4] = { 0 };
	tids[cpu] = tid;
	return commit_settled(1ull << cpu, 0, tids);
}

/* Both CPUs of the core in one sync group commit (tid 0: idle). */
static uint32_t put_core(uint64_t on2, uint64_t on3)
{
	uint64_t tids[4] = { 0, 0, on2, on3 };
	return commit_settled(CORE, GHOST_COMMIT_SYNC, tids);
}

static bool running_on(uint64_t tid, int cpu)
{
	struct ghost_thread_status s = status_of(tid);
	return (s.flags & GHOST_SW_ON_CPU) && s.cpu == (uint32_t)cpu;
}

static int wait_running(uint64_t tid, int cpu)
{
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (!running_on(tid, cpu) && wisp_clock_ns() < end)
		wisp_sleep_ns(200000);
	if (running_on(tid, cpu))
		return 0;
	printf("    thread %#llx not running on CPU %d\n", (unsigned long long)tid, cpu);
	return -1;
}

static struct ghost_core_stats stats(int cpu)
{
	struct ghost_core_stats s;
	if (wisp_core_stats(cpu, &s))
		memset(&s, 0xff, sizeof(s));
	return s;
}

static int isolate(int on)
{
	return (int)wisp_ghost(GHOST_ENCLAVE_CORE_ISOLATE, eid, on, 0);
}

/* Cases: each runs on the agent thread of CPU 1. */

/* Cookies are inherited, shown in the status word, fixed inside an enclave, and set
 * only with CAP_ENCLAVE. */
static int c_cookies(void)
{
	struct child a;
	CHECK(spawn(&a, 5) == 0);
	CHECK(wisp_set_cookie((long)a.tid, 6) == -1 && errno == EBUSY);
	CHECK(status_of(a.tid).cookie == 5);
	CHECK(wisp_ghost(GHOST_SET_COOKIE, 0, 1ll << 32, 0) == -EINVAL);
	CHECK(wisp_ghost(GHOST_SET_COOKIE, 0x7fff0001, 1, 0) == -ENOENT);
	CHECK(wisp_ghost(GHOST_CORE_STATS, 64, (long)&a, 0) == -EINVAL);
	CHECK(isolate(2) == -EINVAL);
	int status = -1;
	long task = wisp_spawn_caps("coretests nocaps", 0);
	CHECK(task > 0 && wisp_wait(task, &status) == task && status == 0);
	CHECK(end_children(&a, 1) == 0);
	return 0;
}

/* Only an enclave of whole cores can be isolated. */
static int c_whole_cores(void)
{
	CHECK(wisp_ghost(GHOST_ENCLAVE_DESTROY, eid, 0, 0) == 0);
	int half = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, 1ull << 3, 0, 0);
	CHECK(half > 0);
	CHECK(wisp_ghost(GHOST_ENCLAVE_CORE_ISOLATE, half, 1, 0) == -EINVAL);
	CHECK(wisp_ghost(GHOST_ENCLAVE_DESTROY, half, 0, 0) == 0);
	int whole = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, CORE, 0, 0);
	CHECK(whole > 0);
	CHECK(wisp_ghost(GHOST_ENCLAVE_CORE_ISOLATE, whole, 1, 0) == 0);
	CHECK(wisp_ghost(GHOST_ENCLAVE_CORE_ISOLATE, whole, 0, 0) == 0);
	CHECK(wisp_ghost(GHOST_ENCLAVE_DESTROY, whole, 0, 0) == 0);
	return 0;
}

/* The commit check: a sibling's domain, whether running, latched or in the same sync
 * group, decides; a sync group is judged as a whole and fails as a whole. */
static int c_conflict(void)
{
	struct child k[4];	/* A1, A2: cookie 1; B1, B2: cookie 2 */
	CHECK(isolate(1) == 0 && st->hdr.core_isolated == 1);
	CHECK(spawn(&k[0], 1) == 0 && spawn(&k[1], 1) == 0 && spawn(&k[2], 2) == 0 &&
	      spawn(&k[3], 2) == 0);
	uint64_t a1 = k[0].tid, a2 = k[1].tid, b1 = k[2].tid, b2 = k[3].tid;
	struct ghost_core_stats s0 = stats(-1);
	CHECK(put(3, a1) == GHOST_TXN_COMPLETE && wait_running(a1, 3) == 0);
	CHECK(put(2, b1) == GHOST_TXN_CORE_CONFLICT);		/* running next door */
	CHECK(put(2, a2) == GHOST_TXN_COMPLETE && wait_running(a2, 2) == 0);
	CHECK(put_core(b1, 0) == GHOST_TXN_COMPLETE);		/* the whole core moves */
	CHECK(wait_running(b1, 2) == 0);
	uint32_t mixed = put_core(a1, b2);	/* mixed: nothing runs */
	if (mixed != GHOST_TXN_CORE_CONFLICT)
		printf("    mixed sync group: CPU 2 %u, CPU 3 %u\n", ag->txn[2].state, ag->txn[3].state);
	CHECK(mixed == GHOST_TXN_CORE_CONFLICT);
	CHECK(ag->txn[2].state + ag->txn[3].state == GHOST_TXN_CORE_CONFLICT + GHOST_TXN_ABORTED);
	CHECK(running_on(b1, 2));
	/* A plain group, in CPU order: CPU 3 is judged against what CPU 2 was just
	 * given. */
	uint64_t tids[4] = { 0, 0, a1, a2 };
	CHECK(commit_settled(CORE, 0, tids) == GHOST_TXN_COMPLETE);
	CHECK(wait_running(a1, 2) == 0 && wait_running(a2, 3) == 0);
	struct ghost_core_stats s1 = stats(-1);
	CHECK(s1.violations == s0.violations);
	CHECK(s1.commit_conflicts - s0.commit_conflicts == 2);
	CHECK(end_children(k, 4) == 0);
	return 0;
}

/* The hold: sync group commits flip the core between three domains as fast as the
 * agent can commit, each committed before the last has run; the siblings never run
 * two domains at once (the boot panics at the first violation, and the counter is
 * checked too). */
static int c_sync_flips(void)
{
	struct child k[6];	/* domains 1, 2, 3: two threads each */
	CHECK(isolate(1) == 0);
	for (int i = 0; i < 6; i++)
		CHECK(spawn(&k[i], (uint32_t)(i / 2 + 1)) == 0);
	struct ghost_core_stats s0 = stats(-1);
	uint64_t rnd = 12345;
	int d = 0, done = 0;
	uint64_t last[4] = { 0 };	/* what the last committed flip runs */
	for (int round = 0; round < 150; round++) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		d = (d + 1 + (int)(rnd >> 62) % 2) % 3;	/* always another domain */
		int shape = (int)(rnd >> 40) % 3;	/* both, or one and an idle sibling */
		uint64_t x = shape == 2 ? 0 : k[2 * d].tid, y = shape == 1 ? 0 : k[2 * d + 1].tid;
		uint32_t r = put_core(x, y);
		if (r == GHOST_TXN_COMPLETE) {
			done++;
			last[2] = x;
			last[3] = y;
		} else if (r != GHOST_TXN_CORE_CONFLICT) {
			printf("    round %d: transaction state %u\n", round, r);
		}
		CHECK(r == GHOST_TXN_COMPLETE || r == GHOST_TXN_CORE_CONFLICT);
	}
	CHECK(!last[2] || wait_running(last[2], 2) == 0);
	CHECK(!last[3] || wait_running(last[3], 3) == 0);
	struct ghost_core_stats s1 = stats(-1);
	printf("    %d of 150 flips committed; held back %llu times, %llu domain changes\n",
	       done, (unsigned long long)(s1.held_back - s0.held_back),
	       (unsigned long long)(s1.domain_changes - s0.domain_changes));
	CHECK(done >= 100);
	CHECK(s1.violations == s0.violations);
	CHECK(s1.domain_changes > s0.domain_changes);
	CHECK(end_children(k, 6) == 0);
	return 0;
}

/* Flushes move exactly with the domain on a CPU: A1 -> A2 (same domain) none,
 * A2 -> B1 and B1 -> A1 one each, of the kind the CPU enumerates. */
static int c_flush_counts(void)
{
	struct child k[3];
	CHECK(isolate(1) == 0);
	CHECK(spawn(&k[0], 1) == 0 && spawn(&k[1], 1) == 0 && spawn(&k[2], 2) == 0);
	uint64_t a1 = k[0].tid, a2 = k[1].tid, b1 = k[2].tid;
	CHECK(put(3, a1) == GHOST_TXN_COMPLETE && wait_running(a1, 3) == 0);
	struct ghost_core_stats s0 = stats(3);
	CHECK(put(3, a2) == GHOST_TXN_COMPLETE && wait_running(a2, 3) == 0);
	struct ghost_core_stats s1 = stats(3);
	CHECK(s1.domain_changes == s0.domain_changes);
	CHECK(s1.flush_l1d_msr + s1.flush_l1d_soft == s0.flush_l1d_msr + s0.flush_l1d_soft);
	CHECK(put(3, b1) == GHOST_TXN_COMPLETE && wait_running(b1, 3) == 0);
	CHECK(put(3, a1) == GHOST_TXN_COMPLETE && wait_running(a1, 3) == 0);
	struct ghost_core_stats s2 = stats(3);
	bool msr = s2.features & GHOST_CORE_L1D_FLUSH, verw = s2.features & GHOST_CORE_MD_CLEAR;
	printf("    L1D flush %s, VERW %s; %llu ns flushing\n", msr ? "MSR" : "software",
	       verw ? "yes" : "no", (unsigned long long)(s2.flush_ns - s1.flush_ns));
	CHECK(s2.flush_mode == GHOST_FLUSH_AUTO);
	CHECK(s2.domain_changes - s1.domain_changes == 2);
	CHECK(s2.flush_l1d_msr - s1.flush_l1d_msr == (msr ? 2u : 0u));
	CHECK(s2.flush_l1d_soft - s1.flush_l1d_soft == (msr ? 0u : 2u));
	CHECK(s2.flush_verw - s1.flush_verw == (verw ? 2u : 0u));
	CHECK(end_children(k, 3) == 0);
	return 0;
}

/* Without isolation the audit sees two domains on one core, and records them. */
static int c_audit_sees(void)
{
	struct child k[2];
	CHECK(st->hdr.core_isolated == 0);
	CHECK(spawn(&k[0], 1) == 0 && spawn(&k[1], 2) == 0);
	struct ghost_core_stats s0 = stats(-1);
	CHECK(put(2, k[0].tid) == GHOST_TXN_COMPLETE && put(3, k[1].tid) == GHOST_TXN_COMPLETE);
	CHECK(wait_running(k[0].tid, 2) == 0 && wait_running(k[1].tid, 3) == 0);
	struct ghost_core_stats s1 = stats(-1);
	CHECK(s1.violations > s0.violations);
	CHECK(s1.last_cookie + s1.last_sibling_cookie == 3 && s1.last_cookie != s1.last_sibling_cookie);
	CHECK(s1.last_cpu + s1.last_sibling == 5 && s1.last_cpu != s1.last_sibling);
	CHECK(s1.last_tid == k[s1.last_cookie - 1].tid);
	CHECK(s1.last_sibling_tid == k[s1.last_sibling_cookie - 1].tid);
	CHECK(s1.held_back == s0.held_back);
	CHECK(end_children(k, 2) == 0);
	return 0;
}

/* A native thread of another domain on a sibling: the ghost thread next door is
 * preempted and its CPU takes only that domain (or nothing) until the native thread
 * is done. */
static int c_native_sibling(void)
{
	struct child k[2];	/* A1: cookie 1; B1: cookie 2 */
	CHECK(isolate(1) == 0);
	CHECK(spawn(&k[0], 1) == 0 && spawn(&k[1], 2) == 0);
	uint64_t a1 = k[0].tid, b1 = k[1].tid;
	CHECK(put(2, a1) == GHOST_TXN_COMPLETE && wait_running(a1, 2) == 0);
	struct ghost_core_stats s0 = stats(-1);
	struct native_arg na = { 3, 0, 0 };
	wisp_thread_t nt;
	CHECK(wisp_set_cookie(0, 2) == 0);
	int started = native_start(&nt, &na);	/* inherits cookie 2 */
	CHECK(wisp_set_cookie(0, 0) == 0);
	CHECK(started == 0);
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (running_on(a1, 2) && wisp_clock_ns() < end)
		wisp_sleep_ns(200000);
	bool preempted = !running_on(a1, 2);
	uint32_t mixed = put(2, a1), same = put(2, b1);
	bool b1_runs = same == GHOST_TXN_COMPLETE && wait_running(b1, 2) == 0;
	struct ghost_core_stats s1 = stats(-1);
	CHECK(native_stop(nt, &na) == 0);
	if (!preempted || mixed != GHOST_TXN_CORE_CONFLICT || !b1_runs)
		printf("    preempted %d, transaction states: mixed %u, same domain %u\n",
		       preempted, mixed, same);
	CHECK(preempted && mixed == GHOST_TXN_CORE_CONFLICT && b1_runs);
	CHECK(s1.violations == s0.violations && s1.held_back > s0.held_back);
	CHECK(put(2, a1) == GHOST_TXN_COMPLETE && wait_running(a1, 2) == 0);	/* free again */
	CHECK(end_children(k, 2) == 0);
	return 0;
}

/* Helpers run as tasks of their own. */
static int h_nocaps(void)
{
	return wisp_set_cookie(0, 1) == -1 && errno == EPERM ? 0 : 1;
}

static int h_spin(void)
{
	static volatile int forever = 1;
	while (forever)
		;
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
	bool agent;		/* run as the agent of a fresh enclave; else as a program */
} cases[] = {
	{ "cookies", c_cookies, true },
	{ "whole_cores", c_whole_cores, false },
	{ "conflict", c_conflict, true },
	{ "sync_flips", c_sync_flips, true },
	{ "flush_counts", c_flush_counts, true },
	{ "audit_sees", c_audit_sees, true },
	{ "native_sibling", c_native_sibling, true },
};

static const struct test_case helpers[] = {
	{ "nocaps", h_nocaps },
	{ "spin", h_spin },
};

/* A case in a task of its own: a fresh enclave, with this task as its agent (or, for
 * the cases that start agents of their own, as its control program only). */
static int run_case(int i)
{
	wisp_set_affinity(0, 1);	/* the control thread: CPU 0, native */
	eid = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, ENCLAVE_CPUS, 0, 0);
	CHECK(eid > 0);
	if (!cases[i].agent)
		return cases[i].fn();
	return agentkit_run(ENCLAVE_CPUS, AGENT_CPU, cases[i].fn);
}

int main(int argc, char **argv)
{
	int n = (int)(sizeof(cases) / sizeof(cases[0]));

	if (argc > 1) {
		for (int i = 0; i < n; i++)
			if (!strcmp(argv[1], cases[i].name))
				return run_case(i);
		for (unsigned i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
			if (!strcmp(argv[1], helpers[i].name))
				return helpers[i].fn();
		printf("coretests: no case named %s\n", argv[1]);
		return 2;
	}
	return run_cases("coretests", "core", cases, NULL);
}
