/* arch/x86_64/smp.c: starting the application processors and signalling them.
 * The universal start-up algorithm (SDM Vol. 3A §9.4.4.1, "Typical BSP Initialization
 * Sequence", and §11.6.1): INIT IPI, wait 10 ms, STARTUP IPI, wait 200 µs, a second
 * STARTUP IPI if the CPU has not answered.  APs start one at a time, each with its own
 * kernel and interrupt stacks, and announce themselves through cpu->online; one that
 * stays silent for AP_TIMEOUT_NS is reported, sent INIT again so it cannot wake up later
 * on stale parameters, and skipped. */
#include <arch/acpi.h>
#include <arch/apic.h>
#include <arch/arch.h>
#include <arch/time.h>
#include <arch/traps.h>
#include <arch/x86.h>
#include <kernel/cpu.h>
#include <kernel/page.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/timer.h>
#include <kernel/thread.h>

void fpu_init_cpu(bool boot);

#define AP_TIMEOUT_NS	2000000000ull	/* generous: emulated CPUs start slowly */

extern const char trampoline_start[], trampoline_end[];
extern const char tramp_cr3[], tramp_stack[], tramp_entry[], tramp_cpu[];
extern void topology_detect(struct cpu *c);
uint64_t arch_kernel_cr3(void);

static volatile int stopping;

bool stop_requested(void)
{
	return stopping;
}

static void delay_ns(uint64_t ns)
{
	uint64_t end = arch_time_ns() + ns;
	while (arch_time_ns() < end)
		cpu_pause();
}

/* Where each trampoline parameter lives once the blob is copied. */
static volatile uint64_t *param(const char *sym)
{
	return phys_to_virt(TRAMPOLINE_PA + (uint64_t)(sym - trampoline_start));
}

static void on_timer(struct trap_frame *f) { timer_interrupt(); }
static void on_resched(struct trap_frame *f) { smp_resched_interrupt(); }
static void on_call(struct trap_frame *f) { smp_call_interrupt(); }

/* Bring this CPU's interrupt machinery up: the last step before it may take
 * interrupts.  Boot CPU and APs alike. */
static void cpu_interrupts_init(void)
{
	fpu_init_cpu(this_cpu()->id == 0);
	arch_user_init_cpu(this_cpu()->id == 0);
	lapic_init();
	timer_init_cpu();
	smp_init_cpu();
}

void arch_cpu_boot_init(void)
{
	struct cpu *c = this_cpu();

	irq_register(VEC_TIMER, on_timer);
	irq_register(VEC_RESCHED, on_resched);
	irq_register(VEC_CALL, on_call);
	c->arch.apic_id = 0;
	cpu_interrupts_init();
	c->arch.apic_id = lapic_id();
	topology_detect(c);
	cpumask_set(&cpus_online, 0);
	__atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
	sti();
}

/* First C code on an AP, on the stack the boot CPU gave it. */
static noreturn void ap_entry(struct cpu *c)
{
	write_cr3(arch_kernel_cr3());
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	uintptr_t tops[IST_COUNT];
	for (int i = 0; i < IST_COUNT; i++)
		tops[i] = c->arch.ist_top[i];
	cpu_load_tables(c, tops);
	idt_load();
	cpu_interrupts_init();
	topology_detect(c);
	sched_init_cpu();
	__atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
	sti();
	sched_idle_loop();
}

/* Page tables for the trampoline's switch to long mode: the kernel half of the kernel's
 * own tables plus an identity map of the first 2 MiB, all below 4 GiB because the AP
 * loads CR3 in 32-bit mode.  Returns the PML4 and fills pages[] to free afterwards. */
static uint64_t *trampoline_tables(void *pages[3])
{
	uint64_t *pml4 = page_alloc(1), *pdpt = page_alloc(1), *pd = page_alloc(1);
	if (!pml4 || !pdpt || !pd || virt_to_phys(pml4) >= 0x100000000ull)
		panic("smp: no page tables below 4 GiB for the AP trampoline");
	const uint64_t *kernel = phys_to_virt(arch_kernel_cr3());
	for (int i = 256; i < 512; i++)
		pml4[i] = kernel[i];
	pml4[0] = virt_to_phys(pdpt) | 3;
	pdpt[0] = virt_to_phys(pd) | 3;
	pd[0] = 0 | 0x83;			/* 2 MiB page at 0: present, writable, large */
	pages[0] = pml4, pages[1] = pdpt, pages[2] = pd;
	return pml4;
}

