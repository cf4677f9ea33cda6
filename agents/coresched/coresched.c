/* agents/coresched/coresched.c: core scheduling (L1TF/MDS) as a centralized ghOSt
 * policy: SMT siblings run threads of one security domain at a time.
 *
 * Policy: threads are grouped by the cookie their status word shows when the agent
 * first sees them (the kernel keeps it fixed while they are in the enclave); each
 * domain has a FIFO of waiting threads.  The enclave's CPUs form cores (smt=N: CPUs
 * Nk..Nk+N-1, default 2; smt=1: no SMT); the global agent's CPU runs only the agent
 * (cookie 0), so its sibling is a core of its own, and when the global CPU moves the
 * cores follow.  Each core holds a domain for a slice (default 2 ms).  At a decision
 * point (the slice is over, the domain has nothing left for the core, or the core
 * holds none) the core goes to the domain starved longest (waiting and holding no
 * core; FIFO by the time it became so); else it keeps its domain if that still has
 * threads (no L1D flush); else it goes to the domain with the most waiting threads.
 * A core's CPUs run threads of its domain, each until its own slice is over while
 * another waits; threads of domain 0 (no cookie, trusted) may fill a sibling the
 * domain leaves idle, until the domain wants it back; a sibling left running
 * another domain is committed idle.
 *
 * Fairness (as Tableau's): with C cores (a half core counts), D runnable domains and
 * slice S, a domain that becomes runnable gets a core within ceil(D/C)*S plus the
 * decision latency, then keeps it for S while it has threads.  It joins the starved
 * FIFO behind at most D-1 others, and a domain that loses a core joins behind it;
 * in any S every core reaches a decision point and, while domains starve, serves the
 * head, so each S takes C domains off the FIFO.  It bounds a domain's wait for a
 * core, not a thread's wait behind others of its domain.  Native threads taking CPUs
 * (fewer cores), the global CPU moving (a half core merges, another splits), failed
 * commits and the kernel holding a thread back for its sibling lengthen the wait.
 *
 * Mechanism: GHOST_MODE_CENTRAL, as in shinjuku.c: the global agent polls the
 * default queue and the clock (the next slice end: no timers); the others wait to be
 * made global.  Each core that changes is one GHOST_COMMIT_SYNC group commit over the
 * siblings that change (a thread or GHOST_TXN_IDLE each; a domain switch changes
 * every sibling running another domain), so a core-isolated enclave
 * (GHOST_ENCLAVE_CORE_ISOLATE, which the control program asks for) never sees half
 * a switch.  A failed commit puts its threads back at the head of their FIFOs and the
 * next pass retries (THREAD_STALE, NOT_IN_ENCLAVE and a truly blocked NOT_RUNNABLE
 * drop the thread until its message, as in fifo-central); failures are counted by
 * state.
 *
 * `mix`, the baseline: one domain whatever the cookies, every CPU a core of its own,
 * one plain group commit per pass: the same enclave without core scheduling (do not
 * isolate it: its commits would fail CORE_CONFLICT).
 *
 * Affinity: a core goes only to a domain with a waiting thread that may use it, and
 * each CPU takes the first thread that may run there.
 *
 * Weaknesses: the global agent's CPU runs no thread and burns its time polling; a
 * domain whose threads may use only some cores waits for one of those (the bound
 * above assumes threads that may use every core); the agent trusts smt= (a wrong
 * one shows as CORE_CONFLICT failures); a domain with one runnable thread may take a
 * whole core where a half core would do; 64 domains at most (beyond, the agent gives
 * up the enclave).
 *
 * Usage: coresched ENCLAVE_ID [upgrade] [[exit-when-empty] N] [slice=US] [smt=N]
 * [mix]; with N it exits after N of the enclave's threads have died, printing a line
 * of its own (decisions, domain switches, idle sibling commits, failed commits by
 * state) and the reference agents' totals, with their exit status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/lib/ghostlib.h"

#define RETRY_NS	20000	/* CPU_BUSY, or a thread still leaving a CPU */
#define MAX_DOMAINS	64
#define NSTATES		(GHOST_TXN_CPU_NOT_ALLOWED + 1)

struct domain {
	uint32_t cookie;
	struct ga_fifo q;		/* its waiting threads */
	int cores;			/* cores holding it (recounted every pass) */
	uint64_t starved_since;		/* waiting and holding no core since; 0: not */
};

struct core {
	int dom;			/* the domain it holds, -1: none yet */
	uint64_t slice_end;
};

static struct ghost_agent agent;
static uint64_t slice_ns = 2000000;
static int smt = 2;
static bool mix, too_many;

/* The global agent's state: only step() touches it, one agent thread at a time
 * (ga_central_loop). */
