/* tests/bench/benchghost.c: bench=ghost, the analogues of the ghOSt paper's Table 3
 * measured on wisp from user space, one JSON object per line, nothing asserted.
 * Times come from SYS_clock (each read is a system call, included in what it
 * brackets); under QEMU they are emulator times, comparable only within one run.
 *
 *   null_syscall_ns          SYS_gettid
 *   local_message_ns         a thread on the agent's CPU yields -> the per-CPU agent,
 *                            woken by the message, reads it (msg.time_ns to read)
 *   local_schedule_ns        the per-CPU agent commits its own CPU (GHOST_COMMIT_WAIT)
 *                            -> the thread runs
 *   global_message_ns        a thread yields on another CPU -> the spinning global
 *                            agent reads the message
 *   remote_commit_ns         the global agent's commit call for one remote CPU
 *   remote_schedule_ns       ... until the thread runs there; idle CPUs halting (a
 *                            reschedule IPI) and polling (no IPI), each reported
 *   group_commit_ns          one call committing k CPUs: every CPU but the agent's,
 *                            at most 10 (the paper's group); "transactions" says k
 *   global_decisions_per_s   one global agent keeping every other CPU busy with
 *                            threads that yield in a loop
 * Needs 3 CPUs at least: the enclave is every CPU but CPU 0. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kernel/uapi/ghost.h>
#include <kernel/uapi/syscall.h>
#include <syscall.h>
#include <wisp.h>

enum { N = 400, MAX_W = 10 };	/* the paper's group commit has 10 transactions */

static uint64_t samples[N], samples2[N];
static struct ghost_attach at;
static int eid, ncpu;			/* enclave CPUs are 1 .. ncpu-1 */
static int mode;

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *metric, const char *extra, uint64_t *v, int n)
{
	if (n <= 0)
		return;
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("{\"bench\":\"ghost\",\"metric\":\"%s\",%s\"cpus\":%d,\"samples\":%d,"
	       "\"median\":%llu,\"p99\":%llu,\"min\":%llu}\n", metric, extra, ncpu, n,
	       (unsigned long long)v[n / 2], (unsigned long long)v[n * 99 / 100],
	       (unsigned long long)v[0]);
}

static uint64_t now(void)
{
	return wisp_clock_ns();
}

/* Workers: created native, blocked on the gate until they are in the enclave; then
 * each records when it runs and yields, forever (until stop). */
static volatile uint64_t ran_at[MAX_W];
static volatile uint64_t runs[MAX_W];
static uint32_t gate;
static volatile int stop;
static wisp_thread_t workers[MAX_W];
static long wtid[MAX_W];

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	wisp_set_affinity(0, ~0ull);	/* any CPU: the agent decides */
	while (!__atomic_load_n(&gate, __ATOMIC_ACQUIRE))
		wisp_futex_wait(&gate, 0, 0);
	while (!stop) {
		ran_at[i] = now();
		runs[i]++;
		wisp_yield();
	}
	return NULL;
}

static int start_workers(int n)
{
	gate = 0;
	stop = 0;
	for (int i = 0; i < n; i++) {
		runs[i] = 0;
		if (wisp_thread_create(&workers[i], worker, (void *)(long)i))
			return -1;
		wtid[i] = workers[i].tid;
	}
	wisp_sleep_ns(20000000);	/* all blocked on the gate */
	for (int i = 0; i < n; i++)
		if (wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, eid, wtid[i], 0))
			return -1;
	__atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
	wisp_futex_wake(&gate, MAX_W);
	return 0;
}

/* Tseq and whereabouts of a worker, from the messages. */
static uint32_t tseq[MAX_W];
static int runnable[MAX_W];

static int index_of(uint64_t tid)
{
	for (int i = 0; i < MAX_W; i++)
		if ((uint64_t)wtid[i] == tid)
			return i;
	return -1;
}

/* Drain the queue into tseq/runnable; the time_ns of the last YIELD of worker w
 * (0 if none). */
static uint64_t drain(int w, uint64_t *read_at)
{
	struct ghost_queue *q = at.default_queue;
	uint64_t t = 0;
	for (;;) {
		uint64_t tail = q->tail;
		if (tail == __atomic_load_n(&q->head, __ATOMIC_ACQUIRE))
			return t;
		struct ghost_msg m = q->msgs[tail & (q->nslots - 1)];
		__atomic_store_n(&q->tail, tail + 1, __ATOMIC_RELEASE);
		int i = index_of(m.tid);
		if (i < 0)
			continue;
		tseq[i] = m.tseq;
		runnable[i] = m.type != GHOST_MSG_THREAD_BLOCKED && m.type != GHOST_MSG_THREAD_DEAD;
		if (i == w && m.type == GHOST_MSG_THREAD_YIELD) {
			t = m.time_ns;
			if (read_at)
				*read_at = now();
		}
	}
}

