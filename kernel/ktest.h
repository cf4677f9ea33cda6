/* kernel/ktest.h: in-kernel tests.  A case is registered where it is written:
 *
 *	KTEST(heap, small_sizes)
 *	{
 *		void *p = kmalloc(10);
 *		KT_ASSERT(p != NULL);
 *		kfree(p);
 *	}
 *
 * Cases live in the .ktest section and run, suite by suite in name order, when the kernel boots with
 * test=all (every suite), test=SUITE[,SUITE...] or test=list.  Each case prints
 * "ok suite.name" or "FAIL suite.name: why"; a case that leaves free pages or heap
 * objects different from before it ran fails as a leak.  The run ends with
 * "N passed, N failed" and powers off with status 0 only when nothing failed. */
#pragma once

#include <kernel/compiler.h>

struct ktest_ctx {
	int failed;
};

struct ktest {
	const char *suite;
	const char *name;
	void (*fn)(struct ktest_ctx *kt);
	int line;		/* cases of a suite run in the order they are written */
};

#define KTEST(suite, name)							\
	static void ktest_##suite##_##name(struct ktest_ctx *kt);		\
	static const struct ktest ktest_entry_##suite##_##name			\
		__attribute__((used, section(".ktest"), aligned(8))) =		\
		{ #suite, #name, ktest_##suite##_##name, __LINE__ };		\
	static void ktest_##suite##_##name(struct ktest_ctx *kt)

void ktest_fail(struct ktest_ctx *kt, const char *file, int line, const char *fmt, ...)
	__printf(4, 5);

#define KT_ASSERT(c)								\
	do {									\
		if (!(c)) {							\
			ktest_fail(kt, __FILE__, __LINE__, "%s", #c);		\
			return;							\
		}								\
	} while (0)

#define KT_EQ(a, b)								\
	do {									\
		long long _a = (long long)(a), _b = (long long)(b);		\
		if (_a != _b) {							\
			ktest_fail(kt, __FILE__, __LINE__, "%s == %s: %lld != %lld", \
				   #a, #b, _a, _b);				\
			return;							\
		}								\
	} while (0)

#define KT_STREQ(a, b)								\
	do {									\
		const char *_a = (a), *_b = (b);				\
		if (strcmp(_a, _b)) {						\
			ktest_fail(kt, __FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
				   #a, #b, _a, _b);				\
			return;							\
		}								\
	} while (0)

#define KT_UNUSED(x)	((void)(x))

/* True when the command line asked for tests. */
int ktest_requested(void);
/* Run the requested tests and power off with their status. */
noreturn void ktest_run(void);
