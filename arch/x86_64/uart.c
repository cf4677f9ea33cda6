/* arch/x86_64/uart.c: the COM1 serial console, a 16550-compatible UART polled for
 * output (PC16550D datasheet: LSR bit 5 "THRE: transmitter holding register empty").
 * Polling keeps it usable from panic and from any CPU; the console lock in printk
 * keeps lines whole.  '\n' goes out as "\r\n" for terminals. */
#include <arch/arch.h>
#include <arch/x86.h>

#define COM1		0x3f8
#define THR		0	/* transmit holding (DLAB=0) */
#define IER		1
#define FCR		2
#define LCR		3
#define MCR		4
#define LSR		5
#define LSR_THRE	0x20

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

void arch_console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}
