/* arch/x86_64/flush.c: clearing what one security domain left in a core's caches and
 * buffers before another runs (kernel/coresched.c decides when).
 *
 *   - L1D flush: writing IA32_FLUSH_CMD (MSR 10BH) bit 0, L1D_FLUSH, writes back and
 *     invalidates the L1 data cache; CPUID.(EAX=07H,ECX=0):EDX[28] enumerates the MSR
 *     (Intel SDM Vol. 2A, CPUID leaf 07H; Vol. 4, table 2-2; Intel, "Speculative
 *     Execution Side Channel Mitigations", IA32_FLUSH_CMD).  Without it the cache is
 *     displaced instead, by reading a buffer larger than any L1D.
 *   - CPU buffers: where CPUID.(EAX=07H,ECX=0):EDX[10] (MD_CLEAR) is set, VERW with a
 *     memory operand also overwrites the store, fill and load-port buffers that MDS
 *     samples (Intel, "Deep Dive: Intel Analysis of Microarchitectural Data
 *     Sampling", "VERW").  VERW itself is as old as protected mode; without
 *     MD_CLEAR it clears nothing, so it is not issued. */
#include <arch/arch.h>
#include <arch/traps.h>
#include <arch/x86.h>

#define MSR_IA32_FLUSH_CMD	0x10b
#define FLUSH_CMD_L1D		(1u << 0)
#define SOFT_FLUSH_BYTES	(64 * 1024)	/* twice the 32 KiB L1D of most cores,
						 * over the 48 KiB of the largest */
#define LINE			64

static uint8_t displace[SOFT_FLUSH_BYTES] __attribute__((aligned(4096)));

unsigned arch_core_flush_features(void)
{
	uint32_t a, b, c, d;

	cpuid(0, 0, &a, &b, &c, &d);
	if (a < 7)
		return 0;
	cpuid(7, 0, &a, &b, &c, &d);
	return (d >> 28 & 1 ? ARCH_L1D_FLUSH_MSR : 0) | (d >> 10 & 1 ? ARCH_MD_CLEAR : 0);
}

void arch_flush_l1d_msr(void)
{
	wrmsr(MSR_IA32_FLUSH_CMD, FLUSH_CMD_L1D);
}

void arch_flush_l1d_soft(void)
{
	volatile const uint8_t *p = displace;
	for (unsigned i = 0; i < SOFT_FLUSH_BYTES; i += LINE)
		(void)p[i];
}

void arch_clear_cpu_buffers(void)
{
	static const uint16_t selector = GDT_KDATA;	/* any valid data segment */
	__asm__ volatile("verw %0" :: "m"(selector) : "cc", "memory");
}
