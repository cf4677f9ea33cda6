/* arch/x86_64/lapic.c: the local APIC in xAPIC (MMIO) or x2APIC (MSR) mode.
 * SDM Vol. 3A chapter 11.  x2APIC is used when CPUID.01H:ECX[21] offers it: "In
 * x2APIC mode, the local APIC registers are accessed through MSRs 800H-8FFH; MSR
 * address = 800H + (MMIO offset >> 4)" (§11.12.1), and the ICR is one 64-bit MSR
 * (§11.12.9).  The timer runs in TSC-deadline mode when CPUID.01H:ECX[24] offers it
 * (§11.5.4.1), otherwise one-shot with the count derived from the TSC. */
#include <arch/apic.h>
#include <arch/arch.h>
#include <arch/time.h>
#include <arch/traps.h>
#include <arch/x86.h>
#include <kernel/cpu.h>
#include <kernel/panic.h>
#include <kernel/printk.h>

#define MSR_APIC_BASE		0x1b
#define APIC_BASE_EXTD		(1ull << 10)
#define APIC_BASE_EN		(1ull << 11)
#define MSR_TSC_DEADLINE	0x6e0

/* Register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + off/16). */
#define REG_ID		0x020
#define REG_TPR		0x080
#define REG_EOI		0x0b0
#define REG_SVR		0x0f0
#define REG_ESR		0x280
#define REG_ICR_LO	0x300
#define REG_ICR_HI	0x310
#define REG_LVT_TIMER	0x320
#define REG_LVT_LINT0	0x350
#define REG_LVT_LINT1	0x360
#define REG_LVT_ERROR	0x370
#define REG_TIMER_INIT	0x380
#define REG_TIMER_CUR	0x390
#define REG_TIMER_DIV	0x3e0

#define SVR_ENABLE	(1u << 8)
#define LVT_MASKED	(1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)
#define ICR_PENDING	(1u << 12)
#define ICR_FIXED	(0u << 8)
#define ICR_NMI		(4u << 8)
#define ICR_INIT	(5u << 8)
#define ICR_STARTUP	(6u << 8)
#define ICR_ASSERT	(1u << 14)
#define ICR_LEVEL	(1u << 15)

#define LAPIC_VA	(MMIO_BASE + 0x0000)	/* the first page of the MMIO window */

static bool x2apic;
static bool tsc_deadline;
static volatile uint32_t *mmio;
static uint64_t apic_error_count;
/* One-shot mode only: LAPIC timer ticks per TSC tick, as a 32.32 fixed point. */
static uint64_t timer_per_tsc_q32;

static uint32_t rd(uint32_t reg)
{
	return x2apic ? (uint32_t)rdmsr(0x800 + reg / 16) : mmio[reg / 4];
}

static void wr(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800 + reg / 16, v);
	else
		mmio[reg / 4] = v;
}

bool lapic_x2apic(void)
{
	return x2apic;
}

uint32_t lapic_id(void)
{
	return x2apic ? rd(REG_ID) : rd(REG_ID) >> 24;
}

void lapic_eoi(void)
{
	wr(REG_EOI, 0);
}

static void send_icr(uint32_t apic_id, uint32_t lo)
{
	unsigned long flags = arch_irq_save();

	if (x2apic) {
		/* x2APIC: one write, no delivery-status bit to wait for (§11.12.9). */
		wrmsr(0x800 + REG_ICR_LO / 16, (uint64_t)apic_id << 32 | lo);
	} else {
		wr(REG_ICR_HI, apic_id << 24);
		wr(REG_ICR_LO, lo);
		while (rd(REG_ICR_LO) & ICR_PENDING)
			cpu_pause();
	}
	arch_irq_restore(flags);
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	send_icr(apic_id, ICR_FIXED | ICR_ASSERT | vector);
}

void lapic_send_nmi(uint32_t apic_id)
{
	send_icr(apic_id, ICR_NMI | ICR_ASSERT);
}

