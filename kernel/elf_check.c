/* kernel/elf_check.c: ELF64 program validation (System V ABI, ELF-64 Object File
 * Format 1.5: the file header, §"ELF Header"; program headers, §"Program Header").
 * Every field is distrusted: offsets and sizes are checked against the file before
 * anything is read through them. */
#include <kernel/elf_check.h>
#include <kernel/elf.h>
#include <kernel/string.h>
#include <kernel/uapi/errno.h>

#define ET_EXEC		2
#define EV_CURRENT	1
#define PT_LOAD		1
#define PT_INTERP	3
#define PT_DYNAMIC	2
#define PF_X		1
#define PF_W		2
#define PROT_W		1	/* MAP_WRITE */
#define PROT_X		2	/* MAP_EXEC */

static int refuse(const char **why, const char *msg)
{
	*why = msg;
	return -ENOEXEC;
}

static int check_header(const Elf64_Ehdr *eh, size_t size, const char **why)
{
	if (size < sizeof(*eh))
		return refuse(why, "file is shorter than an ELF header");
	if (memcmp(eh->e_ident, ELF_MAGIC, 4))
		return refuse(why, "not an ELF file (bad magic)");
	if (eh->e_ident[4] != ELFCLASS64 || eh->e_ident[5] != ELFDATA2LSB)
		return refuse(why, "not a 64-bit little-endian ELF");
	if (eh->e_machine != EM_X86_64 || eh->e_version != EV_CURRENT)
		return refuse(why, "not an x86-64 ELF (machine or version)");
	if (eh->e_type != ET_EXEC)
		return refuse(why, "not a static executable (e_type is not ET_EXEC; link with -static -no-pie)");
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > 64)
		return refuse(why, "program header table has a bad entry size or count");
	if (eh->e_phoff > size || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size - eh->e_phoff)
		return refuse(why, "program header table runs past the end of the file");
	return 0;
}

static int add_segment(const Elf64_Phdr *ph, size_t size, uint64_t lo, uint64_t hi,
		       struct elf_image *out, const char **why)
{
	if (ph->p_filesz > ph->p_memsz)
		return refuse(why, "segment has more bytes in the file than in memory");
	if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
		return refuse(why, "segment data runs past the end of the file (truncated?)");
	if (ph->p_memsz == 0)
		return 0;
	if (ph->p_vaddr < lo || ph->p_vaddr >= hi || ph->p_memsz > hi - ph->p_vaddr)
		return refuse(why, "segment lies outside user space (kernel range or too low)");
	for (int i = 0; i < out->nsegs; i++) {
		const struct elf_segment *s = &out->segs[i];
		if (ph->p_vaddr < s->vaddr + s->memsz && s->vaddr < ph->p_vaddr + ph->p_memsz)
			return refuse(why, "segments overlap");
	}
	if (out->nsegs == ELF_MAX_SEGMENTS)
		return refuse(why, "too many loadable segments");
	out->segs[out->nsegs++] = (struct elf_segment){
		.vaddr = ph->p_vaddr, .memsz = ph->p_memsz,
		.offset = ph->p_offset, .filesz = ph->p_filesz,
		.prot = (ph->p_flags & PF_W ? PROT_W : 0) | (ph->p_flags & PF_X ? PROT_X : 0),
	};
	return 0;
}

int elf_check(const void *img, size_t size, uint64_t lo, uint64_t hi,
	      struct elf_image *out, const char **why)
{
	const Elf64_Ehdr *eh = img;
	int err = check_header(eh, size, why);

	if (err)
		return err;
	out->nsegs = 0;
	out->entry = eh->e_entry;
	Elf64_Phdr ph;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		memcpy(&ph, (const char *)img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
			return refuse(why, "dynamically linked (PT_INTERP/PT_DYNAMIC); link with -static");
		if (ph.p_type == PT_LOAD && (err = add_segment(&ph, size, lo, hi, out, why)))
			return err;
	}
	if (out->nsegs == 0)
		return refuse(why, "no loadable segment");
	for (int i = 0; i < out->nsegs; i++) {
		const struct elf_segment *s = &out->segs[i];
		if (out->entry >= s->vaddr && out->entry < s->vaddr + s->memsz) {
			if (!(s->prot & PROT_X))
				return refuse(why, "entry point is in a non-executable segment");
			return 0;
		}
	}
	return refuse(why, "entry point is outside every loadable segment");
}
