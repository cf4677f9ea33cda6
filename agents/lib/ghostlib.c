/* agents/lib/ghostlib.c: the agent library of agents/lib/ghostlib.h.  Ordering
 * follows the comments of kernel/uapi/ghost.h: queue head, status-word seq, hint tail
 * and transaction state are the kernel's publications (acquire loads here); queue
 * tail, hint head and a slot's READY are ours (release stores here). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/lib/ghostlib.h"

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static long ghost(enum ghost_op op, long a, long b, long c)
{
	return wisp_ghost(op, a, b, c);
}

/* Attaching and agent threads. */

int ga_attach(struct ghost_agent *a, int enclave_id, int mode)
{
	struct ghost_attach at;
	long err;

	memset(a, 0, sizeof(*a));
	memset(&at, 0, sizeof(at));
	err = ghost(GHOST_ATTACH, enclave_id, mode, (long)&at);
	if (err < 0)
		return (int)err;
	if (!at.status || !at.agent || !at.default_queue ||
	    at.status->hdr.magic != GHOST_STATUS_MAGIC ||
	    at.status->hdr.version != GHOST_ABI_VERSION ||
	    at.default_queue->magic != GHOST_QUEUE_MAGIC)
		return -EPROTO;
	a->enclave_id = enclave_id;
	a->mode = mode & ~(int)GHOST_ATTACH_UPGRADE;
	a->status = at.status;
	a->agent = at.agent;
	a->default_queue = at.default_queue;
	a->default_queue_id = (int)at.default_queue_id;
	a->cpus = LOAD(at.status->hdr.cpus);
	a->ncpus = __builtin_popcountll(a->cpus);
	return 0;
}

static void *agent_main(void *arg)
{
	struct ga_start *s = arg;
	long err = ghost(GHOST_AGENT_INIT, s->cpu, 0, 0);

	if (err < 0) {
		fprintf(stderr, "ghostlib: cannot become the agent of CPU %d: %s; giving up "
			"the enclave\n", s->cpu, strerror((int)-err));
		exit(1);
	}
	s->fn(s->a, s->cpu, s->arg);
	return NULL;
}

int ga_start_agents(struct ghost_agent *a, ga_agent_fn fn, void *arg)
{
	ga_for_each_cpu(cpu, a) {
		struct ga_start *s = &a->start[a->nthreads];

		*s = (struct ga_start){ .a = a, .cpu = cpu, .fn = fn, .arg = arg };
		int err = wisp_thread_create(&a->threads[a->nthreads], agent_main, s);
		if (err)
			return err;
		a->nthreads++;
	}
	return 0;
}

int ga_join_agents(struct ghost_agent *a)
{
	int first = 0;

	for (int i = 0; i < a->nthreads; i++) {
		int err = wisp_thread_join(a->threads[i], NULL);
		if (err && !first)
			first = err;
	}
	a->nthreads = 0;
	return first;
}

int ga_cpu_next(const struct ghost_agent *a, int cpu)
{
	uint64_t rest = cpu < 0 ? a->cpus : a->cpus & ~((2ull << cpu) - 1);

	return rest ? __builtin_ctzll(rest) : -1;
}

int ga_parse_args(int argc, char **argv, int *enclave_id, int *attach_flags,
		  uint64_t *exit_after)
{
	char *end;
	int i = 2;

	*exit_after = 0;
	*attach_flags = 0;
	if (argc < 2)
		goto usage;
	*enclave_id = (int)strtol(argv[1], &end, 10);
	if (*end || *enclave_id <= 0)
		goto usage;
	if (i < argc && !strcmp(argv[i], "upgrade")) {
		*attach_flags = GHOST_ATTACH_UPGRADE;
		i++;
	}
	if (i < argc && !strcmp(argv[i], "exit-when-empty") && ++i == argc)
		goto usage;
	if (i < argc) {
		*exit_after = strtoull(argv[i++], &end, 10);
		if (*end || *exit_after == 0)
			goto usage;
	}
	if (i == argc)
		return 0;
usage:
	fprintf(stderr, "usage: %s ENCLAVE_ID [upgrade] [[exit-when-empty] N]\n"
		"  schedules enclave ENCLAVE_ID; with upgrade, takes over from the agent "
		"there\n  (live upgrade); with N, exits once N of its threads have died\n",
		argc > 0 ? argv[0] : "agent");
	return -1;
}

