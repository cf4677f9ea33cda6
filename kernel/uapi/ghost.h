/* kernel/uapi/ghost.h: the ghOSt ABI between the wisp kernel and agents, version
 * GHOST_ABI_VERSION.  Everything an agent shares with the kernel is laid out here,
 * with a static assertion on every layout; kernel and agents include this one file.
 * The model is ghOSt's (Humphries et al., SOSP 2021); the names follow it so a ghOSt
 * user feels at home, the layouts are wisp's own.
 *
 * Lifecycle of a thread in an enclave, as the agent sees it:
 *
 *	thread joins the enclave         -> THREAD_CREATED (Tseq 1), status word runnable
 *	agent commits txn(thread, Tseq)  -> thread runs on the txn's CPU; status on_cpu
 *	thread blocks                    -> THREAD_BLOCKED,   Tseq++, not runnable
 *	thread wakes                     -> THREAD_WAKEUP,    Tseq++, runnable
 *	a native thread takes its CPU    -> THREAD_PREEMPTED, Tseq++, runnable
 *	thread yields                    -> THREAD_YIELD,     Tseq++, runnable
 *	affinity changes                 -> THREAD_AFFINITY,  Tseq++ (and, if it was
 *	                                    committed to or ran on a CPU it may no longer
 *	                                    use, THREAD_PREEMPTED: it leaves that CPU)
 *	thread exits                     -> THREAD_DEAD,      Tseq++, status word DEAD
 *	                                    (reused when the thread's slot is reused)
 *
 * Lifecycle of an agent (kernel/uapi/syscall.h SYS_ghost, ops below):
 *
 *	control program (CAP_ENCLAVE): GHOST_ENCLAVE_CREATE(cpus) -> id, spawns the
 *	    agent with CAP_AGENT and the workload into the enclave (SYS_spawn)
 *	agent task: GHOST_ATTACH(id, mode) -> status area (read-only), agent area
 *	    (transaction slots, hint rings) and the default queue, mapped into it
 *	each agent thread: GHOST_AGENT_INIT(cpu): pinned to cpu, runs above ghost threads
 *	loop: drain queues -> decide -> fill txn slots -> GHOST_COMMIT
 *	    per-CPU: commit own CPU with GHOST_COMMIT_WAIT: sleeps until a message
 *	    central: the global agent spins; the others GHOST_WAIT until made global
 *	agent task ends -> the enclave is destroyed: its threads go back to native
 *
 * Live upgrade (the enclave and its threads stay; docs/TRICKS.md):
 *
 *	new agent task: GHOST_ATTACH(id, mode | GHOST_ATTACH_UPGRADE) -> mapped, and
 *	    hdr.successor = its task id; the old agent's threads are pinged
 *	old agent: sees hdr.successor, finishes, exits (or is killed, SYS_kill)
 *	kernel, as the old agent task ends: its queues go (every thread's messages go
 *	    to the default queue again), decisions not yet run are undone (PREEMPTED),
 *	    every Aseq moves, the new task is in charge (hdr.agent_gen++)
 *	new agent's threads: GHOST_AGENT_INIT(cpu) waits until then; the agent rebuilds
 *	    its view from the status words and carries on
 *
 * Every message about a thread carries the Tseq after the event; every transaction
 * names the Tseq the agent decided on.  If the kernel has moved on (a newer message is
 * on its way), the commit fails with GHOST_TXN_THREAD_STALE and changes nothing: the
 * agent reads its queue and decides again.  Per CPU, the kernel keeps an Aseq that
 * moves whenever a message for that CPU's agent is produced; a commit names it too
 * (GHOST_TXN_AGENT_STALE).
 *
 * Memory ordering (docs/TRICKS.md has the argument): the kernel updates a status word,
 * then publishes the message that announces it with a release store of the queue
 * head; an agent that acquire-loads the head and reads the message sees the update. */
#pragma once

#include <stdint.h>

#define GHOST_ABI_VERSION	5

