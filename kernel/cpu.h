/* kernel/cpu.h: per-CPU state, one struct per CPU reached through this_cpu().
 * Fields are touched only by their own CPU with interrupts off unless a field says
 * otherwise.  The SMP bring-up fills cpus[1..]; today only the boot CPU exists. */
#pragma once

#include <stdint.h>
#include <arch/percpu.h>

#define MAX_CPUS	64

struct cpu {
	struct cpu *self;	/* must stay first: arch_this_cpu() loads %gs:0 */
	unsigned id;		/* 0 .. ncpus-1; 0 is the boot CPU */
	int panicking;		/* set when this CPU entered panic() */
	struct arch_cpu arch;
};

_Static_assert(__builtin_offsetof(struct cpu, self) == 0, "this_cpu() reads %gs:0");

extern struct cpu cpus[MAX_CPUS];
extern unsigned ncpus;

static inline struct cpu *this_cpu(void)
{
	return arch_this_cpu();
}
