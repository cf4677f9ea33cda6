/* workloads/workload.c: a synthetic workload for scheduler tests (made for ghOSt
 * enclaves, runs anywhere).
 *
 * `workload THREADS [CONCURRENCY] [SEED]` (defaults 1000, 32, 1) runs THREADS threads,
 * at most CONCURRENCY alive at once, starting a new one whenever one is joined.  Each
 * does a seeded random mix of steps: compute (a busy loop whose result it checks),
 * sleep (10-200 us), yield, and block (wait on the doorbell futex until another
 * thread rings it); it rings the doorbell after every step and returns a value the
 * main thread checks.  A blocked thread also gives up after BLOCK_TIMEOUT_NS, so
 * threads that all block at once cannot deadlock.  Prints exactly one line,
 * `workload: N threads done, M errors`, and exits 0 only if M is 0. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <wisp.h>

#define MAX_CONCURRENCY		1024
#define MIN_STEPS		4
#define MAX_STEPS		12
#define BLOCK_TIMEOUT_NS	2000000ull	/* 2 ms: nobody left to ring */

static uint64_t seed = 1;
static uint32_t doorbell;	/* futex word: every ring bumps it */
static uint32_t sleepers;	/* threads waiting on the doorbell (a hint for ring) */

struct slot {
	wisp_thread_t thread;
	uintptr_t id;
	bool live;
};

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* A thread's own generator state, from the run's seed and its id (splitmix64). */
static uint64_t thread_seed(uintptr_t id)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ull + id + 1;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

static unsigned between(uint64_t *s, unsigned lo, unsigned hi)
{
	return lo + (unsigned)(xorshift(s) % (hi - lo + 1));
}

/* What thread id returns when all went well (never 0). */
static uintptr_t expected(uintptr_t id)
{
	return id * 2 + 1;
}

/* The sum of i*i for i < n, the long way (the empty asm keeps the compiler from
 * using the formula): a register mixed up across a switch shows as a wrong sum. */
static bool compute(unsigned n)
{
	uint64_t sum = 0, m = n;

	for (uint64_t i = 0; i < m; i++) {
		sum += i * i;
		__asm__ volatile("" : "+r"(sum));
	}
	return sum == (m - 1) * m * (2 * m - 1) / 6;
}

static void ring(void)
{
	__atomic_add_fetch(&doorbell, 1, __ATOMIC_RELEASE);
	if (__atomic_load_n(&sleepers, __ATOMIC_ACQUIRE))
		wisp_futex_wake(&doorbell, MAX_CONCURRENCY + 1);
}

/* Wait for the next ring; a ring between the load and the wait returns at once. */
static void block(void)
{
	uint32_t v = __atomic_load_n(&doorbell, __ATOMIC_ACQUIRE);

	__atomic_add_fetch(&sleepers, 1, __ATOMIC_ACQ_REL);
	wisp_futex_wait(&doorbell, v, BLOCK_TIMEOUT_NS);
	__atomic_sub_fetch(&sleepers, 1, __ATOMIC_ACQ_REL);
}

static void *worker(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	uint64_t s = thread_seed(id);
	unsigned steps = between(&s, MIN_STEPS, MAX_STEPS);
	bool ok = true;

	for (unsigned i = 0; i < steps; i++) {
		switch (xorshift(&s) % 4) {
		case 0:
			ok &= compute(between(&s, 2000, 8000));
			break;
		case 1:
			wisp_sleep_ns(between(&s, 10, 200) * 1000ull);
			break;
		case 2:
			wisp_yield();
			break;
		default:
			block();
			break;
		}
		ring();
	}
	return (void *)(ok ? expected(id) : 0);
}

/* Start thread id in sl; false (an error) if it cannot be made. */
static bool launch(struct slot *sl, uintptr_t id)
{
	int err = wisp_thread_create(&sl->thread, worker, (void *)id);

	sl->id = id;
	sl->live = err == 0;
	if (err)
		fprintf(stderr, "workload: thread %lu: cannot create: error %d\n",
			(unsigned long)id, err);
	return sl->live;
}

/* Join sl's thread; false (an error) if the join fails or its value is wrong. */
static bool reap(struct slot *sl)
{
	void *r = NULL;
	int err = wisp_thread_join(sl->thread, &r);

	sl->live = false;
	ring();
	if (!err && (uintptr_t)r == expected(sl->id))
		return true;
	fprintf(stderr, "workload: thread %lu: join error %d, returned %#lx\n",
		(unsigned long)sl->id, err, (unsigned long)(uintptr_t)r);
	return false;
}

static unsigned long arg(int argc, char **argv, int i, unsigned long dflt)
{
	return argc > i ? strtoul(argv[i], NULL, 0) : dflt;
}

int main(int argc, char **argv)
{
	static struct slot slots[MAX_CONCURRENCY];
	unsigned long total = arg(argc, argv, 1, 1000);
	unsigned long conc = arg(argc, argv, 2, 32);
	unsigned long next = 0, done = 0, errors = 0, alive = 0;

	seed = arg(argc, argv, 3, 1);
	if (conc < 1 || conc > MAX_CONCURRENCY) {
		fprintf(stderr, "usage: workload THREADS [CONCURRENCY 1-%d] [SEED]\n",
			MAX_CONCURRENCY);
		return 2;
	}
	for (unsigned long i = 0; i < conc && next < total; i++) {
		if (launch(&slots[i], next++))
			alive++;
		else
			errors++;
	}
	/* Join round-robin over the slots, refilling each as it empties. */
	for (unsigned long i = 0; alive; i = (i + 1) % conc) {
		if (!slots[i].live)
			continue;
		alive--;
		done++;
		if (!reap(&slots[i]))
			errors++;
		while (next < total && !slots[i].live) {
			if (launch(&slots[i], next++))
				alive++;
			else
				errors++;
		}
	}
	printf("workload: %lu threads done, %lu errors\n", done, errors);
	return errors ? 1 : 0;
}
