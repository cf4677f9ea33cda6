/* arch/x86_64/paging.c: the kernel's page tables (SDM Vol. 3A §4.5, 4-level paging).
 *
 * arch_paging_init() replaces the boot tables with:
 *   - a direct map of every RAM region the firmware reported (usable, ACPI) at
 *     DIRECT_MAP_BASE, in 2 MiB pages, global, writable, no-execute;
 *   - the kernel image at KERNEL_VMA in 4 KiB pages: text read+execute, rodata
 *     read-only no-execute, data and bss writable no-execute, and the page under the
 *     boot stack left unmapped as a guard;
 * and drops the identity map of low memory.  The kernel half (PML4[256..511]) is
 * created whole here so that every later address space can share it by copying the
 * upper half of the PML4. */
#include <arch/arch.h>
#include <arch/x86.h>
#include <kernel/bootinfo.h>
#include <kernel/compiler.h>
#include <kernel/page.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/uapi/errno.h>

#define PTE_P		(1ull << 0)
#define PTE_W		(1ull << 1)
#define PTE_U		(1ull << 2)
#define PTE_PWT		(1ull << 3)
#define PTE_PCD		(1ull << 4)
#define PTE_PS		(1ull << 7)
#define PTE_G		(1ull << 8)
#define PTE_NX		(1ull << 63)
#define PTE_ADDR	0x000ffffffffff000ull

#define LARGE_PAGE	(2ull << 20)

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __kernel_end[], boot_stack_guard[];
extern uint64_t boot_pml4[];

static uint64_t *kernel_pml4;

static unsigned idx(uintptr_t va, int level)
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

/* The entry for va at level (1 = page table) in the tables under pml4, creating
 * intermediate tables when create is set (user-accessible below USER_TOP).  NULL if
 * absent, or if a large page is in the way.  Also used for user tables (uvm.c). */
uint64_t *pt_walk(uint64_t *pml4, uintptr_t va, int level, bool create)
{
	uint64_t *table = pml4;

	for (int l = 4; l > level; l--) {
		uint64_t *e = &table[idx(va, l)];
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			uint64_t *t = page_alloc(1);
			if (!t)
				return NULL;
			*e = virt_to_phys(t) | PTE_P | PTE_W | (va < USER_TOP ? PTE_U : 0);
		} else if (*e & PTE_PS) {
			return NULL;
		}
		table = phys_to_virt(*e & PTE_ADDR);
	}
	return &table[idx(va, level)];
}

static uint64_t pte_flags(unsigned flags)
{
	uint64_t f = PTE_P;

	if (flags & MAP_WRITE)
		f |= PTE_W;
	if (!(flags & MAP_EXEC))
		f |= PTE_NX;
	if (flags & MAP_USER)
		f |= PTE_U;
	else
		f |= PTE_G;
	if (flags & MAP_NOCACHE)
		f |= PTE_PCD | PTE_PWT;
	return f;
}

static int map_in(uint64_t *pml4, uintptr_t va, uint64_t pa, unsigned flags)
{
	if ((va | pa) & (PAGE_SIZE - 1))
		return -EINVAL;
	uint64_t *e = pt_walk(pml4, va, 1, true);
	if (!e)
		return -ENOMEM;
	if (*e & PTE_P)
		return -EEXIST;
	*e = pa | pte_flags(flags);
	return 0;
}

int arch_kmap(uintptr_t va, uint64_t pa, unsigned flags)
{
	if (va < DIRECT_MAP_BASE || (flags & MAP_USER))
		return -EINVAL;
	return map_in(kernel_pml4, va, pa, flags);
}

static bool table_empty(const uint64_t *t)
{
	for (int i = 0; i < 512; i++)
		if (t[i])
			return false;
	return true;
}

/* Unmap va, then free the page table and page directory above it if they became
 * empty (PDPTs of the kernel half stay: every address space shares them).  INVLPG
 * also drops the paging-structure cache entries (SDM Vol. 3A §4.10.4.1).
 * Other CPUs' TLBs are not shot down yet: callers unmap only what no other CPU has
 * touched. */
int arch_kunmap(uintptr_t va)
{
	if (va < DIRECT_MAP_BASE)
		return -EINVAL;
	uint64_t *pd_e = pt_walk(kernel_pml4, va, 2, false);
	uint64_t *pdpt_e = pt_walk(kernel_pml4, va, 3, false);
	uint64_t *e = pt_walk(kernel_pml4, va, 1, false);
	if (!e || !(*e & PTE_P))
		return -ENOENT;
	*e = 0;
	uint64_t *pt = (uint64_t *)ALIGN_DOWN((uintptr_t)e, PAGE_SIZE);
	uint64_t *pd = (uint64_t *)ALIGN_DOWN((uintptr_t)pd_e, PAGE_SIZE);
	if (table_empty(pt)) {
		*pd_e = 0;
		page_free(pt, 1);
		if (table_empty(pd)) {
			*pdpt_e = 0;
			page_free(pd, 1);
		}
	}
	invlpg(va);
	return 0;
}

