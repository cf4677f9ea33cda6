/* libc/thread.c: threads, mutexes and condition variables for user programs
 * (libc/wisp.h), on SYS_thread_create/exit/join, SYS_mmap and futexes. The mutex is
 * the last one of Drepper's "Futexes Are Tricky" (2011), "mutex3". */
#include <errno.h>

#include "internal.h"
#include "syscall.h"
#include "wisp.h"

#define PAGE_SIZE	4096UL

/* What a new thread runs: kept at the very top of its stack, above the first frame,
 * so it lives exactly as long as the thread needs it and costs no allocation. */
struct thread_start {
	void *(*fn)(void *);
	void *arg;
};

_Static_assert(sizeof(struct thread_start) % 16 == 0, "the stack top stays 16-aligned");

int wisp_threads_started;
long wisp_main_tid;

void wisp_thread_entry(void *start);			/* libc/crt0.S */
_Noreturn void wisp_thread_start(struct thread_start *start);

/* Called by wisp_thread_entry on the new thread's own stack. */
_Noreturn void wisp_thread_start(struct thread_start *start)
{
	wisp_thread_exit(start->fn(start->arg));
}

_Noreturn void wisp_thread_exit(void *result)
{
	for (;;)
		wisp_syscall1(SYS_thread_exit, (long)result);
}

int wisp_thread_create(wisp_thread_t *t, void *(*fn)(void *), void *arg)
{
	return wisp_thread_create_stack(t, fn, arg, WISP_THREAD_STACK_SIZE);
}

/* Returns EINVAL for a stack too small to hold a frame, ENOMEM (or the kernel's
 * error) when the stack or the thread cannot be made; *t is untouched then. */
int wisp_thread_create_stack(wisp_thread_t *t, void *(*fn)(void *), void *arg,
			     size_t stack_size)
{
	struct thread_start *start;
	size_t size;
	long base, tid;

	if (t == NULL || fn == NULL || stack_size < PAGE_SIZE || stack_size > (1UL << 40))
		return EINVAL;
	size = (stack_size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	base = wisp_syscall2(SYS_mmap, (long)size, PROT_READ | PROT_WRITE);
	if (base < 0)
		return (int)-base;

	if (!wisp_threads_started) {
		wisp_main_tid = wisp_gettid();
		__atomic_store_n(&wisp_threads_started, 1, __ATOMIC_RELAXED);
	}
	start = (struct thread_start *)(base + size) - 1;
	start->fn = fn;
	start->arg = arg;
	tid = wisp_syscall3(SYS_thread_create, (long)wisp_thread_entry, (long)start,
			    (long)start);
	if (tid < 0) {
		wisp_syscall2(SYS_munmap, base, (long)size);
		return (int)-tid;
	}
	t->tid = tid;
	t->stack = (void *)base;
	t->stack_size = size;
	return 0;
}

/* Blocks until t has ended. Only then is its stack unused (SYS_thread_join returns
 * after the thread left user mode for good), so only then is it unmapped. A failed
 * join (a bad or already joined id) frees nothing. */
int wisp_thread_join(wisp_thread_t t, void **result)
{
	long code = 0;
	long r = wisp_syscall2(SYS_thread_join, t.tid, (long)&code);

	if (r < 0)
		return (int)-r;
	if (t.stack != NULL)
		wisp_syscall2(SYS_munmap, (long)t.stack, (long)t.stack_size);
	if (result != NULL)
		*result = (void *)code;
	return 0;
}

/* Mutex states: 0 free, 1 held with no waiter, 2 held and maybe waiters. Only a
 * thread that saw 2, or set it, sleeps; unlock wakes one only if it takes 2 away.
 * A woken thread sets 2 again as it takes the lock, because it cannot know whether
 * others still sleep: one extra wake at worst, never a lost one. */
int wisp_mutex_lock(wisp_mutex_t *m)
{
	uint32_t c = 0;

	if (__atomic_compare_exchange_n(&m->state, &c, 1, 0, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return 0;
	if (c != 2)
		c = __atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		wisp_futex_wait(&m->state, 2, 0);
		c = __atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE);
	}
	return 0;
}

int wisp_mutex_trylock(wisp_mutex_t *m)
{
	uint32_t c = 0;

	if (__atomic_compare_exchange_n(&m->state, &c, 1, 0, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return 0;
	return EBUSY;
}

int wisp_mutex_unlock(wisp_mutex_t *m)
{
	/* Drepper decrements and stores 0 if the old value was 2; one exchange does
	 * both, with the same outcome. */
	uint32_t c = __atomic_exchange_n(&m->state, 0, __ATOMIC_RELEASE);

	if (c == 2)
		wisp_futex_wake(&m->state, 1);
	return c == 0 ? EPERM : 0;
}

/* The sequence number is read while m is held, so any signal whose predicate
 * change this waiter did not see bumps it afterwards, and the futex wait then
 * returns at once (EAGAIN) instead of sleeping through it. Wraparound after 2^32
 * signals between the read and the wait is the one way to lose a wakeup. */
int wisp_cond_wait(wisp_cond_t *c, wisp_mutex_t *m)
{
	uint32_t seq = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);

	wisp_mutex_unlock(m);
	wisp_futex_wait(&c->seq, seq, 0);
	return wisp_mutex_lock(m);
}

int wisp_cond_signal(wisp_cond_t *c)
{
	__atomic_fetch_add(&c->seq, 1, __ATOMIC_RELEASE);
	wisp_futex_wake(&c->seq, 1);
	return 0;
}

/* Wakes every waiter; they then contend for the mutex one by one. */
int wisp_cond_broadcast(wisp_cond_t *c)
{
	__atomic_fetch_add(&c->seq, 1, __ATOMIC_RELEASE);
	wisp_futex_wake(&c->seq, 0x7fffffff);
	return 0;
}
