/* kernel/coresched.h: core scheduling for L1TF/MDS (kernel/coresched.c).
 *
 * SMT siblings share the L1D and the fill buffers, so a thread on one sibling may
 * read what a thread of another security domain left there, or is using now.  Every
 * thread carries a cookie, its domain (0: none, trusted: the kernel, control
 * programs; agent threads count as trusted whatever their cookie).  Each CPU
 * publishes the domain of what it runs in core_word; at every switch the kernel
 *   - holds the next thread back, on a CPU of a core-isolated enclave, while a
 *     sibling runs (or is about to run) another non-zero cookie: a ghost thread waits
 *     on its latch for the sibling to leave that domain; a native thread makes a
 *     ghost sibling leave (it is preempted and the sibling idles) and runs once it
 *     has left (docs/TRICKS.md, "Core isolation");
 *   - audits: counts a violation when a sibling runs another non-zero cookie;
 *   - flushes the L1D and clears CPU buffers when the domain on this CPU changes.
 * The commit path (kernel/enclave.c) refuses decisions that would mix domains
 * (GHOST_TXN_CORE_CONFLICT), so a hold only covers the moment siblings move. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <kernel/uapi/ghost.h>

struct cpu;
struct thread;

/* core_word: the cookie in the low 32 bits, and */
#define CORE_NATIVE	(1ull << 32)	/* a native or agent thread: never waits for a
					 * ghost thread (above the ghost class) */
#define CORE_HELD	(1ull << 33)	/* wanted, not running yet: the audit skips it, a
					 * sibling still yields to it */
#define CORE_COOKIE(w)	((uint32_t)(w))

/* Two cookies that may not share a core: both non-zero, different. */
static inline bool core_conflict(uint64_t a, uint64_t b)
{
	return CORE_COOKIE(a) && CORE_COOKIE(b) && CORE_COOKIE(a) != CORE_COOKIE(b);
}

void coresched_init(void);	/* boot CPU: what it enumerates, the flush mode */
/* schedule(), rq_lock held, interrupts off: c is about to run next.  Returns what it
 * runs instead: next, or its idle thread when next waits for a sibling (a ghost
 * thread stays latched; a native thread goes back to the head of its queue).
 * Publishes the choice, audits it, flushes on a change of domain. */
struct thread *core_switch(struct cpu *c, struct thread *next, uint64_t now);
/* After the switch, no locks held, interrupts off. */
void core_after_switch(struct cpu *c);
/* GHOST_CORE_STATS: cpu, or -1 for the sum over every CPU.  0 or -EINVAL. */
int core_stats(int cpu, struct ghost_core_stats *out);
/* A commit on cpu failed GHOST_TXN_CORE_CONFLICT. */
void core_count_conflict(unsigned cpu);
