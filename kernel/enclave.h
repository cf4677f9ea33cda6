/* kernel/enclave.h: enclaves, agents and the ghost scheduling class (kernel/enclave.c;
 * the system call layer is kernel/ghost_sys.c, the ABI kernel/uapi/ghost.h).
 *
 * An enclave owns a set of CPUs (a CPU belongs to at most one) and a set of threads.
 * Its threads are scheduled by the ghost class, which sits below native and above
 * idle: a runnable ghost thread is on no run queue at all; it runs only when a
 * transaction (kernel/ghost_txn.c) latches it onto one of the enclave's CPUs, and a
 * native thread on that CPU always comes first.  The enclave's agent threads run in
 * the agent class, between native and ghost: a native thread preempts an agent, an
 * agent preempts a ghost thread.
 *
 * Every event about a ghost thread moves its Tseq, updates its status word and posts
 * one message, all under the thread's lock, so messages about one thread are in
 * order.  Waking an agent is deferred to the end of the scheduler operation that
 * posted (ghost_flush_wakes), when no lock is held.
 *
 * Lock order: enclaves_lock, an enclave's lock, a thread's lock, a run queue lock,
 * an enclave's qlock, a queue's lock. */
#pragma once

#include <kernel/cpu.h>
#include <kernel/cpumask.h>
#include <kernel/list.h>
#include <kernel/spinlock.h>
#include <kernel/thread.h>
#include <kernel/timer.h>
#include <kernel/ghost_queue.h>
#include <kernel/uapi/ghost.h>

struct shm;
struct task;

/* A message queue, kernel side. */
struct gqueue {
	int id;
	struct spinlock lock;		/* the producer's: a leaf */
	struct ghost_producer prod;	/* [lock] */
	struct shm *shm;
	struct ghost_queue *q;		/* the shared ring (direct map) */
	uintptr_t uaddr;		/* where the agent task sees it, 0 if unmapped */
	int wake_cpu;			/* [qlock] whose agent a message wakes, -1 none */
	unsigned nthreads;		/* [enclave lock] threads whose messages come here */
};

/* One enclave CPU's agent. */
struct agent_slot {
	struct thread *t;		/* [enclave lock] the agent thread, NULL if none */
	struct waitq wq;		/* the agent sleeps here (GHOST_WAIT) */
	bool kick;			/* [wq.lock] a ping or handoff is pending */
	struct timer timeout;		/* ends a GHOST_WAIT with a timeout */
	struct timer agent_timer;	/* GHOST_TIMER_ARM */
	uint64_t timer_cookie;		/* [enclave lock] */
	struct enclave *e;		/* [b] whose slot this is */
	unsigned cpu;			/* [b] */
};

struct enclave {
	int id;
	int index;			/* [b] slot in the enclave table, for deferred wakes */
	int refs;			/* [enclaves_lock] the table's and lookups' */
	cpumask_t cpus;			/* [b] */
	struct spinlock lock;		/* before a thread's lock */
	struct list threads;		/* [lock] members, by enclave_link */
	unsigned nthreads;		/* [lock] */
	bool dying;			/* [lock] */
	struct list link;		/* [enclaves_lock] */

	struct spinlock qlock;		/* after run queue locks: queue table, wake CPUs */
	struct gqueue *queues[GHOST_MAX_QUEUES];	/* [lock and qlock to change] */
	struct gqueue *def;		/* [b] the default queue, queues[0] */
	struct shm *status_shm, *agent_shm;
	struct ghost_status_area *status;	/* read-only to the agent */
	struct ghost_agent_area *agent;		/* shared with the agent */

	struct task *agent_task;	/* [lock] attached agent, NULL if none */
	int mode;			/* [lock] GHOST_MODE_*, 0 before attach */
	struct task *successor;		/* [lock] live upgrade: attached, waiting to take
					 * over when agent_task ends; NULL if none */
	int successor_mode;		/* [lock] */
	struct waitq handover_wq;	/* the successor's GHOST_AGENT_INIT waits here */
	uint32_t upgrades;		/* [lock] times a successor took over */
	uint64_t blackout_ns;		/* [a] GHOST_ENCLAVE_BLACKOUT */
	uint64_t tick_ns;		/* TIMER_TICK period, 0: none */
	bool idle_poll;			/* idle CPUs poll instead of halting */
	bool core_isolated;		/* [lock; read anywhere] SMT siblings run one
					 * security domain at a time (kernel/coresched.h) */
	uint64_t watchdog_ns;		/* [lock] eject the agent after a runnable thread
					 * waited this long with a CPU free; 0: never */
	struct timer watchdog;		/* checks every watchdog_ns / 4 */
	const char *eject_reason;	/* [lock] set by the watchdog for the reaper */
	uint64_t eject_tid, eject_wait_ns;	/* [lock] the thread that waited, how long */
	uint64_t messages, commits;	/* [a] counters for GHOST_ENCLAVE_LIST */
	uint64_t natives;		/* [lock] threads sent back to native */
	struct agent_slot slots[MAX_CPUS];
};

extern const struct sched_class ghost_class;
extern const struct sched_class agent_class;

/* Create an enclave over cpus, which must be online and owned by no enclave.
 * NULL with *err = -EINVAL (empty or offline set), -EBUSY (a CPU is taken), -ENOMEM. */
struct enclave *enclave_create(const cpumask_t *cpus, int *err);
/* Every thread goes back to the native class with its state (runnable ones run
 * again, blocked ones stay blocked); agents become ordinary threads; the CPUs are
 * free again.  Interrupts on, no locks held. */