static uint32_t aseq(int cpu)
{
	return __atomic_load_n(&at.status->cpu[cpu].aseq, __ATOMIC_ACQUIRE);
}

static void fill(int cpu, int w)
{
	struct ghost_txn *t = &at.agent->txn[cpu];
	t->tid = (uint64_t)wtid[w];
	t->tseq = tseq[w];
	t->aseq = aseq(cpu);
	t->flags = 0;
	__atomic_store_n(&t->state, GHOST_TXN_READY, __ATOMIC_RELEASE);
}

static long commit(uint64_t mask, unsigned flags)
{
	return wisp_ghost(GHOST_COMMIT, (long)mask, flags, 0);
}

/* Wait until worker w's messages say it is runnable (drained into tseq). */
static void wait_runnable(int w)
{
	while (!runnable[w])
		drain(-1, NULL);
}

/* Per-CPU model, agent of CPU 1: local message delivery and local schedule. */
static void *local_agent(void *arg)
{
	wisp_ghost(GHOST_AGENT_INIT, 1, 0, 0);
	wisp_ghost(GHOST_CONFIG_QUEUE_WAKEUP, 0, 1, 0);
	int n = 0, m = 0;
	wait_runnable(0);
	for (int i = 0; i < N + 10; i++) {
		fill(1, 0);
		uint64_t runs0 = runs[0], t0 = now();
		commit(1ull << 1, GHOST_COMMIT_WAIT);	/* the worker runs, then yields */
		uint64_t read_at = 0, sent = drain(0, &read_at);
		if (at.agent->txn[1].state == GHOST_TXN_COMPLETE && runs[0] > runs0 && i >= 10 && n < N)
			samples[n++] = ran_at[0] - t0;
		if (sent && read_at && i >= 10 && m < N)
			samples2[m++] = read_at - sent;
		if (!sent)
			wait_runnable(0);
	}
	report("local_schedule_ns", "", samples, n);
	report("local_message_ns", "", samples2, m);
	return NULL;
}

/* Central model, global agent on CPU 1. */
static void remote(int idle_poll)
{
	char extra[32];
	int n = 0, c = 0;
	wisp_ghost(GHOST_SET_IDLE_POLL, idle_poll, 0, 0);
	wait_runnable(0);
	for (int i = 0; i < N + 10; i++) {
		wisp_sleep_ns(200000);	/* let CPU 2 go idle (halted or polling) */
		fill(2, 0);
		uint64_t runs0 = runs[0], t0 = now();
		commit(1ull << 2, 0);
		uint64_t t1 = now();
		while (runs[0] == runs0 && now() - t0 < 1000000000ull)
			;
		if (at.agent->txn[2].state == GHOST_TXN_COMPLETE && runs[0] > runs0 && i >= 10) {
			samples[n++] = ran_at[0] - t0;
			samples2[c++] = t1 - t0;
		}
		uint64_t end = now() + 1000000000ull;
		while (!drain(0, NULL) && now() < end)
			;	/* its YIELD: runnable again */
	}
	snprintf(extra, sizeof(extra), "\"idle\":\"%s\",", idle_poll ? "poll" : "halt");
	report("remote_schedule_ns", extra, samples, n);
	report("remote_commit_ns", extra, samples2, c);
	wisp_ghost(GHOST_SET_IDLE_POLL, 0, 0, 0);
}

static void global_message(void)
{
	int m = 0;
	for (int i = 0; i < N + 10 && m < N; i++) {
		wait_runnable(0);
		fill(2, 0);
		commit(1ull << 2, 0);
		uint64_t read_at = 0, sent = 0, end = now() + 1000000000ull;
		while (!sent && now() < end)
			sent = drain(0, &read_at);
		if (sent && i >= 10)
			samples2[m++] = read_at - sent;
	}
	report("global_message_ns", "", samples2, m);
}

/* Every worker k (on CPU 2+k) runnable; one call commits them all. */
static void group(int k)
{
	char extra[32];
	int n = 0;
	for (int i = 0; i < N / 4 + 5; i++) {
		uint64_t mask = 0;
		for (int w = 0; w < k; w++) {
			wait_runnable(w);
			fill(2 + w, w);
			mask |= 1ull << (2 + w);
		}
		uint64_t t0 = now();
		long done = commit(mask, 0);
		uint64_t t1 = now();
		if (done == k && i >= 5)
			samples[n++] = t1 - t0;
		for (int w = 0; w < k; w++)	/* each yields once before the next round */
			runnable[w] = 0;
		uint64_t end = now() + 1000000000ull;
		for (int w = 0; w < k && now() < end; w++)
			while (!runnable[w] && now() < end)
				drain(-1, NULL);
	}
	snprintf(extra, sizeof(extra), "\"transactions\":%d,", k);
	report("group_commit_ns", extra, samples, n);
}

