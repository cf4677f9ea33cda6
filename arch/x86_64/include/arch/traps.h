/* arch/traps.h: the trap frame and the IDT (arch/x86_64/idt.c, trap.c, trapentry.S). */
#pragma once

#ifndef __ASSEMBLY__
#include <stdint.h>
#endif

#define GDT_KCODE	0x08
#define GDT_KDATA	0x10
#define GDT_USTAR	0x18
#define GDT_UDATA	0x20
#define GDT_UCODE	0x28
#define GDT_TSS		0x30

#define SYSCALL_VECTOR	256	/* trap_frame.vector of a system call */

#define IST_COUNT	3	/* IST1 #DF, IST2 NMI, IST3 #MC */
#define IST_STACK_SIZE	8192

#ifndef __ASSEMBLY__
/* What trapentry.S pushes, lowest address first.  trapentry.S depends on it. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

_Static_assert(__builtin_offsetof(struct trap_frame, vector) == 15 * 8, "trapentry.S");
_Static_assert(__builtin_offsetof(struct trap_frame, rip) == 17 * 8, "trapentry.S");
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trapentry.S");

void idt_init(void);
void idt_load(void);
void trap_dispatch(struct trap_frame *f);
_Bool stop_requested(void);	/* panic is stopping every CPU (smp.c) */

struct cpu;
void cpu_load_tables(struct cpu *c, uintptr_t ist_tops[IST_COUNT]);
#endif
