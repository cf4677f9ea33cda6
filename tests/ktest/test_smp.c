/* tests/ktest/test_smp.c: every CPU online, the topology QEMU was told, cross-CPU
 * calls, reschedule IPIs and a contended lock.  No assertion depends on speed: waits
 * are bounded only to turn a hang into a failure. */
#include <kernel/cpu.h>
#include <kernel/ktest.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/timer.h>
#include <arch/arch.h>

#define HANG_NS	30000000000ull	/* 30 s of machine time: only a hang is this slow */

/* Wait until *v == want or the hang bound passes; returns the final value. */
static long wait_for(const long *v, long want)
{
	uint64_t end = clock_ns() + HANG_NS;
	while (__atomic_load_n(v, __ATOMIC_ACQUIRE) != want && clock_ns() < end)
		arch_cpu_relax();
	return __atomic_load_n(v, __ATOMIC_ACQUIRE);
}

KTEST(smp, all_cpus_online)
{
	unsigned want = arch_fw_cfg_boot_cpus();

	KT_ASSERT(want > 0);		/* QEMU tells; the tests run under QEMU */
	KT_EQ(ncpus, want);
	KT_EQ(cpumask_count(&cpus_online), want);
	for (unsigned i = 0; i < ncpus; i++)
		KT_ASSERT(cpus[i].online);
}

/* Parse "S,C,T" from fw_cfg opt/wisp/topology (tools/run --topology). */
static bool told_topology(unsigned *s, unsigned *c, unsigned *t)
{
	char buf[32];
	long n = arch_fw_cfg_read("opt/wisp/topology", buf, sizeof(buf) - 1);
	unsigned v[3] = { 0 }, k = 0;

	if (n <= 0 || n >= (long)sizeof(buf))
		return false;
	buf[n] = '\0';
	for (char *p = buf; *p && k < 3; p++) {
		if (*p == ',')
			k++;
		else
			v[k] = v[k] * 10 + (unsigned)(*p - '0');
	}
	*s = v[0], *c = v[1], *t = v[2];
	return k == 2;
}

KTEST(smp, topology_as_told)
{
	unsigned s, c, t;

	if (!told_topology(&s, &c, &t)) {
		/* No --topology: QEMU puts all CPUs on one socket, one thread per core. */
		s = 1, c = ncpus, t = 1;
	}
	KT_EQ(ncpus, s * c * t);
	/* Every (package, core, thread) triple exactly once. */
	static uint8_t seen[MAX_CPUS][MAX_CPUS][8];
	memset(seen, 0, sizeof(seen));
	for (unsigned i = 0; i < ncpus; i++) {
		struct cpu *x = &cpus[i];
		KT_ASSERT(x->package < s && x->core < c && x->thread < t);
		KT_EQ(seen[x->package][x->core][x->thread]++, 0);
		KT_EQ(cpumask_count(&x->siblings), t);
		KT_EQ(cpumask_count(&x->package_mates), c * t);
		for (unsigned j = 0; j < ncpus; j++) {
			bool same_core = cpus[j].package == x->package && cpus[j].core == x->core;
			KT_EQ(cpumask_test(&x->siblings, j), same_core);
			KT_EQ(cpumask_test(&x->package_mates, j), cpus[j].package == x->package);
		}
	}
}

KTEST(smp, numa_as_told)
{
	char buf[8];
	long n = arch_fw_cfg_read("opt/wisp/numa", buf, sizeof(buf) - 1);
	unsigned nodes = 1;

	if (n > 0 && n < (long)sizeof(buf)) {
		buf[n] = '\0';
		nodes = (unsigned)(buf[0] - '0');
	}
	/* tools/run --numa puts CPUs in contiguous blocks, in APIC-id order. */
	for (unsigned i = 0; i < ncpus; i++)
		KT_EQ(cpus[i].node, i * nodes / ncpus);
}

static long ran_on[MAX_CPUS];

static void mark_cpu(void *arg)
{
	__atomic_add_fetch(&ran_on[this_cpu()->id], 1, __ATOMIC_RELAXED);
	KT_UNUSED(arg);
}

KTEST(ipi, call_every_cpu_and_wait)
{
	memset(ran_on, 0, sizeof(ran_on));
	KT_EQ(smp_call(&cpus_online, mark_cpu, NULL, true), 0);
	for (unsigned i = 0; i < ncpus; i++)
		KT_EQ(ran_on[i], 1);
}

static long total_calls;

static void count_call(void *arg)
{
	__atomic_add_fetch(&total_calls, 1, __ATOMIC_RELAXED);
	KT_UNUSED(arg);
}

KTEST(ipi, many_calls_in_flight)
{
	enum { ROUNDS = 200 };
	cpumask_t others = cpus_online;

	others.bits[0] &= ~(1ull << this_cpu()->id);
	total_calls = 0;
	for (int r = 0; r < ROUNDS; r++)
		KT_EQ(smp_call(&others, count_call, NULL, false), 0);
	long want = (long)ROUNDS * cpumask_count(&others);
	KT_EQ(wait_for(&total_calls, want), want);
	/* The queues are FIFO: once a waited call returns, every earlier one was freed. */
	KT_EQ(smp_call(&others, count_call, NULL, true), 0);
}

KTEST(ipi, reschedule_reaches_every_cpu)
{
	enum { N = 50 };

	for (unsigned i = 0; i < ncpus; i++) {
		if (i == this_cpu()->id)
			continue;
		for (int k = 0; k < N; k++) {
			long before = (long)__atomic_load_n(&cpus[i].ipi_resched, __ATOMIC_ACQUIRE);
			smp_resched(i);
			/* One at a time: two IPIs pending at once may merge (SDM Vol. 3A §11.8.4). */
			KT_EQ(wait_for((const long *)&cpus[i].ipi_resched, before + 1), before + 1);
		}
	}
}

static struct spinlock counter_lock = SPINLOCK_INIT("test counter");
static long counter;

static void hammer(void *arg)
{
	for (int i = 0; i < 5000; i++) {
		spin_lock(&counter_lock);
		long v = counter;
		arch_cpu_relax();
		counter = v + 1;
		spin_unlock(&counter_lock);
	}
	KT_UNUSED(arg);
}

KTEST(lock, contended_counter_exact)
{
	counter = 0;
	KT_EQ(smp_call(&cpus_online, hammer, NULL, true), 0);
	KT_EQ(counter, 5000l * ncpus);
}

KTEST(lock, holder_recorded)
{
	spin_lock(&counter_lock);
	KT_ASSERT(spin_held(&counter_lock));
	KT_EQ(counter_lock.holder, this_cpu()->id);
	spin_unlock(&counter_lock);
	KT_ASSERT(!spin_held(&counter_lock));
	KT_EQ(counter_lock.holder, -1);
}
