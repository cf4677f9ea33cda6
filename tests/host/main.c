/* tests/host/main.c: runs the host unit tests (see htest.h). */
#include "htest.h"

#include <stdlib.h>

extern const struct htest __start_htest[], __stop_htest[];

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct htest *)a)->name, ((const struct htest *)b)->name);
}

int main(int argc, char **argv)
{
	size_t n = (size_t)(__stop_htest - __start_htest);
	struct htest *t = malloc(n * sizeof(*t));
	int passed = 0, failed = 0;

	memcpy(t, __start_htest, n * sizeof(*t));
	qsort(t, n, sizeof(*t), by_name);
	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strncmp(t[i].name, argv[1], strlen(argv[1])))
			continue;
		int f = 0;
		t[i].fn(&f);
		printf("%s %s\n", f ? "FAIL" : "ok", t[i].name);
		fflush(stdout);
		if (f)
			failed++;
		else
			passed++;
	}
	free(t);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
