/* arch/x86_64/uart.c: the COM1 serial console, a 16550-compatible UART polled for
 * output (PC16550D datasheet: LSR bit 5 "THRE: transmitter holding register empty").
 * Polling keeps it usable from panic and from any CPU; the console lock in printk
 * keeps lines whole.  '\n' goes out as "\r\n" for terminals.  Input arrives by
 * interrupt (IER bit 0, routed through the I/O APIC) into the console's input ring. */
#include <arch/apic.h>
#include <arch/arch.h>
#include <kernel/console.h>
#include <arch/x86.h>

int ioapic_route_isa(unsigned irq, uint8_t vector, uint32_t apic_id);

#define COM1		0x3f8
#define THR		0	/* transmit holding (DLAB=0) */
#define IER		1
#define FCR		2
#define LCR		3
#define MCR		4
#define LSR		5
#define LSR_DR		0x01	/* data ready */
#define LSR_THRE	0x20
#define LSR_TEMT	0x40	/* transmitter empty */
#define IER_RX		0x01	/* "enable received data available interrupt" */
#define MCR_OUT2	0x08	/* gates the UART's interrupt line on PCs */
#define MCR_LOOP	0x10
#define COM1_IRQ	4

void uart_init(void)
{
	outb(COM1 + IER, 0x00);
	outb(COM1 + LCR, 0x80);		/* DLAB: divisor follows */
	outb(COM1 + THR, 0x01);		/* 115200 baud */
	outb(COM1 + IER, 0x00);
	outb(COM1 + LCR, 0x03);		/* 8N1 */
	outb(COM1 + FCR, 0xc7);		/* FIFOs on, cleared */
	outb(COM1 + MCR, 0x03);		/* DTR, RTS */
}

static void uart_putc(char c)
{
	/* Bounded: a missing UART reads 0xff (THRE set) and a stuck one must not hang us. */
	for (int i = 0; i < 100000 && !(inb(COM1 + LSR) & LSR_THRE); i++)
		cpu_pause();
	outb(COM1 + THR, (uint8_t)c);
}

static void on_rx(struct trap_frame *f)
{
	for (int i = 0; i < 64 && (inb(COM1 + LSR) & LSR_DR); i++)
		console_input((char)inb(COM1 + THR));
}

/* Receive interrupts through the I/O APIC to the boot CPU (the console's input). */
void uart_enable_rx(void)
{
	irq_register(VEC_IRQ_BASE + COM1_IRQ, on_rx);
	if (ioapic_route_isa(COM1_IRQ, VEC_IRQ_BASE + COM1_IRQ, lapic_id()))
		return;
	outb(COM1 + MCR, 0x03 | MCR_OUT2);
	outb(COM1 + IER, IER_RX);
}

/* Loopback (16550 MCR bit 4): what is sent comes back as received data.  The caller
 * holds the console lock, so nothing else is written meanwhile. */
void arch_console_loopback(const char *s, size_t n)
{
	while (!(inb(COM1 + LSR) & LSR_TEMT))
		cpu_pause();
	outb(COM1 + MCR, 0x03 | MCR_OUT2 | MCR_LOOP);
	for (size_t i = 0; i < n; i++)
		uart_putc(s[i]);
	while (!(inb(COM1 + LSR) & LSR_TEMT))
		cpu_pause();
	outb(COM1 + MCR, 0x03 | MCR_OUT2);
}

void arch_console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}
