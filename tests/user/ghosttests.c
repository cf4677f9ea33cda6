/* tests/user/ghosttests.c: the ghOSt ABI from user space, as an agent sees it.
 * `ghosttests` runs every case in a task of its own (`ghosttests CASE`), like
 * usertests; the kernel's test=ghost runs it with a leak check around the run.
 *
 * A case is its own control program and agent: it creates an enclave over CPUs 1-3,
 * attaches to it, and runs its body on an agent thread of CPU 1.  The threads it
 * schedules are children spawned into the enclave (`ghosttests child SCRIPT`), so
 * they never run as native threads; a script letter is one action:
 *   y yield   s sleep 1 ms   a set affinity (CPUs 1-3)   p spin 30 ms   P spin 300 ms
 *   3 pin itself to CPU 3 (and fail unless it then runs there)
 * and the child exits at the end of its script.  `ghosttests pinned N` is a workload
 * for the reference agents: N threads that pin themselves to pairs of the enclave's
 * CPUs in turn.  Needs 4 CPUs. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kernel/uapi/errno.h>
#include <kernel/uapi/ghost.h>
#include <kernel/uapi/syscall.h>
#include <wisp.h>

#include "tests/user/runner.h"
#include "tests/user/agentkit.h"

#define ENCLAVE_CPUS	0xeull		/* CPUs 1, 2, 3 */
#define AGENT_CPU	1

static long child(const char *script)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "ghosttests child %s", script);
	return wisp_spawn_enclave(cmd, 0, eid);
}

/* The CREATED message of a new child: its tid. */
static uint64_t created(void)
{
	struct ghost_msg m;
	if (!next(at.default_queue, &m, false) || m.type != GHOST_MSG_THREAD_CREATED || m.tseq != 1)
		return 0;
	return m.tid;
}

static uint64_t ghost_pending_count(struct ghost_queue *q)
{
	return __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) - q->tail;
}

/* The next message about tid (others' are skipped) must be type with tseq. */
static int expect(struct ghost_queue *q, uint64_t tid, int type, uint32_t tseq)
{
	struct ghost_msg m;
	bool got;
	while ((got = next(q, &m, false)) && m.tid != tid)
		;
	if (!got) {
		printf("    no message (wanted type %d tseq %u)\n", type, tseq);
		return 1;
	}
	if (m.tid != tid || m.type != type || m.tseq != tseq) {
		printf("    got type %d tid %#llx tseq %u, wanted type %d tseq %u\n", m.type,
		       (unsigned long long)m.tid, m.tseq, type, tseq);
		return 1;
	}
	return 0;
}

/* Cases: each runs on the agent thread of CPU 1. */
static int c_messages(void)
{
	long task = child("ysa");
	CHECK(task > 0);
	uint64_t tid = created();
	CHECK(tid);
	struct ghost_thread_status s = status_of(tid);
	CHECK(s.tid == tid && s.tseq == 1 && (s.flags & GHOST_SW_RUNNABLE));
	CHECK(run_on(2, tid) == GHOST_TXN_COMPLETE);
	CHECK(!expect(at.default_queue, tid, GHOST_MSG_THREAD_YIELD, 2));
	CHECK(run_on(2, tid) == GHOST_TXN_COMPLETE);
	CHECK(!expect(at.default_queue, tid, GHOST_MSG_THREAD_BLOCKED, 3));
	CHECK(!(status_of(tid).flags & GHOST_SW_RUNNABLE) || status_of(tid).tseq > 3);
	CHECK(!expect(at.default_queue, tid, GHOST_MSG_THREAD_WAKEUP, 4));
	CHECK(run_on(3, tid) == GHOST_TXN_COMPLETE);
	CHECK(!expect(at.default_queue, tid, GHOST_MSG_THREAD_AFFINITY, 5));
	CHECK(!expect(at.default_queue, tid, GHOST_MSG_THREAD_DEAD, 6));
	s = status_of(tid);
	CHECK(s.tseq == 6 && (s.flags & GHOST_SW_DEAD) && s.cpu == 3 && s.runtime_ns > 0);
	int status = -5;
	long w = wisp_wait(task, &status);
	CHECK(w == task && status == 0);
	return 0;
}

static int c_preempt_native(void)
{
	long task = child("P");
	CHECK(task > 0);
	uint64_t tid = created();
	CHECK(tid && run_on(3, tid) == GHOST_TXN_COMPLETE);
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (!(status_of(tid).flags & GHOST_SW_ON_CPU) && wisp_clock_ns() < end)
		wisp_sleep_ns(100000);
	CHECK(status_of(tid).flags & GHOST_SW_ON_CPU);
	struct native_arg na = { 3, 0, 0 };
	wisp_thread_t nt;
	CHECK(native_start(&nt, &na) == 0);
	struct ghost_msg m;
	bool taken = false, preempted = false;
	while (!(taken && preempted) && next(at.default_queue, &m, true)) {
		taken |= m.type == GHOST_MSG_CPU_TAKEN && m.cpu == 3;
		preempted |= m.type == GHOST_MSG_THREAD_PREEMPTED && m.tid == tid && m.cpu == 3;
	}
	uint32_t busy = run_on(3, tid);
	if (!taken || !preempted || busy != GHOST_TXN_CPU_BUSY) {
		printf("    taken %d preempted %d, commit to CPU 3: %u; CPU 3 flags %#x current %#llx\n",
		       taken, preempted, busy, st->cpu[3].flags,
		       (unsigned long long)st->cpu[3].current_tid);
		native_stop(nt, &na);	/* it reads na, on this stack */
		return 1;
	}
	CHECK(native_stop(nt, &na) == 0);
	bool available = false;
	while (!available && next(at.default_queue, &m, true))
		available = m.type == GHOST_MSG_CPU_AVAILABLE && m.cpu == 3;
	CHECK(available);
	CHECK(run_on(3, tid) == GHOST_TXN_COMPLETE);	/* it resumes and finishes */
	bool dead = false;
	while (!dead && next(at.default_queue, &m, false)) {
		dead = m.type == GHOST_MSG_THREAD_DEAD && m.tid == tid;
		if (m.type == GHOST_MSG_THREAD_PREEMPTED && m.tid == tid)
			CHECK(run_on(3, tid) == GHOST_TXN_COMPLETE);
	}
	CHECK(dead);
	int status;
	CHECK(wisp_wait(task, &status) == task && status == 0);
	return 0;
}

