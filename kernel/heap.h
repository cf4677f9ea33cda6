/* kernel/heap.h: the allocator behind kmalloc (kernel/heap.c).  Pure code: it gets
 * pages and reports corruption through heap_ops, and takes no lock, so the host unit
 * tests drive it directly; kernel/kmalloc.c wraps it with a lock and the page
 * allocator.
 *
 * Small requests (up to HEAP_SMALL_MAX bytes) come from slab pages of fixed-size
 * slots, 32 to 2048 bytes; a slab page goes back to the page source as soon as its
 * last object is freed, so free page counts return to where they were.  Larger
 * requests get whole pages.  Every object has a 16-byte header (magic and size);
 * with debug on, the rest of its slot is a red zone checked on free (overflow) and
 * a freed object is poisoned and checked again on reuse (write after free).  A
 * double free or a pointer the heap never returned is always caught. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_PAGE	4096
#define HEAP_CLASSES	7		/* slots of 32 .. 2048 bytes */
#define HEAP_SMALL_MAX	(2048 - 16 - 8)

struct heap_ops {
	void *(*pages_alloc)(size_t npages);	/* page aligned, or NULL */
	void (*pages_free)(void *p, size_t npages);
	/* Corruption found: what, at ptr, from the call at caller.  The kernel panics;
	 * if it returns, the heap refuses the operation and carries on. */
	void (*fault)(const char *what, const void *ptr, uintptr_t caller);
};

struct slab;

struct heap {
	const struct heap_ops *ops;
	bool debug;
	struct slab *partial[HEAP_CLASSES];	/* slabs with a free slot */
	size_t live_objects;
	size_t live_bytes;			/* requested bytes */
	size_t pages;				/* pages held */
};

void heap_init(struct heap *h, const struct heap_ops *ops, bool debug);
void *heap_alloc(struct heap *h, size_t size, uintptr_t caller);
void heap_free(struct heap *h, void *p, uintptr_t caller);
/* The size that was asked for when p was allocated, or 0 if p is not a live object. */
size_t heap_size(struct heap *h, const void *p);
