/* kernel/cpu.h: per-CPU state, one struct per CPU reached through this_cpu().
 * Fields are touched only by their own CPU with interrupts off unless tagged:
 *   [b] written by the boot CPU before the CPU starts, read-only after;
 *   [a] atomic;  [l] under the lock named beside it. */
#pragma once

#include <stdint.h>
#include <arch/percpu.h>
#include <kernel/cpumask.h>
#include <kernel/list.h>
#include <kernel/spinlock.h>
#include <kernel/timer.h>
#include <kernel/uapi/ghost.h>

#define MAX_CPUS	64

struct timer;
struct thread;

struct cpu {
	struct cpu *self;	/* must stay first: arch_this_cpu() loads %gs:0 */
	uintptr_t kstack_top;	/* the running thread's kernel stack top (syscall entry) */
	uintptr_t user_rsp;	/* scratch for the syscall entry */
	unsigned id;		/* [b] 0 .. ncpus-1; 0 is the boot CPU */
	int online;		/* [a] set by the CPU itself once it runs */
	int panicking;		/* set when this CPU entered panic() */
	int preempt_count;	/* spinlocks held here; changed only through %gs */
	int need_resched;	/* [a] switch at the next preemption point */

	/* Scheduling (kernel/sched.c).  Lock order: a thread's lock, then rq_lock;
	 * never two rq_locks at once. */
	struct spinlock rq_lock;
	struct thread *curr;		/* [rq_lock] running here */
	struct thread *idle;		/* [b] */
	struct thread *prev;		/* [rq_lock] the thread being switched away from */
	struct thread *migrate;		/* [rq_lock] prev, if it must move to another CPU */
	struct list native_q;		/* [rq_lock] runnable native threads, FIFO */
	unsigned nr_native;		/* [rq_lock] how many; read unlocked as a hint */
	struct timer slice_timer;	/* ends the running native thread's slice */
	struct enclave *enclave;	/* [enclaves_lock] the enclave owning this CPU */
	struct thread *ghost_next;	/* [rq_lock] latched by a transaction */
	struct list agent_q;		/* [rq_lock] runnable agent threads, FIFO */
	uint64_t ghost_free_since;	/* [rq_lock] free for ghost threads since (no enclave
					 * thread, no native work), 0: busy; for blackout */
	bool ghost_cpu_busy;		/* [rq_lock] a native thread had the CPU at the
					 * last switch (enclave CPU events) */
	int idle_polling;		/* [a] idle and polling need_resched: no IPI */
	struct timer ghost_tick;	/* TIMER_TICK for the running ghost thread */
	uint64_t switches;		/* context switches on this CPU */

	/* Core scheduling (kernel/coresched.c). */
	uint64_t core_word;		/* [a] the domain of what runs here (coresched.h) */
	uint64_t core_tid;		/* [a] the thread it is for: the audit's record */
	int core_waiting;		/* [a] holding a thread back: a sibling whose word
					 * changes reschedules this CPU */
	bool core_native_held;		/* [rq_lock] the native thread at the head of the
					 * queue waits for a sibling: idle halts */
	uint64_t core_unlatch;		/* a ghost thread (tid) held back for a native
					 * sibling: its latch goes after the switch */
	uint32_t core_last;		/* the last non-zero cookie that ran here */
	uint64_t core_held_since;	/* holding a thread back since (forced idle) */
	uint64_t core_idle_since;	/* [a] running the idle thread since, 0: not */
	struct ghost_core_stats core_count;	/* counters; written here, read anywhere */

	/* Topology [b] (kernel/topology.c). */
	uint32_t package, core, thread;	/* physical ids, as numbered by the hardware */
	uint32_t node;			/* NUMA node, 0 without SRAT */
	cpumask_t siblings;		/* SMT threads of this core, itself included */
	cpumask_t core_mates;		/* same as siblings (cores are the SMT unit) */
	cpumask_t package_mates;	/* CPUs in the same package */

	/* Timers (kernel/timer.c). */
	struct spinlock timer_lock;
	struct list timers;		/* [l timer_lock] armed, by deadline */
	uint64_t timer_irqs;		/* timer interrupts taken */

	/* Cross-CPU calls (kernel/smp.c). */
	struct spinlock call_lock;
	struct list calls;		/* [l call_lock] queued for this CPU */
	uint64_t ipi_resched;		/* [a] reschedule IPIs received */
	uint64_t ipi_call;		/* [a] call-function IPIs received */

	struct arch_cpu arch;
};

_Static_assert(__builtin_offsetof(struct cpu, self) == 0, "this_cpu() reads %gs:0");
_Static_assert(__builtin_offsetof(struct cpu, kstack_top) == 8, "syscall.S reads %gs:8");
_Static_assert(__builtin_offsetof(struct cpu, user_rsp) == 16, "syscall.S uses %gs:16");

extern struct cpu cpus[MAX_CPUS];
extern unsigned ncpus;			/* CPUs brought online, ids 0..ncpus-1 */
extern cpumask_t cpus_online;

static inline struct cpu *this_cpu(void)
{
	return arch_this_cpu();
}
