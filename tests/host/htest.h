/* tests/host/htest.h: a tiny unit test framework for pure kernel code compiled on
 * the host.  Cases register themselves in the "htest" section:
 *
 *	HTEST(frame_map_alloc) { CHECK(x == 1); CHECK_EQ(a, b); }
 *
 * The runner (main.c) runs them all, or those whose names start with argv[1],
 * prints "ok NAME" / "FAIL NAME" per case and ends with "N passed, N failed". */
#pragma once

#include <stdio.h>
#include <string.h>

struct htest {
	const char *name;
	void (*fn)(int *failed);
};

#define HTEST(n)								\
	static void ht_##n(int *ht_failed);					\
	static const struct htest ht_entry_##n					\
		__attribute__((used, section("htest"), aligned(16))) = { #n, ht_##n }; \
	static void ht_##n(int *ht_failed)

#define CHECK(c)								\
	do {									\
		if (!(c)) {							\
			printf("    %s:%d: %s\n", __FILE__, __LINE__, #c);	\
			*ht_failed = 1;						\
			return;							\
		}								\
	} while (0)

#define CHECK_EQ(a, b)								\
	do {									\
		long long _a = (long long)(a), _b = (long long)(b);		\
		if (_a != _b) {							\
			printf("    %s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, \
			       #a, #b, _a, _b);					\
			*ht_failed = 1;						\
			return;							\
		}								\
	} while (0)

#define CHECK_STREQ(a, b)							\
	do {									\
		const char *_a = (a), *_b = (b);				\
		if (strcmp(_a, _b)) {						\
			printf("    %s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, \
			       __LINE__, #a, #b, _a, _b);			\
			*ht_failed = 1;						\
			return;							\
		}								\
	} while (0)