/* Queues. */

/* The kernel answers -ENOSPC also when another agent thread's create took the id it
 * had chosen (kernel/enclave.c); only a table that stays full is really full. */
int ga_queue_create(uint32_t nslots, struct ghost_queue **q)
{
	long id = -ENOSPC;

	for (int try = 0; try < GHOST_MAX_QUEUES && id == -ENOSPC; try++)
		id = ghost(GHOST_QUEUE_CREATE, nslots, (long)q, 0);
	if (id < 0)
		return (int)id;
	if (!*q || (*q)->magic != GHOST_QUEUE_MAGIC)
		return -EPROTO;
	return (int)id;
}

int ga_queue_destroy(int qid)
{
	return (int)ghost(GHOST_QUEUE_DESTROY, qid, 0, 0);
}

int ga_associate(uint64_t tid, int qid)
{
	return (int)ghost(GHOST_ASSOCIATE_QUEUE, (long)tid, qid, 0);
}

int ga_config_wakeup(int qid, int cpu)
{
	return (int)ghost(GHOST_CONFIG_QUEUE_WAKEUP, qid, cpu, 0);
}

/* The acquire load of head makes the kernel's slot write visible; the release store
 * of tail tells it the slot is free only after the copy. */
bool ga_pop(struct ghost_queue *q, struct ghost_msg *m)
{
	uint64_t tail = LOAD(q->tail);
	uint64_t head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);

	if (head == tail)
		return false;
	*m = q->msgs[tail & (LOAD(q->nslots) - 1)];
	__atomic_store_n(&q->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

uint64_t ga_pending(const struct ghost_queue *q)
{
	return __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) - LOAD(q->tail);
}

uint64_t ga_overflow(const struct ghost_queue *q)
{
	return __atomic_load_n(&q->overflow, __ATOMIC_ACQUIRE);
}

bool ga_overflowed(const struct ghost_queue *q, uint64_t *seen)
{
	uint64_t now = ga_overflow(q);

	if (now == *seen)
		return false;
	*seen = now;
	return true;
}

/* Status words: a seqcount reader.  The kernel makes seq odd, writes, makes it even
 * (release); a copy is good if seq was even and the same before and after. */

static uint32_t seq_begin(const uint32_t *seq)
{
	uint32_t s;

	while ((s = __atomic_load_n(seq, __ATOMIC_ACQUIRE)) & 1)
		__builtin_ia32_pause();
	return s;
}

static bool seq_retry(const uint32_t *seq, uint32_t s)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return LOAD(*seq) != s;
}

void ga_thread_status_at(const struct ghost_agent *a, uint32_t index,
			 struct ghost_thread_status *out)
{
	const struct ghost_thread_status *w = &a->status->thread[index & (GHOST_MAX_THREADS - 1)];
	uint32_t s;

	do {
		s = seq_begin(&w->seq);
		out->flags = LOAD(w->flags);
		out->tid = LOAD(w->tid);
		out->tseq = LOAD(w->tseq);
		out->cpu = LOAD(w->cpu);
		out->runtime_ns = LOAD(w->runtime_ns);
		out->switch_ns = LOAD(w->switch_ns);
		out->cookie = LOAD(w->cookie);
		out->affinity = LOAD(w->affinity);
	} while (seq_retry(&w->seq, s));
	out->seq = s;
}

bool ga_thread_status(const struct ghost_agent *a, uint64_t tid,
		      struct ghost_thread_status *out)
{
	ga_thread_status_at(a, GHOST_THREAD_INDEX(tid), out);
	return tid != 0 && out->tid == tid;
}

