/* workloads/busy.h: work measured in CPU time, not clock time: a loop of
 * multiply-adds, calibrated once, so that a thread preempted half-way still needs its
 * whole share of a CPU (workloads/dispersion.c, workloads/vcpu.c). */
#pragma once

#include <stdint.h>
#include <wisp.h>

static volatile uint64_t busy_sink;

static inline void busy(uint32_t iters)
{
	uint64_t x = busy_sink;
	for (uint32_t i = 0; i < iters; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	busy_sink = x;
}

/* Iterations of busy() per microsecond here, timed over 20 ms or more. */
static inline double busy_calibrate(void)
{
	uint32_t n = 1000;
	uint64_t t;
	for (;;) {
		t = wisp_clock_ns();
		busy(n);
		t = wisp_clock_ns() - t;
		if (t > 20000000 || n > (1u << 30))
			break;
		n *= 2;
	}
	return (double)n / ((double)t / 1000.0);
}
