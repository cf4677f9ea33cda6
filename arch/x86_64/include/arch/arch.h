/* arch/arch.h: the contract between the portable kernel and the architecture.
 * kernel/ calls only what is declared here (and <arch/percpu.h>); everything
 * x86-specific stays behind these names. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arch/layout.h>
#include <arch/x86.h>

struct boot_info;

/* Boot, in this order, on the boot CPU (kernel/main.c). */
void arch_early_init(void);		/* per-CPU base, GDT/TSS, IDT, serial console */
void arch_boot_info(uint32_t magic, uint32_t info_phys, struct boot_info *bi);
void arch_paging_init(const struct boot_info *bi);	/* needs the page allocator */
/* Firmware tables, the clock, this CPU's interrupt controller and timer, then every
 * other CPU, each left idle with interrupts on.  Needs the heap.  Fills ncpus. */
void arch_smp_init(const struct boot_info *bi);

/* Console output, polled; safe from any context including panic. */
void arch_console_write(const char *s, size_t n);
/* Send through the console device's loopback so it returns as input (tests only;
 * the caller holds the console lock). */
void arch_console_loopback(const char *s, size_t n);

/* Stop this CPU for good, interrupts off. */
_Noreturn void arch_halt(void);
/* Leave the machine with an exit status: under QEMU with wisp's debug-exit device
 * (tools/run) QEMU exits with it; elsewhere print it and halt. */
_Noreturn void arch_power_off(int status);

/* fw_cfg (QEMU's firmware configuration device): read the named file into buf.
 * Returns its size (which may exceed len: then only len bytes were read), or a
 * negative error: -ENOENT when there is no such file or no fw_cfg device. */
long arch_fw_cfg_read(const char *name, void *buf, size_t len);
/* The number of CPUs QEMU was started with (fw_cfg FW_CFG_NB_CPUS), 0 if unknown. */
unsigned arch_fw_cfg_boot_cpus(void);

/* Wait for the next interrupt with interrupts on (the idle loop). */
static inline void arch_idle(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}

/* Time and the per-CPU timer (arch/x86_64/tsc.c, lapic.c). */
uint64_t arch_time_ns(void);		/* monotonic, from boot */
void arch_timer_program(uint64_t deadline_ns);	/* this CPU; 0 stops it */
void arch_timer_kick(unsigned cpu);	/* make cpu run its timer interrupt now */

/* IPIs to CPUs by id (arch/x86_64/smp.c). */
void arch_send_resched(unsigned cpu);
void arch_send_call(unsigned cpu);
/* Halt every other online CPU through an NMI (panic). */
void arch_stop_others(void);

/* User address spaces and user mode (arch/x86_64/uvm.c, syscall.S). */
uintptr_t arch_uvm_create(void);
void arch_uvm_destroy(uintptr_t root, void (*free_page)(uint64_t pa));
int arch_uvm_map(uintptr_t root, uintptr_t va, uint64_t pa, unsigned flags);
int arch_uvm_unmap(uintptr_t root, uintptr_t va, uint64_t *pa);
bool arch_uvm_translate(uintptr_t root, uintptr_t va, uint64_t *pa, unsigned *flags);
void arch_uvm_flush(uintptr_t root);
void arch_uvm_activate(uintptr_t root);		/* 0: the kernel's own tables */
void arch_set_kernel_stack(uintptr_t top);	/* where entries from user mode land */
/* Leave for user mode at entry with rdi = arg, rsi = stack + 8, rsp = stack, on the
 * kernel stack whose top is kstack_top.  Never returns. */
_Noreturn void arch_enter_user_thread(uintptr_t entry, uintptr_t arg, uintptr_t stack,
				      uintptr_t kstack_top);
void arch_user_init_cpu(bool boot);

/* Interrupt state. */
static inline unsigned long arch_irq_save(void)
{
	unsigned long f = read_rflags();
	cli();
	return f;
}

static inline void arch_irq_restore(unsigned long flags)
{
	if (flags & RFLAGS_IF)
		sti();
}

static inline bool arch_irqs_enabled(void)
{
	return read_rflags() & RFLAGS_IF;
}

static inline void arch_cpu_relax(void)
{
	cpu_pause();
}

/* Physical <-> kernel virtual.  Every byte of RAM is reachable through the direct
 * map; the kernel image is also reachable at its link address. */
static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(pa + DIRECT_MAP_BASE);
}

static inline uint64_t virt_to_phys(const void *va)
{
	uintptr_t a = (uintptr_t)va;
	return a >= KERNEL_VMA ? a - KERNEL_VMA : a - DIRECT_MAP_BASE;
}

/* Kernel mappings (4 KiB pages in the kernel half).  Flags combine: */
enum {
	MAP_WRITE = 1 << 0,
	MAP_EXEC = 1 << 1,
	MAP_USER = 1 << 2,
	MAP_NOCACHE = 1 << 3,
};
/* Map va -> pa.  Returns 0, -EINVAL (unaligned, or va outside the kernel half),
 * -EEXIST (already mapped) or -ENOMEM (no page for a table). */
int arch_kmap(uintptr_t va, uint64_t pa, unsigned flags);
/* Unmap va; returns -ENOENT if it was not mapped. */
int arch_kunmap(uintptr_t va);
/* Translate a kernel virtual address: true and *pa when mapped; *flags gets MAP_*. */
bool arch_kernel_translate(uintptr_t va, uint64_t *pa, unsigned *flags);

/* Calls fn for each return address on the frame-pointer chain starting at fp,
 * stopping at a null, unaligned or unmapped frame, or after max frames. */
void arch_backtrace(uintptr_t fp, int max, void (*fn)(uintptr_t pc, void *arg), void *arg);
static inline uintptr_t arch_frame_pointer(void)
{
	return read_rbp();
}

/* Fault probes, for tests: perform one access and report the exception it raised
 * (the vector), or -1 if none.  They go through the real trap path and recover
 * through the exception table (arch/x86_64/probe.S). */
long arch_probe_read(uintptr_t addr);
long arch_probe_write(uintptr_t addr);
long arch_probe_ud(void);
long arch_probe_div0(void);
/* Core scheduling (arch/x86_64/flush.c): what this CPU enumerates, and the flushes. */
#define ARCH_L1D_FLUSH_MSR	(1u << 0)
#define ARCH_MD_CLEAR		(1u << 1)
unsigned arch_core_flush_features(void);
void arch_flush_l1d_msr(void);		/* only where ARCH_L1D_FLUSH_MSR */
void arch_flush_l1d_soft(void);
void arch_clear_cpu_buffers(void);	/* VERW; clears buffers where ARCH_MD_CLEAR */

/* The faulting address (CR2) of the last page fault recovered on this CPU. */
uintptr_t arch_last_fault_addr(void);
/* Error code of the last fault recovered on this CPU. */
uint64_t arch_last_fault_error(void);
