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
	a->mode = mode;
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

/* Queues. */

int ga_queue_create(uint32_t nslots, struct ghost_queue **q)
{
	long id = ghost(GHOST_QUEUE_CREATE, nslots, (long)q, 0);

	if (id < 0)
		return (int)id;
	if ((*q)->magic != GHOST_QUEUE_MAGIC)
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
