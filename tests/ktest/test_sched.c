/* tests/ktest/test_sched.c: threads and the native scheduler: create/join, ids,
 * preemption of spinning threads, spreading over CPUs, sleep, wait queues, and the
 * FPU state surviving preemption.  Waits are bounded only to turn a hang into a
 * failure; nothing depends on speed. */
#include <kernel/cpu.h>
#include <kernel/ktest.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/thread.h>
#include <kernel/uapi/errno.h>
#include <arch/arch.h>

#define HANG_NS	60000000000ull

static bool hung(uint64_t start)
{
	return clock_ns() - start > HANG_NS;
}

static void exit_with_arg(void *arg)
{
	thread_exit((long)(uintptr_t)arg * 3);
}

KTEST(sched, create_join_exit_codes)
{
	enum { N = 20 };
	tid_t ids[N];

	for (int i = 0; i < N; i++) {
		struct thread *t = thread_create("t", exit_with_arg, (void *)(uintptr_t)i);
		KT_ASSERT(t != NULL);
		ids[i] = t->tid;
	}
	for (int i = 0; i < N; i++) {
		long code = -1;
		KT_EQ(thread_join(ids[i], &code), 0);
		KT_EQ(code, i * 3);
	}
}

static void nothing(void *arg) { }

KTEST(sched, stale_and_bad_ids)
{
	struct thread *t = thread_create("short", nothing, NULL);
	KT_ASSERT(t != NULL);
	tid_t id = t->tid;
	KT_EQ(thread_join(id, NULL), 0);
	KT_EQ(thread_join(id, NULL), -ENOENT);		/* joined: the id is dead */
	struct thread *u = thread_create("next", nothing, NULL);
	KT_ASSERT(u != NULL);
	KT_ASSERT(u->tid != id);			/* a reused slot has a new generation */
	KT_EQ(thread_join(id, NULL), -ENOENT);
	KT_EQ(thread_join(u->tid, NULL), 0);
	KT_EQ(thread_join(0, NULL), -ENOENT);
	KT_EQ(thread_join(~0ull, NULL), -ENOENT);
	KT_EQ(thread_join(thread_current()->tid, NULL), -EDEADLK);
}

static volatile int stop;
static volatile long progress[MAX_CPUS];
static volatile int where[MAX_CPUS];

static void spin(void *arg)
{
	int me = (int)(uintptr_t)arg;
	while (!stop) {
		progress[me]++;
		where[me] = (int)this_cpu()->id;
	}
}

static cpumask_t only(unsigned cpu)
{
	cpumask_t m = { { 0 } };
	cpumask_set(&m, cpu);
	return m;
}

KTEST(sched, timer_preempts_spinning_threads)
{
	unsigned cpu = ncpus - 1;
	cpumask_t m = only(cpu);
	struct thread *a, *b;

	stop = 0;
	progress[0] = progress[1] = 0;
	a = thread_create_on("spin-a", spin, (void *)0, &m);
	b = thread_create_on("spin-b", spin, (void *)1, &m);
	KT_ASSERT(a && b);
	uint64_t start = clock_ns();
	/* Neither yields: both advancing means the time slice took the CPU away. */
	while ((progress[0] < 1000 || progress[1] < 1000) && !hung(start)) {
		if (cpu == this_cpu()->id)
			thread_yield();
		thread_sleep(1000000);
	}
	long pa = progress[0], pb = progress[1];
	stop = 1;
	KT_EQ(thread_join(a->tid, NULL), 0);
	KT_EQ(thread_join(b->tid, NULL), 0);
	KT_ASSERT(pa >= 1000 && pb >= 1000);
}

static volatile int parallel;

static void spin_and_look(void *arg)
{
	int me = (int)(uintptr_t)arg;
	while (!stop) {
		where[me] = (int)this_cpu()->id;
		progress[me]++;
		/* All N at once on N different CPUs? */
		cpumask_t seen = { { 0 } };
		for (unsigned i = 0; i < ncpus; i++)
			if (where[i] >= 0)
				cpumask_set(&seen, (unsigned)where[i]);
		if (me == 0 && cpumask_count(&seen) == (int)ncpus)
			parallel = 1;
	}
}

