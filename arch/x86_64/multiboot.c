/* arch/x86_64/multiboot.c: reading the multiboot2 boot information into struct
 * boot_info (Multiboot2 spec 1.0, §3.6 "Boot information format").
 * "The boot information ... consists of a fixed part (total_size, reserved) and a
 * series of tags ... Each tag begins with type and size ... padded so that each tag
 * starts at an 8-bytes aligned address."  Tags used: 1 command line, 2 boot loader
 * name, 3 module, 6 memory map, 11/12 EFI system table (booted through UEFI),
 * 14/15 ACPI RSDP copies.  Everything is bounds-checked against total_size. */
#include <arch/arch.h>
#include <kernel/bootinfo.h>
#include <kernel/compiler.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/string.h>

#define MB2_BOOT_MAGIC	0x36d76289

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t len;
	uint32_t type;
	uint32_t reserved;
};

/* Copy a NUL-terminated string of at most max bytes out of a tag. */
static void copy_string(char *dst, size_t dstlen, const char *src, size_t max)
{
	size_t n = strnlen(src, max);
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void add_region(struct boot_info *bi, const struct mb2_mmap_entry *e)
{
	if (bi->nmem == BOOT_MAX_REGIONS) {
		bi->mem_dropped++;
		return;
	}
	uint32_t type = e->type >= MEM_USABLE && e->type <= MEM_BAD ? e->type : MEM_RESERVED;
	bi->mem[bi->nmem++] = (struct mem_region){ e->base, e->len, type };
}

static void parse_mmap(struct boot_info *bi, const uint8_t *t, uint32_t size)
{
	uint32_t esize = *(const uint32_t *)(t + 8);
	if (esize < sizeof(struct mb2_mmap_entry) || esize % 8) {
		printk("wisp: warning: multiboot2 memory map entry size %u is invalid\n", esize);
		return;
	}
	for (uint32_t off = 16; off + esize <= size; off += esize)
		add_region(bi, (const struct mb2_mmap_entry *)(t + off));
}

static void parse_module(struct boot_info *bi, const uint8_t *t, uint32_t size)
{
	if (size < 17)
		return;
	if (bi->nmods == BOOT_MAX_MODULES) {
		bi->mods_dropped++;
		return;
	}
	struct boot_module *m = &bi->mods[bi->nmods++];
	m->start = *(const uint32_t *)(t + 8);
	m->end = *(const uint32_t *)(t + 12);
	copy_string(m->name, sizeof(m->name), (const char *)t + 16, size - 16);
	if (m->end < m->start)
		m->end = m->start;
}

static void parse_tag(struct boot_info *bi, const struct mb2_tag *tag)
{
	const uint8_t *t = (const uint8_t *)tag;

	switch (tag->type) {
	case 1:
		copy_string(bi->cmdline, sizeof(bi->cmdline), (const char *)t + 8, tag->size - 8);
		break;
	case 2:
		copy_string(bi->loader, sizeof(bi->loader), (const char *)t + 8, tag->size - 8);
		break;
	case 3:
		parse_module(bi, t, tag->size);
		break;
	case 6:
		if (tag->size >= 16)
			parse_mmap(bi, t, tag->size);
		break;
	case 11:
	case 12:
		bi->uefi = true;
		break;
	case 14:
	case 15:
		/* Prefer the ACPI 2.0 copy (it has the XSDT address). */
		if (tag->type == 15 || bi->rsdp_version == 0) {
			size_t n = MIN(tag->size - 8, sizeof(bi->rsdp));
			memcpy(bi->rsdp, t + 8, n);
			bi->rsdp_version = tag->type == 15 ? 2 : 1;
		}
		break;
	}
}

void arch_boot_info(uint32_t magic, uint32_t info_phys, struct boot_info *bi)
{
	strlcpy(bi->loader, "an unnamed loader", sizeof(bi->loader));
	bi->cmdline_source = "boot loader";
	if (magic != MB2_BOOT_MAGIC)	/* boot/entry.S checked; belt and braces */
		panic("boot: bad multiboot2 magic %#x", magic);

	const uint8_t *info = phys_to_virt(info_phys);
	uint32_t total = *(const uint32_t *)info;
	if (total < 16 || total > (1u << 20))
		panic("boot: multiboot2 information size %u is implausible", total);
	for (uint32_t off = 8; off + sizeof(struct mb2_tag) <= total;) {
		const struct mb2_tag *tag = (const void *)(info + off);
		if (tag->type == 0)
			break;
		if (tag->size < 8 || tag->size > total - off) {
			printk("wisp: warning: multiboot2 tag %u at offset %u has bad size %u; "
			       "ignoring the rest\n", tag->type, off, tag->size);
			break;
		}
		parse_tag(bi, tag);
		off += ALIGN_UP(tag->size, 8);
	}
	if (bi->mem_dropped)
		printk("wisp: warning: %d memory regions beyond the first %d ignored\n",
		       bi->mem_dropped, BOOT_MAX_REGIONS);
	if (bi->mods_dropped)
		printk("wisp: warning: %d boot modules beyond the first %d ignored\n",
		       bi->mods_dropped, BOOT_MAX_MODULES);
}
