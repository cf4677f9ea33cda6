/* tests/host/test_cmdline.c: kernel command line splitting. */
#include "htest.h"
#include <kernel/cmdline.h>
#include <kernel/uapi/errno.h>

HTEST(cmdline_empty)
{
	char a[] = "", b[] = "   \t  ";
	struct cmdline_arg v[4];

	CHECK_EQ(cmdline_parse(a, v, 4), 0);
	CHECK_EQ(cmdline_parse(b, v, 4), 0);
}

HTEST(cmdline_keys_values_flags)
{
	char s[] = "  test=all\tquiet  loglevel=7 empty= ";
	struct cmdline_arg v[8];

	CHECK_EQ(cmdline_parse(s, v, 8), 4);
	CHECK_STREQ(v[0].key, "test");
	CHECK_STREQ(v[0].value, "all");
	CHECK_STREQ(v[1].key, "quiet");
	CHECK(v[1].value == NULL);
	CHECK_STREQ(v[2].key, "loglevel");
	CHECK_STREQ(v[2].value, "7");
	CHECK_STREQ(v[3].key, "empty");
	CHECK_STREQ(v[3].value, "");
}

HTEST(cmdline_quotes)
{
	char s[] = "init=\"server --rate 5\" \"odd key\"=1 x=a\"b c\"d";
	struct cmdline_arg v[8];

	CHECK_EQ(cmdline_parse(s, v, 8), 3);
	CHECK_STREQ(v[0].key, "init");
	CHECK_STREQ(v[0].value, "server --rate 5");
	CHECK_STREQ(v[1].key, "odd key");
	CHECK_STREQ(v[1].value, "1");
	CHECK_STREQ(v[2].value, "ab cd");
}

HTEST(cmdline_value_keeps_equals)
{
	char s[] = "init=prog a=b";
	struct cmdline_arg v[4];

	CHECK_EQ(cmdline_parse(s, v, 4), 2);
	char t[] = "k=v=w";
	CHECK_EQ(cmdline_parse(t, v, 4), 1);
	CHECK_STREQ(v[0].key, "k");
	CHECK_STREQ(v[0].value, "v=w");
}

HTEST(cmdline_errors)
{
	char unterminated[] = "ok=1 bad=\"never closed";
	char empty_key[] = "a=1 =2";
	char many[] = "a b c d e";
	struct cmdline_arg v[3];

	CHECK_EQ(cmdline_parse(unterminated, v, 3), -EINVAL);
	CHECK_EQ(cmdline_parse(empty_key, v, 3), -EINVAL);
	CHECK_EQ(cmdline_parse(many, v, 3), -E2BIG);
	CHECK_STREQ(v[2].key, "c");	/* the first max are filled */
}
