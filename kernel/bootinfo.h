/* kernel/bootinfo.h: what the boot loader told the kernel, copied out of the loader's
 * own structures (arch_boot_info fills it from multiboot2) so nothing later depends
 * on memory the page allocator may hand out. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIMABLE = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

struct mem_region {
	uint64_t base;
	uint64_t len;
	uint32_t type;		/* enum mem_type; others count as reserved */
};

struct boot_module {
	uint64_t start, end;	/* physical, [start, end) */
	char name[64];
};

#define BOOT_MAX_REGIONS	128
#define BOOT_MAX_MODULES	128
#define BOOT_CMDLINE_MAX	1024

struct boot_info {
	char loader[64];
	char cmdline[BOOT_CMDLINE_MAX];
	const char *cmdline_source;	/* "boot loader" or "fw_cfg opt/wisp/cmdline" */
	bool uefi;			/* booted through UEFI firmware */
	struct mem_region mem[BOOT_MAX_REGIONS];
	int nmem;
	int mem_dropped;		/* regions beyond BOOT_MAX_REGIONS (reported) */
	struct boot_module mods[BOOT_MAX_MODULES];
	int nmods;
	int mods_dropped;
	uint8_t rsdp[64];		/* copy of the ACPI RSDP, if any */
	int rsdp_version;		/* 0: none, 1: ACPI 1.0, 2: ACPI 2.0+ */
};

extern struct boot_info boot_info;

/* The module with this name, or NULL. */
const struct boot_module *boot_module(const char *name);