/* Messages. */
enum ghost_msg_type {
	GHOST_MSG_NONE = 0,
	GHOST_MSG_THREAD_CREATED = 1,
	GHOST_MSG_THREAD_BLOCKED,
	GHOST_MSG_THREAD_PREEMPTED,
	GHOST_MSG_THREAD_YIELD,
	GHOST_MSG_THREAD_DEAD,
	GHOST_MSG_THREAD_WAKEUP,
	GHOST_MSG_THREAD_AFFINITY,
	GHOST_MSG_TIMER_TICK = 32,
	GHOST_MSG_CPU_AVAILABLE,	/* a CPU became the enclave's to use */
	GHOST_MSG_CPU_TAKEN,		/* a native thread (or removal) took a CPU */
	GHOST_MSG_AGENT_TIMER,		/* a timer the agent armed on cpu expired; arg
					 * is the cookie it gave (GHOST_TIMER_ARM) */
};

/* One message: 32 bytes, two to a cache line. */
struct ghost_msg {
	uint16_t type;		/* enum ghost_msg_type */
	uint16_t cpu;		/* where it happened */
	uint32_t tseq;		/* the thread's sequence number after the event */
	uint64_t tid;		/* the thread (0 for CPU events) */
	uint64_t time_ns;	/* when it happened, kernel clock */
	uint64_t arg;		/* per type: the thread's affinity (bit n: CPU n) for
				 * CREATED and AFFINITY, its runtime for the other
				 * thread messages, ... */
};

_Static_assert(sizeof(struct ghost_msg) == 32, "ghost_msg is 32 bytes");
_Static_assert(__builtin_offsetof(struct ghost_msg, tid) == 8, "ghost_msg layout");
_Static_assert(__builtin_offsetof(struct ghost_msg, arg) == 24, "ghost_msg layout");

/* A message queue: a single-producer (the kernel, under the queue's lock),
 * single-consumer (one agent thread) ring in shared memory.  head and tail count
 * messages since creation and never wrap in practice (2^64); the slot of message n is
 * n % nslots.  The kernel never overwrites an unconsumed message: when the ring is
 * full it drops the new message, counts it in overflow, and the agent, seeing
 * overflow change, rebuilds its view from the status words. */
#define GHOST_QUEUE_MAGIC	0x67717565u	/* "gque" */

struct ghost_queue {
	uint32_t magic;
	uint32_t version;	/* GHOST_ABI_VERSION */
	uint32_t nslots;	/* a power of two */
	uint32_t id;
	uint64_t reserved0[6];
	uint64_t head;		/* written by the kernel only (release) */
	uint64_t reserved1[7];
	uint64_t tail;		/* written by the agent only (release) */
	uint64_t reserved2[7];
	uint64_t overflow;	/* messages dropped; written by the kernel only */
	uint64_t reserved3[7];
	struct ghost_msg msgs[];
};

_Static_assert(__builtin_offsetof(struct ghost_queue, head) == 64, "head on its own line");
_Static_assert(__builtin_offsetof(struct ghost_queue, tail) == 128, "tail on its own line");
_Static_assert(__builtin_offsetof(struct ghost_queue, overflow) == 192, "overflow line");
_Static_assert(__builtin_offsetof(struct ghost_queue, msgs) == 256, "slots start on a line");

/* Bytes of shared memory a queue of nslots messages takes. */
#define GHOST_QUEUE_BYTES(nslots)	(256 + 32 * (uint64_t)(nslots))

/* Status words: the kernel's view of each thread and CPU of an enclave, in shared
 * memory the agent may only read.  A word is updated under a seqcount: the kernel
 * makes seq odd, writes the fields, makes seq even (release); a reader retries while
 * seq is odd or changed across its read. */
#define GHOST_SW_RUNNABLE	(1u << 0)
#define GHOST_SW_ON_CPU		(1u << 1)
#define GHOST_SW_DEAD		(1u << 2)
#define GHOST_SW_BATCH		(1u << 3)	/* the thread said it is batch work
						 * (GHOST_THREAD_BATCH): a policy may run it
						 * only on CPUs nothing else wants */

