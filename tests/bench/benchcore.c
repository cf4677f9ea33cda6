/* tests/bench/benchcore.c: bench=coresched, what keeping SMT siblings in one security
 * domain costs.  One JSON object per line.  Needs SMT: --topology 1,2,2 (enclave over
 * CPUs 0-3) or a larger one (CPUs 2-7).
 *
 *	vcpu_elapsed_ms		the same vCPU workload (workloads/vcpu: 3 VMs of 3 vCPUs,
 *				fixed rounds and seed, so the same work each run) under
 *				agents/coresched on a core-isolated enclave ("isolated"),
 *				and under coresched `mix` on the same enclave without
 *				isolation ("mix"): median of RUNS each, alternating;
 *				throughput_ratio is mix's time over isolated's (the
 *				throughput isolated keeps, 1 = free)
 *	idle_fraction		the enclave's CPUs in the idle thread over the run
 *				(the global agent's CPU never idles): with isolation,
 *				what siblings lose to a domain with too few threads
 *	flushes_per_s		L1D flushes (MSR and software) and buffer clears per second
 *	violations		what the audit counted: 0 isolated (else the run fails),
 *				and how often mix put two domains on one core
 *	switch_ns		two native threads on one CPU handing it to each other
 *				through a futex, one way: of one domain (no flush) and
 *				of two (a flush at every switch) */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kernel/uapi/ghost.h>
#include <kernel/uapi/syscall.h>
#include <wisp.h>

#define RUNS		3
#define ROUNDS		200		/* per vCPU and run */
#define SWITCHES	2000
#define SWITCH_CPU	1
#define WAIT_NS		120000000000ull

static uint64_t cpus;			/* the enclave's */
static int ncpus_enclave;

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int fail(const char *what)
{
	printf("{\"bench\":\"coresched\",\"error\":\"%s\"}\n", what);
	return 1;
}

/* Does the machine have SMT?  An enclave over CPU 3 alone can be isolated only if
 * CPU 3 has no sibling. */
static bool has_smt(void)
{
	long id = wisp_ghost(GHOST_ENCLAVE_CREATE, 1ll << 3, 0, 0);
	if (id <= 0)
		return false;
	bool smt = wisp_ghost(GHOST_ENCLAVE_CORE_ISOLATE, id, 1, 0) == -22;	/* EINVAL */
	wisp_ghost(GHOST_ENCLAVE_DESTROY, id, 0, 0);
	return smt;
}

static uint64_t idle_of_enclave(void)
{
	uint64_t sum = 0;
	for (int c = 0; c < 64; c++) {
		struct ghost_core_stats s;
		if ((cpus >> c & 1) && !wisp_core_stats(c, &s))
			sum += s.idle_ns;
	}
	return sum;
}

struct run {
	uint64_t elapsed_ns, idle_ns, flushes, clears, violations;
};

/* One run of the vCPU workload: 0, or -1. */
static int run_vcpu(bool isolated, struct run *r)
{
	char cmd[160];
	struct ghost_enclave_info info;
	int status = -1;
	long id = wisp_ghost(GHOST_ENCLAVE_CREATE, (long)cpus, 0, 0);
	if (id <= 0 || (isolated && wisp_ghost(GHOST_ENCLAVE_CORE_ISOLATE, id, 1, 0)))
		return -1;
	snprintf(cmd, sizeof(cmd), "coresched %ld exit-when-empty 9%s", id, isolated ? "" : " mix");
	long agent = wisp_spawn_caps(cmd, CAP_AGENT);
	uint64_t end = wisp_clock_ns() + WAIT_NS;
	while (agent > 0 && !wisp_enclave_info((int)id, &info) &&
	       info.agents < (uint32_t)ncpus_enclave && wisp_clock_ns() < end)
		wisp_sleep_ns(1000000);
	snprintf(cmd, sizeof(cmd), "vcpu %ld vms=3 vcpus=3 iters=%d seed=7 compute_us=2000 "
		 "sleep_us=300 label=%s", id, ROUNDS, isolated ? "isolated" : "mix");
	struct ghost_core_stats s0, s1;
	wisp_core_stats(-1, &s0);
	uint64_t idle0 = idle_of_enclave(), t0 = wisp_clock_ns();
	long work = wisp_spawn_caps(cmd, CAP_ENCLAVE);
	bool ok = work > 0 && wisp_wait(work, &status) == work && status == 0;
	r->elapsed_ns = wisp_clock_ns() - t0;
	r->idle_ns = idle_of_enclave() - idle0;
	wisp_core_stats(-1, &s1);
	r->flushes = s1.flush_l1d_msr + s1.flush_l1d_soft - s0.flush_l1d_msr - s0.flush_l1d_soft;
	r->clears = s1.flush_verw - s0.flush_verw;
	r->violations = s1.violations - s0.violations;
	ok = ok && (!isolated || r->violations == 0);
	int agent_status = -1;
	ok = agent > 0 && wisp_wait(agent, &agent_status) == agent && ok;
	wisp_ghost(GHOST_ENCLAVE_DESTROY, id, 0, 0);	/* gone with its agent, normally */
	return ok ? 0 : -1;
}