/* Keep every CPU but the agent's busy for a while: decisions per second. */
static void throughput(int k)
{
	uint64_t decisions = 0, t0 = now(), end = t0 + 2000000000ull;
	while (now() < end) {
		drain(-1, NULL);
		uint64_t mask = 0;
		for (int w = 0; w < k; w++)
			if (runnable[w]) {
				fill(2 + w, w);
				mask |= 1ull << (2 + w);
			}
		if (!mask)
			continue;
		long done = commit(mask, 0);
		if (done > 0)
			decisions += (uint64_t)done;
		for (int w = 0; w < k; w++)
			if ((mask >> (2 + w) & 1) && at.agent->txn[2 + w].state == GHOST_TXN_COMPLETE)
				runnable[w] = 0;
	}
	uint64_t ns = now() - t0;
	printf("{\"bench\":\"ghost\",\"metric\":\"global_decisions_per_s\",\"cpus\":%d,"
	       "\"target_cpus\":%d,\"decisions\":%llu,\"value\":%llu}\n", ncpu, k,
	       (unsigned long long)decisions, (unsigned long long)(decisions * 1000000000ull / ns));
}

static void *global_agent(void *arg)
{
	int k = ncpu - 2 < MAX_W ? ncpu - 2 : MAX_W;
	wisp_ghost(GHOST_AGENT_INIT, 1, 0, 0);
	remote(0);
	remote(1);
	global_message();
	group(k);
	throughput(k);
	return NULL;
}

static void *parked_agent(void *arg)
{
	int cpu = (int)(long)arg;
	wisp_ghost(GHOST_AGENT_INIT, cpu, 0, 0);
	while (!stop)
		wisp_ghost(GHOST_WAIT, 10000000, 0, 0);
	return NULL;
}

static int phase(int m, int nworkers)
{
	uint64_t mask = 0;
	for (int c = 1; c < ncpu; c++)
		mask |= 1ull << c;
	mode = m;
	eid = (int)wisp_ghost(GHOST_ENCLAVE_CREATE, (long)mask, 0, 0);
	if (eid <= 0 || wisp_ghost(GHOST_ATTACH, eid, m, (long)&at))
		return -1;
	/* Measuring one worker leaves the others runnable and unscheduled on purpose. */
	wisp_ghost(GHOST_ENCLAVE_WATCHDOG, eid, 0, 0);
	memset(tseq, 0, sizeof(tseq));
	memset(runnable, 0, sizeof(runnable));
	memset(wtid, 0, sizeof(wtid));
	if (start_workers(nworkers))
		return -1;
	wisp_thread_t agent, parked[64];
	int np = 0;
	stop = 0;
	if (m == GHOST_MODE_CENTRAL)
		for (int c = 2; c < ncpu; c++)
			wisp_thread_create(&parked[np++], parked_agent, (void *)(long)c);
	wisp_thread_create(&agent, m == GHOST_MODE_PERCPU ? local_agent : global_agent, NULL);
	wisp_thread_join(agent, NULL);
	stop = 1;
	for (int i = 0; i < np; i++)
		wisp_thread_join(parked[i], NULL);
	wisp_ghost(GHOST_ENCLAVE_DESTROY, eid, 0, 0);	/* the workers go native and end */
	for (int i = 0; i < nworkers; i++)
		wisp_thread_join(workers[i], NULL);
	return 0;
}

int main(int argc, char **argv)
{
	wisp_set_affinity(0, 1);	/* the control thread stays on CPU 0 */
	for (ncpu = 1; ncpu < 64 && wisp_set_affinity(0, 1ull << ncpu) == 0; ncpu++)
		;
	wisp_set_affinity(0, 1);
	if (ncpu < 3) {
		printf("{\"bench\":\"ghost\",\"error\":\"needs 3 CPUs at least, has %d\"}\n", ncpu);
		return 1;
	}
	uint64_t t0 = now();
	for (int i = 0; i < N; i++) {
		uint64_t a = now();
		for (int k = 0; k < 100; k++)
			wisp_syscall3(SYS_gettid, 0, 0, 0);
		samples[i] = (now() - a) / 100;
	}
	report("null_syscall_ns", "", samples, N);
	if (phase(GHOST_MODE_PERCPU, 1) || phase(GHOST_MODE_CENTRAL, ncpu - 2 < MAX_W ? ncpu - 2 : MAX_W)) {
		printf("{\"bench\":\"ghost\",\"error\":\"cannot set up the enclave\"}\n");
		return 1;
	}
	fprintf(stderr, "benchghost: done in %llu ms\n", (unsigned long long)((now() - t0) / 1000000));
	return 0;
}