static bool start_ap(struct cpu *c, uint64_t cr3)
{
	char *stack = page_alloc(KSTACK_SIZE / PAGE_SIZE);
	char *ist = page_alloc(IST_COUNT * IST_STACK_SIZE / PAGE_SIZE);
	if (!stack || !ist) {
		printk("wisp: smp: no memory for cpu %u's stacks\n", c->id);
		return false;
	}
	for (int i = 0; i < IST_COUNT; i++)
		c->arch.ist_top[i] = (uintptr_t)ist + (uintptr_t)(i + 1) * IST_STACK_SIZE;
	c->self = c;
	*param(tramp_cr3) = cr3;
	*param(tramp_stack) = (uint64_t)stack + KSTACK_SIZE;
	*param(tramp_entry) = (uint64_t)ap_entry;
	*param(tramp_cpu) = (uint64_t)c;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	lapic_send_init(c->arch.apic_id);
	delay_ns(10000000);
	for (int sipi = 0; sipi < 2 && !c->online; sipi++) {
		lapic_send_sipi(c->arch.apic_id, TRAMPOLINE_PA >> 12);
		delay_ns(200000);
	}
	uint64_t end = arch_time_ns() + AP_TIMEOUT_NS;
	while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && arch_time_ns() < end)
		cpu_pause();
	if (c->online)
		return true;
	lapic_send_init(c->arch.apic_id);	/* park it for good */
	printk("wisp: smp: cpu with APIC id %u did not start within %lu ms; skipped\n",
	       c->arch.apic_id, (unsigned long)(AP_TIMEOUT_NS / 1000000));
	page_free(stack, KSTACK_SIZE / PAGE_SIZE);
	page_free(ist, IST_COUNT * IST_STACK_SIZE / PAGE_SIZE);
	return false;
}

void arch_smp_boot(const struct acpi_info *ai)
{
	uint32_t me = this_cpu()->arch.apic_id;
	void *pages[3];

	memcpy(phys_to_virt(TRAMPOLINE_PA), trampoline_start,
	       (size_t)(trampoline_end - trampoline_start));
	uint64_t cr3 = virt_to_phys(trampoline_tables(pages));
	for (int i = 0; i < ai->ncpus && ncpus < MAX_CPUS; i++) {
		if (ai->cpus[i].apic_id == me)
			continue;
		struct cpu *c = &cpus[ncpus];
		memset(c, 0, sizeof(*c));
		c->id = ncpus;
		c->arch.apic_id = ai->cpus[i].apic_id;
		c->node = ai->cpus[i].node;
		if (start_ap(c, cr3)) {
			cpumask_set(&cpus_online, c->id);
			ncpus++;
		}
	}
	for (int i = 0; i < 3; i++)
		page_free(pages[i], 1);
	if (ai->cpus_dropped || ai->ncpus > MAX_CPUS)
		printk("wisp: smp: only %d CPUs supported; the others stay off\n", MAX_CPUS);
}

void arch_send_resched(unsigned cpu)
{
	lapic_send_ipi(cpus[cpu].arch.apic_id, VEC_RESCHED);
}

void arch_send_call(unsigned cpu)
{
	lapic_send_ipi(cpus[cpu].arch.apic_id, VEC_CALL);
}

void arch_timer_kick(unsigned cpu)
{
	lapic_send_ipi(cpus[cpu].arch.apic_id, VEC_TIMER);
}

void arch_timer_program(uint64_t deadline_ns)
{
	/* Round up: a deadline in TSC ticks must not fall before the one in ns. */
	lapic_timer_at(deadline_ns ? tsc_at_ns(deadline_ns) + 1 : 0);
}

void arch_stop_others(void)
{
	stopping = 1;
	for (unsigned i = 0; i < ncpus; i++)
		if (i != this_cpu()->id && cpus[i].online)
			lapic_send_nmi(cpus[i].arch.apic_id);
}

void acpi_init(const struct boot_info *bi, struct acpi_info *ai);
void ioapic_init(const struct acpi_info *ai);
void uart_enable_rx(void);

/* ACPI tables, the clock, this CPU's interrupts, then every other CPU. */
void arch_smp_init(const struct boot_info *bi)
{
	static struct acpi_info ai;

	acpi_init(bi, &ai);
	tsc_init(ai.hpet_ok ? ai.hpet_addr : 0);
	arch_cpu_boot_init();
	for (int i = 0; i < ai.ncpus; i++)
		if (ai.cpus[i].apic_id == this_cpu()->arch.apic_id)
			this_cpu()->node = ai.cpus[i].node;
	ioapic_init(&ai);
	uart_enable_rx();
	sched_init();	/* before the APs, which start in their idle threads */
	if (ai.madt_ok && ai.ncpus > 1)
		arch_smp_boot(&ai);
}
