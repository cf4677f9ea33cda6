/* workloads/vcpu.c: virtual machines as core scheduling sees them (L1TF/MDS): each VM
 * is a security domain, a cookie, whose vCPU threads compute and sleep.
 *
 * `vcpu ENCLAVE_ID [key=value...]`, started by a control program with CAP_ENCLAVE
 * (scenario `serve`): the main thread stays native; for VM i it takes cookie BASE+i
 * (wisp_set_cookie), creates that VM's vCPU threads, which inherit the cookie, and
 * moves them into enclave ENCLAVE_ID (0: they stay native); then it takes cookie 0
 * again and lets every vCPU start at once.  A vCPU round is a compute burst, uniform
 * in [U/2, 3U/2] µs and done as that many work units of a busy loop calibrated in
 * iterations (a preempted burst still needs its full CPU time), then a sleep, uniform
 * likewise; its wake latency, the time the thread resumes minus the time it asked
 * to, is what a guest sees as interrupt latency.  Durations come from a per-vCPU
 * PRNG seeded from seed=, so a run's demands repeat.
 *
 * Keys: vms=N (3), vcpus=K per VM (2), cookie=BASE (1), iters=N rounds per vCPU (0:
 * run for ms=, default 2000), compute_us=U (500), sleep_us=U (500), seed=S,
 * label=TEXT (the policy, for the report).  Per VM one JSON line (rounds, work units
 * of 1 µs per second, wake latency p50/p99 in µs, 99999 meaning 100 ms or more, vCPUs
 * joined), then a total line with the core-scheduling counters (wisp_core_stats(-1):
 * violations, domain changes, flushes, threads held back, forced idle) moved over the
 * run.  Exit 1, saying why, unless every vCPU finished and every VM made progress
 * (with iters=N: exactly N*K rounds). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kernel/uapi/ghost.h>
#include <wisp.h>

#include "workloads/busy.h"

#define MAX_VMS		16
#define MAX_VCPUS	16
#define MAX_BURST_US	10000000	/* compute_us and sleep_us: 10 s at most */
#define HIST_US		100000		/* wake latencies of 100 ms and more share the
					 * last 1 µs bucket */
#define GRACE_NS	60000000000ull	/* past the run's expected end, before giving up */

struct vm {
	uint32_t cookie;
	uint64_t rounds, units;		/* atomic: added to by its vCPUs */
	uint32_t *hist;			/* atomic: wake latencies, one bucket per µs */
};

struct vcpu {
	struct vm *vm;
	uint64_t rnd;			/* its own xorshift state */
	volatile long tid;		/* published once it runs */
	volatile bool done;		/* its rounds are over */
	wisp_thread_t thread;
};

static struct vm vms[MAX_VMS];
static struct vcpu vcpus[MAX_VMS * MAX_VCPUS];
static uint32_t gate;			/* futex: 1 once every vCPU is placed */
static uint32_t finished;		/* futex: vCPUs whose rounds are over */
static uint64_t iters, deadline;	/* deadline, ns: when iters is 0 */
static uint32_t compute_us = 500, sleep_us = 500;
static uint32_t unit_iters;		/* busy-loop iterations in a 1 µs work unit */

static uint64_t next_rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A seed for vCPU n: splitmix64 of both, never 0 (xorshift would stay there). */
static uint64_t seed_for(uint64_t seed, uint64_t n)
{
	uint64_t z = seed + (n + 1) * 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31)) | 1;
}

/* Uniform in [mean/2, mean + mean/2]. */
static uint32_t around(uint64_t *rnd, uint32_t mean)
{
	return mean / 2 + (uint32_t)(next_rnd(rnd) % ((uint64_t)mean + 1));
}

static void *vcpu_main(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	v->tid = wisp_gettid();
	while (!__atomic_load_n(&gate, __ATOMIC_ACQUIRE))
		wisp_futex_wait(&gate, 0, 0);
	for (uint64_t r = 0; iters ? r < iters : wisp_clock_ns() < deadline; r++) {
		uint32_t units = around(&v->rnd, compute_us);
		for (uint32_t u = 0; u < units; u++)
			busy(unit_iters);
		uint64_t nap = around(&v->rnd, sleep_us) * 1000ull;
		uint64_t due = wisp_clock_ns() + nap;
		wisp_sleep_ns(nap);
		uint64_t now = wisp_clock_ns();
		uint64_t late_us = now > due ? (now - due) / 1000 : 0;
		__atomic_add_fetch(&vm->hist[late_us < HIST_US ? late_us : HIST_US - 1], 1,
				   __ATOMIC_RELAXED);
		__atomic_add_fetch(&vm->units, units, __ATOMIC_RELAXED);
		__atomic_add_fetch(&vm->rounds, 1, __ATOMIC_RELAXED);
	}
	v->done = true;
	__atomic_add_fetch(&finished, 1, __ATOMIC_RELEASE);
	wisp_futex_wake(&finished, 1);
	return NULL;
}

