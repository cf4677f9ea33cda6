/* libc/heap.c: sbrk, the only memory newlib's malloc asks for. sbrk must hand out
 * one contiguous range, and SYS_mmap promises no placement, so the whole heap is
 * one SYS_mmap of wisp_heap_size bytes (libc/wisp.h) reserved on first use. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "syscall.h"
#include "wisp.h"

#define PAGE_SIZE	4096UL

/* Weak, so that a program's own definition replaces it. gcc folds a weak const's
 * initializer into its readers all the same, so it is read through a volatile. */
__attribute__((weak)) const size_t wisp_heap_size = 64UL << 20;

/* Guarded by heap_lock. newlib calls sbrk with its malloc lock held, but nothing
 * stops a program from calling sbrk itself. */
static wisp_mutex_t heap_lock = WISP_MUTEX_INIT;
static char *heap_base, *heap_brk, *heap_end;

static int heap_reserve(void)
{
	size_t want = *(const volatile size_t *)&wisp_heap_size;
	size_t size = (want + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	long base = wisp_syscall2(SYS_mmap, (long)size, PROT_READ | PROT_WRITE);

	if (base < 0)
		return -1;
	heap_base = heap_brk = (char *)base;
	heap_end = heap_base + size;
	return 0;
}

/* Moves the break by incr bytes (negative gives memory back to the heap, not to the
 * kernel) and returns the old break, or (void *)-1 with errno ENOMEM when the
 * reservation cannot be made or the break would leave it. */
void *sbrk(ptrdiff_t incr)
{
	void *old = (void *)-1;

	wisp_mutex_lock(&heap_lock);
	if (heap_base == NULL && heap_reserve() != 0)
		goto out;
	if (incr > heap_end - heap_brk || incr < heap_base - heap_brk)
		goto out;
	old = heap_brk;
	heap_brk += incr;
out:
	wisp_mutex_unlock(&heap_lock);
	if (old == (void *)-1)
		errno = ENOMEM;
	return old;
}

/* newlib declares posix_memalign but does not define it. */
int posix_memalign(void **ptr, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	p = memalign(align, size);
	if (p == NULL)
		return ENOMEM;
	*ptr = p;
	return 0;
}