static void report_runs(const char *mode, struct run *r, uint64_t median_ms)
{
	uint64_t idle = 0, elapsed = 0, flushes = 0, clears = 0, violations = 0;
	for (int i = 0; i < RUNS; i++) {
		violations += r[i].violations;
		idle += r[i].idle_ns;
		elapsed += r[i].elapsed_ns;
		flushes += r[i].flushes;
		clears += r[i].clears;
	}
	/* The agent schedules every enclave CPU but its own. */
	uint64_t capacity = elapsed * (uint64_t)(ncpus_enclave - 1);
	printf("{\"bench\":\"coresched\",\"metric\":\"vcpu_elapsed_ms\",\"mode\":\"%s\",\"runs\":%d,"
	       "\"median\":%llu,\"idle_fraction\":%.3f,\"flushes_per_s\":%llu,"
	       "\"clears_per_s\":%llu,\"violations\":%llu}\n", mode, RUNS,
	       (unsigned long long)median_ms,
	       capacity ? (double)idle / (double)capacity : 0.0,
	       (unsigned long long)(elapsed ? flushes * 1000000000ull / elapsed : 0),
	       (unsigned long long)(elapsed ? clears * 1000000000ull / elapsed : 0),
	       (unsigned long long)violations);
}

static uint64_t median_ms(struct run *r)
{
	uint64_t v[RUNS];
	for (int i = 0; i < RUNS; i++)
		v[i] = r[i].elapsed_ns / 1000000;
	qsort(v, RUNS, sizeof(v[0]), cmp);
	return v[RUNS / 2];
}

/* Switches: two threads pinned to SWITCH_CPU take turns through a futex word. */
static uint32_t turn;
static uint64_t samples[SWITCHES];

static void *partner(void *arg)
{
	wisp_set_affinity(0, 1ull << SWITCH_CPU);
	for (int i = 0; i < SWITCHES; i++) {
		while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 1)
			wisp_futex_wait(&turn, 0, 0);
		__atomic_store_n(&turn, 0, __ATOMIC_RELEASE);
		wisp_futex_wake(&turn, 1);
	}
	return NULL;
}

/* One way, ns: median and p99 into v[0], v[1]; the flushes seen per switch. */
static int switches(uint32_t partner_cookie, uint64_t out[2], double *flushes_per_switch)
{
	wisp_thread_t t;
	struct ghost_core_stats s0, s1;
	turn = 0;
	if (wisp_set_cookie(0, partner_cookie) || wisp_thread_create(&t, partner, NULL) ||
	    wisp_set_cookie(0, 1))
		return -1;
	wisp_set_affinity(0, 1ull << SWITCH_CPU);
	wisp_core_stats(SWITCH_CPU, &s0);
	for (int i = 0; i < SWITCHES; i++) {
		uint64_t t0 = wisp_clock_ns();
		__atomic_store_n(&turn, 1, __ATOMIC_RELEASE);
		wisp_futex_wake(&turn, 1);
		while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 0)
			wisp_futex_wait(&turn, 1, 0);
		samples[i] = (wisp_clock_ns() - t0) / 2;
	}
	wisp_core_stats(SWITCH_CPU, &s1);
	wisp_thread_join(t, NULL);
	wisp_set_affinity(0, 1);
	wisp_set_cookie(0, 0);
	qsort(samples, SWITCHES, sizeof(samples[0]), cmp);
	out[0] = samples[SWITCHES / 2];
	out[1] = samples[SWITCHES * 99 / 100];
	*flushes_per_switch = (double)(s1.flush_l1d_msr + s1.flush_l1d_soft - s0.flush_l1d_msr -
				       s0.flush_l1d_soft) / (2.0 * SWITCHES);
	return 0;
}

int main(void)
{
	struct run iso[RUNS], mix[RUNS];
	wisp_set_affinity(0, 1);	/* the control thread: CPU 0 */
	if (!has_smt())
		return fail("needs SMT (--topology S,C,2)");
	cpus = wisp_set_affinity(0, 1ull << 7) == 0 ? 0xfcull : 0xfull;
	wisp_set_affinity(0, 1);
	ncpus_enclave = __builtin_popcountll(cpus);
	for (int i = 0; i < RUNS; i++)
		if (run_vcpu(true, &iso[i]) || run_vcpu(false, &mix[i]))
			return fail("a vcpu run failed");
	uint64_t mi = median_ms(iso), mm = median_ms(mix);
	report_runs("isolated", iso, mi);
	report_runs("mix", mix, mm);
	printf("{\"bench\":\"coresched\",\"metric\":\"throughput_ratio\",\"value\":%.3f}\n",
	       mi ? (double)mm / (double)mi : 0.0);
	struct ghost_core_stats st;
	wisp_core_stats(-1, &st);
	uint64_t same[2], cross[2];
	double fs, fc;
	if (switches(1, same, &fs) || switches(2, cross, &fc))
		return fail("cannot set cookies (CAP_ENCLAVE?)");
	const char *kind = st.flush_mode == GHOST_FLUSH_OFF ? "off" :
			   st.flush_mode == GHOST_FLUSH_AUTO && (st.features & GHOST_CORE_L1D_FLUSH) ?
			   "msr" : "soft";
	printf("{\"bench\":\"coresched\",\"metric\":\"switch_ns\",\"domains\":1,\"flush\":\"%s\","
	       "\"flushes_per_switch\":%.2f,\"samples\":%d,\"median\":%llu,\"p99\":%llu}\n", kind,
	       fs, SWITCHES, (unsigned long long)same[0], (unsigned long long)same[1]);
	printf("{\"bench\":\"coresched\",\"metric\":\"switch_ns\",\"domains\":2,\"flush\":\"%s\","
	       "\"flushes_per_switch\":%.2f,\"samples\":%d,\"median\":%llu,\"p99\":%llu}\n", kind,
	       fc, SWITCHES, (unsigned long long)cross[0], (unsigned long long)cross[1]);
	printf("{\"bench\":\"coresched\",\"metric\":\"flush_ns\",\"flush\":\"%s\",\"value\":%llu}\n",
	       kind, (unsigned long long)(st.flush_l1d_msr + st.flush_l1d_soft ?
					  st.flush_ns / (st.flush_l1d_msr + st.flush_l1d_soft) : 0));
	return 0;
}