struct ghost_thread_status {
	uint32_t seq;		/* seqcount, see above */
	uint32_t flags;		/* GHOST_SW_* */
	uint64_t tid;
	uint32_t tseq;		/* the thread's sequence number now */
	uint32_t cpu;		/* where it runs or last ran */
	uint64_t runtime_ns;	/* cumulative */
	uint64_t switch_ns;	/* when it last went on or off a CPU */
	uint32_t cookie;	/* its security domain (GHOST_SET_COOKIE), 0: none */
	uint32_t reserved;
	uint64_t affinity;	/* the CPUs it may run on (bit n: CPU n); a commit to
				 * another fails, GHOST_TXN_CPU_NOT_ALLOWED */
	uint64_t reserved2;
};

_Static_assert(sizeof(struct ghost_thread_status) == 64, "thread status word layout");

#define GHOST_CPU_AVAILABLE	(1u << 0)	/* the enclave may run threads here now */

struct ghost_cpu_status {
	uint32_t seq;
	uint32_t flags;		/* GHOST_CPU_* */
	uint32_t aseq;		/* the CPU's agent sequence number */
	uint32_t reserved;
	uint64_t current_tid;	/* enclave thread running here, 0 if none */
	uint64_t reserved1[5];
};

_Static_assert(sizeof(struct ghost_cpu_status) == 64, "one CPU status word per line");

/* Transactions: one slot per CPU in shared memory.  The agent fills tid, tseq, aseq
 * and flags and sets state to GHOST_TXN_READY; a commit call hands the kernel a set of
 * CPUs; the kernel copies each slot once, decides, and writes the final state.  A
 * failed transaction changes nothing. */
enum ghost_txn_state {
	GHOST_TXN_EMPTY = 0,
	GHOST_TXN_READY,		/* filled in by the agent, not yet committed */
	GHOST_TXN_COMPLETE,		/* done: the thread runs (or the CPU idles) */
	GHOST_TXN_AGENT_STALE,		/* aseq is not the CPU's current Aseq */
	GHOST_TXN_THREAD_STALE,		/* tseq is not the thread's current Tseq */
	GHOST_TXN_NOT_RUNNABLE,		/* the thread is blocked or dead */
	GHOST_TXN_NOT_IN_ENCLAVE,	/* the thread is not one of the enclave's */
	GHOST_TXN_CPU_NOT_IN_ENCLAVE,	/* the slot's CPU is not the enclave's */
	GHOST_TXN_CPU_BUSY,		/* a native thread holds the CPU */
	GHOST_TXN_INVALID_FLAGS,	/* unknown flag bits, or a slot not READY */
	GHOST_TXN_NOT_PERMITTED,	/* the caller is not this enclave's agent */
	GHOST_TXN_ABORTED,		/* a sync group commit failed elsewhere */
	GHOST_TXN_CORE_CONFLICT,	/* core-isolated enclave: an SMT sibling of the
					 * slot's CPU runs, or is committed to run, a thread
					 * of another security domain (cookie); a sync group
					 * commit that moves the siblings too is checked as
					 * a whole */
	GHOST_TXN_CPU_NOT_ALLOWED,	/* the thread's affinity excludes the slot's CPU */
};

#define GHOST_TXN_IDLE		(1u << 0)	/* run nothing: tid must be 0 */
#define GHOST_TXN_FLAGS		GHOST_TXN_IDLE

struct ghost_txn {
	uint32_t state;		/* enum ghost_txn_state; READY from the agent */
	uint32_t flags;		/* GHOST_TXN_* */
	uint64_t tid;		/* the thread to run, 0 with GHOST_TXN_IDLE */
	uint32_t tseq;		/* the Tseq the agent decided on */
	uint32_t aseq;		/* the CPU's Aseq the agent decided on */
	uint64_t commit_ns;	/* when the kernel completed it */
	uint64_t reserved[4];
};

_Static_assert(sizeof(struct ghost_txn) == 64, "one transaction slot per line");


