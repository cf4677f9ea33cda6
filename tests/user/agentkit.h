/* tests/user/agentkit.h: what the user test programs that act as an agent themselves
 * share (tests/user/ghosttests.c, tests/user/coretests.c): the enclave they attached
 * to, reading messages and status words, filling and committing transactions, and a
 * native thread that spins on one CPU until told to stop.  One agent per program, so
 * the state is global. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <kernel/uapi/ghost.h>
#include <wisp.h>

#include "tests/user/runner.h"

#define WAIT_NS		20000000000ull	/* bound on any wait: a hang fails, never blocks */

static int eid;
static struct ghost_attach at;
static volatile struct ghost_status_area *st;
static struct ghost_agent_area *ag;

/* Messages. */
static inline bool pop(struct ghost_queue *q, struct ghost_msg *m)
{
	uint64_t tail = q->tail;
	if (tail == __atomic_load_n(&q->head, __ATOMIC_ACQUIRE))
		return false;
	*m = q->msgs[tail & (q->nslots - 1)];
	__atomic_store_n(&q->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

/* The next message about a thread (CPU events skipped unless cpu_events). */
static inline bool next(struct ghost_queue *q, struct ghost_msg *m, bool cpu_events)
{
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (wisp_clock_ns() < end) {
		if (!pop(q, m)) {
			wisp_sleep_ns(100000);
			continue;
		}
		if (cpu_events || m->tid)
			return true;
	}
	return false;
}

/* A CPU event any native thread passing through an enclave CPU causes (a kernel
 * thread, a task starting or ending): cases that wait for other messages skip it. */
static inline bool native_passing(const struct ghost_msg *m)
{
	return m->type == GHOST_MSG_CPU_TAKEN || m->type == GHOST_MSG_CPU_AVAILABLE;
}

static inline void drain(struct ghost_queue *q)
{
	struct ghost_msg m;
	while (pop(q, &m))
		;
}

static inline struct ghost_thread_status status_of(uint64_t tid)
{
	volatile struct ghost_thread_status *w = &st->thread[GHOST_THREAD_INDEX(tid)];
	struct ghost_thread_status s;
	uint32_t seq;
	do {
		while ((seq = __atomic_load_n(&w->seq, __ATOMIC_ACQUIRE)) & 1)
			;
		s = *(struct ghost_thread_status *)w;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (__atomic_load_n(&w->seq, __ATOMIC_RELAXED) != seq);
	return s;
}

static inline uint32_t aseq(int cpu)
{
	return __atomic_load_n(&st->cpu[cpu].aseq, __ATOMIC_ACQUIRE);
}

static inline void txn(int cpu, uint64_t tid, uint32_t tseq, uint32_t flags)
{
	struct ghost_txn *t = &ag->txn[cpu];
	t->tid = tid;
	t->tseq = tseq;
	t->aseq = aseq(cpu);
	t->flags = flags;
	__atomic_store_n(&t->state, GHOST_TXN_READY, __ATOMIC_RELEASE);
}

static inline long commit(uint64_t cpus, unsigned flags)
{
	return wisp_ghost(GHOST_COMMIT, (long)cpus, flags, 0);
}

/* Commit thread tid at its current Tseq to cpu: the transaction's final state. */
static inline uint32_t run_on(int cpu, uint64_t tid)
{
	txn(cpu, tid, status_of(tid).tseq, 0);
	commit(1ull << cpu, 0);
	return ag->txn[cpu].state;
}

/* A native thread pinned to one CPU, spinning until told to stop (or WAIT_NS
 * passes, so a failed case cannot hang the suite). A fixed spin time would race
 * the test: under a slow emulator it can end before the test has looked. */
struct native_arg {
	int cpu;
	volatile int stop;
	volatile int running;	/* set once it spins on cpu */
};

static inline void *native_spin(void *p)
{
	struct native_arg *a = p;
	wisp_set_affinity(0, 1ull << a->cpu);	/* returns on that CPU */
	a->running = 1;
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (!a->stop && wisp_clock_ns() < end)
		;
	return NULL;
}

/* Start a native spinner on a->cpu and return once it holds that CPU.  Messages
 * alone do not say so: any native thread passing through the CPU (a kernel thread,
 * a task ending) produces the same CPU_TAKEN and PREEMPTED. */
static inline int native_start(wisp_thread_t *t, struct native_arg *a)
{
	if (wisp_thread_create(t, native_spin, a))
		return -1;
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (!a->running && wisp_clock_ns() < end)
		wisp_sleep_ns(100000);
	return a->running ? 0 : -1;
}

static inline int native_stop(wisp_thread_t t, struct native_arg *a)
{
	a->stop = 1;
	return wisp_thread_join(t, NULL);
}

static int (*agentkit_body)(void);
static int agentkit_cpu;

static inline void *agentkit_thread(void *arg)
{
	if (wisp_ghost(GHOST_AGENT_INIT, agentkit_cpu, 0, 0) != 0)
		return (void *)10L;
	return (void *)(long)agentkit_body();
}

/* Run body as the agent of enclave eid (made by the caller over cpus): attach in
 * per-CPU mode, no watchdog (cases hold runnable threads unscheduled on purpose, as
 * long as a slow emulator makes them), body on a thread that is agent_cpu's agent;
 * then destroy the enclave.  body's result, or 1 if the set-up failed. */
static inline int agentkit_run(uint64_t cpus, int agent_cpu, int (*body)(void))
{
	wisp_thread_t t;
	void *r;
	CHECK(wisp_ghost(GHOST_ATTACH, eid, GHOST_MODE_PERCPU, (long)&at) == 0);
	CHECK(wisp_ghost(GHOST_ENCLAVE_WATCHDOG, eid, 0, 0) == 0);
	st = at.status;
	ag = at.agent;
	CHECK(st->hdr.magic == GHOST_STATUS_MAGIC && st->hdr.version == GHOST_ABI_VERSION);
	CHECK(st->hdr.enclave_id == (uint32_t)eid && st->hdr.cpus == cpus);
	CHECK(at.default_queue->magic == GHOST_QUEUE_MAGIC);
	agentkit_body = body;
	agentkit_cpu = agent_cpu;
	CHECK(wisp_thread_create(&t, agentkit_thread, NULL) == 0);
	CHECK(wisp_thread_join(t, &r) == 0);
	CHECK(wisp_ghost(GHOST_ENCLAVE_DESTROY, eid, 0, 0) == 0);
	return (int)(long)r;
}
