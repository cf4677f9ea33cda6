/* tests/ktest/test_heap.c: kmalloc and kfree in the kernel (the corruption checks are
 * driven on the host, where a detected fault does not stop the machine). */
#include <kernel/kmalloc.h>
#include <kernel/ktest.h>
#include <kernel/page.h>
#include <kernel/string.h>

KTEST(heap, sizes_and_alignment)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 100, 1000, 2000, 2024, 2025,
					4096, 10000, 100000, 1 << 20 };
	void *p[sizeof(sizes) / sizeof(sizes[0])];

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		p[i] = kmalloc(sizes[i]);
		KT_ASSERT(p[i] != NULL);
		KT_EQ((uintptr_t)p[i] % 16, 0);
		memset(p[i], (int)i, sizes[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		const unsigned char *b = p[i];
		for (size_t k = 0; k < sizes[i]; k += 97)
			KT_EQ(b[k], i);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		kfree(p[i]);
}

KTEST(heap, many_small_objects_return_pages)
{
	enum { N = 2000 };
	void **v = kmalloc(N * sizeof(void *));
	uint64_t pages = page_free_count();

	KT_ASSERT(v != NULL);
	for (int i = 0; i < N; i++) {
		v[i] = kmalloc((size_t)(i % 300) + 1);
		KT_ASSERT(v[i] != NULL);
	}
	KT_ASSERT(page_free_count() < pages);
	for (int i = 0; i < N; i += 2)
		kfree(v[i]);
	for (int i = 1; i < N; i += 2)
		kfree(v[i]);
	kfree(v);
	/* v itself was allocated before the count was taken; its page may be gone too. */
	KT_ASSERT(page_free_count() >= pages);
}

KTEST(heap, zeroed)
{
	unsigned char *p = kmalloc(300);
	memset(p, 0xee, 300);
	kfree(p);
	p = kzalloc(300);
	KT_ASSERT(p != NULL);
	int nonzero = 0;
	for (int i = 0; i < 300; i++)
		nonzero += p[i] != 0;
	kfree(p);
	KT_EQ(nonzero, 0);
}

KTEST(heap, stats_track_live_objects)
{
	struct kmalloc_stats a, b;

	kmalloc_stats(&a);
	void *p = kmalloc(123);
	kmalloc_stats(&b);
	KT_EQ(b.objects, a.objects + 1);
	KT_EQ(b.bytes, a.bytes + 123);
	kfree(p);
	kmalloc_stats(&b);
	KT_EQ(b.objects, a.objects);
}
