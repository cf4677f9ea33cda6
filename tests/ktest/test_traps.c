/* tests/ktest/test_traps.c: exceptions go through the IDT, the stubs and the trap
 * frame and come back: each probe faults once and recovers through the exception
 * table with the right vector. */
#include <kernel/ktest.h>
#include <arch/arch.h>

KTEST(traps, page_fault)
{
	KT_EQ(arch_probe_read(8), 14);
	KT_EQ(arch_last_fault_addr(), 8);
	KT_EQ(arch_last_fault_error() & 7, 0);	/* not present, read, kernel */
}

KTEST(traps, general_protection)
{
	/* A non-canonical address is #GP, not #PF (SDM Vol. 3A §6.15, "Interrupt 13"). */
	KT_EQ(arch_probe_read(0x8000000000000000ul), 13);
}

KTEST(traps, invalid_opcode)
{
	KT_EQ(arch_probe_ud(), 6);
}

KTEST(traps, divide_error)
{
	KT_EQ(arch_probe_div0(), 0);
}

KTEST(traps, no_fault)
{
	static uint64_t word;

	KT_EQ(arch_probe_read((uintptr_t)&word), -1);
	KT_EQ(arch_probe_write((uintptr_t)&word), -1);
}

KTEST(traps, recovery_keeps_interrupt_state)
{
	/* A recovered fault returns through iretq with the interrupted RFLAGS. */
	bool on = arch_irqs_enabled();

	arch_probe_ud();
	KT_EQ(arch_irqs_enabled(), on);
	unsigned long flags = arch_irq_save();
	arch_probe_div0();
	KT_ASSERT(!arch_irqs_enabled());
	arch_irq_restore(flags);
	KT_EQ(arch_irqs_enabled(), on);
}