void ga_cpu_status(const struct ghost_agent *a, int cpu, struct ghost_cpu_status *out)
{
	const struct ghost_cpu_status *w = &a->status->cpu[cpu & (GHOST_MAX_CPUS - 1)];
	uint32_t s;

	memset(out, 0, sizeof(*out));
	do {
		s = seq_begin(&w->seq);
		out->flags = LOAD(w->flags);
		out->aseq = LOAD(w->aseq);
		out->current_tid = LOAD(w->current_tid);
	} while (seq_retry(&w->seq, s));
	out->seq = s;
}

uint32_t ga_aseq(const struct ghost_agent *a, int cpu)
{
	return __atomic_load_n(&a->status->cpu[cpu & (GHOST_MAX_CPUS - 1)].aseq, __ATOMIC_ACQUIRE);
}

bool ga_cpu_available(const struct ghost_agent *a, int cpu)
{
	uint32_t f = __atomic_load_n(&a->status->cpu[cpu & (GHOST_MAX_CPUS - 1)].flags,
				     __ATOMIC_ACQUIRE);
	return f & GHOST_CPU_AVAILABLE;
}

bool ga_done(const struct ghost_agent *a)
{
	return __atomic_load_n(&a->done, __ATOMIC_ACQUIRE) || ga_successor_waiting(a);
}

bool ga_successor_waiting(const struct ghost_agent *a)
{
	return __atomic_load_n(&a->status->hdr.successor, __ATOMIC_ACQUIRE) != 0;
}

void ga_finish(struct ghost_agent *a, int self)
{
	__atomic_store_n(&a->done, true, __ATOMIC_RELEASE);
	ga_for_each_cpu(cpu, a)
		if (cpu != self)
			ga_ping(cpu);
}

void ga_count_deaths(struct ghost_agent *a, int self, uint64_t n)
{
	if (n && __atomic_add_fetch(&a->deaths, n, __ATOMIC_ACQ_REL) >= a->exit_after &&
	    a->exit_after)
		ga_finish(a, self);
}

bool ga_enclave_alive(const struct ghost_agent *a)
{
	return __atomic_load_n(&a->status->hdr.mode, __ATOMIC_ACQUIRE) != 0;
}

int ga_global_cpu(const struct ghost_agent *a)
{
	return (int)__atomic_load_n(&a->status->hdr.global_cpu, __ATOMIC_ACQUIRE);
}

/* Transactions. */

void ga_txn_set(struct ghost_agent *a, int cpu, uint64_t tid, uint32_t tseq,
		uint32_t aseq, uint32_t flags)
{
	struct ghost_txn *x = &a->agent->txn[cpu & (GHOST_MAX_CPUS - 1)];

	STORE(x->flags, flags);
	STORE(x->tid, tid);
	STORE(x->tseq, tseq);
	STORE(x->aseq, aseq);
	__atomic_store_n(&x->state, (uint32_t)GHOST_TXN_READY, __ATOMIC_RELEASE);
}

long ga_commit(struct ghost_agent *a, uint64_t cpus, unsigned flags)
{
	return ghost(GHOST_COMMIT, (long)cpus, flags, 0);
}

uint32_t ga_txn_state(const struct ghost_agent *a, int cpu)
{
	return __atomic_load_n(&a->agent->txn[cpu & (GHOST_MAX_CPUS - 1)].state, __ATOMIC_ACQUIRE);
}

const char *ga_txn_state_name(uint32_t state)
{
	static const char *const names[] = {
		[GHOST_TXN_EMPTY] = "EMPTY",
		[GHOST_TXN_READY] = "READY",
		[GHOST_TXN_COMPLETE] = "COMPLETE",
		[GHOST_TXN_AGENT_STALE] = "AGENT_STALE",
		[GHOST_TXN_THREAD_STALE] = "THREAD_STALE",
		[GHOST_TXN_NOT_RUNNABLE] = "NOT_RUNNABLE",
		[GHOST_TXN_NOT_IN_ENCLAVE] = "NOT_IN_ENCLAVE",
		[GHOST_TXN_CPU_NOT_IN_ENCLAVE] = "CPU_NOT_IN_ENCLAVE",
		[GHOST_TXN_CPU_BUSY] = "CPU_BUSY",
		[GHOST_TXN_INVALID_FLAGS] = "INVALID_FLAGS",
		[GHOST_TXN_NOT_PERMITTED] = "NOT_PERMITTED",
		[GHOST_TXN_ABORTED] = "ABORTED",
		[GHOST_TXN_CORE_CONFLICT] = "CORE_CONFLICT",
		[GHOST_TXN_CPU_NOT_ALLOWED] = "CPU_NOT_ALLOWED",
	};

	if (state < sizeof(names) / sizeof(names[0]) && names[state])
		return names[state];
	return "?";
}

/* Waiting, pinging, hints. */

int ga_wait(uint64_t timeout_ns)
{
	return (int)ghost(GHOST_WAIT, (long)timeout_ns, 0, 0);
}

int ga_ping(int cpu)
{
	return (int)ghost(GHOST_PING, cpu, 0, 0);
}

int ga_timer_arm(int cpu, uint64_t deadline_ns, uint64_t cookie)
{
	return (int)ghost(GHOST_TIMER_ARM, cpu, (long)deadline_ns, (long)cookie);
}

/* We are the ring's only writer of head; the kernel's acquire of head sees the hint. */
bool ga_hint_push(struct ghost_agent *a, int cpu, uint64_t tid, uint32_t tseq)
{
	struct ghost_hint_ring *r = &a->agent->hints[cpu & (GHOST_MAX_CPUS - 1)];
	uint64_t head = LOAD(r->head);
	struct ghost_hint *h;

	if (head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >= GHOST_HINTS)
		return false;
	h = &r->hint[head % GHOST_HINTS];
	STORE(h->tid, tid);
	STORE(h->tseq, tseq);
	STORE(h->reserved, 0);
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return true;
}

/* The thread table. */

struct ga_table *ga_table_create(struct ghost_agent *a)
{
	struct ga_table *tab = calloc(1, sizeof(*tab));

	if (!tab)
		return NULL;
	tab->a = a;
	for (int i = 0; i < GHOST_MAX_THREADS; i++)
		tab->t[i] = (struct ga_thread){ .cpu = -1, .affinity = ~0ull };
	return tab;
}

void ga_table_destroy(struct ga_table *tab)
{
	free(tab);
}

struct ga_thread *ga_thread_find(struct ga_table *tab, uint64_t tid)
{
	struct ga_thread *t = &tab->t[GHOST_THREAD_INDEX(tid)];

	return tid != 0 && t->tid == tid ? t : NULL;
}

static void entry_reset(struct ga_thread *t, uint64_t tid)
{
	ga_fifo_remove(t);
	*t = (struct ga_thread){ .tid = tid, .cpu = -1, .affinity = ~0ull };
}

void ga_forget(struct ga_table *tab, struct ga_thread *t)
{
	entry_reset(t, 0);
}

/* The previous tenant of t's slot has gone; count it if we never saw it die. */
static void tenant_gone(struct ga_table *tab, struct ga_thread *t)
{
	if (t->tid != 0 && !t->dead)
		tab->deaths++;
	entry_reset(t, 0);
}

/* m's entry.  A message about a thread other than the entry's is believed only if
 * that thread holds the slot now (its status word says so): otherwise it is about a
 * thread that has gone, and an old message must not evict the slot's new tenant. */
static struct ga_thread *entry_for(struct ga_table *tab, const struct ghost_msg *m)
{
	struct ga_thread *t = &tab->t[GHOST_THREAD_INDEX(m->tid)];
	struct ghost_thread_status sw;

	if (t->tid == m->tid)
		return t;
	if (!ga_thread_status(tab->a, m->tid, &sw))
		return NULL;
	tenant_gone(tab, t);
	t->tid = m->tid;
	t->tseq = m->tseq - 1;		/* so that m itself applies */
	t->runnable = sw.flags & GHOST_SW_RUNNABLE;	/* for messages that say nothing */
	t->on_cpu = sw.flags & GHOST_SW_ON_CPU;		/* of it (AFFINITY) */
	t->affinity = sw.affinity;
	return t;
}

