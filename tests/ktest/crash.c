/* tests/ktest/crash.c: deliberate kernel faults, for the integration tests that check
 * what a kernel bug looks like: crash=KIND makes the kernel fault that way right
 * after "wisp: ready".  Each must print the register dump and a symbolized backtrace
 * and leave the machine with the panic status, never reboot. */
#include <kernel/args.h>
#include <kernel/compiler.h>
#include <kernel/cpu.h>
#include <kernel/kmalloc.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <arch/arch.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/uapi/errno.h>

static char crash_kind[16];

static int set_crash(const char *value)
{
	static const char *const kinds[] = { "panic", "pagefault", "gp", "ud", "div0",
					     "nx", "stack", "assert", "doublefree", "overflow",
					     "lock", "unlock", "deadlock", "appanic" };
	if (!value)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (!strcmp(value, kinds[i])) {
			strlcpy(crash_kind, value, sizeof(crash_kind));
			return 0;
		}
	}
	return -EINVAL;
}
KERNEL_ARG(crash, "crash=panic|pagefault|gp|ud|div0|nx|stack|assert|doublefree|overflow|"
	   "lock|unlock|deadlock|appanic: fault on purpose after boot", set_crash);

/* Kept out of line so the backtrace shows a frame of its own. */
static __attribute__((noinline)) void crash_write_null(uintptr_t addr)
{
	__asm__ volatile("" : "+r"(addr));	/* hide the constant from the optimizer */
	*(volatile int *)addr = 1;
}

static __attribute__((noinline)) int crash_recurse(volatile int depth)
{
	volatile char pad[512];
	if (depth < 0)
		return 0;
	pad[0] = (char)depth;
	return crash_recurse(depth + 1) + pad[0];
}

static const uint8_t nx_code[] = { 0xc3 };	/* ret, in a no-execute page */

static struct spinlock crash_lock = SPINLOCK_INIT("crash");

/* On another CPU: take crash_lock and never give it back. */
static void hold_forever(void *arg)
{
	spin_lock(&crash_lock);
	for (;;)
		arch_cpu_relax();
}

static void panic_here(void *arg)
{
	panic("crash=appanic: panic on cpu %u", this_cpu()->id);
}

void crash_run_requested(void)
{
	const char *k = crash_kind;

	if (!*k)
		return;
	printk("crash: %s\n", k);
	if (!strcmp(k, "panic"))
		panic("crash=panic requested");
	if (!strcmp(k, "pagefault"))
		crash_write_null(16);
	if (!strcmp(k, "gp"))
		*(volatile uint64_t *)0x8000000000000000ull = 1;	/* non-canonical */
	if (!strcmp(k, "ud"))
		__asm__ volatile("ud2");
	if (!strcmp(k, "div0")) {
		volatile int seven = 7, zero = 0;	/* both volatile: no folding */
		printk("%d\n", seven / zero);
	}
	if (!strcmp(k, "nx"))
		((void (*)(void))(uintptr_t)nx_code)();
	if (!strcmp(k, "stack"))
		crash_recurse(0);
	if (!strcmp(k, "assert"))
		assert(crash_kind[0] == 'x');
	if (!strcmp(k, "doublefree")) {
		void *keep = kmalloc(32);	/* keeps the slab page in the heap */
		void *p = kmalloc(32);
		kfree(p);
		kfree(p);
		kfree(keep);
	}
	if (!strcmp(k, "overflow")) {
		char *p = kmalloc(24);
		__asm__ volatile("" : "+r"(p));
		p[24] = 1;	/* one byte past the end */
		kfree(p);
	}
	if (!strcmp(k, "lock")) {
		spin_lock(&crash_lock);
		spin_lock(&crash_lock);
	}
	if (!strcmp(k, "unlock"))
		spin_unlock(&crash_lock);
	if (!strcmp(k, "deadlock") && ncpus > 1) {
		cpumask_t one = { { 1ull << 1 } };
		smp_call(&one, hold_forever, NULL, false);
		while (!READ_ONCE(crash_lock.locked))
			arch_cpu_relax();
		spin_lock(&crash_lock);		/* reported, then spins for good */
	}
	if (!strcmp(k, "appanic") && ncpus > 1) {
		cpumask_t one = { { 1ull << 1 } };
		smp_call(&one, panic_here, NULL, false);
		for (;;)			/* until cpu 1's NMI stops this CPU */
			arch_cpu_relax();
	}
	panic("crash=%s did not fault", k);
}
