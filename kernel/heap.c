/* kernel/heap.c: slab and page allocator for kernel objects.  See heap.h.
 *
 * Page layout.  A slab page starts with a struct slab and holds slots of one size;
 * a large allocation starts with a struct slab too (kind LARGE) followed by the
 * object.  So for any object p, the page at ALIGN_DOWN(p, 4096) tells what p is. */
#include <kernel/heap.h>

#define SLAB_MAGIC	0x51ab51abu
#define LARGE_MAGIC	0x1a46e000u
#define OBJ_LIVE	0xa110c8edu
#define OBJ_FREE	0xf4eef4eeu
#define REDZONE		0xcb
#define POISON		0x6b

struct slab {
	uint32_t magic;
	uint16_t cls;		/* size class, slabs only */
	uint16_t inuse;
	size_t npages;		/* large allocations only */
	struct slab *next, *prev;	/* partial list */
	void *free;		/* free slots, linked through their first word */
	uint64_t pad[3];
};

struct obj {
	uint32_t magic;
	uint32_t pad;
	uint64_t size;		/* requested size */
};

_Static_assert(sizeof(struct slab) == 64, "slab header is one cache line");
_Static_assert(sizeof(struct obj) == 16, "object header keeps 16-byte alignment");

static size_t slot_size(int cls)
{
	return (size_t)32 << cls;
}

static int size_class(size_t size)
{
	for (int c = 0; c < HEAP_CLASSES; c++)
		if (size + sizeof(struct obj) + 8 <= slot_size(c))
			return c;
	return -1;
}

static struct slab *page_of(const void *p)
{
	return (struct slab *)((uintptr_t)p & ~(uintptr_t)(HEAP_PAGE - 1));
}

static void fill(void *p, int c, size_t n)
{
	unsigned char *b = p;
	while (n--)
		*b++ = (unsigned char)c;
}

/* Returns the first byte in [p, p+n) that is not c, or NULL. */
static const void *check(const void *p, int c, size_t n)
{
	const unsigned char *b = p;
	for (; n; n--, b++)
		if (*b != (unsigned char)c)
			return b;
	return NULL;
}

void heap_init(struct heap *h, const struct heap_ops *ops, bool debug)
{
	*h = (struct heap){ .ops = ops, .debug = debug };
}

static void partial_add(struct heap *h, struct slab *s)
{
	s->prev = NULL;
	s->next = h->partial[s->cls];
	if (s->next)
		s->next->prev = s;
	h->partial[s->cls] = s;
}

