/* kernel/page.h: the physical page allocator (kernel/page.c), built from the boot
 * memory map.  Pages are 4 KiB and returned as direct-map addresses. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct boot_info;

void page_init(const struct boot_info *bi);

/* n physically contiguous pages, zeroed; NULL when none are free.  May be called
 * with interrupts off; never blocks. */
void *page_alloc(size_t n);
/* Give back n pages from page_alloc.  Freeing a page that is already free, or one
 * outside RAM, panics with the caller. */
void page_free(void *p, size_t n);

uint64_t page_free_count(void);
uint64_t page_usable_count(void);	/* usable RAM in pages, as the firmware reported */
uint64_t page_max_pfn(void);		/* one past the highest usable frame */
