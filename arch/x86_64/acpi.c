/* arch/x86_64/acpi.c: reading the firmware's ACPI tables at boot, through the direct
 * map, with the RSDP the boot loader copied (multiboot2 tags 14/15).  The parsing
 * itself is pure code in acpi_parse.c; this file maps memory and reports. */
#include <arch/acpi.h>
#include <arch/arch.h>
#include <kernel/bootinfo.h>
#include <kernel/printk.h>

int arch_direct_map_range(uint64_t pa, uint64_t len);

/* Tables live in RAM the firmware marked reserved or ACPI; make sure the direct map
 * covers them (write-back, like the rest of RAM). */
static const void *map(uint64_t pa, size_t len, void *ctx)
{
	if (len == 0 || pa + len < pa || arch_direct_map_range(pa, len))
		return NULL;
	return phys_to_virt(pa);
}

void acpi_init(const struct boot_info *bi, struct acpi_info *ai)
{
	if (bi->rsdp_version == 0) {
		printk("wisp: acpi: the boot loader passed no RSDP; running on the boot CPU only\n");
		return;
	}
	int err = acpi_parse(bi->rsdp, sizeof(bi->rsdp), map, NULL, ai);
	for (int i = 0; i < ai->nproblems; i++)
		printk("wisp: acpi: warning: %s\n", ai->problems[i]);
	if (ai->problems_dropped)
		printk("wisp: acpi: warning: %d more problems\n", ai->problems_dropped);
	if (err) {
		printk("wisp: acpi: tables unusable (error %d); running on the boot CPU only\n", err);
		return;
	}
	printk("wisp: acpi: %s %s, %d CPUs, %d IOAPICs%s%s\n", ai->oem,
	       ai->xsdt_used ? "XSDT" : "RSDT", ai->ncpus, ai->nioapics,
	       ai->hpet_ok ? ", HPET" : "", ai->srat_ok ? ", SRAT" : "");
	for (int i = 0; ai->srat_ok && i < ai->nmem; i++)
		printk("wisp: numa: node %u: memory %#lx-%#lx%s\n", ai->mem[i].node, ai->mem[i].base,
		       ai->mem[i].base + ai->mem[i].len - 1, ai->mem[i].hotplug ? " (hot-pluggable)" : "");
	if (!ai->madt_ok)
		printk("wisp: acpi: no usable MADT; running on the boot CPU only\n");
}