/* Limits of this ABI version. */
#define GHOST_MAX_CPUS		64	/* CPU ids 0..63: masks are one uint64_t */
#define GHOST_MAX_THREADS	4096	/* thread status words: one per kernel thread slot */
#define GHOST_MAX_QUEUES	64	/* per enclave, the default queue included */
#define GHOST_QUEUE_MAX_SLOTS	4096
#define GHOST_DEFAULT_QUEUE_SLOTS 1024

/* The thread status word of thread tid is thread[GHOST_THREAD_INDEX(tid)]; its tid
 * field says whether it is that thread's (a slot's next tenant gets a new tid). */
#define GHOST_THREAD_INDEX(tid)	((uint32_t)(tid) & (GHOST_MAX_THREADS - 1))

/* The enclave's header, first in its status area. */
#define GHOST_STATUS_MAGIC	0x67737461u	/* "gsta" */
#define GHOST_MODE_PERCPU	1	/* one agent per CPU, each schedules its own CPU */
#define GHOST_MODE_CENTRAL	2	/* one global agent schedules every other CPU */

struct ghost_enclave_status {
	uint32_t magic;		/* GHOST_STATUS_MAGIC */
	uint32_t version;	/* GHOST_ABI_VERSION */
	uint32_t enclave_id;
	uint32_t mode;		/* GHOST_MODE_*, 0 before an agent attached and once
				 * the enclave is destroyed */
	uint64_t cpus;		/* the enclave's CPUs, bit n = CPU n */
	uint32_t global_cpu;	/* CENTRAL: the CPU whose agent is the global one now */
	uint32_t global_gen;	/* moves at every change of global agent */
	uint32_t default_queue;	/* id of the default queue */
	uint32_t nthreads;	/* threads in the enclave now */
	uint32_t successor;	/* task id of an agent waiting to take over (live
				 * upgrade, GHOST_ATTACH_UPGRADE), 0 if none: the
				 * agent in charge should finish and exit */
	uint32_t agent_gen;	/* moves each time another agent task takes charge */
	uint32_t core_isolated;	/* 1: SMT siblings never run two security domains at
				 * once (GHOST_ENCLAVE_CORE_ISOLATE) */
	uint32_t reserved0;
	uint64_t reserved[57];
};

_Static_assert(sizeof(struct ghost_enclave_status) == 512, "enclave header layout");

/* The status area, mapped read-only into the agent's task (GHOST_ATTACH). */
struct ghost_status_area {
	struct ghost_enclave_status hdr;
	uint8_t pad[4096 - sizeof(struct ghost_enclave_status)];
	struct ghost_cpu_status cpu[GHOST_MAX_CPUS];
	struct ghost_thread_status thread[GHOST_MAX_THREADS];
};

_Static_assert(__builtin_offsetof(struct ghost_status_area, cpu) == 4096, "status area layout");
_Static_assert(__builtin_offsetof(struct ghost_status_area, thread) == 8192, "status area layout");

/* Idle fast path: per CPU, a ring of run hints the agent writes (head) and the
 * kernel consumes (tail) when that CPU would otherwise idle with no decision.  The
 * kernel commits a hint like a transaction (Aseq not checked); a stale one (Tseq
 * moved, thread not runnable, not the enclave's or not allowed on the CPU) is
 * skipped, never run. */
#define GHOST_HINTS		8

struct ghost_hint {
	uint64_t tid;
	uint32_t tseq;
	uint32_t reserved;
};

struct ghost_hint_ring {
	uint64_t head;		/* written by the agent (release) */
	uint64_t reserved0[7];
	uint64_t tail;		/* written by the kernel (release) */
	uint64_t used;		/* hints the kernel ran */
	uint64_t stale;		/* hints the kernel skipped */
	uint64_t reserved1[5];
	struct ghost_hint hint[GHOST_HINTS];
};

_Static_assert(sizeof(struct ghost_hint_ring) == 256, "hint ring layout");

/* The agent area, mapped read-write: transaction slots and hint rings, per CPU. */
struct ghost_agent_area {
	struct ghost_txn txn[GHOST_MAX_CPUS];
	struct ghost_hint_ring hints[GHOST_MAX_CPUS];
};

_Static_assert(sizeof(struct ghost_agent_area) == 64 * 64 + 256 * 64, "agent area layout");

