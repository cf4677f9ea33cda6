/* tests/ktest/test_paging.c: the kernel page tables: permissions of the image, the
 * direct map, and mapping/unmapping pages at run time. */
#include <kernel/ktest.h>
#include <kernel/page.h>
#include <kernel/string.h>
#include <arch/arch.h>
#include <kernel/uapi/errno.h>

extern char __text_start[], __rodata_start[], __data_start[], boot_stack_guard[];

/* A kernel-half address nothing else uses (PML4 slot 300). */
#define TEST_VA	0xffff960000000000ul

KTEST(paging, image_permissions)
{
	unsigned f;
	static int data_word;

	KT_ASSERT(arch_kernel_translate((uintptr_t)__text_start, NULL, &f));
	KT_EQ(f & (MAP_WRITE | MAP_EXEC), MAP_EXEC);
	KT_ASSERT(arch_kernel_translate((uintptr_t)__rodata_start, NULL, &f));
	KT_EQ(f & (MAP_WRITE | MAP_EXEC), 0);
	KT_ASSERT(arch_kernel_translate((uintptr_t)&data_word, NULL, &f));
	KT_EQ(f & (MAP_WRITE | MAP_EXEC), MAP_WRITE);
	KT_ASSERT(!arch_kernel_translate((uintptr_t)boot_stack_guard, NULL, NULL));
}

KTEST(paging, text_is_not_writable)
{
	/* CR0.WP makes the kernel obey read-only pages: a write is a protection fault. */
	KT_EQ(arch_probe_write((uintptr_t)__text_start), 14);
	KT_EQ(arch_last_fault_error() & 3, 3);	/* present, write */
	KT_EQ(arch_probe_write((uintptr_t)__rodata_start), 14);
}

KTEST(paging, low_identity_map_gone)
{
	KT_EQ(arch_probe_read(0x1000), 14);
	KT_EQ(arch_last_fault_addr(), 0x1000);
}

KTEST(paging, direct_map_covers_all_ram)
{
	uint64_t last = (page_max_pfn() - 1) * PAGE_SIZE;
	uint64_t pa;

	KT_ASSERT(arch_kernel_translate((uintptr_t)phys_to_virt(last), &pa, NULL));
	KT_EQ(pa, last);
	KT_EQ(arch_probe_read((uintptr_t)phys_to_virt(last)), -1);
}

KTEST(paging, map_and_unmap)
{
	uint8_t *page = page_alloc(1);
	uint64_t pa;

	KT_ASSERT(page != NULL);
	KT_EQ(arch_kmap(TEST_VA, virt_to_phys(page), MAP_WRITE), 0);
	KT_EQ(arch_kmap(TEST_VA, virt_to_phys(page), MAP_WRITE), -EEXIST);
	KT_ASSERT(arch_kernel_translate(TEST_VA, &pa, NULL));
	KT_EQ(pa, virt_to_phys(page));
	*(volatile uint32_t *)(TEST_VA + 8) = 0x77697370;
	KT_EQ(*(uint32_t *)(page + 8), 0x77697370);
	KT_EQ(arch_kunmap(TEST_VA), 0);
	KT_EQ(arch_kunmap(TEST_VA), -ENOENT);
	KT_EQ(arch_probe_read(TEST_VA), 14);
	KT_EQ(arch_last_fault_addr(), TEST_VA);
	page_free(page, 1);
}

KTEST(paging, refuses_bad_requests)
{
	KT_EQ(arch_kmap(TEST_VA + 1, 0x200000, 0), -EINVAL);
	KT_EQ(arch_kmap(0x400000, 0x200000, 0), -EINVAL);	/* user half */
}
