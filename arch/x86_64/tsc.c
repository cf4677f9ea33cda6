/* arch/x86_64/tsc.c: the monotonic nanosecond clock, from the TSC.
 *
 * Frequency, in order of trust:
 *   - CPUID 15H: "TSC frequency = ECX * EBX / EAX" when ECX (the crystal clock) is
 *     enumerated (SDM Vol. 2A, CPUID leaf 15H);
 *   - the HPET main counter, whose period in femtoseconds is in the capabilities
 *     register bits 63:32 (IA-PC HPET spec 1.0a §2.3.4);
 *   - PIT channel 2 in mode 0 at 1.193182 MHz, gated through port 61H.
 * The clock assumes an invariant TSC synchronized across CPUs, which QEMU and current
 * server CPUs provide (CPUID 80000007H:EDX[8] says so; it is logged). */
#include <arch/arch.h>
#include <arch/time.h>
#include <arch/x86.h>
#include <kernel/panic.h>
#include <kernel/printk.h>

#define HPET_VA		(MMIO_BASE + 0x1000)
#define HPET_CAP	0x000
#define HPET_CONFIG	0x010
#define HPET_COUNTER	0x0f0
#define CALIBRATE_NS	20000000ull	/* 20 ms */

static uint64_t hz;
static uint64_t tsc0;
static uint64_t ns_per_tick_q32;	/* 32.32 fixed point */
static uint64_t ticks_per_ns_q32;
static const char *source = "none";

static uint64_t from_cpuid(void)
{
	uint32_t a, b, c, d;

	cpuid(0, 0, &a, &b, &c, &d);
	if (a < 0x15)
		return 0;
	cpuid(0x15, 0, &a, &b, &c, &d);
	if (!a || !b || !c)
		return 0;
	return (uint64_t)c * b / a;
}

static uint64_t from_hpet(uint64_t pa)
{
	if (!pa || arch_kmap(HPET_VA, pa, MAP_WRITE | MAP_NOCACHE))
		return 0;
	volatile uint64_t *h = (volatile uint64_t *)HPET_VA;
	uint64_t period_fs = h[HPET_CAP / 8] >> 32;
	if (period_fs == 0 || period_fs > 100000000ull)	/* spec: at most 100 ns */
		return 0;
	h[HPET_CONFIG / 8] |= 1;			/* ENABLE_CNF: counter runs */
	uint64_t want = CALIBRATE_NS * 1000000ull / period_fs;
	uint64_t c0 = h[HPET_COUNTER / 8], t0 = rdtsc();
	uint64_t c1, t1;
	do {
		c1 = h[HPET_COUNTER / 8];
		t1 = rdtsc();
	} while (c1 - c0 < want);
	/* TSC ticks per elapsed ns; fits 64 bits for any TSC below 100 GHz over 20 ms. */
	uint64_t elapsed_ns = (c1 - c0) * period_fs / 1000000;
	return (t1 - t0) * 1000000000ull / elapsed_ns;
}

static uint64_t from_pit(void)
{
	const uint32_t pit_hz = 1193182;
	uint16_t count = (uint16_t)(pit_hz / 50);	/* 20 ms */

	outb(0x61, (inb(0x61) & ~0x02) | 0x01);	/* gate on, speaker off */
	outb(0x43, 0xb0);			/* channel 2, lo/hi byte, mode 0 */
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	uint64_t t0 = rdtsc();
	for (uint64_t spins = 0; !(inb(0x61) & 0x20); spins++)
		if (spins > 100000000ull)
			return 0;		/* no PIT */
	uint64_t t1 = rdtsc();
	return (t1 - t0) * pit_hz / count;
}

void tsc_init(uint64_t hpet_pa)
{
	if ((hz = from_cpuid()))
		source = "CPUID 15H";
	else if ((hz = from_hpet(hpet_pa)))
		source = "HPET";
	else if ((hz = from_pit()))
		source = "PIT";
	else
		panic("time: cannot measure the TSC frequency (no CPUID 15H, HPET or PIT)");
	/* 32.32 ratios without a 128-bit division (no libgcc in the kernel). */
	ns_per_tick_q32 = (1000000000ull << 32) / hz;
	ticks_per_ns_q32 = (hz / 1000000000ull) << 32 | ((hz % 1000000000ull) << 32) / 1000000000ull;
	tsc0 = rdtsc();

	uint32_t a, b, c, d;
	cpuid(0x80000000, 0, &a, &b, &c, &d);
	bool invariant = false;
	if (a >= 0x80000007) {
		cpuid(0x80000007, 0, &a, &b, &c, &d);
		invariant = d & (1u << 8);
	}
	printk("wisp: TSC %lu.%03lu MHz (calibrated with the %s)%s\n", hz / 1000000,
	       hz / 1000 % 1000, source, invariant ? ", invariant" : ", not invariant");
}

uint64_t tsc_hz(void)
{
	return hz;
}

const char *tsc_source(void)
{
	return source;
}

uint64_t tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * ns_per_tick_q32) >> 32);
}

uint64_t ns_to_tsc(uint64_t ns)
{
	return (uint64_t)(((unsigned __int128)ns * ticks_per_ns_q32) >> 32);
}

uint64_t tsc_at_ns(uint64_t t_ns)
{
	return tsc0 + ns_to_tsc(t_ns);
}

uint64_t arch_time_ns(void)
{
	return tsc_to_ns(rdtsc() - tsc0);
}