static int c_timer_tick(void)
{
	CHECK(wisp_ghost(GHOST_SET_TICK, 5, 0, 0) == -EINVAL);
	CHECK(wisp_ghost(GHOST_SET_TICK, 1000000, 0, 0) == 0);
	long task = child("p");
	uint64_t tid = created();
	CHECK(task > 0 && tid && run_on(2, tid) == GHOST_TXN_COMPLETE);
	struct ghost_msg m;
	int ticks = 0;
	bool dead = false;
	while (!dead && next(at.default_queue, &m, true)) {
		ticks += m.type == GHOST_MSG_TIMER_TICK && m.tid == tid && m.cpu == 2;
		dead = m.type == GHOST_MSG_THREAD_DEAD;
	}
	CHECK(dead && ticks > 0);
	CHECK(wisp_ghost(GHOST_SET_TICK, 0, 0, 0) == 0);
	int status;
	CHECK(wisp_wait(task, &status) == task && status == 0);
	return 0;
}

static int c_associate_queue(void)
{
	struct ghost_queue *q = NULL;
	CHECK(wisp_ghost(GHOST_QUEUE_CREATE, 3, (long)&q, 0) == -EINVAL);
	long qid = wisp_ghost(GHOST_QUEUE_CREATE, 64, (long)&q, 0);
	CHECK(qid > 0 && q && q->magic == GHOST_QUEUE_MAGIC && q->nslots == 64 && q->id == qid);
	long task = child("y");
	CHECK(task > 0);
	/* Look at the CREATED message without reading it; CPU events before it (a
	 * native thread passing through an enclave CPU) are read and dropped. */
	struct ghost_queue *dq = at.default_queue;
	struct ghost_msg m = { 0 };
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (wisp_clock_ns() < end) {
		if (ghost_pending_count(dq) == 0) {
			wisp_sleep_ns(100000);
			continue;
		}
		m = dq->msgs[dq->tail & (dq->nslots - 1)];
		if (m.tid)
			break;
		pop(dq, &m);
	}
	uint64_t tid = m.tid;
	CHECK(m.type == GHOST_MSG_THREAD_CREATED && tid);
	/* CREATED is still unread in the default queue. */
	CHECK(wisp_ghost(GHOST_ASSOCIATE_QUEUE, (long)tid, qid, 0) == -EAGAIN);
	CHECK(wisp_ghost(GHOST_ASSOCIATE_QUEUE, (long)tid, 99, 0) == -ENOENT);
	CHECK(wisp_ghost(GHOST_QUEUE_DESTROY, 0, 0, 0) == -EBUSY);
	drain(at.default_queue);
	CHECK(wisp_ghost(GHOST_ASSOCIATE_QUEUE, (long)tid, qid, 0) == 0);
	CHECK(wisp_ghost(GHOST_QUEUE_DESTROY, qid, 0, 0) == -EBUSY);	/* a thread uses it */
	CHECK(run_on(2, tid) == GHOST_TXN_COMPLETE);
	CHECK(!expect(q, tid, GHOST_MSG_THREAD_YIELD, 2));
	CHECK(run_on(2, tid) == GHOST_TXN_COMPLETE);
	CHECK(!expect(q, tid, GHOST_MSG_THREAD_DEAD, 3));
	while (pop(dq, &m))	/* nothing about the thread went to the default queue */
		CHECK(m.tid == 0);
	int status;
	CHECK(wisp_wait(task, &status) == task && status == 0);
	CHECK(wisp_ghost(GHOST_QUEUE_DESTROY, qid, 0, 0) == 0);
	CHECK(wisp_ghost(GHOST_QUEUE_DESTROY, qid, 0, 0) == -ENOENT);
	return 0;
}

/* A failed transaction changes nothing: same Tseq, still runnable, not on a CPU,
 * and no message. */
static int unchanged(uint64_t tid, uint32_t tseq)
{
	wisp_sleep_ns(5000000);
	struct ghost_thread_status s = status_of(tid);
	CHECK(s.tseq == tseq && (s.flags & GHOST_SW_RUNNABLE) && !(s.flags & GHOST_SW_ON_CPU));
	return 0;
}

/* Wait until tid's Tseq reaches tseq (its status word). */
static int wait_tseq(uint64_t tid, uint32_t tseq)
{
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (status_of(tid).tseq < tseq && wisp_clock_ns() < end)
		wisp_sleep_ns(100000);
	CHECK(status_of(tid).tseq == tseq);
	return 0;
}

/* A thread of the case's own task that naps until told to stop. */
struct napper {
	volatile long tid;
	volatile int stop;
};

static void *napper_main(void *arg)
{
	struct napper *n = arg;
	n->tid = wisp_gettid();
	while (!n->stop)
		wisp_sleep_ns(1000000);
	return NULL;
}

