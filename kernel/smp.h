/* kernel/smp.h: running functions on other CPUs (kernel/smp.c). */
#pragma once

#include <stdbool.h>
#include <kernel/cpumask.h>

void smp_init_cpu(void);	/* this CPU, before it takes interrupts */
/* Run fn(arg) on every online CPU in mask (this one too, directly, if it is in the
 * mask).  With wait, return once all have returned: then interrupts must be on, or
 * two CPUs calling each other would wait forever.  Returns 0 or -ENOMEM. */
int smp_call(const cpumask_t *mask, void (*fn)(void *arg), void *arg, bool wait);
/* Ask cpu to reschedule (a reschedule IPI; counted in cpu->ipi_resched). */
void smp_resched(unsigned cpu);
/* The IPI handlers, called by the architecture with interrupts off. */
void smp_call_interrupt(void);
void smp_resched_interrupt(void);
