/* arch/x86_64/power.c: halting and leaving the machine.
 *
 * Under tools/run, QEMU has an isa-debug-exit device and fw_cfg names its port in
 * opt/wisp/debug-exit; writing v there makes QEMU exit with status (v << 1) | 1.
 * wisp writes status + 1, so that no status looks like QEMU's own exit 1 on error;
 * tools/run turns it back into the status.  Anywhere else (make run, bare metal) the
 * status is printed and the CPU halts: there is no ACPI shutdown yet. */
#include <arch/arch.h>
#include <arch/x86.h>
#include <kernel/printk.h>

static long parse_port(const char *s)
{
	long v = 0;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	for (; *s; s++) {
		int d = *s >= '0' && *s <= '9' ? *s - '0' :
			*s >= 'a' && *s <= 'f' ? *s - 'a' + 10 :
			*s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : 99;
		if (d >= base)
			return -1;
		v = v * base + d;
		if (v > 0xffff)
			return -1;
	}
	return v;
}

noreturn void arch_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

noreturn void arch_power_off(int status)
{
	char buf[16];
	long n = arch_fw_cfg_read("opt/wisp/debug-exit", buf, sizeof(buf) - 1);

	char line[64];
	int len = snprintf(line, sizeof(line), "wisp: power off, exit status %d\n", status);

	cli();
	console_write_unlocked(line, (size_t)len);
	if (n > 0 && n < (long)sizeof(buf) && status >= 0 && status < 127) {
		buf[n] = '\0';
		long port = parse_port(buf);
		if (port > 0)
			outb((uint16_t)port, (uint8_t)(status + 1));
	}
	console_write_unlocked("wisp: halted\n", 13);
	arch_halt();
}
