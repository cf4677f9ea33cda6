/* arch/acpi.h: what wisp learns from the ACPI tables (ACPI 6.x: RSDP §5.2.5.3,
 * RSDT/XSDT §5.2.7-8, MADT §5.2.12, SRAT §5.2.16; HPET: IA-PC HPET spec 1.0a).
 * acpi_parse() (arch/x86_64/acpi_parse.c) is pure code, so the host tests drive it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS		64
#define ACPI_MAX_IOAPICS	8
#define ACPI_MAX_OVERRIDES	16
#define ACPI_MAX_MEMRANGES	32
#define ACPI_MAX_NODES		64	/* SRAT entries with a larger proximity domain are ignored */
#define ACPI_MAX_PROBLEMS	8
#define ACPI_PROBLEM_LEN	64	/* longest problem message, NUL included */

/* Give access to physical memory [pa, pa+len); returns a pointer to it or NULL if it
 * cannot be mapped.  The kernel maps through its direct map; the tests point into a
 * buffer.  The parser reads only the len bytes it asked for; what map returned must
 * stay readable until acpi_parse returns. */
typedef const void *(*acpi_map_fn)(uint64_t pa, size_t len, void *ctx);

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t uid;		/* ACPI processor UID */
	bool x2apic_entry;	/* described by a type-9 (x2APIC) MADT entry */
	uint32_t node;		/* NUMA node, 0 if no SRAT */
};

struct acpi_ioapic {
	uint32_t id;
	uint64_t addr;
	uint32_t gsi_base;
};

struct acpi_override {
	uint8_t bus, source;	/* bus is 0 (ISA) on every real machine */
	uint32_t gsi;
	uint16_t flags;		/* MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2 */
};

struct acpi_memrange {
	uint64_t base, len;
	uint32_t node;
	bool hotplug;
};

struct acpi_info {
	int revision;		/* RSDP revision: 0 = ACPI 1.0 (RSDT), >= 2 = XSDT present */
	bool xsdt_used;		/* false when the RSDT was used (revision 0, or a bad XSDT) */
	char oem[7];		/* RSDP OEM id, NUL-terminated */

	bool madt_ok;		/* MADT found, checksum valid, fixed fields present */
	uint64_t lapic_addr;	/* from MADT, overridden by a type-5 address override entry */
	bool pcat_compat;	/* MADT flags bit 0: legacy 8259 PICs present */
	int ncpus;		/* enabled processors only, first MADT entry first */
	int cpus_dropped;	/* enabled CPUs beyond ACPI_MAX_CPUS */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	int nioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	int noverrides;
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];

	bool hpet_ok;
	uint64_t hpet_addr;	/* HPET base address (must be in system memory space) */

	bool srat_ok;
	int nmem;		/* enabled memory affinity ranges */
	struct acpi_memrange mem[ACPI_MAX_MEMRANGES];
	int nnodes;		/* 1 + highest node seen in SRAT, or 1 without SRAT */

	/* Problems found, for the kernel to report: one short message per problem, e.g.
	 * "RSDT checksum bad", "MADT entry at offset 52 has length 0".  problems[i]
	 * points into problem_text of this same struct, so a copy of the struct must
	 * not be read through its problems[] pointers.  Repeats are recorded once;
	 * problems beyond ACPI_MAX_PROBLEMS are only counted. */
	int nproblems;
	const char *problems[ACPI_MAX_PROBLEMS];
	int problems_dropped;
	char problem_text[ACPI_MAX_PROBLEMS][ACPI_PROBLEM_LEN];
};

/* rsdp: the RSDP bytes (copied from the multiboot2 ACPI tag; len bytes available).
 * Fills *info (zeroing it first).  Returns 0 when at least the RSDP and the RSDT/XSDT
 * were valid, or -EINVAL when the RSDP or root table is unusable; a bad or missing
 * individual table (MADT, HPET, SRAT) is recorded in problems and the rest still
 * parsed.  Every length, offset and count in the tables is treated as untrusted: the
 * parser reads nothing outside what map() returned, and ends on any input. */
int acpi_parse(const void *rsdp, size_t len, acpi_map_fn map, void *ctx, struct acpi_info *info);
