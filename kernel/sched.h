/* kernel/sched.h: the scheduling classes (kernel/sched.c is the core).
 *
 * A class is an ops table.  The core asks the classes in priority order -- native,
 * agent, ghost (those two in kernel/enclave.c), idle -- and runs the
 * first thread one of them offers.  Contract, per operation:
 *
 *   select_cpu(t)       t is about to become runnable (created or woken).  Return an
 *                       online CPU in t->affinity.  No locks held; may read hints.
 *   enqueue(c, t)       put t on c's queue.  c->rq_lock held, interrupts off.  t is
 *                       RUNNABLE and not on any queue.  Must not fail.
 *   pick_next(c)        take the thread that should run next on c off the queue and
 *                       return it, or NULL if the class has nothing.  rq_lock held.
 *   put_prev(c, t)      t was running on c and stays runnable (preempted or yield):
 *                       requeue it.  rq_lock held.
 *   set_next(c, t)      t is about to run on c (after pick_next).  rq_lock held.
 *   run_start(c, t)     t now runs on c: the switch to it is complete (or there was
 *                       none).  rq_lock held, interrupts off.  A class with time
 *                       slices starts them here, so the switch itself, which can
 *                       take tens of µs under an emulator, never eats the slice.
 *   steal(c)            c is idle: take one runnable thread that may run on c off
 *                       another CPU's queue and return it (not on any queue), or NULL.
 *                       No locks held on entry or exit; take one rq_lock at a time.
 *                       Never take a thread whose on_cpu is set.
 *
 * If a class does nothing in enqueue, its thread is simply lost: the core trusts
 * classes, unlike agents, which it never trusts. */
#pragma once

#include <kernel/cpu.h>
#include <kernel/thread.h>

struct sched_class {
	const char *name;
	unsigned (*select_cpu)(struct thread *t);
	void (*enqueue)(struct cpu *c, struct thread *t);
	struct thread *(*pick_next)(struct cpu *c);
	void (*put_prev)(struct cpu *c, struct thread *t);
	void (*set_next)(struct cpu *c, struct thread *t);
	void (*run_start)(struct cpu *c, struct thread *t);
	struct thread *(*steal)(struct cpu *c);
};

extern const struct sched_class native_class;
extern const struct sched_class idle_class;

/* Put a RUNNABLE thread that is on no queue onto cpu's queue and kick that CPU. */
void sched_enqueue_on(struct thread *t, unsigned cpu);
void sched_set_need_resched(struct cpu *c);
/* A native thread picked on c goes back to the head of c's queue: it waits for its SMT
 * siblings (kernel/coresched.c).  rq_lock held. */
void native_requeue_front(struct cpu *c, struct thread *t);
