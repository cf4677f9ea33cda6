/* kernel/kmalloc.h: kernel heap (kernel/kmalloc.c over kernel/heap.c).
 * Any size; 16-byte aligned; never blocks; NULL when memory is exhausted.
 * In debug builds (the default) overflows past an object, writes after free,
 * double frees and foreign pointers are caught at kfree and panic with the caller. */
#pragma once

#include <stddef.h>

void kmalloc_init(void);
void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

/* Live objects, requested bytes and pages held by the heap (for leak checks). */
struct kmalloc_stats {
	size_t objects;
	size_t bytes;
	size_t pages;
};
void kmalloc_stats(struct kmalloc_stats *s);