static void apply(struct ga_table *tab, struct ga_thread *t, const struct ghost_msg *m)
{
	switch (m->type) {
	case GHOST_MSG_THREAD_CREATED:
		t->affinity = m->arg;
		/* fall through */
	case GHOST_MSG_THREAD_WAKEUP:
		t->runnable = true;
		t->on_cpu = false;
		break;
	case GHOST_MSG_THREAD_PREEMPTED:
	case GHOST_MSG_THREAD_YIELD:
		t->runnable = true;
		t->on_cpu = false;
		t->cpu = m->cpu;
		break;
	case GHOST_MSG_THREAD_BLOCKED:
		t->runnable = false;
		t->on_cpu = false;
		t->cpu = m->cpu;
		break;
	case GHOST_MSG_THREAD_DEAD:
		t->runnable = false;
		t->on_cpu = false;
		t->dead = true;
		t->cpu = m->cpu;
		tab->deaths++;
		break;
	case GHOST_MSG_THREAD_AFFINITY:	/* a PREEMPTED follows if it must move */
		t->affinity = m->arg;
		break;
	default:			/* types this library does not know */
		break;
	}
	t->tseq = m->tseq;
	if (!ga_thread_waiting(t))
		ga_fifo_remove(t);
}

struct ga_thread *ga_track_msg(struct ga_table *tab, const struct ghost_msg *m)
{
	struct ga_thread *t;

	if (m->tid == 0 || m->type >= GHOST_MSG_TIMER_TICK || m->type == GHOST_MSG_NONE)
		return NULL;
	t = entry_for(tab, m);
	if (!t || (int32_t)(m->tseq - t->tseq) <= 0)
		return NULL;		/* gone, duplicate, or overtaken by a resync */
	apply(tab, t, m);
	return t;
}

bool ga_runnable_now(const struct ghost_agent *a, const struct ga_thread *t)
{
	struct ghost_thread_status sw;

	if (!ga_thread_status(a, t->tid, &sw) || sw.tseq != t->tseq)
		return false;
	return (sw.flags & (GHOST_SW_RUNNABLE | GHOST_SW_ON_CPU | GHOST_SW_DEAD)) ==
	       GHOST_SW_RUNNABLE;
}

static void sync_from_word(struct ga_thread *t, const struct ghost_thread_status *sw)
{
	t->tseq = sw->tseq;
	t->cpu = (int)sw->cpu;
	t->runnable = sw->flags & GHOST_SW_RUNNABLE;
	t->on_cpu = sw->flags & GHOST_SW_ON_CPU;
	t->affinity = sw->affinity;
	if (!ga_thread_waiting(t))
		ga_fifo_remove(t);
}

/* One slot of ga_resync: true if it holds a live member, *known if we had it. */
static bool resync_slot(struct ga_table *tab, uint32_t i, bool *known)
{
	struct ga_thread *t = &tab->t[i];
	struct ghost_thread_status sw;

	ga_thread_status_at(tab->a, i, &sw);
	if (t->tid != 0 && t->tid != sw.tid)
		tenant_gone(tab, t);
	if (sw.tid == 0)
		return false;
	if (sw.flags & GHOST_SW_DEAD) {
		if (t->tid == sw.tid && !t->dead) {
			t->dead = true;
			tab->deaths++;
			sync_from_word(t, &sw);
		}
		return false;
	}
	*known = t->tid == sw.tid;
	if (!*known)
		entry_reset(t, sw.tid);
	sync_from_word(t, &sw);
	return true;
}

int ga_resync(struct ga_table *tab, void (*each)(struct ga_thread *t, bool known, void *arg),
	      void *arg)
{
	int members = 0;

	for (uint32_t i = 0; i < GHOST_MAX_THREADS; i++) {
		bool known = false;

		if (!resync_slot(tab, i, &known))
			continue;
		members++;
		if (each)
			each(&tab->t[i], known, arg);
	}
	return members;
}

struct ga_thread *ga_take_back(struct ga_table *tab, uint64_t *tid)
{
	struct ga_thread *t = *tid ? ga_thread_find(tab, *tid) : NULL;