bool arch_kernel_translate(uintptr_t va, uint64_t *pa, unsigned *flags)
{
	uint64_t *table = kernel_pml4 ? kernel_pml4 : (uint64_t *)phys_to_virt(read_cr3() & PTE_ADDR);

	for (int l = 4; l >= 1; l--) {
		uint64_t e = table[idx(va, l)];
		if (!(e & PTE_P))
			return false;
		if (l == 1 || (e & PTE_PS)) {
			uint64_t size = 1ull << (12 + 9 * (l - 1));
			if (pa)
				*pa = (e & PTE_ADDR & ~(size - 1)) + (va & (size - 1));
			if (flags)
				*flags = (e & PTE_W ? MAP_WRITE : 0) | (e & PTE_NX ? 0 : MAP_EXEC) |
					 (e & PTE_U ? MAP_USER : 0) | (e & PTE_PCD ? MAP_NOCACHE : 0);
			return true;
		}
		table = phys_to_virt(e & PTE_ADDR);
	}
	return false;
}

uint64_t arch_kernel_cr3(void)
{
	return virt_to_phys(kernel_pml4);
}

static void map_direct(uint64_t *pml4, uint64_t start, uint64_t end)
{
	for (uint64_t pa = ALIGN_DOWN(start, LARGE_PAGE); pa < end; pa += LARGE_PAGE) {
		uint64_t *e = pt_walk(pml4, DIRECT_MAP_BASE + pa, 2, true);
		if (!e)
			panic("paging: out of memory building the direct map");
		*e = pa | PTE_P | PTE_W | PTE_PS | PTE_G | PTE_NX;
	}
}

/* Add the 2 MiB direct-map pages covering [pa, pa+len) that are missing, for RAM the
 * firmware did not call usable (ACPI tables).  Boot CPU, before other CPUs start. */
int arch_direct_map_range(uint64_t pa, uint64_t len)
{
	for (uint64_t a = ALIGN_DOWN(pa, LARGE_PAGE); a < pa + len; a += LARGE_PAGE) {
		if (arch_kernel_translate(DIRECT_MAP_BASE + a, NULL, NULL))
			continue;
		uint64_t *e = pt_walk(kernel_pml4, DIRECT_MAP_BASE + a, 2, true);
		if (!e)
			return -ENOMEM;
		*e = a | PTE_P | PTE_W | PTE_PS | PTE_G | PTE_NX;
	}
	return 0;
}

static void map_image(uint64_t *pml4, char *start, char *end, unsigned flags)
{
	for (char *va = start; va < end; va += PAGE_SIZE) {
		if (va == boot_stack_guard)
			continue;
		int err = map_in(pml4, (uintptr_t)va, virt_to_phys(va), flags);
		if (err)
			panic("paging: cannot map the kernel image at %p (error %d)", va, err);
	}
}

void arch_paging_init(const struct boot_info *bi)
{
	uint64_t *pml4 = page_alloc(1);
	if (!pml4)
		panic("paging: no page for the kernel PML4");

	/* The whole kernel half exists from the start, so address spaces can share it. */
	for (int i = 256; i < 512; i++) {
		uint64_t *t = page_alloc(1);
		if (!t)
			panic("paging: out of memory for kernel page tables");
		pml4[i] = virt_to_phys(t) | PTE_P | PTE_W;
	}
	for (int i = 0; i < bi->nmem; i++) {
		const struct mem_region *m = &bi->mem[i];
		if (m->type == MEM_USABLE || m->type == MEM_ACPI_RECLAIMABLE || m->type == MEM_ACPI_NVS)
			map_direct(pml4, m->base, m->base + m->len);
	}
	/* Boot modules are RAM the loader filled; cover them even if the map says otherwise. */
	for (int i = 0; i < bi->nmods; i++)
		map_direct(pml4, bi->mods[i].start, bi->mods[i].end);

	map_image(pml4, __text_start, __text_end, MAP_EXEC);
	map_image(pml4, __rodata_start, __rodata_end, 0);
	map_image(pml4, __data_start, __kernel_end, MAP_WRITE);

	write_cr4(read_cr4() | CR4_PGE);
	write_cr3(virt_to_phys(pml4));
	kernel_pml4 = pml4;
}

/* Walk saved RBP links: [rbp] is the caller's rbp, [rbp+8] the return address
 * (System V AMD64 ABI §3.2.2 with frame pointers kept).  The walk ends at the first
 * return address outside kernel text (kmain's, into the boot code). */
void arch_backtrace(uintptr_t fp, int max, void (*fn)(uintptr_t pc, void *arg), void *arg)
{
	for (int i = 0; i < max && fp; i++) {
		if (fp & 7 || fp < DIRECT_MAP_BASE ||
		    !arch_kernel_translate(fp, NULL, NULL) ||
		    !arch_kernel_translate(fp + 8, NULL, NULL))
			return;
		uintptr_t pc = ((uintptr_t *)fp)[1];
		if (pc < (uintptr_t)__text_start || pc >= (uintptr_t)__text_end)
			return;
		fn(pc, arg);
		fp = ((uintptr_t *)fp)[0];
	}
}
