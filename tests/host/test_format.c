/* tests/host/test_format.c: wisp's formatter against the host C library, which is
 * the reference for every conversion both support. */
#include "htest.h"
#include <kernel/format.h>

/* Some cases are malformed on purpose. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-overflow"

#include <stdint.h>

/* Format with both and compare text and return value. */
#define SAME(...)								\
	do {									\
		char want[256], got[256];					\
		int rw = snprintf(want, sizeof(want), __VA_ARGS__);		\
		int rg = wisp_snprintf(got, sizeof(got), __VA_ARGS__);		\
		CHECK_STREQ(got, want);						\
		CHECK_EQ(rg, rw);						\
	} while (0)

HTEST(format_integers)
{
	SAME("%d %i %u", 0, -1, 4000000000u);
	SAME("%d %d", INT32_MIN, INT32_MAX);
	SAME("%ld %lu", INT64_MIN, UINT64_MAX);
	SAME("%lld %llx %llX", -5ll, 0xdeadbeefcafeull, 0xdeadbeefcafeull);
	SAME("%hhd %hhu %hd %hu", -3, 300, -70000, 70000);
	SAME("%zu %zd %td %jd", (size_t)123, (ptrdiff_t)-4, (ptrdiff_t)-9, (intmax_t)-77);
	SAME("%o %#o %#o", 8u, 8u, 0u);
	SAME("%x %#x %#X %#x", 255u, 255u, 255u, 0u);
}

HTEST(format_width_precision_flags)
{
	SAME("[%8d][%-8d][%08d][%+d][% d][%+d]", 42, 42, 42, 42, 42, -42);
	SAME("[%.5d][%8.3d][%-8.3d][%08.3d]", 42, 42, 42, 42);
	SAME("[%.0d][%.0x][%5.0d]", 0, 0u, 0);
	SAME("[%*d][%-*d][%*d]", 6, 1, 6, 2, -6, 3);
	SAME("[%.*d][%.*d]", 4, 7, -1, 7);
	SAME("[%#10x][%#-10x][%#010x]", 0xabcu, 0xabcu, 0xabcu);
	SAME("[%016lx][%-16lx]", 0xffffffff80000000ul, 1ul);
	SAME("[%+05d][% 05d][%-+5d]", 7, 7, 7);
}

HTEST(format_strings_chars)
{
	SAME("%s|%10s|%-10s|%.2s|%10.2s|%-10.2s|", "wisp", "wisp", "wisp", "wisp", "wisp", "wisp");
	SAME("%.*s|%*s", 3, "abcdef", -6, "ab");
	SAME("%c%c|%3c|%-3c|", 'o', 'k', 'x', 'y');
	SAME("100%% %s", "sure");
	SAME("%s", "");
}

HTEST(format_pointers)
{
	char b[64];

	SAME("%p", (void *)0x1234);
	SAME("%p", (void *)0xffffffff80100000ul);
	wisp_snprintf(b, sizeof(b), "%p", (void *)0);
	CHECK_STREQ(b, "0x0");
}

HTEST(format_truncation)
{
	char b[8];

	CHECK_EQ(wisp_snprintf(b, sizeof(b), "%d", 123456789), 9);
	CHECK_STREQ(b, "1234567");
	CHECK_EQ(wisp_snprintf(b, 1, "abc"), 3);
	CHECK_STREQ(b, "");
	CHECK_EQ(wisp_snprintf(NULL, 0, "%s-%d", "ab", 10), 5);
	b[0] = 'x';
	wisp_snprintf(b, 0, "abc");
	CHECK_EQ(b[0], 'x');
}

HTEST(format_malformed)
{
	char b[32];

	wisp_snprintf(b, sizeof(b), "50%");
	CHECK_STREQ(b, "50%");
	wisp_snprintf(b, sizeof(b), "%q%d", 5);
	CHECK_STREQ(b, "%q5");
	wisp_snprintf(b, sizeof(b), "%s", (char *)NULL);
	CHECK_STREQ(b, "(null)");
}