void enclave_destroy(struct enclave *e);
/* The same, recording why for GHOST_ENCLAVE_FATE (enum ghost_end_reason; status
 * per reason). */
void enclave_destroy_for(struct enclave *e, int reason, int status);
/* GHOST_ENCLAVE_FATE: 0, -EBUSY (alive), -ENOENT. */
int enclave_fate(int id, struct ghost_enclave_end *out);
/* Find an enclave by id and hold it (enclave_put), or NULL. */
struct enclave *enclave_get(int id);
void enclave_put(struct enclave *e);
/* Move t into e (THREAD_CREATED).  A thread never started becomes runnable in the
 * enclave; a running one leaves the native class at its next scheduling point.
 * -EBUSY if it is in an enclave already or e is dying, -EINVAL for an idle thread
 * or an agent. */
int enclave_add_thread(struct enclave *e, struct thread *t);
/* The thread leaves e for the native class, runnable state intact. */
int enclave_remove_thread(struct enclave *e, struct thread *t);
/* The enclave's member threads: their number, the first n tids in out. */
int enclave_threads(struct enclave *e, uint64_t *out, int n);
/* Commit txn for cpu on behalf of e's agent, from kernel code (tests): the final
 * state is written into *txn. */
enum ghost_txn_state enclave_commit(struct enclave *e, unsigned cpu, struct ghost_txn *txn);
/* Group commit of the slots of e's agent area named by mask: the number COMPLETE.
 * sync: all or nothing.  permitted: the caller may commit these CPUs. */
int enclave_commit_group(struct enclave *e, uint64_t mask, bool sync, bool permitted);
uint32_t enclave_tseq(const struct thread *t);
uint32_t enclave_aseq(struct enclave *e, unsigned cpu);
unsigned enclave_count(void);
/* The kernel's view of e on the console (GHOST_ENCLAVE_DUMP). */
void enclave_dump(struct enclave *e);
/* Fill up to n records; the number of enclaves. */
unsigned enclave_list(struct ghost_enclave_info *out, unsigned n);
/* GHOST_ENCLAVE_BLACKOUT: the longest wait of a thread with a CPU free, in ns;
 * reset starts afresh. */
uint64_t enclave_blackout(struct enclave *e, bool reset);

/* At boot: the reaper thread that destroys enclaves the watchdog ejects. */
void enclave_init(void);
/* GHOST_ENCLAVE_CORE_ISOLATE: 0, or -EINVAL unless e holds whole cores. */
int enclave_core_isolate(struct enclave *e, bool on);
/* The watchdog: 0 or -EINVAL (below 10 ms, above an hour). */
int enclave_set_watchdog(struct enclave *e, uint64_t ns);
#define GHOST_WATCHDOG_DEFAULT_NS	1000000000ull	/* docs/TRICKS.md: why 1 s */

/* Agents (kernel/ghost_sys.c drives these). */
/* mode: GHOST_MODE_*, with GHOST_ATTACH_UPGRADE to become e's successor. */
int enclave_attach(struct enclave *e, struct task *task, int mode);
int enclave_agent_init(struct enclave *e, struct thread *t, unsigned cpu);
/* Block agent thread t of cpu until it should run (see GHOST_WAIT). */
int enclave_agent_wait(struct enclave *e, unsigned cpu, uint64_t timeout_ns);
void enclave_ping(struct enclave *e, unsigned cpu);
/* GHOST_TIMER_ARM: 0, or -EINVAL (cpu not the enclave's). */
int enclave_timer_arm(struct enclave *e, unsigned cpu, uint64_t deadline, uint64_t cookie);
int enclave_queue_create(struct enclave *e, uint32_t nslots, uintptr_t *uaddr);
int enclave_queue_destroy(struct enclave *e, int qid);
int enclave_associate(struct enclave *e, uint64_t tid, int qid);
int enclave_config_wakeup(struct enclave *e, int qid, int cpu);
/* The enclave task is the agent of, or NULL: only to compare, never to use. */
struct enclave *enclave_of_agent_task(struct task *task);
/* The same, held (enclave_put). */
struct enclave *enclave_get_of_agent(struct task *task);
/* The task's last thread is leaving: an enclave it is the agent of is destroyed, or
 * handed to the successor waiting for it (live upgrade); if the task was that
 * successor, the upgrade is off. */
void enclave_task_end(struct task *task);

/* Scheduler hooks (kernel/sched.c, kernel/thread.c). */
void ghost_leave_cpu(struct thread *prev, uint64_t now);	/* prev->lock held */
void ghost_switch(struct cpu *c, struct thread *prev, struct thread *next);	/* rq_lock */
void ghost_arrive(struct thread *t);		/* no locks, interrupts off */
void ghost_woken(struct thread *t);		/* t->lock held, now runnable */
void ghost_affinity_changed(struct thread *t);	/* t->lock held */
void ghost_thread_exit(struct thread *t);	/* before it is DEAD; no locks */
void ghost_flush_wakes(void);			/* no locks, interrupts off */
/* The idle loop of an enclave CPU: run a hint if one is good.  Interrupts off. */
void ghost_idle(struct cpu *c);
/* Thread tid, if still latched on c, goes back to the agent (THREAD_PREEMPTED): it
 * would wait for a native thread on an SMT sibling.  No locks, interrupts off. */
void ghost_unlatch_cpu(struct cpu *c, uint64_t tid);
/* Does idle CPU c poll for decisions instead of halting (no IPI needed)?
 * Interrupts off. */
bool ghost_idle_polls(struct cpu *c);