/* The next message about tid, whatever it is (0 if none comes). */
static int next_about(uint64_t tid, struct ghost_msg *m)
{
	bool got;
	while ((got = next(at.default_queue, m, false)) && m->tid != tid)
		;
	return got ? 0 : 1;
}

/* Affinity: CREATED, AFFINITY and the status word carry it; a thread that pins
 * itself away from the CPU it runs on leaves it (AFFINITY, then PREEMPTED); a commit
 * to a CPU it may not use fails, GHOST_TXN_CPU_NOT_ALLOWED, and changes nothing; an
 * enclave's thread keeps at least one of its CPUs.  And GHOST_ENCLAVE_THREADS lists
 * the members. */
static int c_affinity(void)
{
	struct ghost_msg m = { 0 };
	long task = child("3y");
	CHECK(task > 0);
	while (next(at.default_queue, &m, false) && m.type != GHOST_MSG_THREAD_CREATED)
		;
	uint64_t tid = m.tid;
	CHECK(m.type == GHOST_MSG_THREAD_CREATED && tid && (m.arg & ENCLAVE_CPUS) == ENCLAVE_CPUS);
	CHECK(status_of(tid).affinity == m.arg);
	CHECK(run_on(2, tid) == GHOST_TXN_COMPLETE);
	CHECK(!next_about(tid, &m) && m.type == GHOST_MSG_THREAD_AFFINITY && m.tseq == 2 &&
	      m.arg == 1ull << 3);
	CHECK(!next_about(tid, &m) && m.type == GHOST_MSG_THREAD_PREEMPTED && m.tseq == 3 &&
	      m.cpu == 2);
	struct ghost_thread_status s = status_of(tid);
	CHECK(s.affinity == 1ull << 3 && s.tseq == 3);
	CHECK(run_on(2, tid) == GHOST_TXN_CPU_NOT_ALLOWED);
	CHECK(!unchanged(tid, 3));
	CHECK(run_on(3, tid) == GHOST_TXN_COMPLETE);
	CHECK(!expect(at.default_queue, tid, GHOST_MSG_THREAD_YIELD, 4));
	CHECK(run_on(3, tid) == GHOST_TXN_COMPLETE);
	CHECK(!expect(at.default_queue, tid, GHOST_MSG_THREAD_DEAD, 5));
	int status;
	CHECK(wisp_wait(task, &status) == task && status == 0);
	/* A thread that may use none of the enclave's CPUs cannot join it, and one
	 * that has joined cannot be pinned off them. */
	struct napper nap = { 0 };
	wisp_thread_t nt;
	CHECK(wisp_thread_create(&nt, napper_main, &nap) == 0);
	while (!nap.tid)
		wisp_yield();
	CHECK(wisp_set_affinity(nap.tid, 1) == 0);
	CHECK(wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, eid, nap.tid, 0) == -EINVAL);
	CHECK(wisp_set_affinity(nap.tid, 0x3) == 0);
	CHECK(wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, eid, nap.tid, 0) == 0);
	uint64_t tids[2] = { 0, 0 };	/* the enclave's threads: the napper alone */
	CHECK(wisp_ghost(GHOST_ENCLAVE_THREADS, eid, (long)tids, 2) == 1 && tids[0] == (uint64_t)nap.tid);
	CHECK(wisp_ghost(GHOST_ENCLAVE_THREADS, eid, 0, 0) == 1);
	CHECK(wisp_ghost(GHOST_ENCLAVE_THREADS, eid, (long)tids, -1) == -EINVAL);
	CHECK(wisp_ghost(GHOST_ENCLAVE_THREADS, eid, 16, 2) == -EFAULT);
	CHECK(wisp_set_affinity(nap.tid, 1) == EINVAL);
	CHECK(wisp_set_affinity(nap.tid, 0x5) == 0);	/* CPU 2 is the enclave's */
	CHECK(wisp_ghost(GHOST_ENCLAVE_REMOVE_THREAD, eid, nap.tid, 0) == 0);
	CHECK(wisp_set_affinity(nap.tid, 1) == 0);	/* native again: anything goes */
	nap.stop = 1;
	CHECK(wisp_thread_join(nt, NULL) == 0);
	return 0;
}

static void *commit_from_thread(void *arg)
{
	*(long *)arg = commit(1ull << 3, 0);
	return NULL;
}

