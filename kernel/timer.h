/* kernel/timer.h: per-CPU timer events (kernel/timer.c): "run fn on CPU c at time t".
 * Times are nanoseconds of the monotonic clock (clock_ns()).  A timer fires on the CPU
 * it was armed for, in deadline order, never before its deadline, from the timer
 * interrupt with interrupts off: fn must not block.  There is no periodic tick: each
 * CPU's hardware timer is programmed for its earliest event only. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <kernel/list.h>

struct timer {
	struct list link;		/* [cpu's timer_lock] */
	uint64_t deadline;
	void (*fn)(struct timer *t);
	unsigned cpu;
	bool armed;
	int firing;			/* [a] taken off the list to fire, not yet returned */
};

uint64_t clock_ns(void);
void timer_init_cpu(void);		/* this CPU, before it takes interrupts */
/* Arm t to call fn on cpu at deadline (ns).  Returns 0, -EBUSY if t is armed, or
 * -EINVAL if cpu is not online.  May be called from any CPU, interrupts on or off. */
int timer_arm(struct timer *t, unsigned cpu, uint64_t deadline, void (*fn)(struct timer *t));
/* Disarm t; true if it was armed (and so will not fire).  If its callback is running
 * on another CPU, return once it has finished: then nothing of t is in use. */
bool timer_cancel(struct timer *t);
/* The timer interrupt (called by the architecture with interrupts off). */
void timer_interrupt(void);
