/* kernel/trace.c: a record of every context switch and ghost commit, for a timeline
 * of who ran where and when the agent decided it (tools/perfetto.c turns it into a
 * trace Perfetto and chrome://tracing open).
 *
 * trace=N keeps the first N events of each CPU (off by default: a switch or commit
 * then pays one predicted branch).  Each CPU's buffer is written under that CPU's
 * run-queue lock, which a switch and a latch hold, so recording takes no lock of its
 * own; a full buffer counts what it drops.  Before init's program or a test run powers the
 * machine off, trace_dump prints everything on the console, as lines
 *
 *	trace: begin CPUS PER_CPU          trace: task ID NAME      (each task started)
 *	trace: C NS TID TASK CLASS         one switch: CPU C runs thread TID of task TASK
 *	                                   (0: a kernel thread) from NS on; CLASS is
 *	                                   n native, a agent, g ghost or i idle; or c: a
 *	                                   commit (or run hint) made TID CPU C's next
 *	                                   thread at NS (it runs at its switch, if ever)
 *	trace: cpu C EVENTS DROPPED        trace: end NS
 *
 * so a run's log is its trace. */
#include <kernel/trace.h>
#include <kernel/args.h>
#include <kernel/cpu.h>
#include <kernel/enclave.h>
#include <kernel/page.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/timer.h>
#include <kernel/uapi/errno.h>
#include <arch/layout.h>

#define TRACE_MAX	1000000		/* switches per CPU, at most */
#define TRACE_TASKS	4096		/* task names kept */

struct trace_event {
	uint64_t ns;
	uint64_t tid;
	uint32_t task;
	char cls;
};

/* One per CPU, written under that CPU's rq_lock only; trace_dump reads n with
 * acquire once recording has stopped. */
static struct trace_buf {
	struct trace_event *ev;
	uint32_t n;		/* events kept (release: a reader sees them written) */
	uint64_t dropped;
	uint64_t last_tid;	/* the last switch's */
	char last_cls;
} bufs[MAX_CPUS];

bool trace_on;
static uint32_t per_cpu;	/* trace=N */

static struct spinlock names_lock = SPINLOCK_INIT("trace names");
static struct {
	long id;
	char name[32];
} names[TRACE_TASKS];		/* [names_lock] */
static uint32_t nnames;		/* [names_lock] */
static uint64_t names_dropped;	/* [names_lock] */

static int set_trace(const char *v)
{
	uint64_t n = 0;

	if (!v || !*v)
		return -EINVAL;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > TRACE_MAX)
			return -EINVAL;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	if (n < 1 || n > TRACE_MAX)
		return -ERANGE;
	per_cpu = (uint32_t)n;
	return 0;
}
KERNEL_ARG(trace, "trace=N: record the first N context switches and ghost commits of each "
	   "CPU (1..1000000) and print them before power-off (tools/perfetto)", set_trace);

void trace_init(void)
{
	if (!per_cpu)
		return;
	size_t pages = ((size_t)per_cpu * sizeof(struct trace_event) + PAGE_SIZE - 1) / PAGE_SIZE;
	for (unsigned i = 0; i < ncpus; i++) {
		bufs[i].ev = page_alloc(pages);
		if (!bufs[i].ev) {
			printk("wisp: trace: no memory for %u events per CPU: not tracing\n",
			       per_cpu);
			for (unsigned j = 0; j < i; j++)
				page_free(bufs[j].ev, pages);
			return;
		}
	}
	printk("wisp: trace: the first %u switches and commits of each CPU\n", per_cpu);
	__atomic_store_n(&trace_on, true, __ATOMIC_RELEASE);
}

static void record(struct trace_buf *b, struct thread *t, uint64_t now, char cls)
{
	uint32_t n = b->n;

	if (n >= per_cpu) {
		b->dropped++;
		return;
	}
	/* A buffer's events are in the order they happened (its lock orders them), but
	 * their times need not be: a switch is stamped when schedule() begins, before
	 * it takes the lock a commit for it may hold, and a commit is stamped by the
	 * committing CPU's clock.  Clamped, the times follow the order. */
	if (n && now < b->ev[n - 1].ns)
		now = b->ev[n - 1].ns;
	b->ev[n] = (struct trace_event){
		.ns = now, .tid = t->tid, .task = t->task ? (uint32_t)t->task->id : 0, .cls = cls,
	};
	__atomic_store_n(&b->n, n + 1, __ATOMIC_RELEASE);
}

void trace_switch_slow(struct cpu *c, struct thread *next, uint64_t now)
{
	struct trace_buf *b = &bufs[c->id];
	const struct sched_class *k = next->class;
	char cls = k == &native_class ? 'n' : k == &agent_class ? 'a' : k == &ghost_class ? 'g' : 'i';

	/* The same thread again: an event only if it changed class (an agent starting,
	 * a thread joining or leaving an enclave while it ran). */
	if (b->n && b->last_tid == next->tid && b->last_cls == cls)
		return;
	b->last_tid = next->tid;
	b->last_cls = cls;
	record(b, next, now, cls);
}

void trace_commit_slow(struct cpu *c, struct thread *t)
{
	record(&bufs[c->id], t, clock_ns(), 'c');
}

void trace_task(long id, const char *name)
{
	if (!__atomic_load_n(&trace_on, __ATOMIC_ACQUIRE))
		return;
	unsigned long flags = spin_lock_irqsave(&names_lock);
	if (nnames < TRACE_TASKS) {
		names[nnames].id = id;
		strlcpy(names[nnames].name, name, sizeof(names[nnames].name));
		nnames++;
	} else {
		names_dropped++;
	}
	spin_unlock_irqrestore(&names_lock, flags);
}

void trace_dump(void)
{
	if (!__atomic_exchange_n(&trace_on, false, __ATOMIC_ACQ_REL))
		return;
	/* Recording has stopped; a CPU still inside trace_switch_slow publishes its
	 * event with the release store of n, so what n covers is written. */
	printk("trace: begin %u %u\n", ncpus, per_cpu);
	unsigned long flags = spin_lock_irqsave(&names_lock);
	uint32_t nn = nnames;
	spin_unlock_irqrestore(&names_lock, flags);
	for (uint32_t i = 0; i < nn; i++)
		printk("trace: task %ld %s\n", names[i].id, names[i].name);
	for (unsigned cpu = 0; cpu < ncpus; cpu++) {
		struct trace_buf *b = &bufs[cpu];
		uint32_t n = __atomic_load_n(&b->n, __ATOMIC_ACQUIRE);
		for (uint32_t i = 0; i < n; i++)
			printk("trace: %u %llu %#llx %u %c\n", cpu, (unsigned long long)b->ev[i].ns,
			       (unsigned long long)b->ev[i].tid, b->ev[i].task, b->ev[i].cls);
		printk("trace: cpu %u %u %llu\n", cpu, n, (unsigned long long)b->dropped);
	}
	if (names_dropped)
		printk("trace: %llu task names not kept\n", (unsigned long long)names_dropped);
	printk("trace: end %llu\n", (unsigned long long)clock_ns());
}
