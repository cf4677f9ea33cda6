/* tests/user/usertests.c: the user-space test table (xv6 usertests in spirit).
 * `usertests` runs every case, each in a task of its own (`usertests CASE`), so one
 * that crashes costs only itself; it prints "ok CASE" or "FAIL CASE" and ends with
 * "N passed, N failed", exiting 0 only if all passed.  The kernel's test=user runs
 * it and adds a leak check around the whole run. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kernel/uapi/errno.h>
#include <kernel/uapi/syscall.h>
#include <syscall.h>
#include <wisp.h>

#include "tests/user/runner.h"

static long raw(long n, long a, long b, long c)
{
	return wisp_syscall3(n, a, b, c);
}

/* printf and malloc/free of many sizes. */
static int t_printf_malloc(void)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%d %5.2f %s %lx %c", -7, 3.14159, "wisp", 0xbeefUL, 'z');
	CHECK(!strcmp(buf, "-7  3.14 wisp beef z"));
	void *p[200];
	for (int i = 0; i < 200; i++) {
		size_t n = (size_t)(i * i * 37 % 200000) + 1;
		p[i] = malloc(n);
		CHECK(p[i] != NULL);
		memset(p[i], i, n);
	}
	for (int i = 0; i < 200; i++) {
		size_t n = (size_t)(i * i * 37 % 200000) + 1;
		CHECK(((unsigned char *)p[i])[n - 1] == (unsigned char)i);
		free(p[i]);
	}
	void *big = malloc(16 << 20);
	CHECK(big != NULL);
	memset(big, 1, 16 << 20);
	free(big);
	return 0;
}

/* Floating point across preemption: many threads, more than CPUs, each computing a
 * long chain whose result must not depend on who else ran in between. */
static double chain(double seed, int n)
{
	double x = seed;
	for (int i = 0; i < n; i++)
		x = x * 1.0000001 + 0.5 / (x + 1.0);
	return x;
}

static void *fpu_worker(void *arg)
{
	double seed = (double)(uintptr_t)arg;
	double want = chain(seed, 200000);
	for (int round = 0; round < 5; round++) {
		if (chain(seed, 200000) != want)
			return (void *)1;
		wisp_yield();
	}
	return NULL;
}

static int t_fpu_preemption(void)
{
	enum { N = 12 };
	wisp_thread_t t[N];

	for (int i = 0; i < N; i++)
		CHECK(wisp_thread_create(&t[i], fpu_worker, (void *)(uintptr_t)(i + 1)) == 0);
	for (int i = 0; i < N; i++) {
		void *r;
		CHECK(wisp_thread_join(t[i], &r) == 0);
		CHECK(r == NULL);
	}
	return 0;
}

static void *echo(void *arg)
{
	return arg;
}

/* 1000 threads created and joined, 50 alive at a time. */
static int t_threads_1000(void)
{
	wisp_thread_t t[50];

	for (int base = 0; base < 1000; base += 50) {
		for (int i = 0; i < 50; i++) {
			int err = wisp_thread_create(&t[i], echo, (void *)(uintptr_t)(base + i));
			if (err)
				printf("    thread %d: error %d (%s)\n", base + i, err, strerror(err));
			CHECK(err == 0);
		}
		for (int i = 0; i < 50; i++) {
			void *r;
			CHECK(wisp_thread_join(t[i], &r) == 0);
			CHECK(r == (void *)(uintptr_t)(base + i));
		}
	}
	return 0;
}

/* Two threads hand a token back and forth through one futex word. */
static uint32_t token;
enum { ROUNDS = 5000 };

static void *pong(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		while (__atomic_load_n(&token, __ATOMIC_ACQUIRE) != 1)
			wisp_futex_wait(&token, 0, 0);
		__atomic_store_n(&token, 0, __ATOMIC_RELEASE);
		wisp_futex_wake(&token, 1);
	}
	return NULL;
}

