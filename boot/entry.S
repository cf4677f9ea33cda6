/* boot/entry.S: the 32-bit entry GRUB jumps to, the CPU checks, and the switch to
 * long mode with the kernel in the higher half.
 *
 * Machine state on entry (Multiboot2 spec §3.3, "I386 machine state"): EAX holds the
 * magic 0x36d76289, EBX the physical address of the boot information; protected mode,
 * paging off, A20 on, interrupts off; "ESP: the OS image must create its own stack".
 * Intel SDM Vol. 3A §10.8.5 "Initializing IA-32e Mode" gives the order used here:
 * PAE on, CR3 loaded, IA32_EFER.LME set, then CR0.PG. */

#include <arch/layout.h>

#define PHYS(x)		((x) - KERNEL_VMA)
#define MB2_BOOT_MAGIC	0x36d76289
#define COM1		0x3f8

	.section .boot.text, "ax"
	.code32
	.global _start
_start:
	cli
	cld
	mov	%eax, boot_magic
	mov	%ebx, boot_info
	mov	$boot_stack32_top, %esp

	call	serial32_init

	cmpl	$MB2_BOOT_MAGIC, boot_magic
	mov	$msg_magic, %esi
	jne	fail

	/* CPUID must exist (EFLAGS.ID toggles), then leaf 0x80000001 for LM and NX. */
	pushfl
	pop	%eax
	mov	%eax, %ecx
	xor	$(1 << 21), %eax
	push	%eax
	popfl
	pushfl
	pop	%eax
	cmp	%eax, %ecx
	mov	$msg_cpuid, %esi
	je	fail

	mov	$0x80000000, %eax
	cpuid
	cmp	$0x80000001, %eax
	mov	$msg_lm, %esi
	jb	fail
	mov	$0x80000001, %eax
	cpuid
	bt	$29, %edx		/* Long mode (SDM Vol. 2A, CPUID 80000001H:EDX[29]) */
	mov	$msg_lm, %esi
	jnc	fail
	bt	$20, %edx		/* Execute Disable (CPUID 80000001H:EDX[20]) */
	mov	$msg_nx, %esi
	jnc	fail

	/* Zero .bss: it holds the boot page tables and the boot stack. */
	mov	$PHYS(__bss_start), %edi
	mov	$PHYS(__bss_end), %ecx
	sub	%edi, %ecx
	shr	$2, %ecx
	xor	%eax, %eax
	rep stosl

	call	build_boot_tables

	mov	%cr4, %eax
	or	$(1 << 5), %eax		/* CR4.PAE */
	mov	%eax, %cr4
	mov	$PHYS(boot_pml4), %eax
	mov	%eax, %cr3
	mov	$0xC0000080, %ecx	/* IA32_EFER */
	rdmsr
	or	$((1 << 8) | (1 << 11)), %eax	/* LME | NXE */
	wrmsr
	mov	%cr0, %eax
	or	$((1 << 31) | (1 << 16) | 1), %eax	/* PG | WP | PE */
	mov	%eax, %cr0

	lgdt	boot_gdt_ptr
	ljmp	$0x08, $long_mode

/* Boot page tables, all with 2 MiB pages (SDM Vol. 3A §5.5.4):
 *   PML4[0]   -> identity map of the first 4 GiB (dropped once the kernel has its own tables)
 *   PML4[256] -> the same 4 GiB at DIRECT_MAP_BASE, so early C code reaches boot data
 *   PML4[511] -> PDPT[510] maps the first 1 GiB at KERNEL_VMA, where the kernel is linked. */
build_boot_tables:
	mov	$PHYS(boot_pd), %edi
	xor	%ecx, %ecx
