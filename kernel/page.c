/* kernel/page.c: physical pages.  The bitmap (frame_map.c) covers frame 0 up to the
 * highest usable frame; it is placed in the first usable memory that is free, below
 * 4 GiB so the boot page tables already reach it.
 *
 * Never handed out: the first MiB (real-mode structures and, later, the AP
 * trampoline), the kernel image, the boot modules, and the bitmap itself. */
#include <kernel/page.h>
#include <kernel/bootinfo.h>
#include <kernel/compiler.h>
#include <kernel/frame_map.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>
#include <arch/arch.h>

#define LOW_RESERVED	0x100000ull

extern char __kernel_phys_start[], __kernel_end[];

/* Lock order: page_lock is a leaf below the heap lock. */
static struct spinlock page_lock = SPINLOCK_INIT("page");
static struct frame_map fmap;
static uint64_t usable_pages;

struct range { uint64_t start, end; };

/* The ranges that must never be handed out, besides the bitmap. */
static int reserved_ranges(const struct boot_info *bi, struct range *r, int max)
{
	int n = 0;

	r[n++] = (struct range){ 0, LOW_RESERVED };
	r[n++] = (struct range){ (uint64_t)__kernel_phys_start,
				 virt_to_phys(__kernel_end) };
	for (int i = 0; i < bi->nmods && n < max; i++)
		r[n++] = (struct range){ ALIGN_DOWN(bi->mods[i].start, PAGE_SIZE),
					 ALIGN_UP(bi->mods[i].end, PAGE_SIZE) };
	return n;
}

static bool overlaps(uint64_t s, uint64_t e, const struct range *r, int n)
{
	for (int i = 0; i < n; i++)
		if (s < r[i].end && r[i].start < e)
			return true;
	return false;
}

/* Usable memory for the bitmap: page-aligned, below 4 GiB, clear of reserved ranges. */
static uint64_t place_bitmap(const struct boot_info *bi, uint64_t bytes,
			     const struct range *r, int nr)
{
	for (int i = 0; i < bi->nmem; i++) {
		const struct mem_region *m = &bi->mem[i];
		if (m->type != MEM_USABLE)
			continue;
		uint64_t end = ALIGN_DOWN(m->base + m->len, PAGE_SIZE);
		for (uint64_t s = ALIGN_UP(m->base, PAGE_SIZE); s + bytes <= end &&
		     s + bytes <= 0x100000000ull; s += PAGE_SIZE)
			if (!overlaps(s, s + bytes, r, nr))
				return s;
	}
	panic("page: no usable memory below 4 GiB for a %lu-byte frame bitmap", bytes);
}

void page_init(const struct boot_info *bi)
{
	struct range r[BOOT_MAX_MODULES + 3];
	uint64_t max_pfn = 0;

	for (int i = 0; i < bi->nmem; i++)
		if (bi->mem[i].type == MEM_USABLE)
			max_pfn = MAX(max_pfn, (bi->mem[i].base + bi->mem[i].len) / PAGE_SIZE);
	if (max_pfn == 0)
		panic("page: the boot memory map has no usable memory");

	int nr = reserved_ranges(bi, r, (int)ARRAY_SIZE(r) - 1);
	uint64_t bytes = ALIGN_UP(FRAME_MAP_WORDS(max_pfn) * 8, PAGE_SIZE);
	uint64_t at = place_bitmap(bi, bytes, r, nr);
	r[nr++] = (struct range){ at, at + bytes };

	fmap_init(&fmap, phys_to_virt(at), max_pfn);
	for (int i = 0; i < bi->nmem; i++) {
		const struct mem_region *m = &bi->mem[i];
		if (m->type != MEM_USABLE)
			continue;
		/* Only whole pages inside the region. */
		uint64_t s = ALIGN_UP(m->base, PAGE_SIZE) / PAGE_SIZE;
		uint64_t e = ALIGN_DOWN(m->base + m->len, PAGE_SIZE) / PAGE_SIZE;
		if (e > s)
			fmap_mark_free(&fmap, s, e - s);
	}
	usable_pages = fmap.nfree;
	/* Anything the firmware called usable but also reserved elsewhere is reserved. */
	for (int i = 0; i < bi->nmem; i++) {
		const struct mem_region *m = &bi->mem[i];
		if (m->type != MEM_USABLE) {
			uint64_t s = m->base / PAGE_SIZE;
			uint64_t e = ALIGN_UP(m->base + m->len, PAGE_SIZE) / PAGE_SIZE;
			fmap_mark_reserved(&fmap, s, e - s);
		}
	}
	for (int i = 0; i < nr; i++)
		fmap_mark_reserved(&fmap, r[i].start / PAGE_SIZE,
				   (ALIGN_UP(r[i].end, PAGE_SIZE) - r[i].start) / PAGE_SIZE);
}

void *page_alloc(size_t n)
{
	unsigned long flags = spin_lock_irqsave(&page_lock);
	int64_t pfn = fmap_alloc(&fmap, n, 1);
	spin_unlock_irqrestore(&page_lock, flags);
	if (pfn < 0)
		return NULL;
	void *p = phys_to_virt((uint64_t)pfn * PAGE_SIZE);
	memset(p, 0, n * PAGE_SIZE);
	return p;
}

void page_free(void *p, size_t n)
{
	uint64_t pa = virt_to_phys(p);
	if (pa % PAGE_SIZE)
		panic("page_free(%p, %zu) from %p: not page aligned", p, n, (void *)RETURN_ADDRESS);
	unsigned long flags = spin_lock_irqsave(&page_lock);
	int err = fmap_free(&fmap, pa / PAGE_SIZE, n);
	spin_unlock_irqrestore(&page_lock, flags);
	if (err)
		panic("page_free(%p, %zu) from %p: double free or not RAM", p, n,
		      (void *)RETURN_ADDRESS);
}

uint64_t page_free_count(void)
{
	return READ_ONCE(fmap.nfree);
}

uint64_t page_usable_count(void)
{
	return usable_pages;
}

uint64_t page_max_pfn(void)
{
	return fmap.nframes;
}