static int t_futex_pingpong(void)
{
	wisp_thread_t t;

	token = 0;
	CHECK(wisp_thread_create(&t, pong, NULL) == 0);
	for (int i = 0; i < ROUNDS; i++) {
		__atomic_store_n(&token, 1, __ATOMIC_RELEASE);
		wisp_futex_wake(&token, 1);
		while (__atomic_load_n(&token, __ATOMIC_ACQUIRE) != 0)
			wisp_futex_wait(&token, 1, 0);
	}
	CHECK(wisp_thread_join(t, NULL) == 0);
	CHECK(wisp_futex_wait(&token, 5, 0) == EAGAIN);
	CHECK(wisp_futex_wait(&token, 0, 1000000) == ETIMEDOUT);
	return 0;
}

/* A bounded queue with a mutex and two condition variables, 4 producers and 4
 * consumers, plus a contended counter. */
static wisp_mutex_t m = WISP_MUTEX_INIT;
static wisp_cond_t not_empty = WISP_COND_INIT, not_full = WISP_COND_INIT;
static int queue[8], head, tail, count;
static long total_consumed, counter;
enum { PER_PRODUCER = 2000 };

static void *producer(void *arg)
{
	for (int i = 1; i <= PER_PRODUCER; i++) {
		wisp_mutex_lock(&m);
		while (count == 8)
			wisp_cond_wait(&not_full, &m);
		queue[tail++ % 8] = i;
		count++;
		counter++;
		wisp_cond_signal(&not_empty);
		wisp_mutex_unlock(&m);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	long sum = 0;
	for (int i = 0; i < PER_PRODUCER; i++) {
		wisp_mutex_lock(&m);
		while (count == 0)
			wisp_cond_wait(&not_empty, &m);
		sum += queue[head++ % 8];
		count--;
		wisp_cond_signal(&not_full);
		wisp_mutex_unlock(&m);
	}
	wisp_mutex_lock(&m);
	total_consumed += sum;
	wisp_mutex_unlock(&m);
	return NULL;
}

static int t_mutex_condvar(void)
{
	wisp_thread_t p[4], c[4];

	for (int i = 0; i < 4; i++) {
		CHECK(wisp_thread_create(&p[i], producer, NULL) == 0);
		CHECK(wisp_thread_create(&c[i], consumer, NULL) == 0);
	}
	for (int i = 0; i < 4; i++) {
		CHECK(wisp_thread_join(p[i], NULL) == 0);
		CHECK(wisp_thread_join(c[i], NULL) == 0);
	}
	CHECK(total_consumed == 4L * PER_PRODUCER * (PER_PRODUCER + 1) / 2);
	CHECK(counter == 4L * PER_PRODUCER);
	CHECK(count == 0);
	CHECK(wisp_mutex_unlock(&m) == EPERM);
	return 0;
}

/* Every call that takes a pointer, given bad ones: an error, never a crash. */
static int t_bad_pointers(void)
{
	const long kernel = (long)0xffffffff80100000ul, noncanon = (long)0x8000000000001000ul;
	const long unmapped = 0x00007f0000000000l, null = 0;
	const long bad[] = { kernel, noncanon, unmapped, null };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(raw(SYS_write, 1, bad[i], 16) == -EFAULT);
		CHECK(raw(SYS_read, 0, bad[i], 16) == -EFAULT);
		CHECK(raw(SYS_spawn, bad[i], 0, 0) == -EFAULT);
		CHECK(raw(SYS_futex_wait, bad[i], 0, 0) == -EFAULT);
		CHECK(raw(SYS_thread_join, 0x12345, bad[i], 0) == -ENOENT);
	}
	CHECK(raw(SYS_futex_wait, (long)&token + 1, 0, 0) == -EINVAL);
	CHECK(raw(SYS_munmap, unmapped, 4096, 0) == -EINVAL);
	CHECK(raw(SYS_mmap, -1, 3, 0) == -EINVAL);
	CHECK(raw(SYS_mmap, 4096, 99, 0) == -EINVAL);
	CHECK(raw(SYS_thread_create, kernel, 0, 0) == -EINVAL);
	CHECK(raw(999, 0, 0, 0) == -ENOSYS);
	CHECK(raw(-1, 0, 0, 0) == -ENOSYS);
	/* A wait whose status pointer is bad still waits, then reports EFAULT. */
	long id = wisp_spawn("raw");
	CHECK(id > 0);
	CHECK(raw(SYS_wait, id, kernel, 0) == -EFAULT);
	return 0;
}

