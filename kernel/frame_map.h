/* kernel/frame_map.h: the bookkeeping of the physical page allocator, a bitmap with
 * one bit per 4 KiB frame, 1 = free (kernel/frame_map.c).  Pure code: no locks and no
 * memory of its own, so the host unit tests drive it directly.  kernel/page.c wraps
 * it with the lock and the multiboot2 memory map. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct frame_map {
	uint64_t *bits;		/* nframes bits, 1 = free */
	uint64_t nframes;
	uint64_t nfree;
	uint64_t hint;		/* where the next single-frame search starts */
};

/* Words of bitmap needed for nframes frames. */
#define FRAME_MAP_WORDS(nframes)	(((nframes) + 63) / 64)

/* Start with every frame reserved. */
void fmap_init(struct frame_map *m, uint64_t *bits, uint64_t nframes);
/* Mark [pfn, pfn+n) free or reserved, clipped to the map; frames already in that
 * state are left alone, so overlapping ranges from a memory map are harmless. */
void fmap_mark_free(struct frame_map *m, uint64_t pfn, uint64_t n);
void fmap_mark_reserved(struct frame_map *m, uint64_t pfn, uint64_t n);
bool fmap_is_free(const struct frame_map *m, uint64_t pfn);

/* Allocate n contiguous frames whose first frame number is a multiple of align
 * (a power of two, 1 for none).  Returns the first frame, or -1 when no such run
 * is free. */
int64_t fmap_alloc(struct frame_map *m, uint64_t n, uint64_t align);
/* Free n frames at pfn.  Returns 0, or -EINVAL when the range leaves the map or any
 * frame in it is already free (a double free); then nothing is changed. */
int fmap_free(struct frame_map *m, uint64_t pfn, uint64_t n);
