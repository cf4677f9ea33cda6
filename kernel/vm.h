/* kernel/vm.h: a task's user address space (kernel/vm.c): regions of demand-zero
 * memory over the architecture's page tables.  A page is given memory the first time
 * it is touched (or written by the loader), so reserving large ranges costs nothing.
 *
 * User layout:
 *   VM_USER_BASE ..            program segments (the ELF's own addresses)
 *   VM_MMAP_BASE ..            SYS_mmap regions, first fit
 *   .. VM_STACK_TOP            the main thread's stack, VM_STACK_SIZE */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <kernel/list.h>
#include <kernel/spinlock.h>

#define VM_USER_BASE	0x0000000000010000ul
#define VM_MMAP_BASE	0x0000100000000000ul
#define VM_STACK_TOP	0x00007ffffff00000ul
#define VM_STACK_SIZE	(8ul << 20)

struct shm;

struct vm_region {
	struct list link;	/* [vm lock] by address */
	uintptr_t start, end;	/* page aligned, [start, end) */
	unsigned prot;		/* MAP_WRITE | MAP_EXEC (always readable) */
	struct shm *shm;	/* shared kernel memory mapped whole, or NULL */
};

/* Shared memory: physically contiguous zeroed pages the kernel owns and maps into
 * address spaces (the ghost ABI's queues and status words).  Each mapping holds a
 * reference, and so does the kernel object that made it; the pages are freed with
 * the last reference, so a task never sees memory that was given to someone else. */
struct shm {
	int refs;		/* [a] */
	size_t npages;
	void *va;		/* direct-map address */
};

struct shm *shm_create(size_t bytes);	/* refs = 1; NULL when out of memory */
void shm_put(struct shm *s);

struct vm {
	uintptr_t root;		/* the architecture's page table root */
	struct spinlock lock;	/* a leaf: taken in page faults with interrupts off */
	struct list regions;	/* [lock] */
	uint64_t pages;		/* [lock] pages mapped */
};

struct vm *vm_create(void);
/* Free every page and table.  The address space must be active on no CPU. */
void vm_destroy(struct vm *vm);
/* Reserve [start, start+len) with prot.  -EINVAL for a range outside user space or
 * overlapping a region, -ENOMEM. */
int vm_reserve(struct vm *vm, uintptr_t start, size_t len, unsigned prot);
/* Find room for len bytes in the mmap area and reserve it; the address, or 0. */
uintptr_t vm_mmap(struct vm *vm, size_t len, unsigned prot);
/* Unmap [addr, addr+len), which must lie inside one region; the region shrinks or
 * splits.  -EINVAL otherwise.  Interrupts on (TLBs are flushed on every CPU). */
int vm_munmap(struct vm *vm, uintptr_t addr, size_t len);
/* Map all of s into the mmap area with prot (a new reference); the address, or 0.
 * The region can only be unmapped whole (vm_munmap or vm_unmap_shm). */
uintptr_t vm_map_shm(struct vm *vm, struct shm *s, unsigned prot);
/* Unmap the shm region starting at addr: 0, or -EINVAL. */
int vm_unmap_shm(struct vm *vm, uintptr_t addr);
/* Does every byte of [addr, addr+len) lie in a region allowing the access? */
bool vm_range_ok(struct vm *vm, uintptr_t addr, size_t len, bool write);
/* A fault at addr: map a zeroed page if a region allows the access.  0, or -EFAULT. */
int vm_fault(struct vm *vm, uintptr_t addr, bool write, bool exec);
/* Copy into the address space through the direct map (the loader), mapping pages on
 * the way; the range must be reserved.  0 or -EFAULT/-ENOMEM. */
int vm_write(struct vm *vm, uintptr_t dst, const void *src, size_t n);
