/* arch/x86_64/uvm.c: user address spaces: one PML4 per task whose upper half is the
 * kernel's (shared PDPTs, so kernel mappings made later appear everywhere) and whose
 * lower half maps the task's pages, user-accessible (U/S set at every level, SDM Vol.
 * 3A §4.6).  The generic side (kernel/vm.c) decides what is mapped; this file only
 * edits page tables.  Also: SMEP/SMAP, and the SYSCALL MSRs. */
#include <arch/arch.h>
#include <arch/traps.h>
#include <arch/x86.h>
#include <kernel/cpu.h>
#include <kernel/page.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <kernel/uapi/errno.h>

#define PTE_P		(1ull << 0)
#define PTE_W		(1ull << 1)
#define PTE_U		(1ull << 2)
#define PTE_PS		(1ull << 7)
#define PTE_NX		(1ull << 63)
#define PTE_ADDR	0x000ffffffffff000ull
#define CR4_SMEP	(1ul << 20)
#define CR4_SMAP	(1ul << 21)
#define MSR_STAR	0xc0000081
#define MSR_LSTAR	0xc0000082
#define MSR_FMASK	0xc0000084
#define EFER_SCE	1

uint64_t arch_kernel_cr3(void);
void syscall_entry(void);
bool smap_enabled;	/* read by arch_copy_user (syscall.S) */

uintptr_t arch_uvm_create(void)
{
	uint64_t *pml4 = page_alloc(1);
	if (!pml4)
		return 0;
	const uint64_t *kernel = phys_to_virt(arch_kernel_cr3());
	for (int i = 256; i < 512; i++)
		pml4[i] = kernel[i];
	return virt_to_phys(pml4);
}

uint64_t *pt_walk(uint64_t *pml4, uintptr_t va, int level, bool create);	/* paging.c */

/* The page-table entry for va under root, tables created on the way if asked. */
static uint64_t *entry(uintptr_t root, uintptr_t va, bool create)
{
	return pt_walk(phys_to_virt(root), va, 1, create);
}

int arch_uvm_map(uintptr_t root, uintptr_t va, uint64_t pa, unsigned flags)
{
	if (va >= USER_TOP || (va | pa) % PAGE_SIZE)
		return -EINVAL;
	uint64_t *e = entry(root, va, true);
	if (!e)
		return -ENOMEM;
	if (*e & PTE_P)
		return -EEXIST;
	*e = pa | PTE_P | PTE_U | (flags & MAP_WRITE ? PTE_W : 0) | (flags & MAP_EXEC ? 0 : PTE_NX);
	return 0;
}

/* Unmap va; *pa gets the page that was there.  The caller flushes TLBs. */
int arch_uvm_unmap(uintptr_t root, uintptr_t va, uint64_t *pa)
{
	uint64_t *e = va < USER_TOP ? entry(root, va, false) : NULL;
	if (!e || !(*e & PTE_P))
		return -ENOENT;
	*pa = *e & PTE_ADDR;
	*e = 0;
	return 0;
}

bool arch_uvm_translate(uintptr_t root, uintptr_t va, uint64_t *pa, unsigned *flags)
{
	uint64_t *e = va < USER_TOP ? entry(root, va, false) : NULL;
	if (!e || !(*e & PTE_P))
		return false;
	if (pa)
		*pa = (*e & PTE_ADDR) | (va & (PAGE_SIZE - 1));
	if (flags)
		*flags = MAP_USER | (*e & PTE_W ? MAP_WRITE : 0) | (*e & PTE_NX ? 0 : MAP_EXEC);
	return true;
}

static void free_level(uint64_t *table, int level, void (*free_page)(uint64_t pa))
{
	for (int i = 0; i < 512; i++) {
		if (!(table[i] & PTE_P))
			continue;
		uint64_t pa = table[i] & PTE_ADDR;
		if (level == 1)
			free_page(pa);
		else
			free_level(phys_to_virt(pa), level - 1, free_page);
	}
	page_free(table, 1);
}

/* Free the user half and the PML4; free_page gets every page still mapped.  The
 * address space must be active on no CPU. */
void arch_uvm_destroy(uintptr_t root, void (*free_page)(uint64_t pa))
{
	uint64_t *pml4 = phys_to_virt(root);

	for (int i = 0; i < 256; i++)
		if (pml4[i] & PTE_P)
			free_level(phys_to_virt(pml4[i] & PTE_ADDR), 3, free_page);
	page_free(pml4, 1);
}

void arch_uvm_activate(uintptr_t root)
{
	uint64_t want = root ? root : arch_kernel_cr3();
	if ((read_cr3() & PTE_ADDR) != want)
		write_cr3(want);
}

static void flush_if_active(void *arg)
{
	if ((read_cr3() & PTE_ADDR) == (uintptr_t)arg)
		write_cr3(read_cr3());	/* drops every non-global TLB entry */
}

/* After unmapping: no CPU may keep a stale translation for root.  Interrupts on. */
void arch_uvm_flush(uintptr_t root)
{
	smp_call(&cpus_online, flush_if_active, (void *)root, true);
}

/* Every CPU: SMEP and SMAP where offered (CPUID.(EAX=7,ECX=0):EBX[7] and [20], SDM
 * Vol. 3A §4.6.1), and the SYSCALL entry (SDM Vol. 2B SYSCALL; STAR[47:32] kernel
 * CS, STAR[63:48] the base SYSRET adds 8 and 16 to). */
void arch_user_init_cpu(bool boot)
{
	uint32_t a, b, c, d, max;

	cpuid(0, 0, &max, &b, &c, &d);
	b = 0;
	if (max >= 7)
		cpuid(7, 0, &a, &b, &c, &d);
	uint64_t cr4 = read_cr4();
	if (b & (1u << 7))
		cr4 |= CR4_SMEP;
	if (b & (1u << 20)) {
		cr4 |= CR4_SMAP;
		smap_enabled = true;
	}
	write_cr4(cr4);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, (uint64_t)GDT_USTAR << 48 | (uint64_t)GDT_KCODE << 32);
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, 0x47700);	/* TF, IF, DF, IOPL, NT, AC cleared on entry */
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	if (boot)
		printk("wisp: user mode: SYSCALL, SMEP %s, SMAP %s\n", cr4 & CR4_SMEP ? "on" : "off",
		       smap_enabled ? "on" : "off");
}

/* The kernel stack the CPU switches to on entry from user mode. */
void arch_set_kernel_stack(uintptr_t top)
{
	struct cpu *c = this_cpu();
	c->kstack_top = top;
	c->arch.tss.rsp[0] = top;
}

void arch_enter_user(struct trap_frame *f);

noreturn void arch_enter_user_thread(uintptr_t entry, uintptr_t arg, uintptr_t stack,
				     uintptr_t kstack_top)
{
	struct trap_frame *f = (struct trap_frame *)(kstack_top - sizeof(*f));

	*f = (struct trap_frame){
		.rip = entry, .cs = GDT_UCODE | 3, .rflags = RFLAGS_IF | 2,
		.rsp = stack, .ss = GDT_UDATA | 3, .rdi = arg, .rsi = stack + 8,
	};
	arch_enter_user(f);
	__builtin_unreachable();
}
