/* tests/bench/benchsched.c: bench=sched, measured from user space the way a Linux
 * user-space benchmark would (tests/bench/linux counterpart later): TSC timestamps
 * converted with the kernel clock, one JSON object per line, nothing asserted.
 *   null_syscall_ns      SYS_getpid round trip
 *   futex_pingpong_ns    one hand-off between two threads through a futex (a switch
 *                        when both share a CPU, a cross-CPU wakeup otherwise)
 *   wakeup_latency_ns    futex wake to the woken thread running, one way
 *   thread_create_join_ns  a thread created and joined */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <syscall.h>
#include <wisp.h>

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *metric, uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("{\"bench\":\"sched\",\"metric\":\"%s\",\"samples\":%d,\"median\":%llu,"
	       "\"p99\":%llu,\"p999\":%llu,\"min\":%llu}\n", metric, n,
	       (unsigned long long)v[n / 2], (unsigned long long)v[n * 99 / 100],
	       (unsigned long long)v[n * 999 / 1000], (unsigned long long)v[0]);
}

enum { N = 2000 };
static uint64_t samples[N];

static void null_syscall(void)
{
	for (int i = 0; i < N; i++) {
		uint64_t t0 = wisp_clock_ns();
		for (int k = 0; k < 100; k++)
			wisp_syscall3(SYS_getpid, 0, 0, 0);
		samples[i] = (wisp_clock_ns() - t0) / 100;
	}
	report("null_syscall_ns", samples, N);
}

static uint32_t word;
static volatile uint64_t sent_at;

static void *partner(void *arg)
{
	for (int i = 0; i < N; i++) {
		while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) != 1)
			wisp_futex_wait(&word, 0, 0);
		samples[i] = wisp_clock_ns() - sent_at;	/* one-way wakeup */
		__atomic_store_n(&word, 0, __ATOMIC_RELEASE);
		wisp_futex_wake(&word, 1);
	}
	return NULL;
}

static void pingpong(void)
{
	static uint64_t rt[N];
	wisp_thread_t t;

	word = 0;
	wisp_thread_create(&t, partner, NULL);
	for (int i = 0; i < N; i++) {
		uint64_t t0 = wisp_clock_ns();
		sent_at = t0;
		__atomic_store_n(&word, 1, __ATOMIC_RELEASE);
		wisp_futex_wake(&word, 1);
		while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) != 0)
			wisp_futex_wait(&word, 1, 0);
		rt[i] = (wisp_clock_ns() - t0) / 2;
	}
	wisp_thread_join(t, NULL);
	report("wakeup_latency_ns", samples, N);
	report("futex_pingpong_ns", rt, N);
}

static void *nothing(void *arg)
{
	return arg;
}

static void create_join(void)
{
	for (int i = 0; i < 500; i++) {
		wisp_thread_t t;
		uint64_t t0 = wisp_clock_ns();
		wisp_thread_create(&t, nothing, NULL);
		wisp_thread_join(t, NULL);
		samples[i] = wisp_clock_ns() - t0;
	}
	report("thread_create_join_ns", samples, 500);
}

int main(void)
{
	null_syscall();
	pingpong();
	create_join();
	return 0;
}
