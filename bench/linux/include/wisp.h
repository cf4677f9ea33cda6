/* bench/linux/include/wisp.h: the part of wisp's <wisp.h> the benchmarks use, on
 * Linux with pthreads, so tests/bench/benchsched.c and workloads/dispersion.c build
 * unchanged for a Linux guest (make bench).  Same names, same meanings. */
#pragma once

#ifndef _GNU_SOURCE
#error "build with -D_GNU_SOURCE (the Makefile does): sched_setaffinity needs it"
#endif
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t wisp_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void wisp_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline void wisp_yield(void)
{
	sched_yield();
}

static inline long wisp_gettid(void)
{
	return syscall(SYS_gettid);
}

static inline int wisp_getcpu(void)
{
	return sched_getcpu();
}

/* The CPUs thread tid (0: the caller) may run on: 0 or an errno. */
static inline int wisp_set_affinity(long tid, uint64_t cpus)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	for (int c = 0; c < 64; c++)
		if (cpus >> c & 1)
			CPU_SET(c, &set);
	return sched_setaffinity((pid_t)tid, sizeof(set), &set) ? errno : 0;
}

typedef struct {
	pthread_t t;
} wisp_thread_t;

static inline int wisp_thread_create(wisp_thread_t *t, void *(*fn)(void *), void *arg)
{
	return pthread_create(&t->t, NULL, fn, arg);
}

static inline int wisp_thread_join(wisp_thread_t t, void **result)
{
	return pthread_join(t.t, result);
}

/* 0 when woken, EAGAIN if *addr != expected, ETIMEDOUT after timeout_ns (0: none). */
static inline int wisp_futex_wait(uint32_t *addr, uint32_t expected, uint64_t timeout_ns)
{
	struct timespec ts = { (time_t)(timeout_ns / 1000000000ull), (long)(timeout_ns % 1000000000ull) };
	long r = syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, timeout_ns ? &ts : NULL,
			 NULL, 0);
	return r ? errno : 0;
}

static inline int wisp_futex_wake(uint32_t *addr, int n)
{
	return (int)syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

typedef pthread_mutex_t wisp_mutex_t;
#define WISP_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
#define wisp_mutex_lock pthread_mutex_lock
#define wisp_mutex_unlock pthread_mutex_unlock

/* No enclaves on Linux. */
static inline long wisp_ghost(int op, long a, long b, long c)
{
	return -ENOSYS;
}
