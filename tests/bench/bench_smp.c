/* tests/bench/bench_smp.c: bench=smp measures, prints, and asserts nothing:
 *   ipi_call_roundtrip_ns  smp_call() from cpu 0 to cpu 1 and back, waiting;
 *   ipi_delivery_ns        reschedule IPI sent on cpu 0 until cpu 1's handler is seen;
 *   timer_latency_ns       programmed deadline to the timer callback, per CPU.
 * One JSON object per line, median and p99 of each.  Under an emulator the numbers
 * are the emulator's; compare them only with runs in the same configuration. */
#include <kernel/args.h>
#include <kernel/cpu.h>
#include <kernel/kmalloc.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/timer.h>
#include <kernel/uapi/errno.h>
#include <arch/arch.h>

#define SAMPLES		1000
#define TIMER_SAMPLES	200

static char which[16];

static int set_bench(const char *v)
{
	if (!v || (strcmp(v, "smp") && strcmp(v, "sched") && strcmp(v, "ghost") &&
		   strcmp(v, "faults") && strcmp(v, "coresched")))
		return -EINVAL;
	strlcpy(which, v, sizeof(which));
	return 0;
}
KERNEL_ARG(bench, "bench=smp|sched|ghost|faults|coresched: measure (IPIs and timers; "
	   "scheduling, from the benchsched program; the ghOSt paths, from benchghost; agent "
	   "death and upgrade, from benchfaults; core isolation, from benchcore), print JSON "
	   "lines, power off",
	   set_bench);

int init_run(const char *cmd);	/* kernel/init.c */

static void sort(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static void report(const char *metric, int from, int to, uint64_t *v, int n)
{
	sort(v, n);
	printk("{\"bench\":\"smp\",\"metric\":\"%s\",\"from_cpu\":%d,\"to_cpu\":%d,\"cpus\":%u,"
	       "\"samples\":%d,\"median\":%lu,\"p99\":%lu,\"min\":%lu,\"max\":%lu}\n", metric, from,
	       to, ncpus, n, v[n / 2], v[n * 99 / 100], v[0], v[n - 1]);
}

static void noop(void *arg) { }

static void bench_ipis(uint64_t *v)
{
	cpumask_t one = { { 1ull << 1 } };

	for (int i = 0; i < SAMPLES; i++) {
		uint64_t t0 = clock_ns();
		smp_call(&one, noop, NULL, true);
		v[i] = clock_ns() - t0;
	}
	report("ipi_call_roundtrip_ns", 0, 1, v, SAMPLES);

	for (int i = 0; i < SAMPLES; i++) {
		uint64_t before = __atomic_load_n(&cpus[1].ipi_resched, __ATOMIC_ACQUIRE);
		uint64_t t0 = clock_ns();
		smp_resched(1);
		while (__atomic_load_n(&cpus[1].ipi_resched, __ATOMIC_ACQUIRE) == before)
			arch_cpu_relax();
		v[i] = clock_ns() - t0;
	}
	report("ipi_delivery_ns", 0, 1, v, SAMPLES);
}

static struct timer probe;
static volatile uint64_t late;
static volatile int done;

static void on_timer(struct timer *t)
{
	late = clock_ns() - t->deadline;
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
}

static void bench_timer(unsigned cpu, uint64_t *v)
{
	for (int i = 0; i < TIMER_SAMPLES; i++) {
		done = 0;
		timer_arm(&probe, cpu, clock_ns() + 200000, on_timer);	/* 200 µs ahead */
		while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE))
			arch_cpu_relax();
		v[i] = late;
	}
	report("timer_latency_ns", (int)cpu, (int)cpu, v, TIMER_SAMPLES);
}

void bench_run_requested(void)
{
	if (!which[0])
		return;
	static const char *const programs[][2] = {
		{ "sched", "benchsched" }, { "ghost", "benchghost" }, { "faults", "benchfaults" },
		{ "coresched", "benchcore" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(programs); i++) {
		if (strcmp(which, programs[i][0]))
			continue;
		int status = init_run(programs[i][1]);
		arch_power_off(status == 0 ? 0 : 1);
	}
	uint64_t *v = kmalloc(SAMPLES * sizeof(uint64_t));
	if (!v) {
		printk("bench: out of memory\n");
		arch_power_off(1);
	}
	if (ncpus > 1)
		bench_ipis(v);
	else
		printk("bench: one CPU: no IPI measurements (use --smp 2 or more)\n");
	for (unsigned c = 0; c < ncpus && c < 2; c++)
		bench_timer(c, v);
	kfree(v);
	arch_power_off(0);
}
