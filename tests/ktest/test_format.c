/* tests/ktest/test_format.c: the kernel's formatter as the kernel sees it (the host
 * tests compare it against the C library on many more cases). */
#include <kernel/ktest.h>
#include <kernel/printk.h>
#include <kernel/string.h>

KTEST(format, integers)
{
	char b[64];

	snprintf(b, sizeof(b), "%d %u %x %X %o", -42, 42u, 0xbeefu, 0xbeefu, 8u);
	KT_STREQ(b, "-42 42 beef BEEF 10");
	snprintf(b, sizeof(b), "%ld %lx %zu", -1234567890123l, 0xffffffff80000000ul, (size_t)7);
	KT_STREQ(b, "-1234567890123 ffffffff80000000 7");
}

KTEST(format, width_and_flags)
{
	char b[64];

	snprintf(b, sizeof(b), "[%5d][%-5d][%05d][%+d][%#x][%016lx]", 42, 42, 42, 42, 255u, 1ul);
	KT_STREQ(b, "[   42][42   ][00042][+42][0xff][0000000000000001]");
}

KTEST(format, strings_and_pointers)
{
	char b[64];

	snprintf(b, sizeof(b), "%s|%.3s|%8s|%-4s|%c|%p|%%", "wisp", "kernel", "hi", "a", 'z',
		 (void *)0x1000);
	KT_STREQ(b, "wisp|ker|      hi|a   |z|0x1000|%");
}

KTEST(format, truncation)
{
	char b[8];
	int n = snprintf(b, sizeof(b), "%s", "0123456789");

	KT_EQ(n, 10);
	KT_STREQ(b, "0123456");
}