static struct ga_table *tab;
static struct domain dom[MAX_DOMAINS];	/* dom[0]: cookie 0, trusted */
static int ndom = 1;
static struct core cores[GHOST_MAX_CPUS];	/* core k: CPUs k*smt .. k*smt+smt-1 */
static uint64_t running[GHOST_MAX_CPUS];	/* tid sent there, 0: none */
static uint64_t started[GHOST_MAX_CPUS];	/* when that commit completed */
static uint64_t retry_at, next_at, overflow_seen;
static uint64_t decisions, switches, idles, failed[NSTATES], per_cpu[GHOST_MAX_CPUS];

/* The domain of t (ga_thread.user is its index + 1), from its status word the
 * first time. */
static int domain_of(struct ga_thread *t)
{
	struct ghost_thread_status sw;
	uint32_t cookie;
	int d = 0;

	if (t->user)
		return (int)t->user - 1;
	cookie = !mix && ga_thread_status(&agent, t->tid, &sw) ? sw.cookie : 0;
	while (d < ndom && dom[d].cookie != cookie)
		d++;
	if (d == MAX_DOMAINS) {
		too_many = true;	/* we cannot keep it apart: give up the enclave */
		ga_finish(&agent, -1);
		d = 0;
	} else if (d == ndom) {
		dom[ndom++] = (struct domain){ .cookie = cookie };
	}
	t->user = (uint64_t)d + 1;
	return d;
}

static struct ga_fifo *fifo_of(struct ga_thread *t)
{
	return &dom[domain_of(t)].q;
}

static void handle(const struct ghost_msg *m)
{
	struct ga_thread *t = ga_track_msg(tab, m);

	if (!t)
		return;			/* stale, duplicate, or a CPU event */
	domain_of(t);			/* learn its cookie while its word is its own */
	if (!t->on_cpu && m->cpu < GHOST_MAX_CPUS && running[m->cpu] == t->tid)
		running[m->cpu] = 0;
	if (ga_thread_waiting(t) && !t->fifo)
		ga_fifo_push_tail(fifo_of(t), t);
}

/* A thread already running (upgrade, restart) keeps its CPU and gives its core its
 * domain, a cookie preferred to none. */
static void resync_one(struct ga_thread *t, bool known, void *arg)
{
	if (t->on_cpu && ga_cpu_in(&agent, t->cpu)) {
		struct core *co = &cores[t->cpu / smt];
		running[t->cpu] = t->tid;
		started[t->cpu] = wisp_clock_ns();
		if (co->dom <= 0) {
			co->dom = domain_of(t);
			co->slice_end = started[t->cpu] + slice_ns;
		}
	} else if (ga_thread_waiting(t) && !t->fifo) {
		ga_fifo_push_tail(fifo_of(t), t);
	}
}

/* The CPUs of core k that can run a thread now. */
static uint64_t core_cpus(int k, int self)
{
	uint64_t m = agent.cpus & ~(1ull << self) & (~0ull >> (64 - smt)) << (smt * k);

	for (uint64_t r = m; r; r &= r - 1)
		if (!ga_cpu_available(&agent, __builtin_ctzll(r)))
			m &= ~(r & -r);
	return m;
}

static struct ga_thread *running_on(int cpu)
{
	struct ga_thread *t = running[cpu] ? ga_thread_find(tab, running[cpu]) : NULL;

	if (!t)
		running[cpu] = 0;	/* gone */
	return t;
}

/* Domains waiting and holding no core are starved from now on, if not already. */
static void mark_starved(struct domain *d, uint64_t now)
{
	if (d->cores || ga_fifo_empty(&d->q))
		d->starved_since = 0;
	else if (!d->starved_since)
		d->starved_since = now;
}

static void count_cores(int self, uint64_t now)
{
	for (int d = 0; d < ndom; d++)
		dom[d].cores = 0;
	for (int k = 0; k * smt < GHOST_MAX_CPUS; k++)
		if (cores[k].dom >= 0 && core_cpus(k, self))
			dom[cores[k].dom].cores++;
	for (int d = 0; d < ndom; d++)
		mark_starved(&dom[d], now);
}

/* Domain d has a waiting thread that may run on one of cpus (its affinity). */
static bool fits(int d, uint64_t cpus)
{
	for (struct ga_thread *t = dom[d].q.head; t; t = t->next)
		if (t->affinity & cpus)
			return true;
	return false;
}

/* The domain core k (CPUs cpus) holds for what follows: only a domain with a thread
 * that may use the core is chosen. */