1:	mov	%ecx, %eax
	shl	$21, %eax
	or	$0x83, %eax		/* present | writable | page size */
	mov	%eax, (%edi, %ecx, 8)
	mov	%ecx, %eax
	shr	$11, %eax		/* high dword of (ecx << 21) */
	mov	%eax, 4(%edi, %ecx, 8)
	inc	%ecx
	cmp	$2048, %ecx
	jne	1b

	mov	$PHYS(boot_pdpt_low), %edi
	mov	$PHYS(boot_pd), %eax
	or	$3, %eax
	mov	%eax, 0(%edi)
	add	$4096, %eax
	mov	%eax, 8(%edi)
	add	$4096, %eax
	mov	%eax, 16(%edi)
	add	$4096, %eax
	mov	%eax, 24(%edi)

	mov	$PHYS(boot_pdpt_high), %edi
	mov	$PHYS(boot_pd), %eax
	or	$3, %eax
	mov	%eax, (510 * 8)(%edi)

	mov	$PHYS(boot_pml4), %edi
	mov	$PHYS(boot_pdpt_low), %eax
	or	$3, %eax
	mov	%eax, 0(%edi)
	mov	%eax, (256 * 8)(%edi)
	mov	$PHYS(boot_pdpt_high), %eax
	or	$3, %eax
	mov	%eax, (511 * 8)(%edi)
	ret

/* COM1, 115200 8N1 (16550: divisor latch via LCR.DLAB). */
serial32_init:
	mov	$(COM1 + 1), %dx; xor %al, %al; out %al, %dx	/* IER = 0 */
	mov	$(COM1 + 3), %dx; mov $0x80, %al; out %al, %dx	/* DLAB */
	mov	$(COM1 + 0), %dx; mov $1, %al; out %al, %dx	/* divisor 1 */
	mov	$(COM1 + 1), %dx; xor %al, %al; out %al, %dx
	mov	$(COM1 + 3), %dx; mov $0x03, %al; out %al, %dx	/* 8N1 */
	mov	$(COM1 + 2), %dx; mov $0xc7, %al; out %al, %dx	/* FIFO on */
	mov	$(COM1 + 4), %dx; mov $0x03, %al; out %al, %dx	/* DTR | RTS */
	ret

/* Print the NUL-terminated string at %esi, then halt for good. */
fail:
1:	lodsb
	test	%al, %al
	jz	3f
	mov	%al, %bl
	mov	$(COM1 + 5), %dx
	mov	$100000, %ecx
2:	in	%dx, %al
	test	$0x20, %al
	loopz	2b
	mov	$COM1, %dx
	mov	%bl, %al
	out	%al, %dx
	jmp	1b
3:	cli
	hlt
	jmp	3b

	.code64
long_mode:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	xor	%ax, %ax
	mov	%ax, %fs
	mov	%ax, %gs
	movabs	$boot_stack_top, %rsp
	xor	%ebp, %ebp
	mov	boot_magic, %edi
	mov	boot_info, %esi
	movabs	$kmain, %rax
	call	*%rax
1:	cli
	hlt
	jmp	1b

	.section .boot.rodata, "a"
	.balign 8
boot_gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* 0x08: 64-bit code, DPL 0 */
	.quad	0x00cf92000000ffff	/* 0x10: data */
boot_gdt_ptr:
	.short	boot_gdt_ptr - boot_gdt - 1
	.long	boot_gdt

msg_magic:
	.asciz	"wisp: boot: not started by a multiboot2 boot loader (bad magic in EAX); halting\r\n"
msg_cpuid:
	.asciz	"wisp: boot: this CPU has no CPUID instruction; wisp needs an x86-64 CPU; halting\r\n"
msg_lm:
	.asciz	"wisp: boot: this CPU has no long mode (CPUID 80000001H:EDX[29]); wisp needs x86-64; halting\r\n"
msg_nx:
	.asciz	"wisp: boot: this CPU has no NX (execute-disable, CPUID 80000001H:EDX[20]); wisp needs it; halting\r\n"

	.section .boot.data, "aw"
	.balign 4
boot_magic:	.long 0
boot_info:	.long 0
	.balign 16
	.space	1024
boot_stack32_top:

	.section .bss
	.balign 4096
	.global boot_pml4
boot_pml4:	.space 4096
boot_pdpt_low:	.space 4096
boot_pdpt_high:	.space 4096
boot_pd:	.space 4 * 4096

/* The boot CPU's kernel stack, with an unmapped guard page below it once the kernel
 * page tables are up (paging.c), so an overflow faults instead of corrupting .bss. */
	.balign 4096
	.global boot_stack_guard, boot_stack_top
boot_stack_guard:
	.space	4096
	.space	KSTACK_SIZE
boot_stack_top:
