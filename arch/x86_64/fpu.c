/* arch/x86_64/fpu.c: the x87/SSE/AVX state of threads.
 * The kernel itself never touches these registers (-mgeneral-regs-only), so the
 * state is switched eagerly at every context switch and nowhere else.  XSAVE is used
 * when CPUID.01H:ECX[26] offers it, with every component the CPU and XCR0 allow among
 * x87, SSE and AVX (SDM Vol. 1 §13.3); the area size is CPUID.(EAX=0DH,ECX=0):EBX.
 * Otherwise FXSAVE, 512 bytes (SDM Vol. 1 §10.5).  CR4.OSFXSR and OSXMMEXCPT must be
 * set for SSE instructions to work at all (SDM Vol. 3A §13.1.3). */
#include <arch/arch.h>
#include <arch/x86.h>
#include <kernel/compiler.h>
#include <kernel/printk.h>
#include <kernel/string.h>

#define CR4_OSFXSR	(1ul << 9)
#define CR4_OSXMMEXCPT	(1ul << 10)
#define CR4_OSXSAVE	(1ul << 18)
#define XCR0_X87	1
#define XCR0_SSE	2
#define XCR0_AVX	4

static bool use_xsave;
static uint64_t xcr0;
static size_t area_size = 512;

static void xsetbv(uint32_t reg, uint64_t v)
{
	__asm__ volatile("xsetbv" :: "c"(reg), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* Every CPU, at start-up; the boot CPU decides for all. */
void fpu_init_cpu(bool boot)
{
	uint32_t a, b, c, d;

	if (boot) {
		cpuid(1, 0, &a, &b, &c, &d);
		use_xsave = c & (1u << 26);
		if (use_xsave) {
			cpuid(0xd, 0, &a, &b, &c, &d);
			xcr0 = XCR0_X87 | XCR0_SSE | (a & XCR0_AVX);
		}
	}
	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	write_cr0(read_cr0() & ~(1ul << 2) & ~(1ul << 3));	/* EM off, TS off */
	if (use_xsave) {
		write_cr4(cr4 | CR4_OSXSAVE);
		xsetbv(0, xcr0);
		if (boot) {
			cpuid(0xd, 0, &a, &b, &c, &d);
			area_size = b;	/* for the components enabled in XCR0 now */
		}
	} else {
		write_cr4(cr4);
	}
	__asm__ volatile("fninit");
	if (boot)
		printk("wisp: fpu: %s, %zu-byte save area\n",
		       use_xsave ? (xcr0 & XCR0_AVX ? "XSAVE x87+SSE+AVX" : "XSAVE x87+SSE")
				 : "FXSAVE", area_size);
}

size_t arch_fpu_area_size(void)
{
	return area_size;
}

/* A clean state for a new thread: FCW 037FH and MXCSR 1F80H, as after FNINIT and reset
 * (SDM Vol. 1 §8.1.5, §10.2.3); with XSAVE, XSTATE_BV = 0 means "initial" for every
 * component (SDM Vol. 1 §13.8.1). */
void arch_fpu_init_area(void *area)
{
	uint8_t *p = area;

	memset(p, 0, area_size);
	*(uint16_t *)(p + 0) = 0x037f;		/* FCW */
	*(uint32_t *)(p + 24) = 0x1f80;		/* MXCSR */
	if (use_xsave)
		*(uint64_t *)(p + 512) = XCR0_X87 | XCR0_SSE;	/* XSTATE_BV: load these */
}

void arch_fpu_save(void *area)
{
	if (use_xsave)
		__asm__ volatile("xsave64 (%0)" :: "r"(area), "a"((uint32_t)xcr0),
				 "d"((uint32_t)(xcr0 >> 32)) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" :: "r"(area) : "memory");
}

void arch_fpu_restore(const void *area)
{
	if (use_xsave)
		__asm__ volatile("xrstor64 (%0)" :: "r"(area), "a"((uint32_t)xcr0),
				 "d"((uint32_t)(xcr0 >> 32)) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" :: "r"(area) : "memory");
}

/* A new thread's kernel stack, as arch_switch (switch.S) will pop it: r15, r14, r13,
 * r12, rbx, rbp, then the return into arch_thread_start, which calls
 * entry(t, fn, arg).  The return address sits 8 below the 16-byte aligned top, so
 * entry starts with the stack the ABI promises (rsp + 8 aligned, §3.2.2). */
struct thread;
void arch_thread_start(void);

uintptr_t arch_thread_stack_init(void *stack_top,
				 void (*entry)(struct thread *, void (*)(void *), void *),
				 struct thread *t, void (*fn)(void *), void *arg)
{
	uint64_t *sp = (uint64_t *)ALIGN_DOWN((uintptr_t)stack_top, 16);

	*--sp = (uint64_t)arch_thread_start;
	*--sp = 0;			/* rbp */
	*--sp = 0;			/* rbx */
	*--sp = (uint64_t)entry;	/* r12 */
	*--sp = (uint64_t)t;		/* r13 */
	*--sp = (uint64_t)fn;		/* r14 */
	*--sp = (uint64_t)arg;		/* r15 */
	return (uintptr_t)sp;
}
