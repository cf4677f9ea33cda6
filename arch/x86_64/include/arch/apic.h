/* arch/apic.h: the local APIC (xAPIC or x2APIC behind one interface) and the vectors
 * wisp assigns (arch/x86_64/lapic.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Vectors.  Higher vectors have higher priority (SDM Vol. 3A §11.8.3.1). */
#define VEC_IRQ_BASE	0x20	/* IOAPIC device interrupts: 0x20 + GSI */
#define VEC_TIMER	0xf0
#define VEC_RESCHED	0xf1
#define VEC_CALL	0xf2
#define VEC_APIC_ERROR	0xfe
#define VEC_SPURIOUS	0xff

struct trap_frame;

void lapic_init(void);			/* this CPU; the boot CPU first */
bool lapic_x2apic(void);		/* x2APIC mode in use */
uint32_t lapic_id(void);		/* this CPU's APIC id */
void lapic_eoi(void);
/* Send a fixed IPI with vector to one APIC id. */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_nmi(uint32_t apic_id);
void lapic_send_init(uint32_t apic_id);
void lapic_send_sipi(uint32_t apic_id, uint8_t page);
/* The timer: fire VEC_TIMER once at TSC value tsc (0 stops it). */
void lapic_timer_at(uint64_t tsc);
uint64_t lapic_errors(void);		/* APIC errors counted on all CPUs */

/* Interrupt handlers for vectors >= 32; the dispatcher sends the EOI afterwards. */
void irq_register(int vector, void (*fn)(struct trap_frame *f));
