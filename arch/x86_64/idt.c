/* arch/x86_64/idt.c: the interrupt descriptor table, shared by every CPU.
 * 64-bit interrupt gates (SDM Vol. 3A §6.14.1, Figure 6-8): type 0xE clears IF on
 * entry.  #DF, NMI and #MC run on their own IST stacks. */
#include <arch/traps.h>
#include <arch/x86.h>

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;		/* P | DPL | 0xE */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct idt_gate) == 16, "SDM Figure 6-8");

static struct idt_gate idt[256] __attribute__((aligned(16)));
extern const uintptr_t trap_stubs[256];

static void set_gate(int vec, uintptr_t handler, int ist, int dpl)
{
	idt[vec] = (struct idt_gate){
		.offset_lo = handler & 0xffff,
		.selector = GDT_KCODE,
		.ist = (uint8_t)ist,
		.type = (uint8_t)(0x80 | dpl << 5 | 0xe),
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_hi = (uint32_t)(handler >> 32),
	};
}

void idt_init(void)
{
	for (int v = 0; v < 256; v++)
		set_gate(v, trap_stubs[v], 0, 0);
	set_gate(8, trap_stubs[8], 1, 0);	/* #DF */
	set_gate(2, trap_stubs[2], 2, 0);	/* NMI */
	set_gate(18, trap_stubs[18], 3, 0);	/* #MC */
	set_gate(3, trap_stubs[3], 0, 3);	/* int3 allowed from user mode */
}

void idt_load(void)
{
	struct desc_ptr p = { sizeof(idt) - 1, (uint64_t)idt };
	lidt(&p);
}
