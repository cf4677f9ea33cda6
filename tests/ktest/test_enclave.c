/* tests/ktest/test_enclave.c: enclaves and the ghost class from the kernel's side:
 * CPU ownership, a ghost thread runs only when a transaction latches it, every
 * transaction outcome the kernel can produce without an agent, a native thread
 * preempting a ghost one, and destroy handing threads back to the native class. */
#include <kernel/cpu.h>
#include <kernel/enclave.h>
#include <kernel/ktest.h>
#include <kernel/sched.h>
#include <kernel/uapi/errno.h>
#include <arch/arch.h>

#define HANG_NS	30000000000ull

static volatile int stop;
static volatile long progress;

static void spin(void *arg)
{
	while (!stop)
		progress++;
}

static cpumask_t only(unsigned cpu)
{
	cpumask_t m = { { 0 } };
	cpumask_set(&m, cpu);
	return m;
}

/* Wait until progress moves (true) or the hang bound passes (false). */
static bool moves(void)
{
	long p = progress;
	uint64_t end = clock_ns() + HANG_NS;
	while (progress == p && clock_ns() < end)
		thread_sleep(100000);
	return progress != p;
}

/* Wait until progress stays put across 20 ms: the thread is off every CPU. */
static bool stops(void)
{
	uint64_t end = clock_ns() + HANG_NS;
	while (clock_ns() < end) {
		long p = progress;
		thread_sleep(20000000);
		if (progress == p)
			return true;
	}
	return false;
}

KTEST(enclave, cpu_ownership)
{
	int err;
	unsigned n = enclave_count();
	cpumask_t last = only(ncpus - 1), none = { { 0 } }, offline = only(MAX_CPUS - 1);
	struct enclave *e = enclave_create(&last, &err);

	KT_ASSERT(e != NULL);
	KT_EQ(enclave_count(), n + 1);
	KT_ASSERT(enclave_create(&last, &err) == NULL);
	KT_EQ(err, -EBUSY);
	KT_ASSERT(enclave_create(&none, &err) == NULL);
	KT_EQ(err, -EINVAL);
	if (ncpus < MAX_CPUS) {
		KT_ASSERT(enclave_create(&offline, &err) == NULL);
		KT_EQ(err, -EINVAL);
	}
	enclave_destroy(e);
	KT_EQ(enclave_count(), n);
	e = enclave_create(&last, &err);	/* the CPU is free again */
	KT_ASSERT(e != NULL);
	enclave_destroy(e);
}

static struct enclave *cur;	/* the enclave under test: txn_for reads its Aseq */
static unsigned cur_cpu;

static struct ghost_txn txn_for(struct thread *t)
{
	return (struct ghost_txn){ .state = GHOST_TXN_READY, .tid = t->tid,
				   .tseq = enclave_tseq(t),
				   .aseq = cur ? enclave_aseq(cur, cur_cpu) : 0 };
}

KTEST(enclave, ghost_runs_only_when_committed)
{
	unsigned cpu = ncpus - 1;
	cpumask_t m = only(cpu);
	int err;

	if (ncpus < 2) {
		/* One CPU: the test itself is the native thread holding it. */
		struct enclave *e = enclave_create(&m, &err);
		KT_ASSERT(e != NULL);
		struct ghost_txn t = { .state = GHOST_TXN_READY, .flags = GHOST_TXN_IDLE };
		KT_EQ(enclave_commit(e, cpu, &t), GHOST_TXN_CPU_BUSY);
		enclave_destroy(e);
		cur = NULL;
		return;
	}
	stop = 0;
	progress = 0;
	struct thread *t = thread_create_on("ghosted", spin, NULL, &m);
	KT_ASSERT(t != NULL);
	KT_ASSERT(moves());
	struct enclave *e = enclave_create(&m, &err);
	KT_ASSERT(e != NULL);
	cur = e, cur_cpu = cpu;
	KT_EQ(enclave_add_thread(e, t), 0);
	KT_EQ(enclave_add_thread(e, t), -EBUSY);
	KT_ASSERT(stops());			/* no agent decision: it does not run */
	struct ghost_txn x = txn_for(t);
	KT_EQ(enclave_commit(e, cpu, &x), GHOST_TXN_COMPLETE);
	KT_EQ(x.state, GHOST_TXN_COMPLETE);
	KT_ASSERT(moves());			/* latched: it runs */
	enclave_destroy(e);			/* back to native, still runnable */
	cur = NULL;
	KT_ASSERT(moves());
	stop = 1;
	KT_EQ(thread_join(t->tid, NULL), 0);
}