/* errno after a failed wisp_set_cookie or wisp_core_stats, said so that a reader
 * knows what to do: 1. */
static int fail(const char *what)
{
	int e = errno;
	const char *hint = "";
	if (e == EINVAL || e == ENOSYS)
		hint = "; does this kernel implement core scheduling (GHOST_SET_COOKIE, "
		       "GHOST_CORE_STATS)?";
	else if (e == EPERM)
		hint = "; it needs CAP_ENCLAVE (start it with the scenario command `serve`)";
	else if (e == EBUSY)
		hint = "; this thread is in an enclave (start it with `serve`, not `run`)";
	fprintf(stderr, "vcpu: %s failed: %s (errno %d)%s\n", what, strerror(e), e, hint);
	return 1;
}

/* Create VM vm's k vCPU threads under its cookie and place them: in enclave id, or
 * (id 0) nowhere in particular.  0, or 1 after saying why not. */
static int start_vm(int vm, uint32_t k, uint64_t seed, int id)
{
	char what[64];
	snprintf(what, sizeof(what), "wisp_set_cookie(0, %u)", vms[vm].cookie);
	if (wisp_set_cookie(0, vms[vm].cookie))
		return fail(what);
	for (uint32_t i = 0; i < k; i++) {
		struct vcpu *v = &vcpus[vm * k + i];
		v->vm = &vms[vm];
		v->rnd = seed_for(seed, vm * k + i);
		int err = wisp_thread_create(&v->thread, vcpu_main, v);
		if (err) {
			fprintf(stderr, "vcpu: VM %d: cannot create vCPU %u: %s\n", vm, i,
				strerror(err));
			return 1;
		}
		while (!v->tid)
			wisp_yield();
		long r = id ? wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, id, v->tid, 0) : 0;
		if (r) {
			fprintf(stderr, "vcpu: VM %d: cannot move vCPU %u into enclave %d: %s\n",
				vm, i, id, strerror((int)-r));
			return 1;
		}
	}
	return 0;
}

/* Wait until every vCPU is done or limit (ns) passes; then join the ones done.  The
 * vCPUs joined. */
static uint32_t finish(uint32_t n, uint64_t limit)
{
	uint32_t f;
	while ((f = __atomic_load_n(&finished, __ATOMIC_ACQUIRE)) < n && wisp_clock_ns() < limit)
		wisp_futex_wait(&finished, f, 100000000);
	uint32_t joined = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!vcpus[i].done || wisp_thread_join(vcpus[i].thread, NULL)) {
			vcpus[i].done = false;	/* not joined: it counts as unfinished */
			continue;
		}
		joined++;
	}
	return joined;
}

/* The rank-p latency of the n recorded in h (1 µs buckets). */
static uint32_t pct(const uint32_t *h, uint64_t n, double p)
{
	if (!n)
		return 0;
	uint64_t k = (uint64_t)(p * (double)(n - 1) + 0.5), seen = 0;
	for (uint32_t us = 0; us < HIST_US; us++) {
		seen += h[us];
		if (seen > k)
			return us;
	}
	return HIST_US - 1;
}

/* One line per VM; 0 if it made the progress it should have, else 1 after saying
 * why. */
static int report_vm(int vm, uint32_t k, const char *label, double secs)
{
	struct vm *m = &vms[vm];
	uint32_t done = 0;
	for (uint32_t i = 0; i < k; i++)
		done += vcpus[vm * k + i].done;
	printf("{\"workload\":\"vcpu\",\"label\":\"%s\",\"vm\":%d,\"cookie\":%u,\"vcpus\":%u,"
	       "\"rounds\":%llu,\"work_units\":%llu,\"units_per_s\":%.0f,\"wake_p50_us\":%u,"
	       "\"wake_p99_us\":%u,\"threads_done\":%u}\n", label, vm, m->cookie, k,
	       (unsigned long long)m->rounds, (unsigned long long)m->units,
	       secs > 0 ? (double)m->units / secs : 0.0, pct(m->hist, m->rounds, 0.5),
	       pct(m->hist, m->rounds, 0.99), done);
	if (done != k) {
		fprintf(stderr, "vcpu: VM %d: only %u of %u vCPUs finished\n", vm, done, k);
		return 1;
	}
	if (!m->rounds || (iters && m->rounds != iters * k)) {
		fprintf(stderr, "vcpu: VM %d: %llu rounds, expected %s%llu\n", vm,
			(unsigned long long)m->rounds, iters ? "" : "more than ",
			(unsigned long long)(iters * k));
		return 1;
	}
	return 0;
}

