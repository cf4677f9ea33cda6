/* kernel/enclave.h: enclaves and the ghost scheduling class (kernel/enclave.c).
 *
 * An enclave owns a set of CPUs (a CPU belongs to at most one) and a set of threads.
 * Its threads are scheduled by the ghost class, which sits below native and above
 * idle: a runnable ghost thread is on no run queue at all; it runs only when a
 * transaction (kernel/ghost_txn.c) latches it onto one of the enclave's CPUs, and a
 * native thread on that CPU always comes first.  Agents, messages and shared memory
 * build on this (kernel/uapi/ghost.h). */
#pragma once

#include <kernel/cpumask.h>
#include <kernel/list.h>
#include <kernel/spinlock.h>
#include <kernel/thread.h>
#include <kernel/uapi/ghost.h>

struct enclave {
	int id;
	cpumask_t cpus;			/* [b] */
	struct spinlock lock;		/* before a thread's lock */
	struct list threads;		/* [lock] members, by enclave_link */
	unsigned nthreads;		/* [lock] */
	bool dying;			/* [lock] */
	struct list link;		/* [enclaves_lock] */
};

extern const struct sched_class ghost_class;

/* Create an enclave over cpus, which must be online and owned by no enclave.
 * NULL with *err = -EINVAL (empty or offline set), -EBUSY (a CPU is taken), -ENOMEM. */
struct enclave *enclave_create(const cpumask_t *cpus, int *err);
/* Every thread goes back to the native class with its state (runnable ones run
 * again, blocked ones stay blocked); the CPUs are free again; e is freed. */
void enclave_destroy(struct enclave *e);
/* Move t into e.  It leaves the native class at its next scheduling point (at once
 * if it is blocked).  -EBUSY if it is in an enclave already, -EINVAL for a CPU's idle
 * thread. */
int enclave_add_thread(struct enclave *e, struct thread *t);
/* The thread leaves e for the native class, runnable state intact. */
int enclave_remove_thread(struct enclave *e, struct thread *t);
/* Commit txn for cpu on behalf of e's agent: the final state is written into *txn
 * (GHOST_TXN_COMPLETE: the thread runs on cpu next, ahead of nothing native). */
enum ghost_txn_state enclave_commit(struct enclave *e, unsigned cpu, struct ghost_txn *txn);
/* A ghost thread's sequence number (Tseq); moves at every event about it. */
uint32_t enclave_tseq(const struct thread *t);
unsigned enclave_count(void);
