/* tests/host/test_heap.c: the kmalloc allocator, including the corruption it must
 * catch (here a fault is recorded instead of panicking). */
#include "htest.h"
#include <kernel/heap.h>

#include <stdlib.h>

static int pages_out;
static int faults;
static const char *last_fault;

static void *pages_alloc(size_t n)
{
	void *p = aligned_alloc(HEAP_PAGE, n * HEAP_PAGE);
	memset(p, 0, n * HEAP_PAGE);
	pages_out += (int)n;
	return p;
}

static void pages_free(void *p, size_t n)
{
	pages_out -= (int)n;
	free(p);
}

static void fault(const char *what, const void *ptr, uintptr_t caller)
{
	faults++;
	last_fault = what;
}

static const struct heap_ops ops = { pages_alloc, pages_free, fault };

static struct heap fresh(void)
{
	struct heap h;
	heap_init(&h, &ops, true);
	pages_out = 0;
	faults = 0;
	last_fault = "";
	return h;
}

HTEST(heap_alloc_free_returns_pages)
{
	struct heap h = fresh();
	void *p[500];

	for (int i = 0; i < 500; i++) {
		p[i] = heap_alloc(&h, (size_t)(i * 7 % 3000), 0);
		CHECK(p[i] != NULL);
		CHECK_EQ((uintptr_t)p[i] % 16, 0);
		memset(p[i], 0x5a, (size_t)(i * 7 % 3000));
		CHECK_EQ(heap_size(&h, p[i]), i * 7 % 3000);
	}
	CHECK_EQ(h.live_objects, 500);
	CHECK(pages_out > 0);
	for (int i = 0; i < 500; i += 3)
		heap_free(&h, p[i], 0);
	for (int i = 0; i < 500; i++)
		if (i % 3)
			heap_free(&h, p[i], 0);
	CHECK_EQ(h.live_objects, 0);
	CHECK_EQ(h.live_bytes, 0);
	CHECK_EQ(pages_out, 0);
	CHECK_EQ(faults, 0);
}

HTEST(heap_objects_do_not_overlap)
{
	struct heap h = fresh();
	enum { N = 300 };
	unsigned char *p[N];
	size_t sz[N];

	for (int i = 0; i < N; i++) {
		sz[i] = (size_t)(rand() % 5000);
		p[i] = heap_alloc(&h, sz[i], 0);
		memset(p[i], i & 0xff, sz[i]);
	}
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < sz[i]; k++)
			CHECK_EQ(p[i][k], i & 0xff);
	for (int i = 0; i < N; i++)
		heap_free(&h, p[i], 0);
	CHECK_EQ(faults, 0);
	CHECK_EQ(pages_out, 0);
}

HTEST(heap_double_free_caught)
{
	struct heap h = fresh();
	void *keep = heap_alloc(&h, 40, 0);	/* keeps the slab page alive */
	void *p = heap_alloc(&h, 40, 0);

	heap_free(&h, p, 0);
	heap_free(&h, p, 0);
	CHECK_EQ(faults, 1);
	CHECK_STREQ(last_fault, "double free");
	CHECK_EQ(h.live_objects, 1);
	heap_free(&h, keep, 0);
	CHECK_EQ(pages_out, 0);
}

HTEST(heap_overflow_caught)
{
	struct heap h = fresh();
	char *p = heap_alloc(&h, 20, 0);

	p[20] = 'x';	/* one past the end */
	heap_free(&h, p, 0);
	CHECK_EQ(faults, 1);
	CHECK_STREQ(last_fault, "overflow past the end of an object");

	char *big = heap_alloc(&h, 10000, 0);
	big[10003] = 1;
	heap_free(&h, big, 0);
	CHECK_EQ(faults, 2);
	CHECK_EQ(pages_out, 0);
}

HTEST(heap_write_after_free_caught)
{
	struct heap h = fresh();
	void *keep = heap_alloc(&h, 100, 0);
	char *p = heap_alloc(&h, 100, 0);

	heap_free(&h, p, 0);
	p[50] = 7;	/* use after free */
	void *q = heap_alloc(&h, 100, 0);	/* reuses p's slot */
	CHECK(q == p);
	CHECK_EQ(faults, 1);
	CHECK_STREQ(last_fault, "write after free");
	heap_free(&h, q, 0);
	heap_free(&h, keep, 0);
}

HTEST(heap_foreign_pointers_caught)
{
	struct heap h = fresh();
	char *p = heap_alloc(&h, 64, 0);
	char *big = heap_alloc(&h, 9000, 0);

	heap_free(&h, p + 16, 0);
	CHECK_STREQ(last_fault, "free of a pointer inside an object");
	heap_free(&h, big + 32, 0);
	CHECK_STREQ(last_fault, "free of a pointer the heap does not own (never returned, or its page already freed)");
	CHECK_EQ(faults, 2);
	CHECK_EQ(h.live_objects, 2);
	heap_free(&h, p, 0);
	heap_free(&h, big, 0);
	heap_free(&h, NULL, 0);	/* like free(NULL) */
	CHECK_EQ(faults, 2);
	CHECK_EQ(pages_out, 0);
}

HTEST(heap_release_mode_still_catches_double_free)
{
	struct heap h;
	heap_init(&h, &ops, false);
	faults = 0;
	void *keep = heap_alloc(&h, 8, 0);
	void *p = heap_alloc(&h, 8, 0);
	heap_free(&h, p, 0);
	heap_free(&h, p, 0);
	CHECK_EQ(faults, 1);
	heap_free(&h, keep, 0);
}

HTEST(heap_absurd_size_refused)
{
	struct heap h = fresh();
	CHECK(heap_alloc(&h, (size_t)-1, 0) == NULL);
	CHECK_EQ(pages_out, 0);
}