static void choose_domain(int k, uint64_t cpus, uint64_t now)
{
	struct core *co = &cores[k];
	int cur = co->dom, next = -1;
	bool has = cur >= 0 && fits(cur, cpus);

	for (uint64_t r = cpus; r && cur >= 0 && !has; r &= r - 1) {
		struct ga_thread *t = running_on(__builtin_ctzll(r));
		has = t && domain_of(t) == cur;
	}
	if (has && now < co->slice_end)
		return;
	for (int d = 0; d < ndom; d++)		/* the starved FIFO's head */
		if (dom[d].starved_since && fits(d, cpus) && (next < 0 ||
		    dom[d].starved_since < dom[next].starved_since))
			next = d;
	for (int d = 0; next < 0 && !has && d < ndom; d++)	/* else the busiest */
		if (dom[d].q.count > (next < 0 ? 0 : dom[next].q.count) && fits(d, cpus))
			next = d;
	if (next < 0 || next == cur)
		return;
	co->dom = next;
	co->slice_end = now + slice_ns;
	dom[next].cores++;
	mark_starved(&dom[next], now);
	if (cur >= 0) {
		switches++;
		dom[cur].cores--;
		mark_starved(&dom[cur], now);
	}
}

/* How much t belongs on a CPU of domain d: 2 its own, 1 a guest of domain 0, 0 not
 * at all, -1 nothing. */
static int rank(struct ga_thread *t, int d)
{
	int td = t ? domain_of(t) : -1;

	return !t ? -1 : td == d ? 2 : td == 0 ? 1 : 0;
}

/* Fill core k: the siblings whose thread changes, their transactions set. */
static uint64_t fill_core(int k, int self, const uint32_t *aseq, struct ga_thread **sent,
			  uint64_t now)
{
	uint64_t cpus = core_cpus(k, self), mask = 0;
	int d;

	if (!cpus)
		return 0;
	choose_domain(k, cpus, now);
	d = cores[k].dom;
	for (uint64_t r = cpus; r && d >= 0; r &= r - 1) {
		int cpu = __builtin_ctzll(r);
		int have = rank(running_on(cpu), d);
		struct ga_fifo *q = ga_fifo_first_for(&dom[d].q, cpu) ? &dom[d].q :
				    d && ga_fifo_first_for(&dom[0].q, cpu) ? &dom[0].q : NULL;
		int want = !q ? -1 : q == &dom[d].q ? 2 : 1;
		bool over = now - started[cpu] >= slice_ns;

		if (have != 0 && want <= have && !(want == have && want > 0 && over))
			continue;	/* it keeps what it runs */
		sent[cpu] = q ? ga_fifo_pop_for(q, cpu) : NULL;
		ga_txn_set(&agent, cpu, sent[cpu] ? sent[cpu]->tid : 0,
			   sent[cpu] ? sent[cpu]->tseq : 0, aseq[cpu],
			   sent[cpu] ? 0 : GHOST_TXN_IDLE);
		mask |= 1ull << cpu;
	}
	return mask;
}

/* The final state of the transaction that sent t (NULL: idle) to cpu. */
static void outcome(int cpu, struct ga_thread *t, uint64_t now)
{
	uint32_t st = ga_txn_state(&agent, cpu);

	if (st == GHOST_TXN_COMPLETE) {
		running[cpu] = t ? t->tid : 0;
		started[cpu] = now;
		idles += !t;
		if (t) {
			t->on_cpu = true;
			t->cpu = cpu;
			decisions++;
			per_cpu[cpu]++;
		}
		return;
	}
	uint64_t at = st == GHOST_TXN_AGENT_STALE ? 1 : now + RETRY_NS;
	failed[st < NSTATES ? st : 0]++;
	if (!retry_at || at < retry_at)
		retry_at = at;
	if (!t || st == GHOST_TXN_THREAD_STALE || st == GHOST_TXN_NOT_IN_ENCLAVE ||
	    (st == GHOST_TXN_NOT_RUNNABLE && !ga_runnable_now(&agent, t)))
		return;			/* its message is coming */
	ga_fifo_push_head(fifo_of(t), t);
}

static void commit(uint64_t mask, unsigned flags, struct ga_thread **sent)
{
	if (ga_commit(&agent, mask, flags) < 0 && ga_enclave_alive(&agent))
		fprintf(stderr, "coresched: GHOST_COMMIT failed\n");
	uint64_t now = wisp_clock_ns();
	for (int cpu = GHOST_MAX_CPUS - 1; cpu >= 0; cpu--)	/* keeps the FIFO order */
		if (mask >> cpu & 1)
			outcome(cpu, sent[cpu], now);
}

/* When the next slice ends (0: none), to look again then. */
static uint64_t next_deadline(int self, uint64_t now)
{
	uint64_t at = 0;

	ga_for_each_cpu(cpu, &agent) {
		uint64_t c = cores[cpu / smt].slice_end, t = started[cpu] + slice_ns;
		if (cpu == self)
			continue;
		if (c > now && (!at || c < at))
			at = c;
		if (running[cpu] && t > now && (!at || t < at))
			at = t;
	}
	return at;
}

