/* tests/user/fault.c: a program that faults on purpose, for usertests: `fault KIND`
 * with KIND one of pf (page fault), gp (general protection), ud (invalid opcode),
 * de (divide error), nx (execute a data page), kernel (read kernel memory).  It
 * needs no C library: the fault must come before anything else could go wrong. */
static long sc(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

static int eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static unsigned char data_page[16] = { 0xc3 };	/* ret, in a no-execute page */

__attribute__((force_align_arg_pointer)) void _start(long argc, char **argv)
{
	const char *k = argc > 1 ? argv[1] : "";
	volatile long zero = 0, one = 1;

	if (eq(k, "pf"))
		*(volatile long *)16 = 1;
	if (eq(k, "gp"))
		*(volatile long *)0x8000000000000000ul = 1;
	if (eq(k, "ud"))
		__asm__ volatile("ud2");
	if (eq(k, "de"))
		sc(1, 1, (long)"?", (long)(one / zero));
	if (eq(k, "nx"))
		((void (*)(void))data_page)();
	if (eq(k, "kernel"))
		(void)*(volatile long *)0xffffffff80100000ul;
	sc(3, 99, 0, 0);	/* SYS_exit: no fault happened */
	for (;;)
		;
}
