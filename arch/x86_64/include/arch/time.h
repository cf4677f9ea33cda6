/* arch/time.h: the TSC as wisp's clock (arch/x86_64/tsc.c). */
#pragma once

#include <stdint.h>

/* Calibrate the TSC (CPUID 15H, else the HPET at hpet_pa if nonzero, else the PIT)
 * and start the clock at zero.  Boot CPU, before any other CPU starts. */
void tsc_init(uint64_t hpet_pa);
uint64_t tsc_hz(void);
const char *tsc_source(void);		/* what the calibration used */
uint64_t tsc_to_ns(uint64_t ticks);
uint64_t ns_to_tsc(uint64_t ns);
uint64_t tsc_at_ns(uint64_t t_ns);	/* the TSC value at clock time t_ns */
