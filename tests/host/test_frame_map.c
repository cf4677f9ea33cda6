/* tests/host/test_frame_map.c: the page allocator's bitmap bookkeeping. */
#include "htest.h"
#include <kernel/frame_map.h>
#include <kernel/uapi/errno.h>

#include <stdlib.h>

static struct frame_map fresh(uint64_t nframes)
{
	struct frame_map m;
	fmap_init(&m, calloc(FRAME_MAP_WORDS(nframes), 8), nframes);
	return m;
}

HTEST(frame_map_starts_reserved)
{
	struct frame_map m = fresh(100);

	CHECK_EQ(m.nfree, 0);
	CHECK_EQ(fmap_alloc(&m, 1, 1), -1);
	free(m.bits);
}

HTEST(frame_map_overlapping_ranges_count_once)
{
	struct frame_map m = fresh(1000);

	fmap_mark_free(&m, 10, 100);
	fmap_mark_free(&m, 50, 100);	/* overlaps */
	CHECK_EQ(m.nfree, 140);
	fmap_mark_reserved(&m, 0, 20);
	fmap_mark_reserved(&m, 15, 10);
	CHECK_EQ(m.nfree, 125);
	fmap_mark_free(&m, 990, 50);	/* clipped at the end */
	CHECK_EQ(m.nfree, 135);
	free(m.bits);
}

HTEST(frame_map_alloc_one_skips_reserved)
{
	struct frame_map m = fresh(256);

	fmap_mark_free(&m, 0, 256);
	fmap_mark_reserved(&m, 0, 70);
	int64_t a = fmap_alloc(&m, 1, 1);
	CHECK_EQ(a, 70);
	CHECK(!fmap_is_free(&m, 70));
	CHECK_EQ(fmap_alloc(&m, 1, 1), 71);
	CHECK_EQ(m.nfree, 256 - 72);
	free(m.bits);
}

HTEST(frame_map_alloc_all_then_none)
{
	struct frame_map m = fresh(200);
	int seen[200] = { 0 };

	fmap_mark_free(&m, 0, 200);
	for (int i = 0; i < 200; i++) {
		int64_t f = fmap_alloc(&m, 1, 1);
		CHECK(f >= 0 && f < 200);
		CHECK_EQ(seen[f], 0);
		seen[f] = 1;
	}
	CHECK_EQ(fmap_alloc(&m, 1, 1), -1);
	CHECK_EQ(fmap_free(&m, 123, 1), 0);
	CHECK_EQ(fmap_alloc(&m, 1, 1), 123);	/* wraps around to find it */
	free(m.bits);
}

HTEST(frame_map_contiguous_and_aligned)
{
	struct frame_map m = fresh(1024);

	fmap_mark_free(&m, 0, 1024);
	fmap_mark_reserved(&m, 3, 1);
	CHECK_EQ(fmap_alloc(&m, 4, 1), 4);	/* 0..2 is too short */
	CHECK_EQ(fmap_alloc(&m, 8, 8), 8);
	CHECK_EQ(fmap_alloc(&m, 16, 512), 512);
	CHECK_EQ(fmap_alloc(&m, 600, 1), -1);	/* no run that long is free */
	CHECK_EQ(fmap_alloc(&m, 2, 3), -1);	/* alignment not a power of two */
	CHECK_EQ(fmap_alloc(&m, 0, 1), -1);
	free(m.bits);
}

HTEST(frame_map_double_free_detected)
{
	struct frame_map m = fresh(64);

	fmap_mark_free(&m, 0, 64);
	int64_t f = fmap_alloc(&m, 4, 1);
	CHECK_EQ(fmap_free(&m, (uint64_t)f, 4), 0);
	CHECK_EQ(fmap_free(&m, (uint64_t)f, 4), -EINVAL);
	CHECK_EQ(m.nfree, 64);
	/* A range that is partly free is refused whole. */
	f = fmap_alloc(&m, 2, 1);
	CHECK_EQ(fmap_free(&m, (uint64_t)f, 3), -EINVAL);
	CHECK(!fmap_is_free(&m, (uint64_t)f));
	CHECK_EQ(fmap_free(&m, 60, 10), -EINVAL);	/* leaves the map */
	CHECK_EQ(fmap_free(&m, 1000, 1), -EINVAL);
	free(m.bits);
}

HTEST(frame_map_random_against_model)
{
	enum { N = 777 };
	struct frame_map m = fresh(N);
	char model[N] = { 0 };
	uint64_t nfree = N;

	fmap_mark_free(&m, 0, N);
	memset(model, 1, N);
	srand(7);
	for (int step = 0; step < 20000; step++) {
		uint64_t n = (uint64_t)(rand() % 5) + 1;
		if (rand() % 2) {
			int64_t f = fmap_alloc(&m, n, 1);
			if (f < 0)
				continue;
			for (uint64_t i = 0; i < n; i++) {
				CHECK_EQ(model[f + (int64_t)i], 1);
				model[f + (int64_t)i] = 0;
			}
			nfree -= n;
		} else {
			uint64_t at = (uint64_t)rand() % N;
			int ok = at + n <= N;
			for (uint64_t i = 0; ok && i < n; i++)
				ok = !model[at + i];
			CHECK_EQ(fmap_free(&m, at, n), ok ? 0 : -EINVAL);
			if (ok) {
				memset(model + at, 1, n);
				nfree += n;
			}
		}
		CHECK_EQ(m.nfree, nfree);
	}
	free(m.bits);
}
