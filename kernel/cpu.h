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

#define MAX_CPUS	64

struct timer;

struct cpu {
	struct cpu *self;	/* must stay first: arch_this_cpu() loads %gs:0 */
	unsigned id;		/* [b] 0 .. ncpus-1; 0 is the boot CPU */
	int online;		/* [a] set by the CPU itself once it runs */
	int panicking;		/* set when this CPU entered panic() */

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

extern struct cpu cpus[MAX_CPUS];
extern unsigned ncpus;			/* CPUs brought online, ids 0..ncpus-1 */
extern cpumask_t cpus_online;

static inline struct cpu *this_cpu(void)
{
	return arch_this_cpu();
}
