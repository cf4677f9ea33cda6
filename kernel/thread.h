/* kernel/thread.h: threads (kernel/thread.c) and the scheduler core (kernel/sched.c).
 *
 * Life of a thread:
 *
 *	thread_create()  -> RUNNABLE, queued on a CPU chosen by its class
 *	RUNNABLE --picked--> running (cpu->curr) --preempted/yield--> RUNNABLE
 *	running --waitq_wait()/thread_sleep()--> BLOCKED --wakeup--> RUNNABLE
 *	running --thread_exit()--> DEAD; its stack is freed by the next thread on that
 *	CPU; the slot is freed by thread_join() (or at exit for a detached thread).
 *
 * Thread ids are 64-bit: slot index in the low 16 bits, the slot's generation above,
 * so an id kept after its thread was joined never names the slot's next tenant. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <kernel/cpumask.h>
#include <kernel/list.h>
#include <kernel/spinlock.h>
#include <kernel/timer.h>

#define MAX_THREADS	4096
#define THREAD_NAME	24

typedef uint64_t tid_t;

enum thread_state {
	THREAD_RUNNABLE,	/* queued, in transit between queues, or running */
	THREAD_BLOCKED,
	THREAD_DEAD,
};

struct sched_class;
struct waitq;
struct task;
struct exit_record;
struct enclave;
struct gqueue;

struct thread {
	tid_t tid;
	char name[THREAD_NAME];

	/* [lock]: the thread's own lock, taken before any run queue lock. */
	struct spinlock lock;
	enum thread_state state;	/* [lock] */
	bool on_rq;		/* [lock] runnable as far as the scheduler knows: queued,
				 * in transit, or current; cleared when it blocks or dies */
	int on_cpu;		/* [a] its stack is in use by a CPU (running or switching) */
	unsigned cpu;		/* [rq lock] the CPU whose queue holds it, or ran it last */
	cpumask_t affinity;	/* [lock] CPUs it may run on */
	const struct sched_class *class;

	struct list rq_link;	/* [rq lock] */
	struct list wait_link;	/* [waitq lock] */
	struct waitq *waiting_on;	/* [waitq lock] */

	uintptr_t sp;		/* saved kernel stack pointer while not running */
	void *stack;		/* KSTACK_SIZE bytes; NULL for a CPU's boot stack */
	void *fpu;		/* FPU/SSE/AVX state, 64-byte aligned */
	void *fpu_raw;
	uint64_t slice_end;	/* native: when its time slice ends (ns) */
	uint64_t runtime_ns;	/* time spent running */
	uint64_t last_start;

	struct task *task;	/* [b] NULL for kernel threads */
	struct list task_link;	/* [task lock] */
	uintptr_t ustart_entry, ustart_arg, ustart_stack;	/* a user thread's start */
	struct exit_record *exit_record;	/* a joinable user thread's */
	uintptr_t futex_addr;	/* [futex bucket lock] what it waits on */
	bool futex_woken;	/* [futex bucket lock] */
	bool futex_timed_out;	/* [futex bucket lock] */
	struct waitq *futex_wq;	/* the bucket it waits in */

	struct enclave *enclave;	/* [enclave lock and lock] NULL outside enclaves */
	struct list enclave_link;	/* [enclave lock] */
	struct gqueue *gq;		/* [lock] ghost: the queue its messages go to */
	uint64_t gq_head;		/* [lock] ghost: that queue's head after its last one */
	uint32_t tseq;			/* [lock] ghost: moves at every event */
	bool ghost_running;		/* [lock] ghost: picked, not yet off its CPU */
	uint64_t ghost_waiting;		/* [lock] ghost: runnable without a CPU since, or 0 */
	bool ghost_batch;		/* [lock] GHOST_THREAD_BATCH */
	uint32_t cookie;		/* [lock] security domain (GHOST_SET_COOKIE), 0:
					 * none; inherited from the creating thread */
	bool yielding;			/* its schedule() is a yield (THREAD_YIELD) */
	bool born;			/* started: runnable once, somewhere */
	struct enclave *agent_of;	/* [enclave lock and lock] the enclave it is agent of */
	unsigned agent_cpu;		/* [b] with agent_of: the CPU it schedules from */
	int latched_cpu;		/* ghost: latched on cpu+1, or 0; set under the enclave
					 * lock and that CPU's rq_lock, cleared under the rq_lock */

