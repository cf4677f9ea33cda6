/* arch/layout.h: the kernel's virtual memory layout (x86-64, 4-level paging).
 * Included by assembly and C alike, so only plain #defines live here.
 *
 *   0x0000000000000000 .. 0x00007fffffffffff  user space (later issues)
 *   0xffff800000000000 ..                     direct map of all physical RAM (PML4[256..])
 *   0xffffc00000000000 ..                     device registers, uncached (PML4[384..])
 *   0xffffffff80000000 ..                     kernel image (PML4[511], PDPT[510]),
 *                                             linked at KERNEL_VMA + KERNEL_PHYS */
#pragma once

#define KERNEL_VMA	0xffffffff80000000
#define KERNEL_PHYS	0x100000
#define DIRECT_MAP_BASE	0xffff800000000000
#define MMIO_BASE	0xffffc00000000000
#define USER_TOP	0x0000800000000000

#define TRAMPOLINE_PA	0x8000	/* where application processors start (boot/trampoline.S) */

#define PAGE_SHIFT	12
#define PAGE_SIZE	4096
#define KSTACK_SIZE	(4 * PAGE_SIZE)
#define KSTACK_USER_FRAME 192	/* top of a kernel stack: the user trap frame (176 bytes) */
