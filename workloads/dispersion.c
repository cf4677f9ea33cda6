/* workloads/dispersion.c: a request server with a dispersive service time, the
 * Shinjuku and ghOSt papers' experiment (ghOSt §4.2).
 *
 * `dispersion ENCLAVE_ID [key=value...]`, started by a control program with
 * CAP_ENCLAVE (scenario `serve`): a pool of worker threads serves requests; the
 * workers join enclave ENCLAVE_ID (0: they stay native, pinned to the CPUs in
 * cpus=), while the load generator, this program's main thread, stays native on
 * CPU 0.  The generator sends an open-loop Poisson stream: request i is due at its
 * intended arrival time, whatever happened to the ones before, and its latency is
 * measured from that time to the end of its service, so a generator that falls
 * behind counts against the server, not for it.  A request is taken by the first
 * idle worker (a FIFO of requests, workers waiting on a futex); its service is a
 * busy loop calibrated in iterations, not a clock spin, so a preempted request
 * still needs its full CPU time.
 *
 * Keys: rates=R1,R2,... requests per second, one phase each (default 2000);
 * ms=PHASE_MS per phase (default 1000); workers=N (default 64); short=US (4),
 * long=US (10000), long_permille=P (5: 0.5%); seed=S; label=TEXT (the policy, for the
 * report); cpus=MASK for native workers (default 0xe); batch=N: also N batch threads
 * (GHOST_THREAD_BATCH, in the enclave too) that count work units of 10 µs while
 * they get a CPU, reported per phase as batch_units_per_s; cdf=R: for the phase at rate
 * R also a line with the short requests' latency at every percentile 0-100 and
 * 99.9 (a CDF).  Per phase one JSON line: offered and achieved rate, sent and served
 * (always equal, or exit 1), and p50/p99/p99.9 latency of short and of long requests
 * in µs. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <kernel/uapi/ghost.h>
#include <wisp.h>

#include "workloads/busy.h"

#define MAX_WORKERS	512
#define MAX_REQUESTS	(1 << 20)

struct request {
	uint64_t due;		/* intended arrival, ns */
	uint64_t done;		/* end of service, ns */
	uint32_t iters;		/* busy-loop iterations */
	bool is_long;
};

static struct request *reqs;
static uint32_t head, tail;		/* [lock] requests sent, taken */
static uint32_t served;			/* atomic */
static uint32_t bell;			/* futex: moves with every request sent */
static wisp_mutex_t lock = WISP_MUTEX_INIT;
static volatile int stop;
static volatile long tids[MAX_WORKERS], batch_tids[MAX_WORKERS];
static uint64_t batch_units;		/* atomic: work units the batch threads did */
static double iters_per_us;

static uint64_t rnd = 88172645463325252ull;
static double cdf_rate;

static uint64_t next_rnd(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return rnd;
}

static void *worker(void *arg)
{
	tids[(long)arg] = wisp_gettid();
	for (;;) {
		uint32_t b = __atomic_load_n(&bell, __ATOMIC_ACQUIRE);
		wisp_mutex_lock(&lock);
		bool got = tail != head;
		uint32_t i = tail;
		if (got)
			tail++;
		wisp_mutex_unlock(&lock);
		if (!got) {
			if (stop)
				return NULL;
			wisp_futex_wait(&bell, b, 0);
			continue;
		}
		busy(reqs[i].iters);
		reqs[i].done = wisp_clock_ns();
		__atomic_add_fetch(&served, 1, __ATOMIC_RELEASE);
	}
}

