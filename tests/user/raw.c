static long sc(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}
static char buf[64];
__attribute__((force_align_arg_pointer)) void _start(void)
{
	const char m[] = "hello from ring 3\n";
	sc(1, 1, (long)m, sizeof m - 1);
	long r = sc(1, 1, 0xffff800000000000l, 10);   /* kernel pointer: EFAULT */
	buf[0] = '0' - (char)r / 10; buf[1] = '0' - (char)(r % 10); buf[2] = '\n';
	sc(1, 1, (long)buf, 3);
	char *heap = (char *)sc(12, 1 << 20, 3, 0);
	heap[4096 * 10] = 'x';
	sc(1, 1, (long)heap + 4096 * 10, 1);
	sc(3, 42, 0, 0);
	for (;;);
}