void lapic_send_init(uint32_t apic_id)
{
	send_icr(apic_id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
}

void lapic_send_sipi(uint32_t apic_id, uint8_t page)
{
	send_icr(apic_id, ICR_STARTUP | page);
}

uint64_t lapic_errors(void)
{
	return __atomic_load_n(&apic_error_count, __ATOMIC_RELAXED);
}

static void on_error(struct trap_frame *f)
{
	wr(REG_ESR, 0);			/* the ESR latches on write (§11.5.3) */
	uint32_t esr = rd(REG_ESR);
	uint64_t n = __atomic_add_fetch(&apic_error_count, 1, __ATOMIC_RELAXED);
	if (n <= 8)			/* report, without flooding the console */
		printk("wisp: APIC error on cpu %u: ESR %#x (error %lu)\n", this_cpu()->id, esr, n);
}

void lapic_timer_at(uint64_t tsc)
{
	if (tsc_deadline) {
		wrmsr(MSR_TSC_DEADLINE, tsc);	/* 0 disarms (§11.5.4.1) */
		return;
	}
	if (tsc == 0) {
		wr(REG_TIMER_INIT, 0);
		return;
	}
	uint64_t now = rdtsc();
	uint64_t delta = tsc > now ? tsc - now : 1;
	uint64_t count = (uint64_t)(((unsigned __int128)delta * timer_per_tsc_q32) >> 32) + 1;
	wr(REG_TIMER_INIT, count > 0xffffffffu ? 0xffffffffu : (uint32_t)count);
}

/* One-shot mode needs the APIC timer's rate; measure it against the TSC. */
static void calibrate_oneshot(void)
{
	wr(REG_TIMER_DIV, 0xb);			/* divide by 1 */
	wr(REG_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	wr(REG_TIMER_INIT, 0xffffffffu);
	uint64_t t0 = rdtsc();
	uint64_t wait = tsc_hz() / 100;		/* 10 ms */
	while (rdtsc() - t0 < wait)
		cpu_pause();
	uint32_t ticks = 0xffffffffu - rd(REG_TIMER_CUR);
	uint64_t tsc = rdtsc() - t0;
	wr(REG_TIMER_INIT, 0);
	timer_per_tsc_q32 = ((uint64_t)ticks << 32) / (tsc ? tsc : 1);
	printk("wisp: APIC timer one-shot, %lu kHz (calibrated against the TSC)\n",
	       (unsigned long)(tsc_hz() / 1000 * ticks / (tsc ? tsc : 1)));
}

/* Enable this CPU's local APIC.  The boot CPU chooses the mode for all. */
void lapic_init(void)
{
	uint32_t a, b, c, d;
	bool boot = this_cpu()->id == 0;

	if (boot) {
		cpuid(1, 0, &a, &b, &c, &d);
		x2apic = c & (1u << 21);
		tsc_deadline = c & (1u << 24);
		irq_register(VEC_APIC_ERROR, on_error);
	}
	uint64_t base = rdmsr(MSR_APIC_BASE);
	if (x2apic) {
		/* Disabled -> x2APIC is not a valid transition; go through xAPIC
		 * (SDM Vol. 3A §11.12.5, Figure 11-27). */
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
	} else {
		wrmsr(MSR_APIC_BASE, (base | APIC_BASE_EN) & ~APIC_BASE_EXTD);
		if (boot) {
			uint64_t pa = base & 0xffffff000ull;
			int err = arch_kmap(LAPIC_VA, pa, MAP_WRITE | MAP_NOCACHE);
			if (err)
				panic("lapic: cannot map the local APIC at %#lx (error %d)", pa, err);
			mmio = (volatile uint32_t *)LAPIC_VA;
		}
	}
	wr(REG_TPR, 0);
	wr(REG_LVT_LINT0, LVT_MASKED);
	if (!boot)
		wr(REG_LVT_LINT1, LVT_MASKED);
	wr(REG_LVT_ERROR, VEC_APIC_ERROR);
	wr(REG_ESR, 0);
	wr(REG_ESR, 0);
	wr(REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
	if (tsc_deadline) {
		wr(REG_LVT_TIMER, LVT_TSC_DEADLINE | VEC_TIMER);
	} else {
		if (boot)
			calibrate_oneshot();
		wr(REG_TIMER_DIV, 0xb);
		wr(REG_LVT_TIMER, VEC_TIMER);	/* one-shot */
	}
	lapic_eoi();
	if (boot)
		printk("wisp: local APIC in %s mode, id %u, timer %s\n", x2apic ? "x2APIC" : "xAPIC",
		       lapic_id(), tsc_deadline ? "TSC-deadline" : "one-shot");
}