static int c_txn_failures(void)
{
	long task = child("y");
	uint64_t tid = created();
	CHECK(task > 0 && tid);
	long blocked_task = child("P");	/* runs elsewhere later: not runnable then */
	uint64_t other = created();
	CHECK(blocked_task > 0 && other);

	txn(2, tid, 1, 0);
	ag->txn[2].aseq--;
	CHECK(commit(1ull << 2, 0) == 0 && ag->txn[2].state == GHOST_TXN_AGENT_STALE);
	CHECK(!unchanged(tid, 1));
	txn(2, tid, 7, 0);
	CHECK(commit(1ull << 2, 0) == 0 && ag->txn[2].state == GHOST_TXN_THREAD_STALE);
	txn(2, 12345, 1, 0);
	CHECK(commit(1ull << 2, 0) == 0 && ag->txn[2].state == GHOST_TXN_NOT_IN_ENCLAVE);
	txn(0, tid, 1, 0);
	CHECK(commit(1ull << 0, 0) == 0 && ag->txn[0].state == GHOST_TXN_CPU_NOT_IN_ENCLAVE);
	txn(2, tid, 1, 1u << 7);
	CHECK(commit(1ull << 2, 0) == 0 && ag->txn[2].state == GHOST_TXN_INVALID_FLAGS);
	txn(2, tid, 1, GHOST_TXN_IDLE);
	CHECK(commit(1ull << 2, 0) == 0 && ag->txn[2].state == GHOST_TXN_INVALID_FLAGS);
	ag->txn[2].state = GHOST_TXN_EMPTY;	/* not READY */
	CHECK(commit(1ull << 2, 0) == 0 && ag->txn[2].state == GHOST_TXN_INVALID_FLAGS);
	CHECK(commit(1ull << 2, 1u << 9) == -EINVAL);
	/* The agent's own CPU, and a CPU a native thread holds. */
	struct native_arg na = { 3, 0, 0 };
	wisp_thread_t nt;
	CHECK(native_start(&nt, &na) == 0);
	uint64_t end;
	txn(3, tid, 1, 0);
	CHECK(commit(1ull << 3, 0) == 0 && ag->txn[3].state == GHOST_TXN_CPU_BUSY);
	CHECK(native_stop(nt, &na) == 0);
	drain(at.default_queue);	/* CPU_TAKEN and CPU_AVAILABLE */
	CHECK(!unchanged(tid, 1));
	/* Not runnable: it runs elsewhere (latched already). */
	CHECK(run_on(2, other) == GHOST_TXN_COMPLETE);
	end = wisp_clock_ns() + WAIT_NS;
	while (!(status_of(other).flags & GHOST_SW_ON_CPU) && wisp_clock_ns() < end)
		wisp_sleep_ns(100000);
	txn(3, other, status_of(other).tseq, 0);
	CHECK(commit(1ull << 3, 0) == 0 && ag->txn[3].state == GHOST_TXN_NOT_RUNNABLE);
	/* Not permitted: a thread of the agent task that is not an agent. */
	txn(3, tid, 1, 0);
	long r = -1;
	wisp_thread_t pt;
	CHECK(wisp_thread_create(&pt, commit_from_thread, &r) == 0);
	CHECK(wisp_thread_join(pt, NULL) == 0);
	CHECK(r == 0 && ag->txn[3].state == GHOST_TXN_NOT_PERMITTED);
	CHECK(!unchanged(tid, 1));
	/* Finally it runs. */
	CHECK(run_on(3, tid) == GHOST_TXN_COMPLETE);
	CHECK(!expect(at.default_queue, tid, GHOST_MSG_THREAD_YIELD, 2));
	CHECK(run_on(3, tid) == GHOST_TXN_COMPLETE);
	CHECK(!expect(at.default_queue, tid, GHOST_MSG_THREAD_DEAD, 3));
	int status;
	CHECK(wisp_wait(task, &status) == task && status == 0);
	CHECK(wisp_wait(blocked_task, &status) == blocked_task && status == 0);
	return 0;
}

static int c_group_commits(void)
{
	long t1 = child("y"), t2 = child("y");
	uint64_t a = created(), b = created();
	CHECK(t1 > 0 && t2 > 0 && a && b);
	/* Sync: one stale Tseq, so neither runs. */
	txn(2, a, 1, 0);
	txn(3, b, 9, 0);
	CHECK(commit(0xc, GHOST_COMMIT_SYNC) == 0);
	CHECK(ag->txn[2].state == GHOST_TXN_ABORTED && ag->txn[3].state == GHOST_TXN_THREAD_STALE);
	CHECK(!unchanged(a, 1) && !unchanged(b, 1));
	/* The same two slots, both good: both run (group and sync agree). */
	txn(2, a, 1, 0);
	txn(3, b, 1, 0);
	CHECK(commit(0xc, GHOST_COMMIT_SYNC) == 2);
	CHECK(ag->txn[2].state == GHOST_TXN_COMPLETE && ag->txn[3].state == GHOST_TXN_COMPLETE);
	CHECK(!wait_tseq(a, 2) && !wait_tseq(b, 2));	/* both yielded */
	/* A plain group: the good one runs, the bad one fails alone. */
	txn(2, a, 2, 0);
	txn(3, a, 2, 0);	/* the same thread twice: the second finds it taken */
	CHECK(commit(0xc, 0) == 1);
	CHECK(ag->txn[2].state == GHOST_TXN_COMPLETE && ag->txn[3].state == GHOST_TXN_NOT_RUNNABLE);
	CHECK(!wait_tseq(a, 3) && (status_of(a).flags & GHOST_SW_DEAD));
	uint32_t r = run_on(2, b);
	if (r != GHOST_TXN_COMPLETE)
		printf("    state %u, b tseq %u flags %#x\n", r, status_of(b).tseq, status_of(b).flags);
	CHECK(r == GHOST_TXN_COMPLETE);
	CHECK(!wait_tseq(b, 3) && (status_of(b).flags & GHOST_SW_DEAD));
	int status;
	CHECK(wisp_wait(t1, &status) == t1 && status == 0);
	CHECK(wisp_wait(t2, &status) == t2 && status == 0);
	return 0;
}

/* Agent timers: one fires once, with its cookie, no earlier than its deadline, and
 * moves the CPU's Aseq; re-arming replaces, 0 cancels.  And a transaction preempts a
 * running ghost thread: committing another thread to its CPU. */
