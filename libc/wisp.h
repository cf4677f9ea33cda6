/* libc/wisp.h: wisp's own interface for user programs, beside newlib's C library:
 * the clock, sleeping, tasks, threads, futexes, mutexes and condition variables.
 * Error values are <errno.h> numbers, which are also the kernel's (libc/errno.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Clock and scheduling. None of these fail. */
uint64_t wisp_clock_ns(void);		/* monotonic nanoseconds since boot */
void wisp_sleep_ns(uint64_t ns);	/* block at least ns; 0 returns at once */
void wisp_yield(void);			/* give the CPU to another runnable thread */
long wisp_gettid(void);			/* this thread's id */
int wisp_getcpu(void);			/* the CPU it runs on (it may move at once) */
/* The CPUs (bit n: CPU n) thread tid of this task, 0 for the caller, may run on:
 * 0, EINVAL (no online CPU in the set; for a thread of an enclave, none of the
 * enclave's) or ENOENT.  New threads inherit their creator's. */
int wisp_set_affinity(long tid, uint64_t cpus);

/* Tasks, POSIX style: the task id, or -1 with errno set.
 * wisp_spawn starts "module args..." (SYS_spawn); wisp_wait blocks until `task`
 * has ended and stores its exit status (WAIT_FAULT_BASE + vector if a fault killed
 * it, kernel/uapi/syscall.h) in *status when status is not NULL. */
long wisp_spawn(const char *cmdline);
/* The same, passing on only the capabilities in caps (CAP_* in
 * kernel/uapi/syscall.h) that this task has; wisp_spawn passes on all it has.
 * Without CAP_SPAWN both fail with EPERM. */
long wisp_spawn_caps(const char *cmdline, unsigned caps);
/* The same, every thread of the new task born in enclave (0: none; CAP_ENCLAVE). */
long wisp_spawn_enclave(const char *cmdline, unsigned caps, int enclave);
long wisp_wait(long task, int *status);
/* End task (CAP_ENCLAVE): it ends with status WAIT_KILLED; its waiter reaps it.
 * 0, or -1 with errno (EPERM, ENOENT: no such live task, EINVAL: the caller). */
int wisp_kill(long task);

/* Read boot module name (a file shipped on the ISO) from offset: the bytes read,
 * 0 at its end, or -1 with errno (ENOENT: no such module). */
long wisp_module_read(const char *name, void *buf, size_t len, size_t offset);

/* SYS_ghost, raw: the kernel's result, a negative error number on failure
 * (kernel/uapi/ghost.h; agents use agents/lib instead). */
long wisp_ghost(int op, long a, long b, long c);
/* The kernel's record of enclave id (GHOST_ENCLAVE_LIST), for control programs: 0, or
 * -1 with errno ENOENT when there is no such enclave (any more). */
struct ghost_enclave_info;
int wisp_enclave_info(int id, struct ghost_enclave_info *out);
/* Core scheduling (kernel/uapi/ghost.h): set thread tid's security domain (tid 0: the
 * calling thread; its new threads and spawned tasks inherit it; CAP_ENCLAVE), and read
 * the audit and flush counters of cpu (-1: every CPU).  0, or -1 with errno set. */
int wisp_set_cookie(long tid, uint32_t cookie);
struct ghost_core_stats;
int wisp_core_stats(int cpu, struct ghost_core_stats *out);

/* Futexes: wait returns 0 when woken (or spuriously), EAGAIN if *addr != expected
 * on entry, ETIMEDOUT after timeout_ns (0: no timeout). wake returns how many
 * threads it woke, or -1 with errno set. */
int wisp_futex_wait(uint32_t *addr, uint32_t expected, uint64_t timeout_ns);
int wisp_futex_wake(uint32_t *addr, int n);

/* Threads, pthreads style: 0 or a positive errno value. A thread runs fn(arg) on a
 * stack of its own (SYS_mmap'd, no guard page: overflowing it corrupts whatever lies
 * below); fn's return value, or wisp_thread_exit's argument, is what join reports.
 * Every thread must be joined exactly once: join frees the stack, which only it may
 * do (the thread is gone by then). Stack sizes are rounded up to 4 KiB pages. */
#define WISP_THREAD_STACK_SIZE	(64 * 1024)

typedef struct wisp_thread {
	long tid;
	void *stack;		/* the mapping wisp_thread_join unmaps */
	size_t stack_size;
} wisp_thread_t;

int wisp_thread_create(wisp_thread_t *t, void *(*fn)(void *), void *arg);
int wisp_thread_create_stack(wisp_thread_t *t, void *(*fn)(void *), void *arg,
			     size_t stack_size);
int wisp_thread_join(wisp_thread_t t, void **result);
_Noreturn void wisp_thread_exit(void *result);

/* Mutex: Drepper's three-state futex mutex ("Futexes Are Tricky", mutex3).
 * Not recursive and not owner-checked: unlocking a mutex another thread holds is a
 * bug nobody catches; unlocking a free one returns EPERM. Zero is unlocked. */
typedef struct wisp_mutex {
	uint32_t state;		/* 0 free, 1 held, 2 held and threads may be waiting */
} wisp_mutex_t;

#define WISP_MUTEX_INIT	{ 0 }

int wisp_mutex_lock(wisp_mutex_t *m);
int wisp_mutex_trylock(wisp_mutex_t *m);	/* 0, or EBUSY when held */
int wisp_mutex_unlock(wisp_mutex_t *m);

/* Condition variable: a sequence counter that every signal bumps; a waiter sleeps
 * on the value it read while holding the mutex, so a signal between its unlock and
 * its sleep is never lost. Wakeups may be spurious: wait in a loop on the predicate.
 * Zero is a valid initial state. */
typedef struct wisp_cond {
	uint32_t seq;
} wisp_cond_t;

#define WISP_COND_INIT	{ 0 }

int wisp_cond_wait(wisp_cond_t *c, wisp_mutex_t *m);	/* m held on entry and return */
int wisp_cond_signal(wisp_cond_t *c);
int wisp_cond_broadcast(wisp_cond_t *c);

/* The heap (sbrk, hence malloc) is one SYS_mmap reservation of this many bytes, made
 * on the first allocation; malloc fails with ENOMEM past it. 64 MiB unless a program
 * defines its own: `const size_t wisp_heap_size = 256 << 20;`. */
extern const size_t wisp_heap_size;