/* One pass: drain, then decide every core; each core that changes is one sync
 * commit (mix: one plain commit for all). */
static void step(int self, bool first)
{
	uint32_t aseq[GHOST_MAX_CPUS];
	struct ga_thread *sent[GHOST_MAX_CPUS];
	uint64_t before = tab->deaths, all = 0, n = ga_pending(agent.default_queue);
	struct ghost_msg m;
	struct ga_thread *mine = ga_take_back(tab, &running[self]);

	if (mine)			/* sent here before this CPU became global */
		ga_fifo_push_head(fifo_of(mine), mine);
	retry_at = 0;
	ga_for_each_cpu(cpu, &agent)
		aseq[cpu] = ga_aseq(&agent, cpu);	/* before reading what they cover */
	if (ga_overflowed(agent.default_queue, &overflow_seen) || first) {
		memset(running, 0, sizeof(running));
		ga_resync(tab, resync_one, NULL);
	}
	while (n-- && ga_pop(agent.default_queue, &m))
		handle(&m);
	ga_count_deaths(&agent, self, tab->deaths - before);
	uint64_t now = wisp_clock_ns();
	count_cores(self, now);
	for (int k = 0; k * smt < GHOST_MAX_CPUS; k++) {
		uint64_t mask = fill_core(k, self, aseq, sent, now);
		if (mask && !mix)
			commit(mask, GHOST_COMMIT_SYNC, sent);
		all |= mask;
	}
	if (all && mix)
		commit(all, 0, sent);
	next_at = next_deadline(self, wisp_clock_ns());
}

static bool work(int self)
{
	uint64_t now = wisp_clock_ns();

	return ga_pending(agent.default_queue) || (retry_at && now >= retry_at) ||
	       (next_at && now >= next_at);
}

static void central_agent(struct ghost_agent *a, int self, void *arg)
{
	ga_central_loop(a, self, "coresched", work, step);
}

/* The last lines, and the exit status: fifo-central's (3: a CPU never got a thread),
 * 1 if the agent gave up. */
static int report(void)
{
	int status;

	if (too_many)
		fprintf(stderr, "coresched: more than %d security domains: gave up\n", MAX_DOMAINS);
	printf("coresched: %llu decisions, %llu domain switches, %llu idle siblings, %d domains, "
	       "slice %llu us, smt %d%s; failed:", (unsigned long long)decisions,
	       (unsigned long long)switches, (unsigned long long)idles, ndom,
	       (unsigned long long)(slice_ns / 1000), smt, mix ? ", mix" : "");
	for (int st = 0; st < NSTATES; st++)
		if (failed[st])
			printf(" %s %llu", ga_txn_state_name(st), (unsigned long long)failed[st]);
	printf("\n");
	status = ga_print_totals(&agent, "coresched", decisions, per_cpu, 1);
	return too_many ? 1 : status;
}

int main(int argc, char **argv)
{
	int id, flags, err;
	uint64_t exit_after;

	for (; argc > 2; argc--) {
		const char *w = argv[argc - 1];
		if (!strncmp(w, "slice=", 6))
			slice_ns = strtoull(w + 6, NULL, 10) * 1000;
		else if (!strncmp(w, "smt=", 4))
			smt = atoi(w + 4);
		else if (!strcmp(w, "mix"))
			mix = true;
		else
			break;
	}
	if (ga_parse_args(argc, argv, &id, &flags, &exit_after) < 0 || slice_ns == 0 ||
	    smt < 1 || smt > 8) {
		fprintf(stderr, "  coresched also takes slice=US (2000), smt=N (2: CPUs 2k, "
			"2k+1 are siblings; 1 to 8) and mix (no core scheduling)\n");
		return 2;
	}
	if (mix)
		smt = 1;
	err = ga_attach(&agent, id, GHOST_MODE_CENTRAL | flags);
	if (err < 0) {
		fprintf(stderr, "coresched: cannot attach to enclave %d: %s\n", id, strerror(-err));
		return 1;
	}
	agent.exit_after = exit_after;
	tab = ga_table_create(&agent);
	if (!tab || agent.ncpus < 2) {
		fprintf(stderr, "coresched: %s\n", tab ? "the enclave needs two CPUs or more" :
			"out of memory");
		return 1;
	}
	for (int k = 0; k < GHOST_MAX_CPUS; k++)
		cores[k].dom = -1;
	err = ga_start_agents(&agent, central_agent, NULL);
	if (err) {
		fprintf(stderr, "coresched: cannot start agent threads: %s\n", strerror(err));
		return 1;
	}
	ga_join_agents(&agent);
	return report();
}