static void napper(void *arg)
{
	while (!stop)
		thread_sleep(1000000);
}

static struct waitq gate;

/* Blocks until stop: a thread that is deterministically not runnable. */
static void blocker(void *arg)
{
	unsigned long flags = spin_lock_irqsave(&gate.lock);
	while (!stop)
		waitq_wait(&gate);
	spin_unlock_irqrestore(&gate.lock, flags);
}

KTEST(enclave, transaction_outcomes)
{
	unsigned cpu = ncpus - 1;
	cpumask_t m = only(cpu);
	int err;

	if (ncpus < 2) {
		/* One CPU, held by this native thread: only the CPU checks can be reached. */
		struct enclave *e = enclave_create(&m, &err);
		cur = e, cur_cpu = cpu;
		struct ghost_txn x = txn_for(thread_current());
		KT_ASSERT(e != NULL);
		KT_EQ(enclave_commit(e, cpu, &x), GHOST_TXN_CPU_BUSY);
		x = txn_for(thread_current());
		KT_EQ(enclave_commit(e, MAX_CPUS + 3, &x), GHOST_TXN_CPU_NOT_IN_ENCLAVE);
		enclave_destroy(e);
		cur = NULL;
		return;
	}
	stop = 0;
	progress = 0;
	waitq_init(&gate, "test gate");
	struct enclave *e = enclave_create(&m, &err);
	cur = e, cur_cpu = cpu;
	/* The blocker goes to sleep for good before it joins the enclave. */
	struct thread *sleepy = thread_create_on("ghost-block", blocker, NULL, &m);
	KT_ASSERT(e && sleepy);
	uint64_t end = clock_ns() + HANG_NS;
	while (READ_ONCE(sleepy->state) != THREAD_BLOCKED && clock_ns() < end)
		thread_sleep(100000);
	KT_EQ(sleepy->state, THREAD_BLOCKED);
	struct thread *spinner = thread_create_on("ghost-spin", spin, NULL, &m);
	KT_ASSERT(spinner != NULL);
	KT_EQ(enclave_add_thread(e, spinner), 0);
	KT_EQ(enclave_add_thread(e, sleepy), 0);
	KT_ASSERT(stops());

	struct ghost_txn x = txn_for(spinner);
	x.tseq--;
	KT_EQ(enclave_commit(e, cpu, &x), GHOST_TXN_THREAD_STALE);
	x = txn_for(spinner);
	KT_EQ(enclave_commit(e, 0, &x), GHOST_TXN_CPU_NOT_IN_ENCLAVE);
	x = txn_for(thread_current());
	KT_EQ(enclave_commit(e, cpu, &x), GHOST_TXN_NOT_IN_ENCLAVE);
	x = txn_for(spinner);
	x.flags = 1u << 9;
	KT_EQ(enclave_commit(e, cpu, &x), GHOST_TXN_INVALID_FLAGS);
	x = txn_for(sleepy);
	KT_EQ(enclave_commit(e, cpu, &x), GHOST_TXN_NOT_RUNNABLE);

	/* A native thread on the CPU makes it busy, and preempts the ghost thread. */
	x = txn_for(spinner);
	KT_EQ(enclave_commit(e, cpu, &x), GHOST_TXN_COMPLETE);
	KT_ASSERT(moves());
	uint32_t before = enclave_tseq(spinner);
	struct thread *native = thread_create_on("native", napper, NULL, &m);
	KT_ASSERT(native != NULL);
	end = clock_ns() + HANG_NS;
	while (enclave_tseq(spinner) == before && clock_ns() < end)
		thread_sleep(100000);
	KT_ASSERT(enclave_tseq(spinner) != before);	/* THREAD_PREEMPTED */
	stop = 1;
	waitq_wake_all(&gate);
	KT_EQ(thread_join(native->tid, NULL), 0);
	enclave_destroy(e);
	cur = NULL;
	KT_EQ(thread_join(spinner->tid, NULL), 0);
	KT_EQ(thread_join(sleepy->tid, NULL), 0);
}
