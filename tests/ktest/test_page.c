/* tests/ktest/test_page.c: the physical page allocator. */
#include <kernel/ktest.h>
#include <kernel/page.h>
#include <kernel/string.h>
#include <arch/arch.h>

KTEST(page, alloc_free_counts)
{
	uint64_t before = page_free_count();
	void *p = page_alloc(1);

	KT_ASSERT(p != NULL);
	KT_EQ(page_free_count(), before - 1);
	KT_EQ((uintptr_t)p % PAGE_SIZE, 0);
	page_free(p, 1);
	KT_EQ(page_free_count(), before);
}

KTEST(page, zeroed_and_distinct)
{
	uint8_t *a = page_alloc(1), *b = page_alloc(1);

	KT_ASSERT(a && b && a != b);
	int nonzero = 0;
	for (int i = 0; i < PAGE_SIZE; i++)
		nonzero += a[i] != 0;
	memset(a, 0xaa, PAGE_SIZE);
	memset(b, 0x55, PAGE_SIZE);
	KT_EQ(a[PAGE_SIZE - 1], 0xaa);
	page_free(a, 1);
	page_free(b, 1);
	KT_EQ(nonzero, 0);
}

KTEST(page, contiguous)
{
	uint8_t *p = page_alloc(16);

	KT_ASSERT(p != NULL);
	/* Contiguous in physical memory: the direct map keeps the offsets. */
	KT_EQ(virt_to_phys(p + 15 * PAGE_SIZE) - virt_to_phys(p), 15 * PAGE_SIZE);
	memset(p, 1, 16 * PAGE_SIZE);
	page_free(p, 16);
}

KTEST(page, exhaustion_returns_null)
{
	KT_ASSERT(page_alloc(page_free_count() + 1) == NULL);
}

KTEST(page, kernel_and_modules_reserved)
{
	extern char __kernel_end[];
	/* Every frame we get must lie outside the kernel image and the low MiB. */
	void *pages[64];
	int bad = 0;

	for (int i = 0; i < 64; i++) {
		pages[i] = page_alloc(1);
		uint64_t pa = virt_to_phys(pages[i]);
		if (pa < 0x100000 || (pa >= KERNEL_PHYS && pa < virt_to_phys(__kernel_end)))
			bad++;
	}
	for (int i = 0; i < 64; i++)
		page_free(pages[i], 1);
	KT_EQ(bad, 0);
}