static int c_agent_timer(void)
{
	struct ghost_msg m = { 0 };
	CHECK(wisp_ghost(GHOST_TIMER_ARM, 0, 1, 0) == -EINVAL);	/* CPU 0: not ours */
	uint32_t before = aseq(2);
	uint64_t deadline = wisp_clock_ns() + 2000000;
	CHECK(wisp_ghost(GHOST_TIMER_ARM, 2, (long)(deadline + 1000000000), 5) == 0);
	CHECK(wisp_ghost(GHOST_TIMER_ARM, 2, (long)deadline, 77) == 0);	/* replaces */
	while (next(at.default_queue, &m, true) && native_passing(&m))
		;
	CHECK(m.type == GHOST_MSG_AGENT_TIMER && m.cpu == 2 && m.arg == 77 && m.time_ns >= deadline);
	CHECK(aseq(2) != before);
	CHECK(wisp_ghost(GHOST_TIMER_ARM, 3, (long)(wisp_clock_ns() + 3000000), 9) == 0);
	CHECK(wisp_ghost(GHOST_TIMER_ARM, 3, 0, 0) == 0);		/* cancelled */
	wisp_sleep_ns(10000000);
	while (pop(at.default_queue, &m))
		CHECK(native_passing(&m));
	/* Preemption by transaction: b replaces a spinning a on CPU 2. */
	long t1 = child("P"), t2 = child("P");
	uint64_t a = created(), b = created();
	CHECK(t1 > 0 && t2 > 0 && a && b);
	CHECK(run_on(2, a) == GHOST_TXN_COMPLETE);
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (!(status_of(a).flags & GHOST_SW_ON_CPU) && wisp_clock_ns() < end)
		wisp_sleep_ns(100000);
	CHECK(run_on(2, b) == GHOST_TXN_COMPLETE);
	CHECK(!expect(at.default_queue, a, GHOST_MSG_THREAD_PREEMPTED, 2));
	CHECK(run_on(3, a) == GHOST_TXN_COMPLETE);
	/* Both finish: run whichever waits, as long as they do. */
	int dead = 0;
	while (dead < 2 && next(at.default_queue, &m, false)) {
		if (m.type == GHOST_MSG_THREAD_DEAD)
			dead++;
		else if (m.type == GHOST_MSG_THREAD_PREEMPTED || m.type == GHOST_MSG_THREAD_YIELD)
			CHECK(run_on(3, m.tid) == GHOST_TXN_COMPLETE);
	}
	CHECK(dead == 2);
	int status;
	CHECK(wisp_wait(t1, &status) == t1 && status == 0);
	CHECK(wisp_wait(t2, &status) == t2 && status == 0);
	return 0;
}

/* A queue of 4 slots gets more messages than it holds: the kernel counts the
 * overflow, keeps what it had, and the status word tells the truth. */
static int c_overflow(void)
{
	struct ghost_queue *q = NULL;
	long qid = wisp_ghost(GHOST_QUEUE_CREATE, 4, (long)&q, 0);
	CHECK(qid > 0 && q);
	long task = child("aaaaaaaa");
	uint64_t tid = created();
	CHECK(task > 0 && tid);
	CHECK(wisp_ghost(GHOST_ASSOCIATE_QUEUE, (long)tid, qid, 0) == 0);
	CHECK(run_on(2, tid) == GHOST_TXN_COMPLETE);
	int status;
	CHECK(wisp_wait(task, &status) == task && status == 0);
	/* 8 AFFINITY and a DEAD: 4 kept, 5 counted as lost. */
	CHECK(q->overflow == 5 && ghost_pending_count(q) == 4);
	struct ghost_thread_status s = status_of(tid);
	CHECK(s.tseq == 10 && (s.flags & GHOST_SW_DEAD));
	CHECK(!expect(q, tid, GHOST_MSG_THREAD_AFFINITY, 2));
	drain(q);
	/* Recovered: the next thread's messages flow through the same queue. */
	task = child("y");
	tid = created();
	CHECK(task > 0 && tid && wisp_ghost(GHOST_ASSOCIATE_QUEUE, (long)tid, qid, 0) == 0);
	CHECK(run_on(2, tid) == GHOST_TXN_COMPLETE);
	CHECK(!expect(q, tid, GHOST_MSG_THREAD_YIELD, 2));
	CHECK(run_on(2, tid) == GHOST_TXN_COMPLETE);
	CHECK(!expect(q, tid, GHOST_MSG_THREAD_DEAD, 3));
	CHECK(q->overflow == 5);
	CHECK(wisp_wait(task, &status) == task && status == 0);
	CHECK(wisp_ghost(GHOST_QUEUE_DESTROY, qid, 0, 0) == 0);
	return 0;
}

static void hint(int cpu, uint64_t tid, uint32_t tseq)
{
	struct ghost_hint_ring *r = &ag->hints[cpu];
	r->hint[r->head % GHOST_HINTS] = (struct ghost_hint){ .tid = tid, .tseq = tseq };
	__atomic_store_n(&r->head, r->head + 1, __ATOMIC_RELEASE);
}

/* An idle CPU runs the agent's hint without a commit; a stale one is skipped. */
static int c_idle_hints(void)
{
	long task = child("y");
	uint64_t tid = created();
	CHECK(task > 0 && tid);
	struct ghost_hint_ring *r = &ag->hints[2];
	uint64_t used = r->used, stale = r->stale;
	hint(2, tid, 5);	/* stale */
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (r->stale == stale && wisp_clock_ns() < end)
		wisp_ghost(GHOST_PING, 2, 0, 0), wisp_sleep_ns(100000);
	CHECK(r->stale == stale + 1 && r->used == used);
	CHECK(!unchanged(tid, 1));
	hint(2, tid, 1);
	end = wisp_clock_ns() + WAIT_NS;
	while (r->used == used && wisp_clock_ns() < end)
		wisp_ghost(GHOST_PING, 2, 0, 0), wisp_sleep_ns(100000);
	CHECK(r->used == used + 1);
	CHECK(!expect(at.default_queue, tid, GHOST_MSG_THREAD_YIELD, 2));
	hint(3, tid, 2);
	wisp_ghost(GHOST_PING, 3, 0, 0);	/* the CPU looks at its hints */
	CHECK(!expect(at.default_queue, tid, GHOST_MSG_THREAD_DEAD, 3));
	int status;
	CHECK(wisp_wait(task, &status) == task && status == 0);
	return 0;
}

