/* tests/ktest/test_serial.c: console input by interrupt: bytes sent through the UART's
 * loopback come back through the I/O APIC, the local APIC and the receive handler. */
#include <kernel/console.h>
#include <kernel/cpu.h>
#include <kernel/ktest.h>
#include <kernel/string.h>
#include <kernel/timer.h>
#include <arch/arch.h>

uint64_t ioapic_entry_isa(unsigned irq);

KTEST(serial, rx_routed_through_ioapic)
{
	uint64_t e = ioapic_entry_isa(4);

	KT_ASSERT(e != 0);
	KT_EQ(e & 0xff, 0x24);			/* vector: VEC_IRQ_BASE + IRQ 4 */
	KT_EQ(e >> 16 & 1, 0);			/* unmasked */
	KT_EQ(e >> 56, cpus[0].arch.apic_id);	/* to the boot CPU */
}

KTEST(serial, loopback_bytes_arrive_by_interrupt)
{
	const char msg[] = "wisp-rx";
	char got[sizeof(msg)] = { 0 };
	size_t n = 0;

	KT_ASSERT(arch_irqs_enabled());
	while (console_getc() >= 0)
		;			/* drain anything typed before */
	console_loopback(msg, sizeof(msg) - 1);
	uint64_t end = clock_ns() + 30000000000ull;
	while (n < sizeof(msg) - 1 && clock_ns() < end) {
		int c = console_getc();
		if (c >= 0)
			got[n++] = (char)c;
	}
	KT_STREQ(got, msg);
	KT_EQ(console_dropped(), 0);
}
