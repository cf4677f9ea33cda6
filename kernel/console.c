/* kernel/console.c: the console input ring.  Lock order: input_lock is a leaf. */
#include <kernel/console.h>
#include <kernel/printk.h>
#include <kernel/spinlock.h>
#include <arch/arch.h>

#define RING	256

static struct spinlock input_lock = SPINLOCK_INIT("console input");
static char ring[RING];
static unsigned head, tail;	/* [input_lock] head - tail bytes waiting */
static unsigned long dropped;	/* [input_lock] bytes lost to a full ring */

void console_input(char c)
{
	unsigned long flags = spin_lock_irqsave(&input_lock);
	if (head - tail == RING)
		dropped++;
	else
		ring[head++ % RING] = c;
	spin_unlock_irqrestore(&input_lock, flags);
}

int console_getc(void)
{
	int c = -1;
	unsigned long flags = spin_lock_irqsave(&input_lock);
	if (head != tail)
		c = (unsigned char)ring[tail++ % RING];
	spin_unlock_irqrestore(&input_lock, flags);
	return c;
}

unsigned long console_dropped(void)
{
	return READ_ONCE(dropped);
}

void console_loopback(const char *s, size_t n)
{
	console_write_locked_fn(arch_console_loopback, s, n);
}