static int c_permissions(void)
{
	long task = wisp_spawn_caps("ghosttests nocaps", CAP_SPAWN);
	int status;
	CHECK(task > 0 && wisp_wait(task, &status) == task && status == 0);
	/* Bad arguments from an agent. */
	CHECK(wisp_ghost(GHOST_ATTACH, eid, GHOST_MODE_PERCPU, (long)&at) == -EBUSY);
	CHECK(wisp_ghost(GHOST_QUEUE_CREATE, 64, 16, 0) == -EFAULT);
	CHECK(wisp_ghost(GHOST_ENCLAVE_LIST, 4, 1, 0) == -EFAULT);
	CHECK(wisp_ghost(GHOST_ENCLAVE_CREATE, 0x2, 0, 0) == -EBUSY);
	CHECK(wisp_ghost(GHOST_ENCLAVE_CREATE, 0, 0, 0) == -EINVAL);
	CHECK(wisp_ghost(GHOST_AGENT_INIT, AGENT_CPU, 0, 0) == -EBUSY);
	CHECK(wisp_ghost(GHOST_AGENT_INIT, 0, 0, 0) == -EINVAL);
	CHECK(wisp_ghost(GHOST_PING, 0, 0, 0) == -EINVAL);
	CHECK(wisp_ghost(GHOST_CONFIG_QUEUE_WAKEUP, 0, 0, 0) == -EINVAL);
	CHECK(wisp_ghost(12345, 0, 0, 0) == -EINVAL);
	CHECK(wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, eid, 777, 0) == -ENOENT);
	CHECK(wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, eid, 0x10000, 0) == -EPERM);	/* main */
	struct ghost_enclave_info info[4];
	long n = wisp_ghost(GHOST_ENCLAVE_LIST, (long)info, 4, 0);
	CHECK(n >= 1);
	bool found = false;
	for (long i = 0; i < n && i < 4; i++)
		found |= info[i].id == (uint32_t)eid && info[i].cpus == ENCLAVE_CPUS &&
			 info[i].mode == GHOST_MODE_PERCPU;
	CHECK(found);
	/* The status area is read-only: writing it kills the task. */
	task = wisp_spawn("ghosttests writes_status");
	CHECK(task > 0 && wisp_wait(task, &status) == task && status == WAIT_FAULT_BASE + 14);
	return 0;
}

/* Without CAP_AGENT and CAP_ENCLAVE, every such call is EPERM. */
static int c_nocaps(void)
{
	struct ghost_attach a;
	CHECK(wisp_ghost(GHOST_ATTACH, eid ? eid : 1, GHOST_MODE_PERCPU, (long)&a) == -EPERM);
	CHECK(wisp_ghost(GHOST_ENCLAVE_CREATE, 0x2, 0, 0) == -EPERM);
	CHECK(wisp_ghost(GHOST_ENCLAVE_DESTROY, 1, 0, 0) == -EPERM);
	CHECK(wisp_ghost(GHOST_COMMIT, 0x2, 0, 0) == -EPERM);
	CHECK(wisp_ghost(GHOST_WAIT, 0, 0, 0) == -EPERM);
	CHECK(wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, 1, wisp_gettid(), 0) == -EPERM ||
	      wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, 1, wisp_gettid(), 0) == -ENOENT);
	CHECK(wisp_spawn_enclave("ghosttests child y", 0, 1) == -1);
	return 0;
}

/* An agent task writing its read-only status area. */
static int c_writes_status(void)
{
	int e = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, 0x1, 0, 0);
	if (e <= 0 || wisp_ghost(GHOST_ATTACH, e, GHOST_MODE_PERCPU, (long)&at) != 0)
		return 1;
	at.status->hdr.mode = 0;	/* a page fault */
	return 2;
}

/* While the agent and workload run: if the enclave still has threads after 100 s,
 * show the kernel's view of it, to debug a hang from the log. */
static void watch(long agent, long workload)
{
	for (int i = 0; i < 40; i++) {
		struct ghost_enclave_info info[4];
		long n = wisp_ghost(GHOST_ENCLAVE_LIST, (long)info, 4, 0);
		if (n < 1 || info[0].nthreads == 0)
			return;
		wisp_sleep_ns(5000000000ull);
		if (i >= 20)
			wisp_ghost(GHOST_ENCLAVE_DUMP, eid, 0, 0);
	}
}

/* An agent of agents/ runs workload (a program of threads + 1 threads, main
 * included) to its end, and both exit 0. */
static int run_agent(const char *agent, const char *workload, int threads)
{
	char cmd[96];
	int status;
	snprintf(cmd, sizeof(cmd), "%s %d %d", agent, eid, threads + 1);
	long a = wisp_spawn_caps(cmd, CAP_AGENT);
	long w = wisp_spawn_enclave(workload, 0, eid);
	CHECK(a > 0 && w > 0);
	watch(a, w);
	CHECK(wisp_wait(w, &status) == w && status == 0);
	CHECK(wisp_wait(a, &status) == a && status == 0);
	return 0;
}

/* The reference agents run a workload of 1000 threads of mixed behaviour to the end. */
static int c_fifo_percpu_1000(void)
{
	return run_agent("fifo-percpu", "workload 1000 32 7", 1000);
}

static int c_fifo_central_1000(void)
{
	return run_agent("fifo-central", "workload 1000 32 7", 1000);
}