KTEST(sched, threads_spread_over_all_cpus)
{
	struct thread *t[MAX_CPUS];
	cpumask_t m = only(0);

	/* Start them all on CPU 0, then let them go: idle CPUs must come and take them. */
	stop = 0;
	parallel = 0;
	for (unsigned i = 0; i < ncpus; i++) {
		where[i] = -1;
		t[i] = thread_create_on("spread", spin_and_look, (void *)(uintptr_t)i, &m);
		KT_ASSERT(t[i] != NULL);
	}
	for (unsigned i = 0; i < ncpus; i++)
		KT_EQ(thread_set_affinity(t[i], &cpus_online), 0);
	uint64_t start = clock_ns();
	while (!parallel && !hung(start))
		thread_sleep(1000000);
	int ok = parallel;
	stop = 1;
	for (unsigned i = 0; i < ncpus; i++)
		KT_EQ(thread_join(t[i]->tid, NULL), 0);
	KT_ASSERT(ok);
}

static void sleeper(void *arg)
{
	uint64_t ns = (uint64_t)(uintptr_t)arg;
	uint64_t t0 = clock_ns();
	thread_sleep(ns);
	thread_exit(clock_ns() - t0 >= ns ? 0 : 1);
}

KTEST(sched, sleep_never_wakes_early)
{
	enum { N = 12 };
	tid_t ids[N];

	for (int i = 0; i < N; i++)
		ids[i] = thread_create("sleeper", sleeper, (void *)(uintptr_t)(100000u * (i + 1)))->tid;
	for (int i = 0; i < N; i++) {
		long early = -1;
		KT_EQ(thread_join(ids[i], &early), 0);
		KT_EQ(early, 0);
	}
	uint64_t t0 = clock_ns();
	thread_sleep(3000000);
	KT_ASSERT(clock_ns() - t0 >= 3000000);
}

static struct waitq wq;
static long items, consumed;

static void consumer(void *arg)
{
	unsigned long flags = spin_lock_irqsave(&wq.lock);
	for (;;) {
		while (items == 0 && consumed < 2000)
			waitq_wait(&wq);
		if (consumed >= 2000)
			break;
		items--;
		consumed++;
	}
	spin_unlock_irqrestore(&wq.lock, flags);
}

KTEST(sched, waitq_no_lost_wakeups)
{
	tid_t c[3];

	waitq_init(&wq, "test");
	items = consumed = 0;
	for (int i = 0; i < 3; i++)
		c[i] = thread_create("consumer", consumer, NULL)->tid;
	for (int i = 0; i < 2000; i++) {
		unsigned long flags = spin_lock_irqsave(&wq.lock);
		items++;
		waitq_wake_one_locked(&wq);
		spin_unlock_irqrestore(&wq.lock, flags);
		if (i % 100 == 0)
			thread_yield();
	}
	uint64_t start = clock_ns();
	while (READ_ONCE(consumed) < 2000 && !hung(start))
		thread_sleep(100000);
	waitq_wake_all(&wq);	/* let them see the end */
	for (int i = 0; i < 3; i++)
		KT_EQ(thread_join(c[i], NULL), 0);
	KT_EQ(consumed, 2000);
	KT_EQ(items, 0);
}

/* Two threads on one CPU each keep a value in xmm0..xmm1 while the other is
 * switched in by the timer: the values must survive every switch. */
static volatile long fpu_bad;

static void fpu_keeper(void *arg)
{
	uint64_t mine = (uint64_t)(uintptr_t)arg;
	uint64_t start_switches = this_cpu()->switches;

	__asm__ volatile("movq %0, %%xmm0; movq %0, %%xmm1" :: "r"(mine));
	while (this_cpu()->switches - start_switches < 20 && !stop) {
		uint64_t a, b;
		__asm__ volatile("movq %%xmm0, %0; movq %%xmm1, %1" : "=r"(a), "=r"(b));
		if (a != mine || b != mine)
			fpu_bad = 1;
	}
}

KTEST(sched, fpu_state_survives_preemption)
{
	cpumask_t m = only(ncpus - 1);
	struct thread *a, *b;

	stop = 0;
	fpu_bad = 0;
	a = thread_create_on("fpu-a", fpu_keeper, (void *)0x1111222233334444ull, &m);
	b = thread_create_on("fpu-b", fpu_keeper, (void *)0x5555666677778888ull, &m);
	KT_ASSERT(a && b);
	KT_EQ(thread_join(a->tid, NULL), 0);
	KT_EQ(thread_join(b->tid, NULL), 0);
	KT_EQ(fpu_bad, 0);
}
