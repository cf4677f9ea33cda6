/* tests/host/test_elf.c: the program loader's checks against malformed ELFs. */
#include "htest.h"
#include <kernel/elf.h>
#include <kernel/elf_check.h>
#include <kernel/uapi/errno.h>

#include <stdlib.h>

#define LO	0x10000ull
#define HI	0x100000000000ull

/* A minimal valid program: one R+X segment at 0x400000 holding the entry. */
static unsigned char *good(size_t *size)
{
	*size = 0x2000;
	unsigned char *img = calloc(1, *size);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	memcpy(eh->e_ident, ELF_MAGIC, 4);
	eh->e_ident[4] = ELFCLASS64;
	eh->e_ident[5] = ELFDATA2LSB;
	eh->e_type = 2;
	eh->e_machine = EM_X86_64;
	eh->e_version = 1;
	eh->e_entry = 0x401000;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + eh->e_phoff);
	ph[0] = (Elf64_Phdr){ .p_type = 1, .p_flags = 5, .p_offset = 0x1000, .p_vaddr = 0x401000,
			      .p_filesz = 0x100, .p_memsz = 0x100, .p_align = 0x1000 };
	ph[1] = (Elf64_Phdr){ .p_type = 1, .p_flags = 6, .p_offset = 0x1100, .p_vaddr = 0x402000,
			      .p_filesz = 0x10, .p_memsz = 0x3000, .p_align = 0x1000 };
	return img;
}

static Elf64_Phdr *ph(unsigned char *img, int i)
{
	return (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr)) + i;
}

/* Check img and expect a refusal whose reason contains want. */
#define REFUSED(img, size, want)						\
	do {									\
		struct elf_image out;						\
		const char *why = "";						\
		CHECK_EQ(elf_check(img, size, LO, HI, &out, &why), -ENOEXEC);	\
		CHECK(strstr(why, want) != NULL);				\
	} while (0)

HTEST(elf_good_program)
{
	size_t size;
	unsigned char *img = good(&size);
	struct elf_image out;
	const char *why = NULL;

	CHECK_EQ(elf_check(img, size, LO, HI, &out, &why), 0);
	CHECK_EQ(out.nsegs, 2);
	CHECK_EQ(out.entry, 0x401000);
	CHECK_EQ(out.segs[0].prot, 2);		/* exec */
	CHECK_EQ(out.segs[1].prot, 1);		/* write */
	CHECK_EQ(out.segs[1].memsz, 0x3000);
	free(img);
}

HTEST(elf_truncated_everywhere)
{
	size_t size;
	unsigned char *img = good(&size);

	/* Every prefix of the file is refused, never read past. */
	for (size_t n = 0; n < 0x1110; n += 7) {
		unsigned char *copy = malloc(n ? n : 1);
		memcpy(copy, img, n);
		struct elf_image out;
		const char *why;
		CHECK_EQ(elf_check(copy, n, LO, HI, &out, &why), -ENOEXEC);
		free(copy);
	}
	free(img);
}

HTEST(elf_bad_headers)
{
	size_t size;
	unsigned char *img = good(&size);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;

	eh->e_ident[1] = 'X';
	REFUSED(img, size, "bad magic");
	eh->e_ident[1] = 'E';
	eh->e_ident[4] = 1;
	REFUSED(img, size, "64-bit");
	eh->e_ident[4] = ELFCLASS64;
	eh->e_machine = 3;
	REFUSED(img, size, "x86-64");
	eh->e_machine = EM_X86_64;
	eh->e_type = 3;
	REFUSED(img, size, "static executable");
	eh->e_type = 2;
	eh->e_phnum = 1000;
	REFUSED(img, size, "count");
	eh->e_phnum = 2;
	eh->e_phoff = size - 8;
	REFUSED(img, size, "past the end");
	free(img);
}

HTEST(elf_bad_segments)
{
	size_t size;
	unsigned char *img = good(&size);

	ph(img, 1)->p_offset = size;
	REFUSED(img, size, "past the end of the file");
	free(img);

	img = good(&size);
	ph(img, 1)->p_filesz = 0x4000;
	REFUSED(img, size, "more bytes in the file");
	free(img);

	img = good(&size);
	ph(img, 1)->p_vaddr = 0xffffffff80000000ull;
	REFUSED(img, size, "outside user space");
	free(img);

	img = good(&size);
	ph(img, 1)->p_vaddr = 0x1000;		/* below LO */
	REFUSED(img, size, "outside user space");
	free(img);

	img = good(&size);
	ph(img, 1)->p_vaddr = HI - 0x1000;	/* wraps past the top */
	ph(img, 1)->p_memsz = 0x2000;
	REFUSED(img, size, "outside user space");
	free(img);

	img = good(&size);
	ph(img, 1)->p_vaddr = 0x401080;		/* inside segment 0 */
	REFUSED(img, size, "overlap");
	free(img);

	img = good(&size);
	ph(img, 1)->p_type = 3;			/* PT_INTERP */
	REFUSED(img, size, "dynamically linked");
	free(img);
}

HTEST(elf_bad_entry)
{
	size_t size;
	unsigned char *img = good(&size);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;

	eh->e_entry = 0x402000;			/* writable, not executable */
	REFUSED(img, size, "non-executable");
	eh->e_entry = 0x900000;
	REFUSED(img, size, "outside every");
	free(img);
}

HTEST(elf_random_bytes_never_crash)
{
	srand(11);
	for (int round = 0; round < 2000; round++) {
		size_t size;
		unsigned char *img = good(&size);
		for (int k = 0; k < 8; k++)
			img[rand() % 0x200] = (unsigned char)rand();
		struct elf_image out;
		const char *why;
		int r = elf_check(img, size, LO, HI, &out, &why);
		CHECK(r == 0 || r == -ENOEXEC);
		if (r == 0)
			for (int i = 0; i < out.nsegs; i++)
				CHECK(out.segs[i].offset + out.segs[i].filesz <= size);
		free(img);
	}
}
