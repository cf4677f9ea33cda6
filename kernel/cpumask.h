/* kernel/cpumask.h: sets of CPUs by id. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define CPUMASK_WORDS	1	/* MAX_CPUS / 64 */

typedef struct {
	uint64_t bits[CPUMASK_WORDS];
} cpumask_t;

static inline void cpumask_set(cpumask_t *m, unsigned cpu)
{
	m->bits[cpu / 64] |= 1ull << (cpu % 64);
}

static inline bool cpumask_test(const cpumask_t *m, unsigned cpu)
{
	return m->bits[cpu / 64] >> (cpu % 64) & 1;
}

static inline int cpumask_count(const cpumask_t *m)
{
	int n = 0;
	/* No libgcc in the kernel, so no __builtin_popcount: clear the lowest bit. */
	for (int i = 0; i < CPUMASK_WORDS; i++)
		for (uint64_t w = m->bits[i]; w; w &= w - 1)
			n++;
	return n;
}

static inline bool cpumask_intersects(const cpumask_t *a, const cpumask_t *b)
{
	for (int i = 0; i < CPUMASK_WORDS; i++)
		if (a->bits[i] & b->bits[i])
			return true;
	return false;
}

static inline bool cpumask_equal(const cpumask_t *a, const cpumask_t *b)
{
	for (int i = 0; i < CPUMASK_WORDS; i++)
		if (a->bits[i] != b->bits[i])
			return false;
	return true;
}

/* The lowest CPU in m, or -1 if m is empty. */
static inline int cpumask_first(const cpumask_t *m)
{
	for (int i = 0; i < CPUMASK_WORDS; i++)
		if (m->bits[i])
			return i * 64 + __builtin_ctzll(m->bits[i]);
	return -1;
}

#define for_each_cpu_in(c, m) \
	for (unsigned c = 0; c < MAX_CPUS; c++) if (cpumask_test((m), c))