/* SYS_ghost(op, a, b, c): the enclave and agent calls.  Errors are negative errno
 * values; EPERM when the caller lacks the capability an op names. */
enum ghost_op {
	/* Control, CAP_ENCLAVE. */
	GHOST_ENCLAVE_CREATE = 1,	/* (uint64_t cpus) -> enclave id; EBUSY: a CPU is
					 * another enclave's; EINVAL: empty or offline CPU */
	GHOST_ENCLAVE_DESTROY,		/* (id) -> 0; its threads go back to native */
	GHOST_ENCLAVE_LIST,		/* (struct ghost_enclave_info *buf, n) -> count (may
					 * exceed n: only n are written); no capability */
	GHOST_ENCLAVE_ADD_THREAD,	/* (id, tid) -> 0; also the enclave's agent may;
					 * EPERM for a kernel thread; EINVAL if the
					 * thread is exiting or its affinity has none
					 * of the enclave's CPUs */
	GHOST_ENCLAVE_REMOVE_THREAD,	/* (id, tid) -> 0; back to native */
	GHOST_ENCLAVE_DUMP,		/* (id) -> 0: the kernel's view of the enclave, its
					 * CPUs, queues and threads, on the console */
	GHOST_ENCLAVE_WATCHDOG,		/* (id, ns) -> 0: if a runnable thread waits longer
					 * than ns while an enclave CPU has no native work,
					 * the agent is ejected (the enclave destroyed, its
					 * threads native).  Default 1 s; 0 disables; 10 ms to
					 * an hour.  Also the enclave's agent may */
	GHOST_ENCLAVE_ADD_TASK,		/* (id, task) -> threads added: every thread of the
					 * task joins (one in an enclave already is left
					 * where it is), and its new threads are born in id */
	GHOST_ENCLAVE_BLACKOUT,		/* (id, reset) -> ns: the longest time a thread of
					 * the enclave waited to run while one of its CPUs
					 * was free (no enclave thread, no native work; the
					 * global agent's CPU is never free), measured when
					 * the thread ran there; reset 1 starts afresh */
	GHOST_THREAD_BATCH,		/* (0 or 1) -> 0: the calling thread says whether it
					 * is batch work: GHOST_SW_BATCH in its status word
					 * from its next event on (set it before joining an
					 * enclave, and THREAD_CREATED shows it); no
					 * capability, like Linux's SCHED_BATCH */
	GHOST_ENCLAVE_FATE,		/* (id, struct ghost_enclave_end *out) -> 0: how a
					 * destroyed enclave ended (the last
					 * GHOST_ENCLAVE_ENDS are kept); EBUSY: it lives;
					 * ENOENT: unknown or forgotten; no capability */
	GHOST_SET_COOKIE,		/* (tid or 0 for the caller, cookie) -> 0: the
					 * thread's security domain (0: none, trusted); the
					 * threads it creates inherit it.  EBUSY while the
					 * thread is in an enclave (a policy sees a domain
					 * fixed), ENOENT no such thread, EPERM a kernel
					 * thread */
	GHOST_ENCLAVE_CORE_ISOLATE,	/* (id, 0 or 1) -> 0: core isolation on or off:
					 * commits that would put two domains on SMT
					 * siblings fail GHOST_TXN_CORE_CONFLICT and the
					 * kernel holds a thread back until its siblings
					 * agree (docs/TRICKS.md); EINVAL unless the enclave
					 * holds whole cores; also the enclave's agent may */
	GHOST_CORE_STATS,		/* (cpu or -1 for all, struct ghost_core_stats *out)
					 * -> 0: the core-scheduling audit and flush counters;
					 * no capability */
	GHOST_ENCLAVE_THREADS,		/* (id, uint64_t *tids, n) -> how many threads the
					 * enclave has (its agent's not counted); the first
					 * n of their tids are written.  What a control
					 * program reads before destroying an enclave to
					 * make it again with the same threads; also the
					 * enclave's agent may */
	/* Agents, CAP_AGENT. */
	GHOST_ATTACH = 16,		/* (id, mode, struct ghost_attach *out) -> 0: maps the
					 * areas into this task; EBUSY: it has an agent (and,
					 * with GHOST_ATTACH_UPGRADE in mode, a successor) */
	GHOST_AGENT_INIT,		/* (cpu) -> 0: this thread becomes cpu's agent: pinned
					 * there, above ghost threads, below native ones */
	GHOST_QUEUE_CREATE,		/* (nslots, struct ghost_queue **out) -> queue id */
	GHOST_QUEUE_DESTROY,		/* (qid) -> 0; EBUSY while threads are associated */
	GHOST_ASSOCIATE_QUEUE,		/* (tid, qid) -> 0; EAGAIN while the thread still has
					 * undelivered messages in its current queue */
	GHOST_CONFIG_QUEUE_WAKEUP,	/* (qid, cpu or -1) -> 0: whose agent wakes when a
					 * message lands (-1: nobody, the agent polls) */
	GHOST_COMMIT,			/* (uint64_t cpus, flags) -> transactions COMPLETE;
					 * each slot holds its final state */
	GHOST_WAIT,			/* (timeout_ns or 0) -> 0: block this agent thread
					 * until a message lands in a queue that wakes it, a
					 * ping, (CENTRAL) it becomes global, or the timeout */
	GHOST_PING,			/* (cpu) -> 0: wake the agent of cpu */
	GHOST_SET_TICK,			/* (period_ns or 0) -> 0: TIMER_TICK per busy CPU */
	GHOST_SET_IDLE_POLL,		/* (0 or 1) -> 0: idle enclave CPUs halt, and a remote
					 * commit sends an IPI (0, the default unless
					 * ghost.idle=poll), or they poll for it (1) */
	GHOST_TIMER_ARM,		/* (cpu, deadline_ns, cookie) -> 0: at deadline (the
					 * kernel clock, SYS_clock's) post AGENT_TIMER with
					 * cookie for cpu, to the queue that wakes cpu's agent
					 * (else the default queue), moving cpu's Aseq; one
					 * timer per CPU, re-arming replaces it, deadline 0
					 * cancels; a past deadline fires at once */
};

