/* arch/x86_64/trap.c: what happens on an exception.
 *
 * A fault at an instruction listed in the exception table (.extable: pairs of
 * faulting instruction and fixup) resumes at the fixup with the vector in RAX; this
 * is how the probes recover, and how copies from user memory will.  Any other
 * exception in the kernel is a bug: the CPU state is printed in full, with the
 * faulting instruction and a backtrace symbolized, and the machine stops.
 * Vector names and error codes: SDM Vol. 3A Table 6-1 and §6.15. */
#include <arch/apic.h>
#include <arch/arch.h>
#include <arch/traps.h>
#include <kernel/cpu.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/symbols.h>
#include <kernel/thread.h>
#include <kernel/syscall.h>
#include <kernel/task.h>

struct extable_entry {
	uintptr_t insn;
	uintptr_t fixup;
};

extern const struct extable_entry __extable_start[], __extable_end[];

static const char *const names[32] = {
	[0] = "divide error (#DE)",		[1] = "debug (#DB)",
	[2] = "non-maskable interrupt (NMI)",	[3] = "breakpoint (#BP)",
	[4] = "overflow (#OF)",			[5] = "BOUND range exceeded (#BR)",
	[6] = "invalid opcode (#UD)",		[7] = "device not available (#NM)",
	[8] = "double fault (#DF)",		[9] = "coprocessor segment overrun",
	[10] = "invalid TSS (#TS)",		[11] = "segment not present (#NP)",
	[12] = "stack-segment fault (#SS)",	[13] = "general protection (#GP)",
	[14] = "page fault (#PF)",		[15] = "reserved vector 15",
	[16] = "x87 floating-point error (#MF)", [17] = "alignment check (#AC)",
	[18] = "machine check (#MC)",		[19] = "SIMD floating-point (#XM)",
	[20] = "virtualization exception (#VE)", [21] = "control protection (#CP)",
	[22] = "reserved vector 22",		[23] = "reserved vector 23",
	[24] = "reserved vector 24",		[25] = "reserved vector 25",
	[26] = "reserved vector 26",		[27] = "reserved vector 27",
	[28] = "hypervisor injection (#HV)",	[29] = "VMM communication (#VC)",
	[30] = "security exception (#SX)",	[31] = "reserved vector 31",
};

static bool fixup(struct trap_frame *f)
{
	for (const struct extable_entry *e = __extable_start; e < __extable_end; e++) {
		if (e->insn == f->rip) {
			struct cpu *c = this_cpu();
			c->arch.last_fault_addr = f->vector == 14 ? read_cr2() : 0;
			c->arch.last_fault_error = f->error;
			f->rax = f->vector;
			f->rip = e->fixup;
			return true;
		}
	}
	return false;
}

uintptr_t arch_last_fault_addr(void)
{
	return this_cpu()->arch.last_fault_addr;
}

uint64_t arch_last_fault_error(void)
{
	return this_cpu()->arch.last_fault_error;
}

/* SDM Vol. 3A §4.7, "Page-Fault Exceptions": the error code bits. */
static void describe_pf(uint64_t e, char *buf, size_t len)
{
	snprintf(buf, len, " [%s %s %s%s%s]", e & 1 ? "protection" : "not-present",
		 e & 2 ? "write" : (e & 16 ? "fetch" : "read"), e & 4 ? "user" : "kernel",
		 e & 8 ? " reserved-bit" : "", e & 32 ? " protection-key" : "");
}

static void say(const char *fmt, ...) __printf(1, 2);
static void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	console_write_unlocked(line, (size_t)MIN(n, (int)sizeof(line) - 1));
}

static noreturn void trap_panic(struct trap_frame *f)
{
	char extra[64] = "";
	char sym[96];

	if (!panic_begin())
		arch_halt();
	if (f->vector == 14)
		describe_pf(f->error, extra, sizeof(extra));
	symbol_format(f->rip, sym, sizeof(sym));
	say("\nwisp: panic on cpu %u: %s in kernel mode, vector %lu, error code %#lx%s\n",
	    this_cpu()->id, names[f->vector & 31], f->vector, f->error, extra);
	say("  rip %016lx %s\n", f->rip, sym);
	say("  cs  %04lx  ss %04lx  rflags %08lx  cr2 %016lx  cr3 %016lx\n",
	    f->cs, f->ss, f->rflags, read_cr2(), read_cr3());
	say("  rax %016lx  rbx %016lx  rcx %016lx\n", f->rax, f->rbx, f->rcx);
	say("  rdx %016lx  rsi %016lx  rdi %016lx\n", f->rdx, f->rsi, f->rdi);
	say("  rbp %016lx  rsp %016lx  r8  %016lx\n", f->rbp, f->rsp, f->r8);
	say("  r9  %016lx  r10 %016lx  r11 %016lx\n", f->r9, f->r10, f->r11);
	say("  r12 %016lx  r13 %016lx  r14 %016lx\n", f->r12, f->r13, f->r14);
	say("  r15 %016lx  cr0 %016lx  cr4 %016lx\n", f->r15, read_cr0(), read_cr4());
	say("  backtrace:\n");
	say("    %016lx %s\n", f->rip, sym);
	print_backtrace(f->rbp, 32);
	panic_stop();
}

static void (*irq_handlers[256])(struct trap_frame *f);
static uint64_t unexpected_irqs;

void irq_register(int vector, void (*fn)(struct trap_frame *f))
{
	assert(vector >= 32 && vector < 256);
	irq_handlers[vector] = fn;
}

/* Interrupts and IPIs (vectors 32-255) run with interrupts off, on the interrupted
 * stack.  The spurious vector needs no EOI (SDM Vol. 3A §11.9); every other does. */
static void irq(struct trap_frame *f)
{
	if (f->vector == VEC_SPURIOUS)
		return;
	void (*fn)(struct trap_frame *) = irq_handlers[f->vector];
	if (fn) {
		fn(f);
	} else if (__atomic_add_fetch(&unexpected_irqs, 1, __ATOMIC_RELAXED) <= 8) {
		printk("wisp: unexpected interrupt vector %lu on cpu %u\n", f->vector, this_cpu()->id);
	}
	lapic_eoi();
}

static struct task *current_task(void)
{
	struct thread *t = this_cpu()->curr;
	return t ? t->task : NULL;
}

/* The system call entry (syscall.S), interrupts on. */
void syscall_dispatch(struct trap_frame *f)
{
	long a[6] = { (long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10, (long)f->r8,
		      (long)f->r9 };

	f->rax = (uint64_t)syscall_invoke(f->rax, a);
	sched_preempt_point(true);
}

void trap_dispatch(struct trap_frame *f)
{
	bool user = f->cs & 3;
	struct task *task = current_task();

	if (f->vector >= 32) {
		irq(f);
		sched_preempt_point(f->rflags & RFLAGS_IF);
		if (user)
			task_check_exit();
		return;
	}
	/* Demand paging: the first touch of a page in one of the task's regions, from
	 * user mode or from a kernel copy to or from user memory. */
	if (f->vector == 14 && task && task->vm && read_cr2() < USER_TOP &&
	    !vm_fault(task->vm, read_cr2(), f->error & 2, f->error & 16))
		return;
	if (user && task) {
		uintptr_t addr = f->vector == 14 ? read_cr2() : 0;
		sti();
		task_fault((unsigned)f->vector, f->rip, addr);
	}
	if (f->vector == 2 && stop_requested()) {
		/* The NMI that panic() sends to stop the other CPUs. */
		arch_halt();
	}
	if (fixup(f))
		return;
	trap_panic(f);
}