/* `ghosttests pinned N`: N threads, each pinned in turn to 4 pairs of the enclave's
 * CPUs (a pair, so a global agent's CPU never leaves one with none), yielding,
 * sleeping and spinning there; after every step it looks where it runs.  Prints one
 * line; 0 only if every thread finished and none ever ran off its CPUs. */
static uint32_t pinned_off;	/* atomic: steps that found their thread elsewhere */

static void *pinned_thread(void *arg)
{
	static const uint64_t pairs[] = { 0x6, 0xa, 0xc };	/* {1,2} {1,3} {2,3} */
	uint64_t x = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;

	for (int round = 0; round < 4; round++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t mask = pairs[(x >> 33) % 3];
		if (wisp_set_affinity(0, mask))
			return (void *)1L;
		for (int step = 0; step < 4; step++) {
			if (!(mask >> wisp_getcpu() & 1))
				__atomic_add_fetch(&pinned_off, 1, __ATOMIC_RELAXED);
			uint64_t end = wisp_clock_ns() + 200000;
			switch (x >> (40 + 2 * step) & 3) {
			case 0:
				wisp_yield();
				break;
			case 1:
				wisp_sleep_ns(100000);
				break;
			default:
				while (wisp_clock_ns() < end)
					;
				break;
			}
		}
	}
	return NULL;
}

static int pinned_main(int n)
{
	wisp_thread_t t[64];
	int errors = 0;

	if (n < 1 || n > 64)
		return 2;
	for (int i = 0; i < n; i++)
		if (wisp_thread_create(&t[i], pinned_thread, (void *)(uintptr_t)(i + 1)))
			return 1;
	for (int i = 0; i < n; i++) {
		void *r;
		errors += wisp_thread_join(t[i], &r) != 0 || r != NULL;
	}
	printf("pinned: %d threads done, %d errors, %u steps off their CPUs\n", n, errors,
	       pinned_off);
	return errors || pinned_off;
}

/* An agent of agents/ runs `ghosttests pinned 32` to the end. */
static int run_pinned(const char *agent)
{
	return run_agent(agent, "ghosttests pinned 32", 32);
}

static int c_pinned_percpu(void)
{
	return run_pinned("fifo-percpu");
}

static int c_pinned_central(void)
{
	return run_pinned("fifo-central");
}

static int c_pinned_shinjuku(void)
{
	return run_pinned("shinjuku");
}

static int c_pinned_coresched(void)
{
	return run_pinned("coresched");
}

/* A native thread takes the global agent's CPU for a while: another agent takes
 * over, and the workload still completes. */
static int c_central_handoff(void)
{
	char cmd[96];
	int status;
	snprintf(cmd, sizeof(cmd), "fifo-central %d 201", eid);
	long a = wisp_spawn_caps(cmd, CAP_AGENT);
	long w = wisp_spawn_enclave("workload 200 16 3", 0, eid);
	CHECK(a > 0 && w > 0);
	/* Once the global agent runs, the native thread takes its CPU. */
	struct ghost_enclave_info info;
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (wisp_clock_ns() < end && (wisp_ghost(GHOST_ENCLAVE_LIST, (long)&info, 1, 0) < 1 ||
					 info.agents < 3))
		wisp_sleep_ns(1000000);
	CHECK(info.id == (uint32_t)eid && info.mode == GHOST_MODE_CENTRAL && info.agents == 3);
	uint32_t gen = info.global_gen;
	struct native_arg na = { (int)info.global_cpu, 0, 0 };
	wisp_thread_t nt;
	CHECK(native_start(&nt, &na) == 0);
	end = wisp_clock_ns() + WAIT_NS;
	while (wisp_ghost(GHOST_ENCLAVE_LIST, (long)&info, 1, 0) == 1 && info.global_gen == gen &&
	       wisp_clock_ns() < end)
		wisp_sleep_ns(1000000);
	CHECK(native_stop(nt, &na) == 0);
	CHECK(info.global_gen > gen);	/* another agent took over */
	watch(a, w);
	CHECK(wisp_wait(w, &status) == w && status == 0);
	CHECK(wisp_wait(a, &status) == a && status == 0);
	return 0;
}

/* An agent that schedules a little, then dies of a page fault mid-run: its enclave
 * goes, every thread of the workload finishes in the native class. */
static int c_agent_crash(void)
{
	char cmd[96];
	int status;
	snprintf(cmd, sizeof(cmd), "ghosttests crashing_agent %d", eid);
	long w = wisp_spawn_enclave("workload 300 16 9", 0, eid);
	long a = wisp_spawn_caps(cmd, CAP_AGENT);
	CHECK(a > 0 && w > 0);
	CHECK(wisp_wait(a, &status) == a && status == WAIT_FAULT_BASE + 14);
	CHECK(wisp_wait(w, &status) == w && status == 0);
	struct ghost_enclave_info info;
	CHECK(wisp_ghost(GHOST_ENCLAVE_LIST, (long)&info, 1, 0) == 0);	/* gone */
	return 0;
}

/* The agent c_agent_crash starts: a crude central FIFO for 100 decisions, then a
 * write through a null pointer. */
static int crashing_agent(int enclave)
{
	eid = enclave;
	if (wisp_ghost(GHOST_ATTACH, eid, GHOST_MODE_PERCPU, (long)&at))
		return 1;
	st = at.status;
	ag = at.agent;
	if (wisp_ghost(GHOST_AGENT_INIT, AGENT_CPU, 0, 0))
		return 1;
	int decisions = 0;
	while (decisions < 100) {
		struct ghost_msg m;
		if (!next(at.default_queue, &m, false))
			return 1;
		bool runnable = m.type == GHOST_MSG_THREAD_CREATED || m.type == GHOST_MSG_THREAD_WAKEUP ||
				m.type == GHOST_MSG_THREAD_YIELD || m.type == GHOST_MSG_THREAD_PREEMPTED;
		if (runnable && run_on(2 + decisions % 2, m.tid) == GHOST_TXN_COMPLETE)
			decisions++;
	}
	volatile int *null = (volatile int *)(uintptr_t)decisions;	/* 100: unmapped */
	__asm__ volatile("" : "+r"(null));
	*null = 1;	/* dies here */
	return 2;
}

