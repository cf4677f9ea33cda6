/* kernel/printk.c: formatted console output.  Lines longer than the buffer are cut
 * and marked with "..." rather than lost silently. */
#include <kernel/printk.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>
#include <arch/arch.h>

#define PRINTK_MAX	512

/* Lock order: console_lock is a leaf; nothing is taken while holding it. */
static struct spinlock console_lock = SPINLOCK_INIT("console");

void console_write_unlocked(const char *s, size_t n)
{
	arch_console_write(s, n);
}

int vprintk(const char *fmt, va_list ap)
{
	char buf[PRINTK_MAX];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t len = strlen(buf);

	if (n >= (int)sizeof(buf))	/* truncated: say so */
		memcpy(buf + sizeof(buf) - 5, "...\n", 5), len = sizeof(buf) - 1;
	unsigned long flags = spin_lock_irqsave(&console_lock);
	arch_console_write(buf, len);
	spin_unlock_irqrestore(&console_lock, flags);
	return n;
}

void console_write_locked_fn(void (*fn)(const char *s, size_t n), const char *s, size_t n)
{
	unsigned long flags = spin_lock_irqsave(&console_lock);
	fn(s, n);
	spin_unlock_irqrestore(&console_lock, flags);
}

int printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}