static void report_total(const char *label, uint32_t nvms, uint64_t units, double secs,
			 const struct ghost_core_stats *a, const struct ghost_core_stats *b)
{
	printf("{\"workload\":\"vcpu\",\"label\":\"%s\",\"total\":true,\"vms\":%u,"
	       "\"units_per_s\":%.0f,\"violations\":%llu,\"domain_changes\":%llu,"
	       "\"flush_l1d_msr\":%llu,\"flush_l1d_soft\":%llu,\"flush_verw\":%llu,"
	       "\"held_back\":%llu,\"forced_idle_ns\":%llu,\"elapsed_ms\":%.0f}\n",
	       label, nvms, secs > 0 ? (double)units / secs : 0.0,
	       (unsigned long long)(b->violations - a->violations),
	       (unsigned long long)(b->domain_changes - a->domain_changes),
	       (unsigned long long)(b->flush_l1d_msr - a->flush_l1d_msr),
	       (unsigned long long)(b->flush_l1d_soft - a->flush_l1d_soft),
	       (unsigned long long)(b->flush_verw - a->flush_verw),
	       (unsigned long long)(b->held_back - a->held_back),
	       (unsigned long long)(b->forced_idle_ns - a->forced_idle_ns), secs * 1000.0);
}

int main(int argc, char **argv)
{
	const char *label = "native";
	uint32_t nvms = 3, k = 2, base = 1;
	uint64_t ms = 2000, seed = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: vcpu ENCLAVE_ID [vms=N] [vcpus=K] [cookie=BASE] "
			"[iters=N] [ms=MS] [compute_us=U] [sleep_us=U] [seed=S] [label=TEXT]\n");
		return 2;
	}
	int id = atoi(argv[1]);
	for (int i = 2; i < argc; i++) {
		char *v = strchr(argv[i], '=');
		if (!v) {
			fprintf(stderr, "vcpu: not key=value: %s\n", argv[i]);
			return 2;
		}
		*v++ = '\0';
		if (!strcmp(argv[i], "vms")) nvms = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "vcpus")) k = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "cookie")) base = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "iters")) iters = strtoull(v, NULL, 0);
		else if (!strcmp(argv[i], "ms")) ms = strtoull(v, NULL, 0);
		else if (!strcmp(argv[i], "compute_us")) compute_us = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "sleep_us")) sleep_us = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "seed")) seed = strtoull(v, NULL, 0);
		else if (!strcmp(argv[i], "label")) label = v;
		else {
			fprintf(stderr, "vcpu: unknown key %s\n", argv[i]);
			return 2;
		}
	}
	if (!nvms || nvms > MAX_VMS || !k || k > MAX_VCPUS || (!iters && !ms) ||
	    compute_us > MAX_BURST_US || sleep_us > MAX_BURST_US ||
	    base > UINT32_MAX - (nvms - 1)) {
		fprintf(stderr, "vcpu: vms must be 1..%d, vcpus 1..%d, iters or ms positive, "
			"compute_us and sleep_us at most %d, cookie+vms-1 a 32-bit value\n",
			MAX_VMS, MAX_VCPUS, MAX_BURST_US);
		return 2;
	}
	struct ghost_core_stats before, after;
	if (wisp_core_stats(-1, &before))
		return fail("wisp_core_stats(-1)");
	double per_us = busy_calibrate();
	unit_iters = per_us < 1 ? 1 : (uint32_t)per_us;
	for (uint32_t i = 0; i < nvms; i++) {
		vms[i].cookie = base + i;
		vms[i].hist = calloc(HIST_US, sizeof(uint32_t));
		if (!vms[i].hist) {
			fprintf(stderr, "vcpu: out of memory\n");
			return 1;
		}
		if (start_vm((int)i, k, seed, id))
			return 1;
	}
	if (wisp_set_cookie(0, 0))
		return fail("wisp_set_cookie(0, 0)");

	uint32_t n = nvms * k;
	uint64_t t0 = wisp_clock_ns();
	/* Expected: ms, or every round's longest demand one after another on one CPU. */
	uint64_t expect = iters ? iters * n * 3ull / 2 * (compute_us + sleep_us) * 1000ull :
			  ms * 1000000ull;
	deadline = t0 + ms * 1000000ull;
	__atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
	wisp_futex_wake(&gate, (int)n);
	uint32_t joined = finish(n, t0 + expect + GRACE_NS);
	double secs = (double)(wisp_clock_ns() - t0) / 1e9;
	if (wisp_core_stats(-1, &after))
		return fail("wisp_core_stats(-1)");

	int bad = 0;
	uint64_t units = 0;
	for (uint32_t i = 0; i < nvms; i++) {
		bad |= report_vm((int)i, k, label, secs);
		units += vms[i].units;
	}
	report_total(label, nvms, units, secs, &before, &after);
	if (joined != n)
		fprintf(stderr, "vcpu: %u of %u vCPUs never finished\n", n - joined, n);
	return bad || joined != n;
}
