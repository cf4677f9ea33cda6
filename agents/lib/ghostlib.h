/* agents/lib/ghostlib.h: the user-space side of the ghOSt ABI (kernel/uapi/ghost.h),
 * so that a policy reads as a policy: attaching, agent threads, queues, status words,
 * transactions, hints, and a per-thread table with run queues built on it.
 *
 * Threads: a struct ghost_agent is set up once (ga_attach) and then only read, so any
 * agent thread may use it.  A queue has one consumer at a time, a transaction slot and
 * a hint ring one writer at a time, a struct ga_table and its FIFOs one user at a
 * time: the policy decides who (one per agent thread, or a lock). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <kernel/uapi/ghost.h>
#include <wisp.h>

struct ghost_agent;

/* What ga_start_agents runs on each enclave CPU, after GHOST_AGENT_INIT(cpu). */
typedef void (*ga_agent_fn)(struct ghost_agent *a, int cpu, void *arg);

struct ga_start {
	struct ghost_agent *a;
	int cpu;
	ga_agent_fn fn;
	void *arg;
};

struct ghost_agent {
	int enclave_id;
	int mode;				/* GHOST_MODE_* */
	uint64_t cpus;				/* the enclave's CPUs, bit n = CPU n */
	int ncpus;
	struct ghost_status_area *status;	/* read-only */
	struct ghost_agent_area *agent;		/* transaction slots, hint rings */
	struct ghost_queue *default_queue;
	int default_queue_id;
	/* ga_start_agents / ga_join_agents */
	wisp_thread_t threads[GHOST_MAX_CPUS];
	struct ga_start start[GHOST_MAX_CPUS];
	int nthreads;
	/* Stopping (ga_finish, ga_count_deaths): set exit_after after ga_attach. */
	uint64_t exit_after;			/* deaths to stop after, 0: never */
	uint64_t deaths;			/* atomic, every agent thread together */
	bool done;				/* atomic */
};

/* Attach this task to enclave_id as its agent in mode (GHOST_MODE_*): maps the status
 * area, the agent area and the default queue.  0, or a negative errno (-EPERM without
 * CAP_AGENT, -EBUSY if the enclave has an agent, -EPROTO if the kernel speaks another
 * ABI version).  With GHOST_ATTACH_UPGRADE or'ed into mode it takes over from the
 * agent in charge (live upgrade): ga_start_agents' threads then wait in
 * GHOST_AGENT_INIT until that agent has gone, and the policy starts with ga_resync
 * (the reference agents always do: it costs one pass over the status words). */
int ga_attach(struct ghost_agent *a, int enclave_id, int mode);
/* One thread per enclave CPU: GHOST_AGENT_INIT(cpu), then fn(a, cpu, arg).  A thread
 * whose GHOST_AGENT_INIT fails ends the task (exit 1) after saying why: a CPU with no
 * agent would strand the threads sent to it, and the enclave dies with the task.
 * 0, or a positive errno if a thread could not be made (the others keep running). */
int ga_start_agents(struct ghost_agent *a, ga_agent_fn fn, void *arg);
/* A centralized policy's agent thread (GHOST_MODE_CENTRAL), for ga_start_agents: the
 * agent on the global CPU calls step(self, first) on becoming global and then
 * whenever work(self) says there is some (first: the task's first step, which should
 * resync); the others wait to be made global.  Steps never overlap: a demoted agent
 * may be mid-step when a native thread takes its CPU, and the new global one waits
 * for it.  The first CPU's agent turns queue wakeups off (the global agent polls).
 * Returns when the agent is done (ga_done) or the enclave has gone; prog names it
 * in messages. */
void ga_central_loop(struct ghost_agent *a, int self, const char *prog,
		     bool (*work)(int self), void (*step)(int self, bool first));
/* Wait for every agent thread to return; 0, or the first positive errno. */
int ga_join_agents(struct ghost_agent *a);

/* The reference agents' command line: `PROG ENCLAVE_ID [upgrade] [[exit-when-empty] N]`.
 * *attach_flags is GHOST_ATTACH_UPGRADE with upgrade, else 0; *exit_after is N, 0
 * if absent.  0, or -1 after printing the usage. */
int ga_parse_args(int argc, char **argv, int *enclave_id, int *attach_flags,
		  uint64_t *exit_after);

/* The enclave's CPUs: the lowest one above cpu, -1 if none (cpu -1: the first). */
int ga_cpu_next(const struct ghost_agent *a, int cpu);
#define ga_for_each_cpu(c, a) \
	for (int c = ga_cpu_next((a), -1); c >= 0; c = ga_cpu_next((a), c))
static inline bool ga_cpu_in(const struct ghost_agent *a, int cpu)
{
	return cpu >= 0 && cpu < GHOST_MAX_CPUS && (a->cpus >> cpu & 1);
}