/* GHOST_ATTACH: or'ed into mode, take over from the agent in charge (live upgrade,
 * above).  Until the old agent task ends, this task's GHOST_AGENT_INIT waits and its
 * other agent calls fail with EAGAIN. */
#define GHOST_ATTACH_UPGRADE	(1u << 8)

/* GHOST_COMMIT flags. */
#define GHOST_COMMIT_SYNC	(1u << 0)	/* all or nothing: if one fails, the rest
						 * end GHOST_TXN_ABORTED, nothing runs */
#define GHOST_COMMIT_WAIT	(1u << 1)	/* then GHOST_WAIT (per-CPU agents: run
						 * the thread committed for this CPU) */
#define GHOST_COMMIT_FLAGS	(GHOST_COMMIT_SYNC | GHOST_COMMIT_WAIT)

struct ghost_attach {
	struct ghost_status_area *status;	/* read-only */
	struct ghost_agent_area *agent;		/* read-write */
	struct ghost_queue *default_queue;	/* read-write (the agent writes tail) */
	uint32_t default_queue_id;
	uint32_t reserved;
};

struct ghost_enclave_info {
	uint32_t id;
	uint32_t mode;		/* 0 while no agent is attached */
	uint64_t cpus;
	uint32_t nthreads;
	uint32_t agent_task;	/* 0 if none */
	uint32_t global_cpu;	/* as in the enclave's status header */
	uint32_t global_gen;
	uint32_t agents;	/* agent threads (GHOST_AGENT_INIT done) */
	uint32_t upgrades;	/* live upgrades: times another agent task took charge */
	uint64_t messages;	/* posted to its queues since creation */
	uint64_t commits;	/* transactions COMPLETE since creation */
	uint64_t natives;	/* threads sent back to the native class (removed, or
				 * the enclave destroyed); a live upgrade sends none */
	uint32_t successor;	/* as in the enclave's status header */
	uint32_t reserved;
};

