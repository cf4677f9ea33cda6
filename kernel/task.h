/* kernel/task.h: tasks, the user programs (kernel/task.c): an address space, its
 * threads, an exit status.  A task ends when its last thread exits, when one of its
 * threads calls SYS_exit, or when a thread faults; its threads leave at their next
 * return towards user mode (or at once, if blocked). */
#pragma once

#include <stdbool.h>
#include <kernel/list.h>
#include <kernel/spinlock.h>
#include <kernel/thread.h>
#include <kernel/vm.h>

struct enclave;

struct task {
	long id;
	char name[32];
	unsigned caps;		/* CAP_* (kernel/uapi/syscall.h); fixed at spawn */
	struct vm *vm;
	struct spinlock lock;	/* after a waitq's lock and tasks_lock, before an
				 * enclave's and a thread's */
	struct list threads;	/* [lock] live threads */
	int nthreads;		/* [lock] */
	bool exiting;		/* [lock] set once; threads leave */
	int status;		/* [lock] exit status, final once exiting */
	bool ended;		/* [done.lock] every thread gone, address space freed */
	struct waitq done;	/* woken when ended */
	struct waitq joins;	/* [joins.lock] exits: records of user threads, by tid */
	struct list exits;	/* [joins.lock] struct exit_record of threads not yet joined */
	struct list link;	/* [tasks_lock] */
	struct enclave *ghost_enclave;	/* [enclave lock] the enclave it is agent of */
	int spawn_enclave;	/* [lock to set] its threads are born in this enclave (id),
				 * 0: none */
};

/* Start the module named by the first word of cmdline with the rest as arguments.
 * Returns the task id, or -ENOENT (no such module), -ENOEXEC (bad ELF: reported on
 * the console), -ENOMEM, -E2BIG. */
long task_spawn(const char *cmdline, unsigned caps);
/* The same, every thread of the task born in enclave id (0: none): -ENOENT if there
 * is no such enclave. */
long task_spawn_in(const char *cmdline, unsigned caps, int enclave);
/* Wait for task id to end; *status gets its status.  The task is then forgotten. */
int task_wait(long id, int *status);
/* SYS_kill: end task id with status WAIT_KILLED.  0, -ENOENT (none, or ended),
 * -EINVAL (the caller's own task). */
int task_kill(long id);
/* GHOST_ENCLAVE_ADD_TASK: every thread of task id joins e (enclave_add_thread), and
 * its new threads are born in e.  The number that joined, or -ENOENT. */
int task_join_enclave(long id, struct enclave *e);
/* End the calling thread's task with status (SYS_exit). */
noreturn void task_exit(int status);
/* The calling thread ends; the last one ends its task (SYS_thread_exit). */
noreturn void task_thread_exit(long code);
/* A user fault: report it in one line and end the task with status 128 + vector. */
noreturn void task_fault(unsigned vector, uintptr_t rip, uintptr_t addr);
/* SYS_thread_create / SYS_thread_join for the calling task. */
long task_thread_create(uintptr_t entry, uintptr_t arg, uintptr_t stack);
int task_thread_join(tid_t tid, long *code);
/* SYS_affinity: set the CPUs a thread of the calling task may run on. */
int task_thread_affinity(tid_t tid, const cpumask_t *m);
/* On the way back to user mode: leave if the task is ending. */
void task_check_exit(void);
struct task *task_current(void);
/* The last thread of t is gone, stack and all: wake t's waiters (kernel/sched.c). */
void task_ended(struct task *t);
unsigned task_count(void);	/* live or unreaped tasks (leak checks) */
