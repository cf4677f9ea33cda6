/* tests/ktest/test_timer.c: timer events fire on the CPU they were armed for, in
 * deadline order, never early; cancel works; the clock calibration is sane. */
#include <kernel/cpu.h>
#include <kernel/ktest.h>
#include <kernel/string.h>
#include <kernel/timer.h>
#include <arch/arch.h>
#include <arch/time.h>
#include <kernel/uapi/errno.h>

#define PER_CPU	16
#define HANG_NS	30000000000ull

struct probe {
	struct timer t;
	uint64_t fired_at;	/* clock_ns() in the callback */
	unsigned fired_on;
	int order;		/* 1-based position among this CPU's firings */
};

static struct probe probes[MAX_CPUS][PER_CPU];
static int fired[MAX_CPUS];
static long fired_total;

static void on_fire(struct timer *t)
{
	struct probe *p = container_of(t, struct probe, t);
	unsigned me = this_cpu()->id;

	p->fired_at = clock_ns();
	p->fired_on = me;
	p->order = ++fired[me];
	__atomic_add_fetch(&fired_total, 1, __ATOMIC_RELEASE);
}

/* A small deterministic generator: the deadlines interleave across CPUs. */
static uint64_t next_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

KTEST(timer, ordered_never_early_on_every_cpu)
{
	uint64_t seed = 42;

	memset(probes, 0, sizeof(probes));
	memset(fired, 0, sizeof(fired));
	fired_total = 0;
	uint64_t base = clock_ns() + 20000000;	/* 20 ms from now */
	for (unsigned c = 0; c < ncpus; c++)
		for (int i = 0; i < PER_CPU; i++)
			KT_EQ(timer_arm(&probes[c][i].t, c, base + next_rand(&seed) % 3000000,
					on_fire), 0);
	/* A timer due before the last one was armed may rightly fire before an earlier
	 * deadline that was not armed yet (a slow emulator can take that long): order
	 * is checked among timers that were all armed before any was due. */
	uint64_t armed = clock_ns();
	uint64_t end = clock_ns() + HANG_NS;
	long want = (long)ncpus * PER_CPU;
	while (__atomic_load_n(&fired_total, __ATOMIC_ACQUIRE) < want && clock_ns() < end)
		arch_cpu_relax();
	KT_EQ(fired_total, want);
	for (unsigned c = 0; c < ncpus; c++) {
		for (int i = 0; i < PER_CPU; i++) {
			struct probe *p = &probes[c][i];
			KT_EQ(p->fired_on, c);
			KT_ASSERT(p->fired_at >= p->t.deadline);
			/* Order: every timer with an earlier deadline fired before it. */
			for (int j = 0; j < PER_CPU; j++)
				if (probes[c][j].t.deadline < p->t.deadline &&
				    probes[c][j].t.deadline > armed)
					KT_ASSERT(probes[c][j].order < p->order);
		}
	}
}

static int cancelled_fired;

static void must_not_fire(struct timer *t)
{
	cancelled_fired++;
	KT_UNUSED(t);
}

static long late_fired;

static void after(struct timer *t)
{
	__atomic_store_n(&late_fired, 1, __ATOMIC_RELEASE);
	KT_UNUSED(t);
}

KTEST(timer, cancel_and_rearm)
{
	static struct timer a, b;
	unsigned cpu = ncpus - 1;

	cancelled_fired = 0;
	late_fired = 0;
	/* Far enough ahead that no emulator stall lets it fire before the cancel. */
	KT_EQ(timer_arm(&a, cpu, clock_ns() + 10000000000ull, must_not_fire), 0);
	KT_EQ(timer_arm(&a, cpu, clock_ns() + 10000000000ull, must_not_fire), -EBUSY);
	KT_ASSERT(timer_cancel(&a));
	KT_ASSERT(!timer_cancel(&a));
	KT_EQ(timer_arm(&b, cpu, clock_ns() + 3000000, after), 0);
	uint64_t end = clock_ns() + HANG_NS;
	while (!__atomic_load_n(&late_fired, __ATOMIC_ACQUIRE) && clock_ns() < end)
		arch_cpu_relax();
	KT_EQ(late_fired, 1);
	KT_EQ(cancelled_fired, 0);
	KT_EQ(timer_arm(&a, MAX_CPUS + 1, 0, must_not_fire), -EINVAL);
}

KTEST(timer, calibration_sane)
{
	/* Any x86-64 TSC runs between 100 MHz and 10 GHz. */
	KT_ASSERT(tsc_hz() > 100000000ull && tsc_hz() < 10000000000ull);
	uint64_t a = clock_ns(), b = clock_ns();
	KT_ASSERT(b >= a);
	KT_EQ(tsc_to_ns(ns_to_tsc(1000000000ull)) / 1000000, 999);	/* within 1 ms of 1 s */
}
