/* tools/perfetto.c: a wisp boot log's context-switch trace (kernel argument trace=N,
 * kernel/trace.c) as a timeline that ui.perfetto.dev and chrome://tracing open: one
 * track per CPU, one slice per stretch a thread ran there, named after its task and
 * coloured by its class (idle time is left blank).  The file is the JSON Trace Event
 * Format: "X" (complete) events with ts and dur in microseconds, "M" metadata events
 * naming the tracks.  Host tool, plain C.
 *
 * Commits (a ghost thread made a CPU's next) are instant events on the CPU's track.
 * It also prints, per CPU, the time each class had, the switches dropped, and how
 * long committed threads took to run there (commit to switch: median and p99), so a
 * test can check a run's placement (no ghost thread on a CPU outside its enclave)
 * and a policy's decisions can be judged by their latency.
 *
 * usage: perfetto LOG OUT.json   (exit 1 if LOG has no complete, well-formed trace) */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CPUS	64
#define MAX_TASKS	4096
#define LINE_MAX_LEN	512

struct event {
	uint64_t ns, tid;
	unsigned task;
	char cls;
};

static struct cpu {
	struct event *ev;
	size_t n, cap;
	unsigned long long kept, dropped;	/* from its "cpu" line */
	bool closed;
} cpus[MAX_CPUS];

static struct {
	unsigned id;
	char name[40];
} tasks[MAX_TASKS];
static unsigned ntasks;
static unsigned ncpus;			/* the trace's "begin" */
static unsigned long long end_ns;	/* the trace's "end" */

static int fail(const char *log, unsigned long line, const char *why)
{
	fprintf(stderr, "perfetto: %s:%lu: %s\n", log, line, why);
	return 1;
}

static const char *task_name(unsigned id)
{
	for (unsigned i = 0; i < ntasks; i++)
		if (tasks[i].id == id)
			return tasks[i].name;
	return id ? "task" : "kernel";
}

static const char *class_name(char c)
{
	return c == 'n' ? "native" : c == 'a' ? "agent" : c == 'g' ? "ghost" : "idle";
}

/* JSON string contents: task names are module names, but escape what JSON needs. */
static void put_escaped(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', o);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, o);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The next switch on c after event k (a commit is not one), c->n if none. */
static size_t next_switch(const struct cpu *c, size_t k)
{
	while (++k < c->n && c->ev[k].cls == 'c')
		;
	return k;
}

static int push(struct cpu *c, struct event e)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		struct event *ev = realloc(c->ev, cap * sizeof(*ev));
		if (!ev)
			return -1;
		c->ev = ev;
		c->cap = cap;
	}
	c->ev[c->n++] = e;
	return 0;
}

/* Read log's trace into cpus[] and tasks[]: 0, or 1 after saying what is wrong. */
static int read_log(const char *log)
{
	FILE *in = fopen(log, "r");
	if (!in) {
		perror(log);
		return 1;
	}
	char line[LINE_MAX_LEN];
	unsigned long lineno = 0;
	unsigned per_cpu = 0;
	bool begun = false, ended = false;
	int err = 0;

	while (!err && fgets(line, sizeof(line), in)) {
		lineno++;
		char *p = strstr(line, "trace: ");	/* a console line may carry a prefix */
		if (!p || ended)
			continue;
		p += 7;
		unsigned cpu, task;
		unsigned long long ns, tid, kept, dropped;
		char cls, name[40];
		if (sscanf(p, "begin %u %u", &ncpus, &per_cpu) == 2) {
			if (begun || ncpus < 1 || ncpus > MAX_CPUS)
				err = fail(log, lineno, "a second or bad 'begin'");
			begun = true;
		} else if (!begun) {
			continue;	/* a line that only looks like ours */
		} else if (sscanf(p, "task %u %39s", &task, name) == 2) {
			if (ntasks < MAX_TASKS) {
				tasks[ntasks].id = task;
				strcpy(tasks[ntasks++].name, name);
			}
		} else if (sscanf(p, "cpu %u %llu %llu", &cpu, &kept, &dropped) == 3) {
			if (cpu >= ncpus || cpus[cpu].closed || kept != cpus[cpu].n)
				err = fail(log, lineno, "a CPU's count does not match its events");
			else
				cpus[cpu] = (struct cpu){ .ev = cpus[cpu].ev, .n = cpus[cpu].n,
							  .cap = cpus[cpu].cap, .kept = kept,
							  .dropped = dropped, .closed = true };
		} else if (sscanf(p, "end %llu", &end_ns) == 1) {
			ended = true;
		} else if (sscanf(p, "%u %llu %llx %u %c", &cpu, &ns, &tid, &task, &cls) == 5) {
			struct cpu *c = &cpus[cpu < MAX_CPUS ? cpu : 0];
			if (cpu >= ncpus || c->closed || !strchr("nagic", cls))
				err = fail(log, lineno, "an event on no CPU of the trace, or of no kind");
			else if (c->n && ns < c->ev[c->n - 1].ns)
				err = fail(log, lineno, "a CPU's events go back in time");
			else if (push(c, (struct event){ .ns = ns, .tid = tid, .task = task, .cls = cls }))
				err = fail(log, lineno, "out of memory");
		} else if (!strstr(p, "task names not kept")) {
			err = fail(log, lineno, "a trace line it cannot read");
		}
	}
	fclose(in);
	if (err)
		return err;
	if (!begun || !ended)
		return fail(log, lineno, begun ? "the trace has no end (the run stopped?)" :
					     "no trace (boot with trace=N)");
	for (unsigned i = 0; i < ncpus; i++)
		if (!cpus[i].closed)
			return fail(log, lineno, "a CPU's trace is missing");
	return 0;
}