/* Queues.  ga_queue_create: the queue id and *q its mapping, or a negative errno
 * (-ENOSPC: the enclave has GHOST_MAX_QUEUES already).
 * ga_associate: messages about tid go to qid from now on; -EAGAIN while the thread
 * has undelivered messages in its current queue (drain it and retry).
 * ga_config_wakeup: whose agent a message in qid wakes (cpu), -1 for nobody. */
int ga_queue_create(uint32_t nslots, struct ghost_queue **q);
int ga_queue_destroy(int qid);
int ga_associate(uint64_t tid, int qid);
int ga_config_wakeup(int qid, int cpu);
/* Take the oldest message into *m; false when the queue is empty.  One consumer per
 * queue at a time. */
bool ga_pop(struct ghost_queue *q, struct ghost_msg *m);
uint64_t ga_pending(const struct ghost_queue *q);
uint64_t ga_overflow(const struct ghost_queue *q);
/* True, and *seen updated, when q dropped messages since *seen was taken: the time
 * to rebuild from the status words (ga_resync). */
bool ga_overflowed(const struct ghost_queue *q, uint64_t *seen);

/* Status words, read under their seqcount.  ga_thread_status: false when the word of
 * tid's slot belongs to another thread (tid has gone and the slot was reused). */
bool ga_thread_status(const struct ghost_agent *a, uint64_t tid,
		      struct ghost_thread_status *out);
void ga_thread_status_at(const struct ghost_agent *a, uint32_t index,
			 struct ghost_thread_status *out);
void ga_cpu_status(const struct ghost_agent *a, int cpu, struct ghost_cpu_status *out);
/* The CPU's Aseq: read it before draining the queues a decision is based on. */
uint32_t ga_aseq(const struct ghost_agent *a, int cpu);
bool ga_cpu_available(const struct ghost_agent *a, int cpu);
/* CENTRAL: the CPU whose agent is the global one now (acquire). */
int ga_global_cpu(const struct ghost_agent *a);
/* Stopping every agent thread of the task: ga_finish sets done and pings the other
 * CPUs' agents so each sees it at its next wakeup; ga_count_deaths adds n thread
 * deaths and finishes once exit_after of them have been seen.  ga_done is also true
 * once a successor waits to take over (ga_successor_waiting; the kernel pings every
 * agent thread then): the policy should return, and the task exit, soon. */
bool ga_done(const struct ghost_agent *a);
bool ga_successor_waiting(const struct ghost_agent *a);
void ga_finish(struct ghost_agent *a, int self);
void ga_count_deaths(struct ghost_agent *a, int self, uint64_t n);
/* False once the enclave is destroyed (the kernel clears its mode). */
bool ga_enclave_alive(const struct ghost_agent *a);

/* Transactions.  ga_txn_set fills cpu's slot, state READY last (release);
 * ga_commit commits the slots of cpus (GHOST_COMMIT_* flags) and returns how many
 * ended GHOST_TXN_COMPLETE, or a negative errno; each slot then holds its final
 * state, which ga_txn_state reads. */
void ga_txn_set(struct ghost_agent *a, int cpu, uint64_t tid, uint32_t tseq,
		uint32_t aseq, uint32_t flags);
long ga_commit(struct ghost_agent *a, uint64_t cpus, unsigned flags);
uint32_t ga_txn_state(const struct ghost_agent *a, int cpu);
const char *ga_txn_state_name(uint32_t state);

/* Block this agent thread until a message for it, a ping, (CENTRAL) becoming global,
 * or timeout_ns (0: none).  0 or a negative errno. */
int ga_wait(uint64_t timeout_ns);
int ga_ping(int cpu);
/* At deadline_ns (wisp_clock_ns time) the kernel posts GHOST_MSG_AGENT_TIMER for cpu,
 * arg cookie, to the queue that wakes cpu's agent (else the default queue).  One
 * timer per CPU: arming again replaces it; deadline 0 cancels.  0 or -EINVAL. */
int ga_timer_arm(int cpu, uint64_t deadline_ns, uint64_t cookie);

/* Offer (tid, tseq) to cpu's idle path; false when its ring is full. */
bool ga_hint_push(struct ghost_agent *a, int cpu, uint64_t tid, uint32_t tseq);

/* The per-thread table: one entry per thread status word, the entry of thread tid at
 * GHOST_THREAD_INDEX(tid).  The library keeps tid..dead and the FIFO links; `user`
 * is the policy's.  A thread is on at most one FIFO; the table takes a thread off its
 * FIFO when it stops being runnable (blocked, dead, gone). */
struct ga_fifo;