/* A batch thread: 10 µs units of work, counted, whenever it gets a CPU. */
static void *batch(void *arg)
{
	wisp_ghost(GHOST_THREAD_BATCH, 1, 0, 0);	/* before it joins the enclave */
	batch_tids[(long)arg] = wisp_gettid();
	uint32_t unit = (uint32_t)(10 * iters_per_us);
	while (!stop) {
		busy(unit);
		__atomic_add_fetch(&batch_units, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Start n threads running fn, each publishing its tid in tids[i], and place them: in
 * enclave id, or (id 0) natively on cpus.  0, or 1 after saying why not. */
static int start_threads(wisp_thread_t *t, uint32_t n, void *(*fn)(void *),
			 volatile long *tids, int id, uint64_t cpus, const char *what)
{
	for (uint32_t i = 0; i < n; i++) {
		if (wisp_thread_create(&t[i], fn, (void *)(long)i))
			return 1;
		while (!tids[i])
			wisp_yield();
		/* It inherited the generator's CPU 0: in an enclave, its agent places it
		 * (on any CPU), else it runs on cpus. */
		long err = id ? wisp_set_affinity(tids[i], ~0ull) ?:
				wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, id, tids[i], 0) :
			   wisp_set_affinity(tids[i], cpus);
		if (err) {
			fprintf(stderr, "dispersion: %s %u: cannot place it: %ld\n", what, i, err);
			return 1;
		}
	}
	return 0;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t *v, uint32_t n, double p)
{
	if (!n)
		return 0;
	uint32_t k = (uint32_t)(p * (double)(n - 1) + 0.5);
	return v[k];
}

/* One phase at rate requests/s for ms: 0, or 1 if the accounting is off. */
static int phase(double rate, uint64_t ms, uint32_t short_us, uint32_t long_us,
		 uint32_t long_permille, const char *label, int id)
{
	uint64_t start = wisp_clock_ns() + 1000000, t = start, end = start + ms * 1000000;
	uint32_t sent = 0, first = head;
	uint64_t units0 = __atomic_load_n(&batch_units, __ATOMIC_RELAXED), t0 = wisp_clock_ns();
	while (t < end && first + sent < MAX_REQUESTS) {
		struct request *r = &reqs[first + sent];
		double u = (double)(next_rnd() >> 11) / 9007199254740992.0;
		t += (uint64_t)(-log(1.0 - u) / rate * 1e9);	/* exponential gaps */
		r->due = t;
		r->is_long = next_rnd() % 1000 < long_permille;
		r->iters = (uint32_t)((r->is_long ? long_us : short_us) * iters_per_us);
		while (wisp_clock_ns() < t)
			;
		wisp_mutex_lock(&lock);
		head++;
		wisp_mutex_unlock(&lock);
		__atomic_add_fetch(&bell, 1, __ATOMIC_RELEASE);
		wisp_futex_wake(&bell, 1);
		sent++;
	}
	double units_per_s = (double)(__atomic_load_n(&batch_units, __ATOMIC_RELAXED) - units0) /
			     ((double)(wisp_clock_ns() - t0) / 1e9);
	uint64_t limit = wisp_clock_ns() + 60000000000ull;
	while (__atomic_load_n(&served, __ATOMIC_ACQUIRE) < first + sent && wisp_clock_ns() < limit)
		wisp_sleep_ns(1000000);
	uint32_t got = __atomic_load_n(&served, __ATOMIC_ACQUIRE) - first;
	uint64_t *s = malloc(sizeof(uint64_t) * sent), *l = malloc(sizeof(uint64_t) * sent);
	uint32_t ns = 0, nl = 0;
	uint64_t last = start;
	for (uint32_t i = first; i < first + sent && s && l; i++) {
		if (!reqs[i].done)
			continue;
		uint64_t lat = reqs[i].done > reqs[i].due ? reqs[i].done - reqs[i].due : 0;
		if (reqs[i].is_long)
			l[nl++] = lat / 1000;
		else
			s[ns++] = lat / 1000;
		last = reqs[i].done > last ? reqs[i].done : last;
	}
	qsort(s, ns, sizeof(uint64_t), cmp);
	qsort(l, nl, sizeof(uint64_t), cmp);
	double secs = (double)(last - start) / 1e9;
	printf("{\"bench\":\"dispersion\",\"policy\":\"%s\",\"enclave\":%d,\"offered_rps\":%.0f,"
	       "\"sent\":%u,\"served\":%u,\"throughput_rps\":%.0f,\"short\":%u,\"long\":%u,"
	       "\"short_p50_us\":%llu,\"short_p99_us\":%llu,\"short_p999_us\":%llu,"
	       "\"long_p50_us\":%llu,\"long_p99_us\":%llu,\"long_p999_us\":%llu,"
	       "\"batch_units_per_s\":%.0f}\n",
	       label, id, rate, sent, got, secs > 0 ? got / secs : 0.0, ns, nl,
	       (unsigned long long)pct(s, ns, 0.5), (unsigned long long)pct(s, ns, 0.99),
	       (unsigned long long)pct(s, ns, 0.999), (unsigned long long)pct(l, nl, 0.5),
	       (unsigned long long)pct(l, nl, 0.99), (unsigned long long)pct(l, nl, 0.999),
	       units_per_s);
	if (rate == cdf_rate && ns) {
		printf("{\"bench\":\"dispersion_cdf\",\"policy\":\"%s\",\"offered_rps\":%.0f,"
		       "\"short_us\":[", label, rate);
		for (int p = 0; p <= 100; p++)
			printf("%llu,", (unsigned long long)pct(s, ns, p / 100.0));
		printf("%llu]}\n", (unsigned long long)pct(s, ns, 0.999));
	}
	free(s);
	free(l);
	return got == sent ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *rates = "2000", *label = "native";
	uint64_t ms = 1000, cpus = 0xe;
	uint32_t workers = 64, short_us = 4, long_us = 10000, long_permille = 5, nbatch = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: dispersion ENCLAVE_ID [rates=R,...] [ms=N] [workers=N] "
			"[short=US] [long=US] [long_permille=P] [seed=S] [label=TEXT] [cpus=MASK] "
			"[cdf=RATE] [batch=N]\n");
		return 2;
	}
	int id = atoi(argv[1]);
	for (int i = 2; i < argc; i++) {
		char *v = strchr(argv[i], '=');
		if (!v) {
			fprintf(stderr, "dispersion: not key=value: %s\n", argv[i]);
			return 2;
		}
		*v++ = '\0';
		if (!strcmp(argv[i], "rates")) rates = v;
		else if (!strcmp(argv[i], "ms")) ms = strtoull(v, NULL, 0);
		else if (!strcmp(argv[i], "workers")) workers = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "short")) short_us = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "long")) long_us = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "long_permille")) long_permille = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "seed")) rnd = strtoull(v, NULL, 0) | 1;
		else if (!strcmp(argv[i], "label")) label = v;
		else if (!strcmp(argv[i], "cpus")) cpus = strtoull(v, NULL, 0);
		else if (!strcmp(argv[i], "cdf")) cdf_rate = strtod(v, NULL);
		else if (!strcmp(argv[i], "batch")) nbatch = (uint32_t)strtoul(v, NULL, 0);
		else {
			fprintf(stderr, "dispersion: unknown key %s\n", argv[i]);
			return 2;
		}
	}
	if (!workers || workers > MAX_WORKERS || nbatch > MAX_WORKERS || !ms) {
		fprintf(stderr, "dispersion: workers must be 1..%d, ms positive\n", MAX_WORKERS);
		return 2;
	}
	reqs = calloc(MAX_REQUESTS, sizeof(*reqs));
	if (!reqs)
		return 1;
	wisp_set_affinity(0, 1);	/* the generator: CPU 0, native */
	iters_per_us = busy_calibrate();
	wisp_thread_t w[MAX_WORKERS], b[MAX_WORKERS];
	if (start_threads(w, workers, worker, tids, id, cpus, "worker") ||
	    start_threads(b, nbatch, batch, batch_tids, id, cpus, "batch thread"))
		return 1;
	int bad = 0;
	for (char *r = (char *)rates; r && *r;) {
		double rate = strtod(r, &r);
		if (rate <= 0)
			break;
		bad |= phase(rate, ms, short_us, long_us, long_permille, label, id);
		if (*r == ',')
			r++;
	}
	stop = 1;
	__atomic_add_fetch(&bell, 1, __ATOMIC_RELEASE);
	wisp_futex_wake(&bell, MAX_WORKERS);
	for (uint32_t i = 0; i < workers; i++)
		wisp_thread_join(w[i], NULL);
	for (uint32_t i = 0; i < nbatch; i++)
		wisp_thread_join(b[i], NULL);
	printf("dispersion: %s, %u workers, %.1f iterations/us, %s\n", label, workers,
	       iters_per_us, bad ? "requests lost" : "every request served");
	return bad;
}