	int refs;		/* [slots_lock] thread_get holds */
	bool unlinked;		/* [slots_lock] its slot is free: memory goes at the last put */
	bool ends_task;		/* the last thread of its task: waiters wait for its reaping */
	bool dying;		/* [lock] in thread_exit: no enclave takes it any more */
	bool detached;
	long exit_code;
	struct list join_waiters_link;
	struct waitq *joiners;	/* woken at exit */
	struct timer sleep_timer;
};

/* Creating and ending threads.  fn runs with interrupts on; returning from it is
 * thread_exit(0).  Returns NULL when out of memory or thread slots.  The thread
 * object stays valid until it is joined (or, if detached, until it exits: read
 * what you need before thread_detach). */
struct thread *thread_create(const char *name, void (*fn)(void *arg), void *arg);
/* Like thread_create, restricted to the CPUs in affinity. */
struct thread *thread_create_on(const char *name, void (*fn)(void *arg), void *arg,
				const cpumask_t *affinity);
/* A thread of task that enters user mode at entry(arg) with stack; not yet runnable
 * (thread_start() makes it so). */
struct thread *thread_create_user(struct task *task, uintptr_t entry, uintptr_t arg,
				  uintptr_t stack);
void thread_start(struct thread *t);
/* Free a thread from thread_create_user that was never started. */
void thread_destroy_unstarted(struct thread *t);
noreturn void thread_exit(long code);
/* Wait for tid to exit; its code goes to *code.  -ENOENT for an id that names no
 * joinable thread (never was, already joined, or detached), -EDEADLK for oneself. */
int thread_join(tid_t tid, long *code);
void thread_detach(struct thread *t);
struct thread *thread_current(void);
void thread_yield(void);
/* Sleep at least ns nanoseconds. */
void thread_sleep(uint64_t ns);
/* Set the CPUs t may run on (takes effect at its next scheduling decision).  -EINVAL
 * for an empty set or one with no online CPU. */
int thread_set_affinity(struct thread *t, const cpumask_t *m);
int thread_set_affinity_locked(struct thread *t, const cpumask_t *m);
unsigned thread_count(void);	/* slots in use (for leak checks) */
/* The thread with this id, or NULL if the id is stale or was never issued.  The
 * object is not held: the caller must know it cannot be freed meanwhile. */
struct thread *thread_lookup(tid_t tid);
/* The same, held: its memory stays until thread_put (it may exit meanwhile). */
struct thread *thread_get(tid_t tid);
void thread_put(struct thread *t);

/* Wake the waiters of wq for which match(t, arg) holds, at most n; wq->lock held. */
int waitq_wake_match_locked(struct waitq *wq, bool (*match)(struct thread *t, void *arg),
			    void *arg, int n);

/* Wait queues.  The waiter holds wq->lock when it checks its condition and calls
 * waitq_wait(), which releases it while asleep and retakes it before returning; a
 * waker changes the condition and calls waitq_wake_*() under the same lock, so no
 * wakeup is lost (docs/TRICKS.md). */
struct waitq {
	struct spinlock lock;
	struct list waiters;	/* [lock] */
};
void waitq_init(struct waitq *wq, const char *name);
void waitq_wait(struct waitq *wq);
int waitq_wake_one(struct waitq *wq);	/* returns the number woken */
int waitq_wake_all(struct waitq *wq);
/* The same with wq->lock already held. */
int waitq_wake_one_locked(struct waitq *wq);
int waitq_wake_all_locked(struct waitq *wq);

/* Scheduler core (kernel/sched.c). */
void sched_init(void);		/* boot CPU: the running context becomes thread "main" */
void sched_init_cpu(void);	/* every CPU: its idle thread; APs then run it */
noreturn void sched_idle_loop(void);
void schedule(void);		/* give up the CPU; the current thread's state decides */
void sched_wake(struct thread *t);	/* BLOCKED -> RUNNABLE; no-op otherwise */
/* Called by the architecture on the way out of an interrupt: switch if needed. */
void sched_preempt_point(bool interrupted_with_irqs_on);
uint64_t sched_slice_ns(void);