static void partial_remove(struct heap *h, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		h->partial[s->cls] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static struct slab *slab_new(struct heap *h, int cls)
{
	struct slab *s = h->ops->pages_alloc(1);
	if (!s)
		return NULL;
	h->pages++;
	*s = (struct slab){ .magic = SLAB_MAGIC, .cls = (uint16_t)cls };
	size_t sz = slot_size(cls);
	/* Thread the slots in address order so fresh slabs hand out ascending addresses. */
	void **link = &s->free;
	for (uintptr_t a = (uintptr_t)(s + 1); a + sz <= (uintptr_t)s + HEAP_PAGE; a += sz) {
		struct obj *o = (struct obj *)a;
		o->magic = OBJ_FREE;
		if (h->debug)
			fill(o + 1, POISON, sz - sizeof(*o));
		*link = o;
		link = (void **)(o + 1);
	}
	*link = NULL;
	partial_add(h, s);
	return s;
}

static void *finish_alloc(struct heap *h, struct obj *o, size_t size, size_t room)
{
	o->magic = OBJ_LIVE;
	o->size = size;
	if (h->debug)
		fill((char *)(o + 1) + size, REDZONE, room - size);
	h->live_objects++;
	h->live_bytes += size;
	return o + 1;
}

static void *alloc_small(struct heap *h, int cls, size_t size, uintptr_t caller)
{
	struct slab *s = h->partial[cls];
	if (!s && !(s = slab_new(h, cls)))
		return NULL;
	struct obj *o = s->free;
	void *next = *(void **)(o + 1);
	size_t room = slot_size(cls) - sizeof(*o);
	if (h->debug) {
		/* The link word is legitimately written; the rest must still be poison. */
		const void *bad = check((char *)(o + 1) + sizeof(void *), POISON, room - sizeof(void *));
		if (bad)
			h->ops->fault("write after free", bad, caller);
	}
	s->free = next;
	s->inuse++;
	if (!s->free)
		partial_remove(h, s);
	return finish_alloc(h, o, size, room);
}

static void *alloc_large(struct heap *h, size_t size)
{
	size_t npages = (size + sizeof(struct slab) + sizeof(struct obj) + HEAP_PAGE - 1) / HEAP_PAGE;
	struct slab *s = h->ops->pages_alloc(npages);
	if (!s)
		return NULL;
	h->pages += npages;
	*s = (struct slab){ .magic = LARGE_MAGIC, .npages = npages, .inuse = 1 };
	struct obj *o = (struct obj *)(s + 1);
	return finish_alloc(h, o, size, npages * HEAP_PAGE - sizeof(*s) - sizeof(*o));
}

void *heap_alloc(struct heap *h, size_t size, uintptr_t caller)
{
	if (size > ((size_t)1 << 40))
		return NULL;
	int cls = size_class(size);
	return cls >= 0 ? alloc_small(h, cls, size, caller) : alloc_large(h, size);
}

/* The object header of p after checking that p is one the heap returned, or NULL
 * (with the fault reported) when it is not. */
static struct obj *validate(struct heap *h, const void *p, uintptr_t caller)
{
	struct slab *s = page_of(p);
	struct obj *o = (struct obj *)p - 1;

	if (s->magic == SLAB_MAGIC) {
		uintptr_t first = (uintptr_t)(s + 1);
		if ((uintptr_t)o < first || ((uintptr_t)o - first) % slot_size(s->cls)) {
			h->ops->fault("free of a pointer inside an object", p, caller);
			return NULL;
		}
	} else if (s->magic != LARGE_MAGIC || o != (struct obj *)(s + 1)) {
		h->ops->fault("free of a pointer the heap does not own "
			      "(never returned, or its page already freed)", p, caller);
		return NULL;
	}
	if (o->magic == OBJ_FREE) {
		h->ops->fault("double free", p, caller);
		return NULL;
	}
	if (o->magic != OBJ_LIVE) {
		h->ops->fault("object header overwritten", p, caller);
		return NULL;
	}
	return o;
}

void heap_free(struct heap *h, void *p, uintptr_t caller)
{
	if (!p)
		return;
	struct obj *o = validate(h, p, caller);
	if (!o)
		return;
	struct slab *s = page_of(p);
	size_t room = s->magic == SLAB_MAGIC ? slot_size(s->cls) - sizeof(*o)
					      : s->npages * HEAP_PAGE - sizeof(*s) - sizeof(*o);
	if (h->debug) {
		const void *bad = check((char *)p + o->size, REDZONE, room - o->size);
		if (bad)
			h->ops->fault("overflow past the end of an object", bad, caller);
	}
	h->live_objects--;
	h->live_bytes -= o->size;
	o->magic = OBJ_FREE;

	if (s->magic == LARGE_MAGIC) {
		s->magic = 0;
		h->pages -= s->npages;
		h->ops->pages_free(s, s->npages);
		return;
	}
	if (h->debug)
		fill(p, POISON, room);
	*(void **)p = s->free;
	bool was_full = !s->free;
	s->free = o;
	s->inuse--;
	if (s->inuse == 0) {
		if (!was_full)
			partial_remove(h, s);
		s->magic = 0;
		h->pages--;
		h->ops->pages_free(s, 1);
	} else if (was_full) {
		partial_add(h, s);
	}
}

size_t heap_size(struct heap *h, const void *p)
{
	struct slab *s = page_of(p);
	const struct obj *o = (const struct obj *)p - 1;

	if (s->magic != SLAB_MAGIC && s->magic != LARGE_MAGIC)
		return 0;
	return o->magic == OBJ_LIVE ? o->size : 0;
}