/* How long the thread committed by event k ran after it: its latency, or -1 if the
 * next ghost thread switched to on c was another (or none came: taken back). */
static int64_t commit_latency(const struct cpu *c, size_t k)
{
	const struct event *e = &c->ev[k];
	size_t s = k + 1;

	/* The agent or idle may run in between; another commit or another ghost
	 * thread first means it never ran here. */
	while (s < c->n && c->ev[s].cls != 'c' && c->ev[s].tid != e->tid && c->ev[s].cls != 'g')
		s++;
	if (s < c->n && c->ev[s].cls == 'g' && c->ev[s].tid == e->tid)
		return (int64_t)(c->ev[s].ns - e->ns);
	return -1;
}

/* Write CPU i's track to o and print its line; its slices and commits counted. */
static int write_cpu(FILE *o, unsigned i, unsigned long long *slices, size_t *commits)
{
	struct cpu *c = &cpus[i];
	uint64_t by_class[4] = { 0 };	/* native, agent, ghost, idle */
	uint64_t *lat = malloc((c->n + 1) * sizeof(*lat));
	size_t ran = 0;

	if (!lat)
		return 1;
	*commits = 0;
	fprintf(o, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
		"\"args\":{\"name\":\"CPU %u\"}}", i, i);
	for (size_t k = 0; k < c->n; k++) {
		struct event *e = &c->ev[k];
		if (e->cls == 'c') {
			int64_t l = commit_latency(c, k);
			if (l >= 0)
				lat[ran++] = (uint64_t)l;
			++*commits;
			fprintf(o, ",\n{\"name\":\"commit ");
			put_escaped(o, task_name(e->task));
			fprintf(o, " %#" PRIx64 "\",\"cat\":\"commit\",\"ph\":\"i\",\"s\":\"t\","
				"\"pid\":1,\"tid\":%u,\"ts\":%" PRIu64 ".%03u}", e->tid, i,
				e->ns / 1000, (unsigned)(e->ns % 1000));
			continue;
		}
		/* A full buffer stops early: its last stretch ends unknown, not at the end. */
		size_t nx = next_switch(c, k);
		uint64_t until = nx < c->n ? c->ev[nx].ns : c->dropped ? e->ns : end_ns;
		uint64_t dur = until > e->ns ? until - e->ns : 0;
		by_class[strchr("nagi", e->cls) - "nagi"] += dur;
		if (e->cls == 'i' || !dur)
			continue;
		fprintf(o, ",\n{\"name\":\"");
		put_escaped(o, task_name(e->task));
		fprintf(o, " %#" PRIx64 "\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":1,\"tid\":%u,"
			"\"ts\":%" PRIu64 ".%03u,\"dur\":%" PRIu64 ".%03u,\"args\":{\"tid\":\"%#"
			PRIx64 "\",\"task\":%u,\"class\":\"%s\"}}", e->tid, class_name(e->cls), i,
			e->ns / 1000, (unsigned)(e->ns % 1000), dur / 1000, (unsigned)(dur % 1000),
			e->tid, e->task, class_name(e->cls));
		++*slices;
	}
	printf("cpu %u: %zu switches, %llu dropped; native %" PRIu64 " us, agent %" PRIu64
	       " us, ghost %" PRIu64 " us, idle %" PRIu64 " us; %zu commits, %zu ran", i,
	       c->n - *commits, c->dropped, by_class[0] / 1000, by_class[1] / 1000,
	       by_class[2] / 1000, by_class[3] / 1000, *commits, ran);
	if (ran) {
		qsort(lat, ran, sizeof(*lat), cmp_u64);
		printf(": commit to run median %" PRIu64 " us, p99 %" PRIu64 " us",
		       lat[ran / 2] / 1000, lat[(ran * 99) / 100] / 1000);
	}
	printf("\n");
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: perfetto LOG OUT.json\n");
		return 2;
	}
	if (read_log(argv[1]))
		return 1;
	FILE *o = fopen(argv[2], "w");
	if (!o) {
		perror(argv[2]);
		return 1;
	}
	fprintf(o, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
	fprintf(o, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"wisp\"}}");
	unsigned long long slices = 0, switches = 0, lost = 0;
	for (unsigned i = 0; i < ncpus; i++) {
		size_t commits;
		if (write_cpu(o, i, &slices, &commits)) {
			fprintf(stderr, "perfetto: out of memory\n");
			return 1;
		}
		switches += cpus[i].n - commits;
		lost += cpus[i].dropped;
		free(cpus[i].ev);
	}
	fprintf(o, "\n]}\n");
	if (fclose(o)) {
		perror(argv[2]);
		return 1;
	}
	printf("perfetto: %llu switches on %u CPUs (%llu dropped), %u tasks: %llu slices in %s\n",
	       switches, ncpus, lost, ntasks, slices, argv[2]);
	return 0;
}
