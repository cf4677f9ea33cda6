/* arch/x86_64/cpu.c: a CPU's own descriptor tables and its per-CPU base.
 *
 * GDT layout (SDM Vol. 3A §3.4.5; the user half is ordered for SYSRET, which loads
 * CS from STAR[63:48]+16 and SS from STAR[63:48]+8, SDM Vol. 2B "SYSRET"):
 *   0x00 null  0x08 kernel code  0x10 kernel data  0x18 (unused, STAR base)
 *   0x20 user data  0x28 user code  0x30 TSS (two slots, SDM Vol. 3A §8.2.3)
 * Each TSS carries RSP0 and three interrupt stacks (IST, SDM Vol. 3A §6.14.5) for
 * the exceptions that must never run on a possibly broken stack: #DF, NMI, #MC. */
#include <arch/arch.h>
#include <arch/traps.h>
#include <kernel/cpu.h>
#include <kernel/string.h>

struct cpu cpus[MAX_CPUS];
unsigned ncpus = 1;

void uart_init(void);

#define SEG_KCODE	0x00af9a000000ffffull	/* P, DPL0, code, L */
#define SEG_KDATA	0x00cf92000000ffffull
#define SEG_UDATA	0x00cff2000000ffffull	/* DPL3 */
#define SEG_UCODE	0x00affa000000ffffull	/* DPL3, L */

/* The boot CPU's interrupt stacks; later CPUs get theirs from the page allocator. */
static char boot_ist[IST_COUNT][IST_STACK_SIZE] __attribute__((aligned(16)));

static void tss_descriptor(uint64_t *slot, struct tss *tss)
{
	uint64_t base = (uint64_t)tss;
	uint64_t limit = sizeof(*tss) - 1;

	slot[0] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
		  ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	slot[1] = base >> 32;
}

/* Load this CPU's GDT and TSS; ist[i] is the top of interrupt stack i+1. */
void cpu_load_tables(struct cpu *c, uintptr_t ist_tops[IST_COUNT])
{
	struct arch_cpu *a = &c->arch;

	memset(a->gdt, 0, sizeof(a->gdt));
	a->gdt[GDT_KCODE / 8] = SEG_KCODE;
	a->gdt[GDT_KDATA / 8] = SEG_KDATA;
	a->gdt[GDT_UDATA / 8] = SEG_UDATA;
	a->gdt[GDT_UCODE / 8] = SEG_UCODE;
	memset(&a->tss, 0, sizeof(a->tss));
	for (int i = 0; i < IST_COUNT; i++)
		a->tss.ist[i] = ist_tops[i];
	a->tss.iomap_base = sizeof(a->tss);	/* no I/O permission bitmap */
	tss_descriptor(&a->gdt[GDT_TSS / 8], &a->tss);

	struct desc_ptr p = { sizeof(a->gdt) - 1, (uint64_t)a->gdt };
	lgdt(&p);
	__asm__ volatile(
		"mov %0, %%ds; mov %0, %%es; mov %0, %%ss\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:"
		:: "r"((uint64_t)GDT_KDATA), "i"(GDT_KCODE) : "rax", "memory");
	ltr(GDT_TSS);
}

/* The legacy 8259 PICs come up mapped onto the exception vectors; mask them all
 * (the local APIC and IOAPIC deliver interrupts in wisp). */
static void pic_mask_all(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void arch_early_init(void)
{
	struct cpu *c = &cpus[0];

	c->self = c;
	c->id = 0;
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	uart_init();
	pic_mask_all();

	uintptr_t tops[IST_COUNT];
	for (int i = 0; i < IST_COUNT; i++)
		tops[i] = (uintptr_t)boot_ist[i] + IST_STACK_SIZE;
	cpu_load_tables(c, tops);
	idt_init();
	idt_load();
	write_cr0(read_cr0() | CR0_WP);
}
