/* kernel/vm.c: user address spaces.  See vm.h. */
#include <kernel/vm.h>
#include <kernel/compiler.h>
#include <kernel/kmalloc.h>
#include <kernel/page.h>
#include <kernel/panic.h>
#include <kernel/string.h>
#include <kernel/uapi/errno.h>
#include <arch/arch.h>

struct vm *vm_create(void)
{
	struct vm *vm = kzalloc(sizeof(*vm));
	if (!vm)
		return NULL;
	vm->root = arch_uvm_create();
	if (!vm->root) {
		kfree(vm);
		return NULL;
	}
	vm->lock = (struct spinlock)SPINLOCK_INIT("vm");
	list_init(&vm->regions);
	return vm;
}

static void free_user_page(uint64_t pa)
{
	page_free(phys_to_virt(pa), 1);
}

struct shm *shm_create(size_t bytes)
{
	struct shm *s = kzalloc(sizeof(*s));
	if (!s)
		return NULL;
	s->npages = ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;
	s->va = page_alloc(s->npages);
	if (!s->va) {
		kfree(s);
		return NULL;
	}
	s->refs = 1;
	return s;
}

void shm_put(struct shm *s)
{
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL))
		return;
	page_free(s->va, s->npages);
	kfree(s);
}

/* Take the shared pages of r out of the page tables without freeing them.  Lock
 * held or the address space dead. */
static void unmap_shm_pages(struct vm *vm, struct vm_region *r)
{
	for (uintptr_t va = r->start; va < r->end; va += PAGE_SIZE) {
		uint64_t pa;
		arch_uvm_unmap(vm->root, va, &pa);
	}
}

void vm_destroy(struct vm *vm)
{
	while (!list_empty(&vm->regions)) {
		struct vm_region *r = list_entry(vm->regions.next, struct vm_region, link);
		list_remove(&r->link);
		if (r->shm) {
			unmap_shm_pages(vm, r);
			shm_put(r->shm);
		}
		kfree(r);
	}
	arch_uvm_destroy(vm->root, free_user_page);
	kfree(vm);
}

static struct vm_region *find(struct vm *vm, uintptr_t addr)
{
	list_for_each(p, &vm->regions) {
		struct vm_region *r = list_entry(p, struct vm_region, link);
		if (addr >= r->start && addr < r->end)
			return r;
	}
	return NULL;
}

/* Insert [start, end) in address order, refusing overlaps.  Lock held. */
static int insert(struct vm *vm, uintptr_t start, uintptr_t end, unsigned prot)
{
	struct list *pos = &vm->regions;

	list_for_each(p, &vm->regions) {
		struct vm_region *r = list_entry(p, struct vm_region, link);
		if (start < r->end && r->start < end)
			return -EINVAL;
		if (r->start >= end) {
			pos = p;
			break;
		}
	}
	struct vm_region *n = kmalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = (struct vm_region){ .start = start, .end = end, .prot = prot };
	list_insert_before(pos, &n->link);
	return 0;
}

int vm_reserve(struct vm *vm, uintptr_t start, size_t len, unsigned prot)
{
	uintptr_t end = ALIGN_UP(start + len, PAGE_SIZE);
	start = ALIGN_DOWN(start, PAGE_SIZE);
	if (len == 0 || start < VM_USER_BASE || end > USER_TOP || end < start)
		return -EINVAL;
	unsigned long flags = spin_lock_irqsave(&vm->lock);
	int err = insert(vm, start, end, prot);
	spin_unlock_irqrestore(&vm->lock, flags);
	return err;
}

uintptr_t vm_mmap(struct vm *vm, size_t len, unsigned prot)
{
	if (len == 0 || len > VM_STACK_TOP - VM_STACK_SIZE - VM_MMAP_BASE)
		return 0;
	len = ALIGN_UP(len, PAGE_SIZE);
	uintptr_t at = VM_MMAP_BASE, limit = VM_STACK_TOP - VM_STACK_SIZE;
	unsigned long flags = spin_lock_irqsave(&vm->lock);
	list_for_each(p, &vm->regions) {
		struct vm_region *r = list_entry(p, struct vm_region, link);
		if (r->end <= at)
			continue;
		if (r->start >= at + len)
			break;
		at = r->end;
	}
	uintptr_t got = at + len <= limit && !insert(vm, at, at + len, prot) ? at : 0;
	spin_unlock_irqrestore(&vm->lock, flags);
	return got;
}

/* The part of r above end becomes a region of its own.  Lock held. */
static int insert_after_split(struct vm *vm, struct vm_region *r, uintptr_t end)
{
	struct vm_region *n = kmalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = (struct vm_region){ .start = end, .end = r->end, .prot = r->prot };
	r->end = end;
	list_insert_before(r->link.next, &n->link);
	return 0;
}

