/* kernel/kmalloc.c: the kernel heap: heap.c with a lock and the page allocator. */
#include <kernel/kmalloc.h>
#include <kernel/compiler.h>
#include <kernel/heap.h>
#include <kernel/page.h>
#include <kernel/panic.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>
#include <kernel/symbols.h>

/* WISP_DEBUG comes from the Makefile: 1 by default, 0 with `make RELEASE=1`. */
/* Lock order: heap_lock, then page_lock. */
static struct spinlock heap_lock = SPINLOCK_INIT("heap");
static struct heap heap;

static void heap_fault(const char *what, const void *ptr, uintptr_t caller)
{
	char sym[96];

	symbol_format_return(caller, sym, sizeof(sym));
	panic("kmalloc: %s at %p, found by the call from %p %s", what, ptr, (void *)caller, sym);
}

static const struct heap_ops kernel_heap_ops = {
	.pages_alloc = page_alloc,
	.pages_free = page_free,
	.fault = heap_fault,
};

void kmalloc_init(void)
{
	heap_init(&heap, &kernel_heap_ops, WISP_DEBUG);
}

static void *alloc_at(size_t size, uintptr_t caller)
{
	unsigned long flags = spin_lock_irqsave(&heap_lock);
	void *p = heap_alloc(&heap, size, caller);
	spin_unlock_irqrestore(&heap_lock, flags);
	return p;
}

void *kmalloc(size_t size)
{
	return alloc_at(size, RETURN_ADDRESS);
}

void *kzalloc(size_t size)
{
	void *p = alloc_at(size, RETURN_ADDRESS);
	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *p)
{
	unsigned long flags = spin_lock_irqsave(&heap_lock);
	heap_free(&heap, p, RETURN_ADDRESS);
	spin_unlock_irqrestore(&heap_lock, flags);
}

void kmalloc_stats(struct kmalloc_stats *s)
{
	unsigned long flags = spin_lock_irqsave(&heap_lock);
	*s = (struct kmalloc_stats){ heap.live_objects, heap.live_bytes, heap.pages };
	spin_unlock_irqrestore(&heap_lock, flags);
}