/* An agent that attaches and then never schedules anything: the watchdog ejects it,
 * and the workload runs to its end in the native class. */
static int c_watchdog(void)
{
	char cmd[96];
	int status;
	CHECK(wisp_ghost(GHOST_ENCLAVE_WATCHDOG, eid, 1000, 0) == -EINVAL);
	CHECK(wisp_ghost(GHOST_ENCLAVE_WATCHDOG, eid, 200000000, 0) == 0);
	snprintf(cmd, sizeof(cmd), "ghosttests lazy_agent %d", eid);
	long a = wisp_spawn_caps(cmd, CAP_AGENT);
	long w = wisp_spawn_enclave("workload 100 8 4", 0, eid);
	CHECK(a > 0 && w > 0);
	CHECK(wisp_wait(w, &status) == w && status == 0);
	CHECK(wisp_wait(a, &status) == a && status == 0);	/* it saw its enclave go */
	struct ghost_enclave_info info;
	CHECK(wisp_ghost(GHOST_ENCLAVE_LIST, (long)&info, 1, 0) == 0);
	return 0;
}

static int lazy_agent(int enclave)
{
	if (wisp_ghost(GHOST_ATTACH, enclave, GHOST_MODE_PERCPU, (long)&at) ||
	    wisp_ghost(GHOST_AGENT_INIT, AGENT_CPU, 0, 0))
		return 1;
	while (wisp_ghost(GHOST_WAIT, 0, 0, 0) == 0)
		drain(at.default_queue);	/* reads everything, decides nothing */
	return at.status->hdr.mode == 0 ? 0 : 1;
}

/* Children. */
static int child_main(const char *script)
{
	for (; *script; script++) {
		uint64_t end;
		switch (*script) {
		case 'y':
			wisp_yield();
			break;
		case 's':
			wisp_sleep_ns(1000000);
			break;
		case 'a':
			if (wisp_set_affinity(0, ENCLAVE_CPUS))
				return 3;
			break;
		case '3':
			if (wisp_set_affinity(0, 1ull << 3) || wisp_getcpu() != 3)
				return 5;
			break;
		case 'p':
		case 'P':
			end = wisp_clock_ns() + (*script == 'p' ? 30000000 : 300000000);
			while (wisp_clock_ns() < end)
				;
			break;
		default:
			return 4;
		}
	}
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
	bool agent;		/* run as the agent of a fresh enclave; else as a program */
} cases[] = {
	{ "messages", c_messages, true },
	{ "preempt_native", c_preempt_native, true },
	{ "timer_tick", c_timer_tick, true },
	{ "associate_queue", c_associate_queue, true },
	{ "txn_failures", c_txn_failures, true },
	{ "group_commits", c_group_commits, true },
	{ "agent_timer", c_agent_timer, true },
	{ "overflow", c_overflow, true },
	{ "affinity", c_affinity, true },
	{ "idle_hints", c_idle_hints, true },
	{ "permissions", c_permissions, true },
	{ "fifo_percpu_1000", c_fifo_percpu_1000, false },
	{ "fifo_central_1000", c_fifo_central_1000, false },
	{ "central_handoff", c_central_handoff, false },
	{ "pinned_percpu", c_pinned_percpu, false },
	{ "pinned_central", c_pinned_central, false },
	{ "pinned_shinjuku", c_pinned_shinjuku, false },
	{ "pinned_coresched", c_pinned_coresched, false },
	{ "agent_crash", c_agent_crash, false },
	{ "watchdog", c_watchdog, false },
};

static const struct {
	const char *name;
	int (*fn)(void);
} helpers[] = {
	{ "nocaps", c_nocaps },
	{ "writes_status", c_writes_status },
};

/* A case in a task of its own: a fresh enclave, with this task as its agent (or, for
 * the cases that start agents of their own, as its control program only). */
static int run_case(int i)
{
	wisp_set_affinity(0, 1);	/* the control thread keeps off the enclave */
	eid = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, ENCLAVE_CPUS, 0, 0);
	CHECK(eid > 0);
	if (!cases[i].agent)
		return cases[i].fn();
	return agentkit_run(ENCLAVE_CPUS, AGENT_CPU, cases[i].fn);
}

int main(int argc, char **argv)
{
	int n = (int)(sizeof(cases) / sizeof(cases[0]));

	if (argc > 2 && !strcmp(argv[1], "child"))
		return child_main(argv[2]);
	if (argc > 2 && !strcmp(argv[1], "pinned"))
		return pinned_main(atoi(argv[2]));
	if (argc > 2 && !strcmp(argv[1], "crashing_agent"))
		return crashing_agent(atoi(argv[2]));
	if (argc > 2 && !strcmp(argv[1], "lazy_agent"))
		return lazy_agent(atoi(argv[2]));
	if (argc > 1) {
		for (int i = 0; i < n; i++)
			if (!strcmp(argv[1], cases[i].name))
				return run_case(i);
		for (unsigned i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
			if (!strcmp(argv[1], helpers[i].name))
				return helpers[i].fn();
		printf("ghosttests: no case named %s\n", argv[1]);
		return 2;
	}
	return run_cases("ghosttests", "ghost", cases, NULL);
}