int vm_munmap(struct vm *vm, uintptr_t addr, size_t len)
{
	uintptr_t end = ALIGN_UP(addr + len, PAGE_SIZE);
	if (addr % PAGE_SIZE || len == 0 || end <= addr || end > USER_TOP)
		return -EINVAL;
	unsigned long flags = spin_lock_irqsave(&vm->lock);
	struct vm_region *r = find(vm, addr);
	if (!r || end > r->end || (r->shm && (r->start != addr || r->end != end))) {
		spin_unlock_irqrestore(&vm->lock, flags);
		return -EINVAL;
	}
	if (r->shm) {
		struct shm *sh = r->shm;
		unmap_shm_pages(vm, r);
		list_remove(&r->link);
		kfree(r);
		spin_unlock_irqrestore(&vm->lock, flags);
		arch_uvm_flush(vm->root);
		shm_put(sh);
		return 0;
	}
	if (r->start < addr && end < r->end) {		/* a hole in the middle: split */
		if (insert_after_split(vm, r, end)) {
			spin_unlock_irqrestore(&vm->lock, flags);
			return -ENOMEM;
		}
	}
	if (r->start == addr && r->end == end) {
		list_remove(&r->link);
		kfree(r);
	} else if (r->start == addr) {
		r->start = end;
	} else {
		r->end = addr;
	}
	for (uintptr_t va = addr; va < end; va += PAGE_SIZE) {
		uint64_t pa;
		if (!arch_uvm_unmap(vm->root, va, &pa)) {
			page_free(phys_to_virt(pa), 1);
			vm->pages--;
		}
	}
	spin_unlock_irqrestore(&vm->lock, flags);
	arch_uvm_flush(vm->root);
	return 0;
}

/* Lock held; a zeroed page at va (page aligned) unless one is there. */
static int populate(struct vm *vm, uintptr_t va, unsigned prot)
{
	if (arch_uvm_translate(vm->root, va, NULL, NULL))
		return 0;
	void *page = page_alloc(1);
	if (!page)
		return -ENOMEM;
	int err = arch_uvm_map(vm->root, va, virt_to_phys(page), prot | MAP_USER);
	if (err) {
		page_free(page, 1);
		return err;
	}
	vm->pages++;
	return 0;
}

int vm_fault(struct vm *vm, uintptr_t addr, bool write, bool exec)
{
	int err = -EFAULT;
	unsigned long flags = spin_lock_irqsave(&vm->lock);
	struct vm_region *r = find(vm, addr);

	unsigned have;
	bool allowed = r && (!write || (r->prot & MAP_WRITE)) && (!exec || (r->prot & MAP_EXEC));
	if (allowed && arch_uvm_translate(vm->root, addr, NULL, &have))
		/* Another thread of the task faulted on the same page first and mapped
		 * it: the access can simply be retried. */
		err = (!write || (have & MAP_WRITE)) && (!exec || (have & MAP_EXEC)) ? 0 : -EFAULT;
	else if (allowed && !r->shm)
		err = populate(vm, ALIGN_DOWN(addr, PAGE_SIZE), r->prot) ? -EFAULT : 0;
	spin_unlock_irqrestore(&vm->lock, flags);
	return err;
}

int vm_write(struct vm *vm, uintptr_t dst, const void *src, size_t n)
{
	const uint8_t *s = src;
	unsigned long flags = spin_lock_irqsave(&vm->lock);
	int err = 0;

	while (n && !err) {
		struct vm_region *r = find(vm, dst);
		uintptr_t page = ALIGN_DOWN(dst, PAGE_SIZE);
		uint64_t pa;
		if (!r || r->shm) {
			err = -EFAULT;
			break;
		}
		if ((err = populate(vm, page, r->prot)))
			break;
		arch_uvm_translate(vm->root, dst, &pa, NULL);
		size_t k = MIN(n, page + PAGE_SIZE - dst);
		memcpy(phys_to_virt(pa), s, k);
		dst += k, s += k, n -= k;
	}
	spin_unlock_irqrestore(&vm->lock, flags);
	return err;
}

uintptr_t vm_map_shm(struct vm *vm, struct shm *s, unsigned prot)
{
	size_t len = s->npages * PAGE_SIZE;
	uintptr_t at = vm_mmap(vm, len, prot);
	if (!at)
		return 0;
	unsigned long flags = spin_lock_irqsave(&vm->lock);
	struct vm_region *r = find(vm, at);
	int err = 0;
	for (size_t i = 0; i < s->npages && !err; i++)
		err = arch_uvm_map(vm->root, at + i * PAGE_SIZE,
				   virt_to_phys((char *)s->va + i * PAGE_SIZE), prot | MAP_USER);
	if (err) {
		unmap_shm_pages(vm, r);
		list_remove(&r->link);
		kfree(r);
		at = 0;
	} else {
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
		r->shm = s;
	}
	spin_unlock_irqrestore(&vm->lock, flags);
	return at;
}

int vm_unmap_shm(struct vm *vm, uintptr_t addr)
{
	unsigned long flags = spin_lock_irqsave(&vm->lock);
	struct vm_region *r = find(vm, addr);
	size_t len = r && r->shm && r->start == addr ? r->end - r->start : 0;
	spin_unlock_irqrestore(&vm->lock, flags);
	return len ? vm_munmap(vm, addr, len) : -EINVAL;
}

bool vm_range_ok(struct vm *vm, uintptr_t addr, size_t len, bool write)
{
	uintptr_t end = addr + len;
	bool ok = end >= addr && end <= USER_TOP;
	unsigned long flags = spin_lock_irqsave(&vm->lock);

	for (uintptr_t a = addr; ok && a < end;) {
		struct vm_region *r = find(vm, a);
		ok = r && (!write || (r->prot & MAP_WRITE));
		if (ok)
			a = r->end;
	}
	spin_unlock_irqrestore(&vm->lock, flags);
	return ok;
}
