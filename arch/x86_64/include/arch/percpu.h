/* arch/percpu.h: reaching this CPU's struct cpu.  The GS base of every CPU points at
 * its own struct cpu, whose first field points at itself (seL4 NODE_STATE, Linux
 * this_cpu_ptr), so this_cpu() is one load. */
#pragma once

#include <stdint.h>

struct cpu;

static inline struct cpu *arch_this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

/* Add to an int field of this CPU's struct cpu in one instruction, so a thread that
 * migrates in the middle cannot change another CPU's copy. */
#define ARCH_PERCPU_ADD(offset, v) \
	__asm__ volatile("addl %1, %%gs:%c0" :: "i"(offset), "ri"(v) : "memory", "cc")

/* Architecture part of struct cpu. */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

_Static_assert(sizeof(struct tss) == 104, "TSS layout (SDM Vol. 3A Figure 8-11)");

#define GDT_ENTRIES	8	/* see arch/x86_64/cpu.c */

struct arch_cpu {
	uint32_t apic_id;		/* [b] */
	uintptr_t ist_top[3];		/* [b] tops of the IST stacks (APs) */
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));
	uintptr_t last_fault_addr;	/* CR2 of the last recovered fault */
	uint64_t last_fault_error;
};