_Static_assert(sizeof(struct ghost_enclave_info) == 72, "enclave info layout");

/* GHOST_ENCLAVE_FATE: why an enclave ended. */
enum ghost_end_reason {
	GHOST_END_DESTROYED = 1,	/* GHOST_ENCLAVE_DESTROY */
	GHOST_END_AGENT_EXITED,		/* the agent task ended; status its exit status */
	GHOST_END_AGENT_FAULT,		/* the agent task faulted; status the vector */
	GHOST_END_AGENT_KILLED,		/* the agent task was killed (SYS_kill) */
	GHOST_END_WATCHDOG,		/* ejected: tid waited wait_ns to run */
};

#define GHOST_ENCLAVE_ENDS	16

struct ghost_enclave_end {
	uint32_t id;
	uint32_t reason;	/* enum ghost_end_reason */
	uint32_t agent_task;	/* the agent in charge then, 0 if none */
	int32_t status;		/* per reason */
	uint32_t nthreads;	/* threads sent back to native */
	uint32_t reserved;
	uint64_t tid;		/* GHOST_END_WATCHDOG: the thread that waited */
	uint64_t wait_ns;	/* GHOST_END_WATCHDOG: how long */
};

_Static_assert(sizeof(struct ghost_enclave_end) == 40, "enclave end layout");

/* GHOST_CORE_STATS: core scheduling (L1TF/MDS, docs/TRICKS.md).  The kernel keeps,
 * per CPU, the security domain of what runs there; at every context switch it checks
 * the SMT siblings and counts a violation when two different non-zero cookies run on
 * one core at once (kernel argument coresched.audit=panic makes one on a
 * core-isolated enclave's CPU a panic).  A switch to another domain than the one
 * that last ran on the CPU flushes the L1D (MSR IA32_FLUSH_CMD where enumerated,
 * else by reading a buffer larger than the L1D) and, where MD_CLEAR is enumerated,
 * the CPU buffers (VERW); coresched.flush=off|auto|soft chooses. */
#define GHOST_CORE_L1D_FLUSH	(1u << 0)	/* CPUID.(EAX=07H,ECX=0):EDX[28] */
#define GHOST_CORE_MD_CLEAR	(1u << 1)	/* CPUID.(EAX=07H,ECX=0):EDX[10] */

enum ghost_flush_mode {
	GHOST_FLUSH_OFF = 0,
	GHOST_FLUSH_AUTO,	/* the MSR where enumerated, else software */
	GHOST_FLUSH_SOFT,	/* always the software L1D flush */
};

struct ghost_core_stats {
	uint64_t switches;		/* context switches audited */
	uint64_t violations;		/* switches that found a sibling running another
					 * non-zero cookie */
	uint64_t domain_changes;	/* switches to a non-zero cookie other than the
					 * last one that ran on the CPU */
	uint64_t flush_l1d_msr;		/* L1D flushes through IA32_FLUSH_CMD */
	uint64_t flush_l1d_soft;	/* L1D flushes by reading a buffer */
	uint64_t flush_verw;		/* CPU buffer clears (VERW, MD_CLEAR) */
	uint64_t flush_ns;		/* time spent flushing */
	uint64_t held_back;		/* threads held back for a sibling (core-isolated:
					 * the sibling was leaving another domain) */
	uint64_t forced_idle_ns;	/* time spent idle while holding one back */
	uint64_t idle_ns;		/* time spent in the idle thread, up to now */
	uint64_t commit_conflicts;	/* transactions failed GHOST_TXN_CORE_CONFLICT */
	uint32_t features;		/* GHOST_CORE_* this CPU (the boot CPU for -1)
					 * enumerates */
	uint32_t flush_mode;		/* enum ghost_flush_mode */
	/* The last violation (violations > 0): who found it, and what each ran. */
	uint32_t last_cpu, last_sibling;
	uint32_t last_cookie, last_sibling_cookie;
	uint64_t last_tid, last_sibling_tid;
	uint64_t last_ns;
};

_Static_assert(sizeof(struct ghost_core_stats) == 136, "core stats layout");
