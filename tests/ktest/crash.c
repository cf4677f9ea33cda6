/* tests/ktest/crash.c: deliberate kernel faults, for the integration tests that check
 * what a kernel bug looks like: crash=KIND makes the kernel fault that way right
 * after "wisp: ready".  Each must print the register dump and a symbolized backtrace
 * and leave the machine with the panic status, never reboot. */
#include <kernel/args.h>
#include <kernel/compiler.h>
#include <kernel/kmalloc.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/uapi/errno.h>

static char crash_kind[16];

static int set_crash(const char *value)
{
	static const char *const kinds[] = { "panic", "pagefault", "gp", "ud", "div0",
					     "nx", "stack", "assert", "doublefree", "overflow" };
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
KERNEL_ARG(crash, "crash=panic|pagefault|gp|ud|div0|nx|stack|assert|doublefree|overflow: "
	   "fault on purpose after boot", set_crash);

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
	panic("crash=%s did not fault", k);
}
