/* tests/ktest/test_args.c: command line splitting inside the kernel. */
#include <kernel/cmdline.h>
#include <kernel/ktest.h>
#include <kernel/string.h>
#include <kernel/uapi/errno.h>

KTEST(args, split)
{
	char line[] = "test=all  quiet init=\"server --rate 5\" x=";
	struct cmdline_arg a[8];
	int n = cmdline_parse(line, a, 8);

	KT_EQ(n, 4);
	KT_STREQ(a[0].key, "test");
	KT_STREQ(a[0].value, "all");
	KT_STREQ(a[1].key, "quiet");
	KT_ASSERT(a[1].value == NULL);
	KT_STREQ(a[2].key, "init");
	KT_STREQ(a[2].value, "server --rate 5");
	KT_STREQ(a[3].value, "");
}

KTEST(args, errors)
{
	char unterminated[] = "a=\"open";
	char nokey[] = "=5";
	char many[] = "a b c";
	struct cmdline_arg a[2];

	KT_EQ(cmdline_parse(unterminated, a, 2), -EINVAL);
	KT_EQ(cmdline_parse(nokey, a, 2), -EINVAL);
	KT_EQ(cmdline_parse(many, a, 2), -E2BIG);
}
