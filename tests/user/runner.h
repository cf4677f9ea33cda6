/* tests/user/runner.h: the loop the user test programs share.  Each case runs in a
 * task of its own (`PROG CASE`), so a crash or a leak is that case's alone; one line
 * "ok SUITE.CASE" or "FAIL SUITE.CASE (exit status N)" each, then "N passed, N
 * failed".  The table is any array of structs whose first member is the case's
 * name; after (may be NULL) runs after each case. */
#pragma once

#include <stdio.h>
#include <wisp.h>

/* In a case: fail it, naming the line, unless c holds. */
#define CHECK(c)								\
	do {									\
		if (!(c)) {							\
			printf("    %s:%d: %s\n", __FILE__, __LINE__, #c);	\
			return 1;						\
		}								\
	} while (0)

/* A case: its name and its body (0: passed). */
struct test_case {
	const char *name;
	int (*fn)(void);
};

static inline int run_cases_(const char *prog, const char *suite, const char *const *name,
			     size_t stride, int n, void (*after)(void))
{
	int passed = 0, failed = 0;
	for (int i = 0; i < n; i++, name = (const char *const *)((const char *)name + stride)) {
		char cmd[96];
		int status = -1;
		snprintf(cmd, sizeof(cmd), "%s %s", prog, *name);
		long id = wisp_spawn(cmd);
		if (id < 0 || wisp_wait(id, &status) != id)
			status = -1;
		if (after)
			after();
		printf("%s %s.%s", status ? "FAIL" : "ok", suite, *name);
		if (status)
			printf(" (exit status %d)", status);
		printf("\n");
		if (status)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define run_cases(prog, suite, table, after) \
	run_cases_((prog), (suite), &(table)[0].name, sizeof((table)[0]), \
		   (int)(sizeof(table) / sizeof((table)[0])), (after))
