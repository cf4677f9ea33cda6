/* tests/ktest/test_symbols.c: backtraces can name kernel functions. */
#include <kernel/ktest.h>
#include <kernel/string.h>
#include <kernel/symbols.h>

void kmain(void);

KTEST(symbols, loaded_from_module)
{
	KT_ASSERT(symbols_loaded());
}

KTEST(symbols, lookup_function)
{
	uintptr_t off = 99;
	const char *name = symbol_lookup((uintptr_t)kmain + 5, &off);

	KT_ASSERT(name != NULL);
	KT_STREQ(name, "kmain");
	KT_EQ(off, 5);
	KT_EQ(symbol_address("kmain"), (uintptr_t)kmain);
}

KTEST(symbols, format)
{
	char b[64];

	symbol_format((uintptr_t)kmain, b, sizeof(b));
	KT_STREQ(b, "<kmain+0x0>");
	symbol_format(0x10, b, sizeof(b));
	KT_STREQ(b, "<?>");
}