	*tid = 0;
	if (!t || !t->on_cpu)
		return NULL;
	t->on_cpu = false;
	return ga_thread_waiting(t) && !t->fifo ? t : NULL;
}

int ga_print_totals(const struct ghost_agent *a, const char *prog, uint64_t decisions,
		    const uint64_t *per_cpu, int spare)
{
	int unused = 0;

	printf("%s: scheduled %llu decisions, %llu threads done; per CPU:", prog,
	       (unsigned long long)decisions, (unsigned long long)a->deaths);
	ga_for_each_cpu(cpu, a) {
		printf(" %d:%llu", cpu, (unsigned long long)per_cpu[cpu]);
		unused += per_cpu[cpu] == 0;
	}
	printf("%s\n", ga_successor_waiting(a) ? "; stepped down for a successor" : "");
	return unused > spare && !ga_successor_waiting(a) ? 3 : 0;
}

/* FIFOs. */

void ga_fifo_remove(struct ga_thread *t)
{
	struct ga_fifo *f = t->fifo;

	if (!f)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		f->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		f->tail = t->prev;
	f->count--;
	t->prev = t->next = NULL;
	t->fifo = NULL;
}

void ga_fifo_push_tail(struct ga_fifo *f, struct ga_thread *t)
{
	ga_fifo_remove(t);
	t->prev = f->tail;
	t->next = NULL;
	if (f->tail)
		f->tail->next = t;
	else
		f->head = t;
	f->tail = t;
	f->count++;
	t->fifo = f;
}

void ga_fifo_push_head(struct ga_fifo *f, struct ga_thread *t)
{
	ga_fifo_remove(t);
	t->prev = NULL;
	t->next = f->head;
	if (f->head)
		f->head->prev = t;
	else
		f->tail = t;
	f->head = t;
	f->count++;
	t->fifo = f;
}

struct ga_thread *ga_fifo_pop(struct ga_fifo *f)
{
	struct ga_thread *t = f->head;

	if (t)
		ga_fifo_remove(t);
	return t;
}

struct ga_thread *ga_fifo_first_for(const struct ga_fifo *f, int cpu)
{
	struct ga_thread *t = f->head;

	while (t && !ga_allowed(t, cpu))
		t = t->next;
	return t;
}

struct ga_thread *ga_fifo_pop_for(struct ga_fifo *f, int cpu)
{
	struct ga_thread *t = ga_fifo_first_for(f, cpu);

	if (t)
		ga_fifo_remove(t);
	return t;
}

/* The global agent's steps, one at a time (ga_central_loop). */
static wisp_mutex_t central_lock = WISP_MUTEX_INIT;
static bool central_stepped;			/* [central_lock] a step was taken */

void ga_central_loop(struct ghost_agent *a, int self, const char *prog,
		     bool (*work)(int self), void (*step)(int self, bool first))
{
	if (self == ga_cpu_next(a, -1) && ga_config_wakeup(a->default_queue_id, -1) < 0)
		fprintf(stderr, "%s: GHOST_CONFIG_QUEUE_WAKEUP failed\n", prog);
	while (!ga_done(a) && ga_enclave_alive(a)) {
		int err;
		if (ga_global_cpu(a) != self) {
			if ((err = ga_wait(0)) < 0) {
				if (ga_enclave_alive(a))	/* else: destroyed, the policy ends */
					fprintf(stderr, "%s: CPU %d: GHOST_WAIT failed: %s\n", prog,
						self, strerror(-err));
				break;
			}
			continue;
		}
		/* Global now: one step at once (what this CPU had been sent, what arrived
		 * meanwhile), then one whenever there is work. */
		bool taking_over = true;
		while (!ga_done(a) && ga_global_cpu(a) == self && ga_enclave_alive(a)) {
			if (!taking_over && !work(self)) {
				__builtin_ia32_pause();
				continue;
			}
			taking_over = false;
			wisp_mutex_lock(&central_lock);
			if (!ga_done(a) && ga_global_cpu(a) == self) {
				step(self, !central_stepped);
				central_stepped = true;
			}
			wisp_mutex_unlock(&central_lock);
		}
	}
	ga_finish(a, self);
}