/* Each fault kind ends only the task that faults. */
static int t_fault_kinds(void)
{
	static const char *const kinds[] = { "pf", "gp", "ud", "de", "nx", "kernel" };
	static const int vectors[] = { 14, 13, 6, 0, 14, 14 };
	char cmd[32];

	for (unsigned i = 0; i < 6; i++) {
		int status = -1;
		snprintf(cmd, sizeof(cmd), "fault %s", kinds[i]);
		long id = wisp_spawn(cmd);
		CHECK(id > 0);
		CHECK(wisp_wait(id, &status) == id);
		CHECK(status == WAIT_FAULT_BASE + vectors[i]);
	}
	return 0;
}

static int t_bad_programs(void)
{
	CHECK(wisp_spawn("badelf") == -1 && errno == ENOEXEC);
	CHECK(wisp_spawn("nosuchprogram") == -1 && errno == ENOENT);
	return 0;
}

/* Starting programs takes CAP_SPAWN; a child given none cannot, nor can its own
 * children regain it. */
static int t_spawn_needs_capability(void)
{
	int status = -1;
	long id = wisp_spawn_caps("usertests spawn_without_capability", 0);
	CHECK(id > 0);
	CHECK(wisp_wait(id, &status) == id);
	CHECK(status == 0);
	return 0;
}

static int t_spawn_without_capability(void)
{
	CHECK(wisp_spawn("raw") == -1 && errno == EPERM);
	CHECK(wisp_spawn_caps("raw", CAP_ALL) == -1 && errno == EPERM);
	return 0;
}

static int t_clock_sleep_ids(void)
{
	uint64_t t0 = wisp_clock_ns();
	wisp_sleep_ns(2000000);
	CHECK(wisp_clock_ns() - t0 >= 2000000);
	CHECK(raw(SYS_getpid, 0, 0, 0) > 0);
	CHECK(wisp_gettid() > 0);
	return 0;
}

static const struct test_case cases[] = {
	{ "printf_malloc", t_printf_malloc },
	{ "fpu_preemption", t_fpu_preemption },
	{ "threads_1000", t_threads_1000 },
	{ "futex_pingpong", t_futex_pingpong },
	{ "mutex_condvar", t_mutex_condvar },
	{ "bad_pointers", t_bad_pointers },
	{ "fault_kinds", t_fault_kinds },
	{ "bad_programs", t_bad_programs },
	{ "clock_sleep_ids", t_clock_sleep_ids },
	{ "spawn_needs_capability", t_spawn_needs_capability },
};

/* Run only as a child of spawn_needs_capability, never from the table. */
static const struct {
	const char *name;
	int (*fn)(void);
} helpers[] = {
	{ "spawn_without_capability", t_spawn_without_capability },
};

int main(int argc, char **argv)
{
	int n = (int)(sizeof(cases) / sizeof(cases[0]));

	if (argc > 1) {
		for (int i = 0; i < n; i++)
			if (!strcmp(argv[1], cases[i].name))
				return cases[i].fn();
		for (unsigned i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
			if (!strcmp(argv[1], helpers[i].name))
				return helpers[i].fn();
		printf("usertests: no case named %s\n", argv[1]);
		return 2;
	}
	return run_cases("usertests", "user", cases, NULL);
}
