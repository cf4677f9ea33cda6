/* kernel/trace.h: the context-switch trace (kernel/trace.c, trace=N). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct cpu;
struct thread;

extern bool trace_on;

/* Allocate the buffers once the CPUs are up; tracing starts then. */
void trace_init(void);
/* Record that c switches to next at now (or keeps it, if its class changed).
 * c's rq_lock held. */
void trace_switch_slow(struct cpu *c, struct thread *next, uint64_t now);
static inline void trace_switch(struct cpu *c, struct thread *next, uint64_t now)
{
	if (__builtin_expect(__atomic_load_n(&trace_on, __ATOMIC_RELAXED), 0))
		trace_switch_slow(c, next, now);
}
/* Record that a commit made t c's next thread.  c's rq_lock held. */
void trace_commit_slow(struct cpu *c, struct thread *t);
static inline void trace_commit(struct cpu *c, struct thread *t)
{
	if (__builtin_expect(__atomic_load_n(&trace_on, __ATOMIC_RELAXED), 0))
		trace_commit_slow(c, t);
}
/* Name task id in the trace. */
void trace_task(long id, const char *name);
/* Stop tracing and print the trace on the console (nothing if it was off). */
void trace_dump(void);
