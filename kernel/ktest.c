/* kernel/ktest.c: the in-kernel test runner.  See ktest.h. */
#include <kernel/ktest.h>
#include <kernel/args.h>
#include <kernel/kmalloc.h>
#include <kernel/page.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/thread.h>
#include <kernel/trace.h>
#include <kernel/uapi/errno.h>
#include <arch/arch.h>

#define MAX_CASES	1024

extern const struct ktest __ktest_start[], __ktest_end[];
noreturn void init_run_user_tests(const char *program);	/* kernel/init.c */

static char requested[128];

static int set_test(const char *value)
{
	if (!value || !*value)
		return -EINVAL;
	if (strlcpy(requested, value, sizeof(requested)) >= sizeof(requested))
		return -ENAMETOOLONG;
	return 0;
}
KERNEL_ARG(test, "test=all|list|user|ghost|SUITE[,SUITE...]: run tests, then power off", set_test);

int ktest_requested(void)
{
	return requested[0] != '\0';
}

void ktest_fail(struct ktest_ctx *kt, const char *file, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kt->failed = 1;
	printk("    %s:%d: %s\n", file, line, msg);
}

/* Is suite named in the comma-separated list (or is the list "all")? */
static int wanted(const char *list, const char *suite)
{
	size_t len = strlen(suite);

	if (!strcmp(list, "all"))
		return 1;
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == len && !strncmp(p, suite, n))
			return 1;
		p += n + (end ? 1 : 0);
	}
	return 0;
}

/* Every name in the list must be a suite; report those that are not. */
static int check_names(const char *list)
{
	int bad = 0;

	if (!strcmp(list, "all"))
		return 0;
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int found = 0;
		for (const struct ktest *t = __ktest_start; t < __ktest_end; t++)
			if (strlen(t->suite) == n && !strncmp(t->suite, p, n))
				found = 1;
		if (!found) {
			printk("ktest: no suite named '%.*s'; test=list shows them\n", (int)n, p);
			bad++;
		}
		p += n + (end ? 1 : 0);
	}
	return bad;
}

/* The cases in run order (sort_cases). */
static const struct ktest *ordered[MAX_CASES];

static noreturn void list_and_stop(size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct ktest *t = ordered[i];
		if (i == 0 || strcmp(t->suite, ordered[i - 1]->suite))
			printk("%s:", t->suite);
		printk(" %s", t->name);
		if (i + 1 == n || strcmp(ordered[i + 1]->suite, t->suite))
			printk("\n");
	}
	arch_power_off(0);
}

/* Run one case and check it left no pages or heap objects behind. */
static int run_case(const struct ktest *t)
{
	struct ktest_ctx kt = { 0 };
	struct kmalloc_stats before, after;
	uint64_t pages = page_free_count();
	unsigned threads = thread_count();

	kmalloc_stats(&before);
	t->fn(&kt);
	kmalloc_stats(&after);
	if (!kt.failed && (after.objects != before.objects || page_free_count() != pages ||
			   thread_count() != threads)) {
		printk("    leak: %ld heap objects, %ld pages, %d thread slots not given back\n",
		       (long)(after.objects - before.objects), (long)(pages - page_free_count()),
		       (int)(thread_count() - threads));
		kt.failed = 1;
	}
	printk("%s %s.%s\n", kt.failed ? "FAIL" : "ok", t->suite, t->name);
	return !kt.failed;
}

static bool before(const struct ktest *a, const struct ktest *b)
{
	int c = strcmp(a->suite, b->suite);
	return c < 0 || (c == 0 && a->line < b->line);
}

/* The compiler emits a file's cases in no promised order, so sort them: by suite
 * name, then by line.  Insertion sort; there are few. */
static size_t sort_cases(void)
{
	size_t n = 0;

	for (const struct ktest *t = __ktest_start; t < __ktest_end && n < MAX_CASES; t++) {
		size_t i = n++;
		while (i > 0 && before(t, ordered[i - 1])) {
			ordered[i] = ordered[i - 1];
			i--;
		}
		ordered[i] = t;
	}
	if (__ktest_end - __ktest_start > MAX_CASES)
		printk("ktest: more than %d cases; raise MAX_CASES\n", MAX_CASES);
	return n;
}

noreturn void ktest_run(void)
{
	int passed = 0, failed = 0;
	size_t n = sort_cases();

	if (!strcmp(requested, "list"))
		list_and_stop(n);
	if (!strcmp(requested, "user"))
		init_run_user_tests("usertests");
	if (!strcmp(requested, "ghost"))
		init_run_user_tests("ghosttests");
	if (!strcmp(requested, "faults"))
		init_run_user_tests("faulttests");
	if (!strcmp(requested, "core"))
		init_run_user_tests("coretests");
	failed += check_names(requested);
	if (n < (size_t)(__ktest_end - __ktest_start))
		failed++;
	uint64_t pages = page_free_count();
	for (size_t i = 0; i < n; i++) {
		const struct ktest *t = ordered[i];
		if (!wanted(requested, t->suite))
			continue;
		if (run_case(t))
			passed++;
		else
			failed++;
	}
	if (page_free_count() != pages) {
		printk("FAIL leak check: %ld pages free before the run, %ld after\n",
		       (long)pages, (long)page_free_count());
		failed++;
	}
	printk("%d passed, %d failed\n", passed, failed);
	trace_dump();
	arch_power_off(failed ? 1 : 0);
}
