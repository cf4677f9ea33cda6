/* kernel/symbols.c: symbolizing kernel addresses from the ELF symbol table in the
 * kernel.sym module.  The module is checked once at boot (every offset and size in
 * bounds), then only read; lookups are linear, which is fine for panics and tests. */
#include <kernel/symbols.h>
#include <kernel/bootinfo.h>
#include <kernel/elf.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/uapi/errno.h>
#include <arch/arch.h>

static const Elf64_Sym *syms;
static size_t nsyms;
static const char *strtab;
static size_t strtab_size;

static bool in_bounds(uint64_t off, uint64_t size, uint64_t total)
{
	return off <= total && size <= total - off;
}

int symbols_init(const struct boot_info *bi)
{
	const struct boot_module *m = boot_module("kernel.sym");
	if (!m) {
		printk("wisp: symbols: no kernel.sym module; backtraces will not be symbolized\n");
		return -ENOENT;
	}
	const unsigned char *base = phys_to_virt(m->start);
	uint64_t size = m->end - m->start;
	const Elf64_Ehdr *eh = (const void *)base;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELF_MAGIC, 4) ||
	    eh->e_ident[4] != ELFCLASS64 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    !in_bounds(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), size))
		goto bad;
	const Elf64_Shdr *sh = (const void *)(base + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB)
			continue;
		if (sh[i].sh_entsize != sizeof(Elf64_Sym) || sh[i].sh_link >= eh->e_shnum ||
		    !in_bounds(sh[i].sh_offset, sh[i].sh_size, size))
			goto bad;
		const Elf64_Shdr *st = &sh[sh[i].sh_link];
		if (!in_bounds(st->sh_offset, st->sh_size, size) || st->sh_size == 0 ||
		    base[st->sh_offset + st->sh_size - 1] != '\0')
			goto bad;
		syms = (const void *)(base + sh[i].sh_offset);
		nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
		strtab = (const char *)(base + st->sh_offset);
		strtab_size = st->sh_size;
		return 0;
	}
bad:
	syms = NULL;
	nsyms = 0;
	printk("wisp: symbols: kernel.sym is not a usable ELF64 symbol table; "
	       "backtraces will not be symbolized\n");
	return -ENOEXEC;
}

bool symbols_loaded(void)
{
	return syms != NULL;
}

static const char *name_of(const Elf64_Sym *s)
{
	return s->st_name < strtab_size ? strtab + s->st_name : "?";
}

const char *symbol_lookup(uintptr_t addr, uintptr_t *offset)
{
	const Elf64_Sym *best = NULL;

	for (size_t i = 0; i < nsyms; i++) {
		const Elf64_Sym *s = &syms[i];
		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_value > addr)
			continue;
		if (addr < s->st_value + s->st_size) {
			best = s;
			break;
		}
	}
	if (!best)
		return NULL;
	*offset = addr - best->st_value;
	return name_of(best);
}

uintptr_t symbol_address(const char *name)
{
	for (size_t i = 0; i < nsyms; i++)
		if (syms[i].st_name && !strcmp(name_of(&syms[i]), name))
			return syms[i].st_value;
	return 0;
}

static void format_at(uintptr_t addr, uintptr_t bias, char *buf, size_t len)
{
	uintptr_t off;
	const char *name = symbol_lookup(addr - bias, &off);

	if (name)
		snprintf(buf, len, "<%s+0x%lx>", name, off + bias);
	else
		snprintf(buf, len, "<?>");
}

void symbol_format(uintptr_t addr, char *buf, size_t len)
{
	format_at(addr, 0, buf, len);
}

/* A return address may point just past the end of a function whose last act was a
 * call to a noreturn function; the call itself is at the address before it. */
void symbol_format_return(uintptr_t addr, char *buf, size_t len)
{
	format_at(addr, 1, buf, len);
}
