/* boot/multiboot2.S: the multiboot2 header GRUB looks for in the first 32 KiB.
 * Multiboot2 spec 1.0, §3.1: "The OS image must contain an additional header called
 * Multiboot2 header ... contained completely within the first 32768 bytes of the OS
 * image, and must be 64-bit aligned."  Tags are 8-byte aligned (§3.1.3). */

#define MB2_MAGIC	0xE85250D6
#define MB2_ARCH_I386	0	/* 32-bit protected mode entry (§3.1.2) */

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long	MB2_MAGIC
	.long	MB2_ARCH_I386
	.long	mb2_header_end - mb2_header
	.long	-(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	/* Information request (§3.1.4), optional (flags = 1): command line, modules,
	 * memory map, old and new ACPI RSDP.  SeaBIOS has no ACPI 2.0 RSDP. */
	.balign 8
info_req:
	.short	1, 1
	.long	info_req_end - info_req
	.long	1, 3, 6, 14, 15
info_req_end:

	/* Module alignment (§3.1.10): modules start on page boundaries. */
	.balign 8
	.short	6, 0
	.long	8

	/* End tag. */
	.balign 8
	.short	0, 0
	.long	8
mb2_header_end:
