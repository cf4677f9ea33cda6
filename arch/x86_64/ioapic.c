/* arch/x86_64/ioapic.c: a minimal I/O APIC driver: route one ISA interrupt to a CPU.
 * Intel 82093AA I/O APIC datasheet §3.0: registers are reached through IOREGSEL
 * (offset 00h) and IOWIN (10h); IOAPICVER (01h) bits 23:16 hold "the maximum
 * redirection entry"; entry n is registers 10h+2n (low) and 11h+2n (high, destination
 * in bits 63:56).  ISA IRQs may be remapped to another GSI, polarity and trigger by
 * MADT interrupt source overrides (ACPI §5.2.12.5, MPS INTI flags). */
#include <arch/acpi.h>
#include <arch/apic.h>
#include <arch/arch.h>
#include <kernel/printk.h>
#include <kernel/uapi/errno.h>

#define IOAPIC_VA(i)	(MMIO_BASE + 0x10000 + (uintptr_t)(i) * PAGE_SIZE)
#define REG_VER		0x01
#define REG_REDIR(n)	(0x10 + 2 * (n))
#define RED_MASKED	(1u << 16)
#define RED_LEVEL	(1u << 15)
#define RED_ACTIVE_LOW	(1u << 13)

struct ioapic {
	volatile uint32_t *regs;
	uint32_t gsi_base;
	uint32_t count;		/* redirection entries */
};

static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static int nioapics;
static const struct acpi_info *acpi;

static uint32_t rd(struct ioapic *io, uint32_t reg)
{
	io->regs[0] = reg;
	return io->regs[4];
}

static void wr(struct ioapic *io, uint32_t reg, uint32_t v)
{
	io->regs[0] = reg;
	io->regs[4] = v;
}

/* Map every I/O APIC and mask all its entries.  Boot CPU. */
void ioapic_init(const struct acpi_info *ai)
{
	acpi = ai;
	for (int i = 0; i < ai->nioapics && i < ACPI_MAX_IOAPICS; i++) {
		if (arch_kmap(IOAPIC_VA(i), ai->ioapics[i].addr, MAP_WRITE | MAP_NOCACHE)) {
			printk("wisp: ioapic: cannot map I/O APIC %u at %#lx\n", ai->ioapics[i].id,
			       ai->ioapics[i].addr);
			continue;
		}
		struct ioapic *io = &ioapics[nioapics++];
		io->regs = (volatile uint32_t *)IOAPIC_VA(i);
		io->gsi_base = ai->ioapics[i].gsi_base;
		io->count = ((rd(io, REG_VER) >> 16) & 0xff) + 1;
		for (uint32_t n = 0; n < io->count; n++)
			wr(io, REG_REDIR(n), RED_MASKED);
	}
}

/* Route ISA irq to vector on the CPU with apic_id, honouring overrides. */
int ioapic_route_isa(unsigned irq, uint8_t vector, uint32_t apic_id)
{
	uint32_t gsi = irq, low = vector;

	for (int i = 0; acpi && i < acpi->noverrides; i++) {
		const struct acpi_override *o = &acpi->overrides[i];
		if (o->bus != 0 || o->source != irq)
			continue;
		gsi = o->gsi;
		if ((o->flags & 3) == 3)
			low |= RED_ACTIVE_LOW;
		if (((o->flags >> 2) & 3) == 3)
			low |= RED_LEVEL;
	}
	for (int i = 0; i < nioapics; i++) {
		struct ioapic *io = &ioapics[i];
		if (gsi < io->gsi_base || gsi >= io->gsi_base + io->count)
			continue;
		uint32_t n = gsi - io->gsi_base;
		wr(io, REG_REDIR(n) + 1, apic_id << 24);
		wr(io, REG_REDIR(n), low);
		return 0;
	}
	printk("wisp: ioapic: no I/O APIC serves GSI %u (ISA IRQ %u)\n", gsi, irq);
	return -ENOENT;
}

/* The raw redirection entry for ISA irq (tests), or 0 if none serves it. */
uint64_t ioapic_entry_isa(unsigned irq)
{
	uint32_t gsi = irq;

	for (int i = 0; acpi && i < acpi->noverrides; i++)
		if (acpi->overrides[i].bus == 0 && acpi->overrides[i].source == irq)
			gsi = acpi->overrides[i].gsi;
	for (int i = 0; i < nioapics; i++) {
		struct ioapic *io = &ioapics[i];
		if (gsi >= io->gsi_base && gsi < io->gsi_base + io->count) {
			uint32_t n = gsi - io->gsi_base;
			return (uint64_t)rd(io, REG_REDIR(n) + 1) << 32 | rd(io, REG_REDIR(n));
		}
	}
	return 0;
}
