/* kernel/elf_check.h: validating a user program image (kernel/elf_check.c).  Pure
 * code, also compiled into the host unit tests, which feed it broken ELFs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS	16

struct elf_segment {
	uint64_t vaddr, memsz;		/* where, how big in memory */
	uint64_t offset, filesz;	/* what to copy from the file */
	unsigned prot;			/* MAP_WRITE | MAP_EXEC bits (arch/arch.h values) */
};

struct elf_image {
	uint64_t entry;
	int nsegs;
	struct elf_segment segs[ELF_MAX_SEGMENTS];
};

/* Check that img[0..size) is a static x86-64 executable wisp can load into user
 * space between lo and hi: every header and segment inside the file, segments inside
 * [lo, hi) and not overlapping one another (sharing a page is allowed), the entry in an
 * executable segment.  Returns 0 and fills *out, or -ENOEXEC with *why saying what is
 * wrong in words a user can act on. */
int elf_check(const void *img, size_t size, uint64_t lo, uint64_t hi,
	      struct elf_image *out, const char **why);
