/* kernel/panic.c: panic and backtraces. */
#include <kernel/panic.h>
#include <kernel/cpu.h>
#include <kernel/printk.h>
#include <kernel/symbols.h>
#include <arch/arch.h>

static int panic_owner = -1;	/* cpu id of the first CPU to panic */

int panic_begin(void)
{
	arch_irq_save();
	struct cpu *c = this_cpu();
	int expected = -1;

	if (c->panicking)
		return 0;	/* panic inside panic: stop quietly */
	c->panicking = 1;
	if (!__atomic_compare_exchange_n(&panic_owner, &expected, (int)c->id, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return 0;	/* another CPU is panicking: it stops us */
	if (ncpus > 1)
		arch_stop_others();
	return 1;
}

noreturn void panic_stop(void)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "wisp: stopped (status %d)\n", PANIC_STATUS);
	console_write_unlocked(line, (size_t)n);
	arch_power_off(PANIC_STATUS);
}

static void print_frame(uintptr_t pc, void *arg)
{
	char line[160];
	char sym[96];
	(void)arg;
	symbol_format_return(pc, sym, sizeof(sym));
	int n = snprintf(line, sizeof(line), "    %016lx %s\n", pc, sym);
	console_write_unlocked(line, (size_t)MIN(n, (int)sizeof(line) - 1));
}

void print_backtrace(uintptr_t fp, int max)
{
	arch_backtrace(fp, max, print_frame, NULL);
}

noreturn void panic(const char *fmt, ...)
{
	char msg[512];
	char line[600];
	char sym[96];
	va_list ap;

	if (!panic_begin())
		arch_halt();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	symbol_format_return(RETURN_ADDRESS, sym, sizeof(sym));
	int n = snprintf(line, sizeof(line), "\nwisp: panic on cpu %u: %s\n  called from %s\n",
			 this_cpu()->id, msg, sym);
	console_write_unlocked(line, (size_t)MIN(n, (int)sizeof(line) - 1));
	console_write_unlocked("  backtrace:\n", 13);
	print_backtrace(arch_frame_pointer(), 32);
	panic_stop();
}