struct ga_thread {
	uint64_t tid;		/* 0: entry unused */
	uint32_t tseq;		/* of the newest message or status word applied */
	int cpu;		/* where it last ran or an event happened, -1 unknown */
	bool runnable;
	bool on_cpu;		/* running, or committed to a CPU (the policy sets it) */
	bool dead;
	uint64_t affinity;	/* the CPUs it may run on (bit n: CPU n), as last told */
	struct ga_fifo *fifo;	/* the FIFO it is on, NULL if none */
	struct ga_thread *prev, *next;
	uint64_t user;
};

struct ga_table {
	struct ghost_agent *a;
	uint64_t deaths;	/* threads seen to die: DEAD, or found gone */
	struct ga_thread t[GHOST_MAX_THREADS];
};

/* Runnable and neither running nor committed: it wants a CPU. */
static inline bool ga_thread_waiting(const struct ga_thread *t)
{
	return t->runnable && !t->on_cpu && !t->dead;
}

/* Its affinity allows cpu: a commit elsewhere fails, GHOST_TXN_CPU_NOT_ALLOWED. */
static inline bool ga_allowed(const struct ga_thread *t, int cpu)
{
	return cpu >= 0 && cpu < GHOST_MAX_CPUS && (t->affinity >> cpu & 1);
}

/* t's status word says it is runnable, off every CPU, at the Tseq the table holds:
 * no message about it is on its way.  After GHOST_TXN_NOT_RUNNABLE this tells "it
 * blocked or died, a message follows" (false) from "it is still leaving a CPU, try
 * again" (true). */
bool ga_runnable_now(const struct ghost_agent *a, const struct ga_thread *t);

/* A zeroed table (NULL when out of memory), and its end. */
struct ga_table *ga_table_create(struct ghost_agent *a);
void ga_table_destroy(struct ga_table *tab);
/* The entry of tid, or NULL if the table does not hold tid. */
struct ga_thread *ga_thread_find(struct ga_table *tab, uint64_t tid);
/* Apply a thread message: the thread's entry, or NULL when the message is stale (its
 * Tseq is not newer than the entry's: a duplicate, or overtaken by ga_resync), is
 * about a thread whose slot another thread holds now, or is not about a thread
 * (CPU events: the policy reads those itself).  An entry of a thread that has gone
 * is reused, and counted in deaths if it was not seen to die. */
struct ga_thread *ga_track_msg(struct ga_table *tab, const struct ghost_msg *m);
/* The entry forgets its thread (another agent owns it now); no death is counted. */
void ga_forget(struct ga_table *tab, struct ga_thread *t);
/* A central policy that has just become global: *tid is the thread it had sent to
 * its own CPU (0 if none), which will never run there now (the kernel takes the
 * latch back when the thread is committed elsewhere).  *tid becomes 0; the entry is
 * returned, marked off-CPU, when it waits for a CPU (the policy requeues it), else
 * NULL. */
struct ga_thread *ga_take_back(struct ga_table *tab, uint64_t *tid);
/* The reference agents' last line: "PROG: scheduled N decisions, M threads done; per
 * CPU: c:n ...", and their exit status: 3 when more than spare of the enclave's CPUs
 * got no decision (unless the agent stepped down for a successor), else 0. */
int ga_print_totals(const struct ghost_agent *a, const char *prog, uint64_t decisions,
		    const uint64_t *per_cpu, int spare);
/* Rebuild the table from the status words, after messages were lost (overflow).
 * Every member of the enclave gets an entry with the word's Tseq, flags and CPU
 * (messages still queued about it are then stale); entries of threads that have gone
 * are marked dead or dropped, deaths counted.  each(t, known, arg) is then called for
 * every live member, known saying whether the table held it already: the policy puts
 * waiting ones on its FIFOs, forgets the ones that are not its own.  The number of
 * members. */
int ga_resync(struct ga_table *tab, void (*each)(struct ga_thread *t, bool known, void *arg),
	      void *arg);

/* An intrusive FIFO of ga_thread entries.  Zero is empty. */
struct ga_fifo {
	struct ga_thread *head, *tail;
	unsigned count;
};

static inline bool ga_fifo_empty(const struct ga_fifo *f)
{
	return f->head == NULL;
}

/* Push onto f (taking t off any FIFO it was on first); pop the head, NULL if empty;
 * remove t from the FIFO it is on, if any. */
void ga_fifo_push_tail(struct ga_fifo *f, struct ga_thread *t);
void ga_fifo_push_head(struct ga_fifo *f, struct ga_thread *t);
struct ga_thread *ga_fifo_pop(struct ga_fifo *f);
/* The first thread of f that may run on cpu (its affinity): left on f, or taken
 * off; NULL if none. */
struct ga_thread *ga_fifo_first_for(const struct ga_fifo *f, int cpu);
struct ga_thread *ga_fifo_pop_for(struct ga_fifo *f, int cpu);
void ga_fifo_remove(struct ga_thread *t);
