/* kernel/frame_map.c: bitmap frame bookkeeping.  See frame_map.h. */
#include <kernel/frame_map.h>
#include <kernel/uapi/errno.h>

static bool test_bit(const uint64_t *bits, uint64_t i)
{
	return bits[i / 64] >> (i % 64) & 1;
}

static void set_bit(uint64_t *bits, uint64_t i)
{
	bits[i / 64] |= 1ull << (i % 64);
}

static void clear_bit(uint64_t *bits, uint64_t i)
{
	bits[i / 64] &= ~(1ull << (i % 64));
}

void fmap_init(struct frame_map *m, uint64_t *bits, uint64_t nframes)
{
	m->bits = bits;
	m->nframes = nframes;
	m->nfree = 0;
	m->hint = 0;
	for (uint64_t i = 0; i < FRAME_MAP_WORDS(nframes); i++)
		bits[i] = 0;
}

bool fmap_is_free(const struct frame_map *m, uint64_t pfn)
{
	return pfn < m->nframes && test_bit(m->bits, pfn);
}

void fmap_mark_free(struct frame_map *m, uint64_t pfn, uint64_t n)
{
	for (uint64_t i = pfn; i < pfn + n && i < m->nframes; i++) {
		if (!test_bit(m->bits, i)) {
			set_bit(m->bits, i);
			m->nfree++;
		}
	}
}

void fmap_mark_reserved(struct frame_map *m, uint64_t pfn, uint64_t n)
{
	for (uint64_t i = pfn; i < pfn + n && i < m->nframes; i++) {
		if (test_bit(m->bits, i)) {
			clear_bit(m->bits, i);
			m->nfree--;
		}
	}
	if (m->hint >= pfn && m->hint < pfn + n)
		m->hint = pfn + n < m->nframes ? pfn + n : 0;
}

/* One free frame: the first set bit at or after the hint, wrapping once. */
static int64_t alloc_one(struct frame_map *m)
{
	uint64_t words = FRAME_MAP_WORDS(m->nframes);
	uint64_t start = m->hint / 64;

	for (uint64_t k = 0; k <= words; k++) {
		uint64_t w = (start + k) % words;
		uint64_t v = m->bits[w];
		if (k == 0)
			v &= ~0ull << (m->hint % 64);	/* below the hint: next lap */
		if (!v)
			continue;
		uint64_t pfn = w * 64 + (uint64_t)__builtin_ctzll(v);
		if (pfn >= m->nframes)
			continue;
		clear_bit(m->bits, pfn);
		m->nfree--;
		m->hint = pfn + 1 < m->nframes ? pfn + 1 : 0;
		return (int64_t)pfn;
	}
	return -1;
}

/* A run of n frames at an aligned start: first fit from frame 0. */
static int64_t alloc_run(struct frame_map *m, uint64_t n, uint64_t align)
{
	for (uint64_t start = 0; start + n <= m->nframes; start += align) {
		uint64_t i = 0;
		while (i < n && test_bit(m->bits, start + i))
			i++;
		if (i == n) {
			for (i = 0; i < n; i++)
				clear_bit(m->bits, start + i);
			m->nfree -= n;
			return (int64_t)start;
		}
		/* Skip past the used frame at start+i, keeping alignment. */
		start = (start + i) / align * align;
	}
	return -1;
}

int64_t fmap_alloc(struct frame_map *m, uint64_t n, uint64_t align)
{
	if (n == 0 || n > m->nfree || align == 0 || (align & (align - 1)))
		return -1;
	if (n == 1 && align == 1)
		return alloc_one(m);
	return alloc_run(m, n, align);
}

int fmap_free(struct frame_map *m, uint64_t pfn, uint64_t n)
{
	if (n == 0 || pfn >= m->nframes || n > m->nframes - pfn)
		return -EINVAL;
	for (uint64_t i = pfn; i < pfn + n; i++)
		if (test_bit(m->bits, i))
			return -EINVAL;
	for (uint64_t i = pfn; i < pfn + n; i++)
		set_bit(m->bits, i);
	m->nfree += n;
	return 0;
}
