/* control/scenario.c: the control program: runs a scenario, a small text file on
 * the ISO (boot/scenarios/NAME.conf) saying which enclaves to make over which CPUs,
 * which agent schedules each, and which programs run where.  The kernel starts it
 * for scenario=NAME (`scenario NAME`); it holds every capability and passes each
 * program only what it needs (CAP_AGENT to agents, nothing to the others).
 *
 * A line is one command; '#' starts a comment:
 *	enclave NAME CPUS	an enclave over CPUS (a list: 1-3,5)
 *	agent NAME PROGRAM ARGS	start PROGRAM with the enclave's id as its first argument
 *	run NAME PROGRAM ARGS	start PROGRAM with every thread born in enclave NAME
 *				(NAME "native": an ordinary program)
 *	monitor MS		while the runs last, a line of counters per enclave every MS
 * Commands run in order; then the scenario waits for every `run` program, destroys
 * its enclaves (their agents' policies go with them) and exits 0 if every run
 * exited 0.  A bad file is refused before anything starts, naming the line. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kernel/uapi/ghost.h>
#include <kernel/uapi/syscall.h>
#include <wisp.h>

#define MAX_LINES	64
#define MAX_ENCLAVES	8
#define MAX_RUNS	16
#define FILE_MAX	8192

struct cmd {
	int line;
	char *word[8];		/* the command's words, NULL-terminated */
	int nwords;
};

static struct {
	char name[24];
	uint64_t cpus;
	int id;
	const char *agent;
} enclaves[MAX_ENCLAVES];
static int nenclaves;

static const char *file;

static int bad(int line, const char *what, const char *arg)
{
	fprintf(stderr, "scenario %s, line %d: %s%s%s%s\n", file, line, what,
		arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	return -1;
}

/* "1-3,5" -> a mask; 0 if malformed. */
static uint64_t parse_cpus(const char *s)
{
	uint64_t m = 0;
	while (*s) {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;
		if (end == s || a > 63)
			return 0;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s || b > 63 || b < a)
				return 0;
		}
		for (unsigned long c = a; c <= b; c++)
			m |= 1ull << c;
		if (*end == ',')
			end++;
		else if (*end)
			return 0;
		s = end;
	}
	return m;
}

static int find(const char *name)
{
	for (int i = 0; i < nenclaves; i++)
		if (!strcmp(enclaves[i].name, name))
			return i;
	return -1;
}

/* Check every line before anything starts. */
static int check(struct cmd *c, int n)
{
	for (int i = 0; i < n; i++) {
		const char *op = c[i].word[0];
		int nw = c[i].nwords, line = c[i].line;
		if (!strcmp(op, "enclave")) {
			if (nw != 3)
				return bad(line, "usage: enclave NAME CPUS", NULL);
			if (find(c[i].word[1]) >= 0 || !strcmp(c[i].word[1], "native"))
				return bad(line, "enclave name already used:", c[i].word[1]);
			if (nenclaves == MAX_ENCLAVES || strlen(c[i].word[1]) >= sizeof(enclaves[0].name))
				return bad(line, "too many enclaves, or name too long:", c[i].word[1]);
			uint64_t m = parse_cpus(c[i].word[2]);
			if (!m)
				return bad(line, "not a CPU list (like 1-3,5):", c[i].word[2]);
			strcpy(enclaves[nenclaves].name, c[i].word[1]);
			enclaves[nenclaves++].cpus = m;
		} else if (!strcmp(op, "agent") || !strcmp(op, "run")) {
			if (nw < 3)
				return bad(line, "usage: agent|run ENCLAVE PROGRAM ARGS...", NULL);
			bool native = !strcmp(op, "run") && !strcmp(c[i].word[1], "native");
			if (!native && find(c[i].word[1]) < 0)
				return bad(line, "no enclave named", c[i].word[1]);
			char probe;
			if (wisp_module_read(c[i].word[2], &probe, 1, 0) < 0)
				return bad(line, "no program named", c[i].word[2]);
			if (!strcmp(op, "agent")) {
				int e = find(c[i].word[1]);
				if (enclaves[e].agent)
					return bad(line, "the enclave has an agent already:", c[i].word[1]);
				enclaves[e].agent = c[i].word[2];
			}
		} else if (!strcmp(op, "monitor")) {
			if (nw != 2 || atoi(c[i].word[1]) <= 0)
				return bad(line, "usage: monitor MILLISECONDS", NULL);
		} else {
			return bad(line, "unknown command", op);
		}
	}
	for (int i = 0; i < nenclaves; i++)
		for (int j = 0; j < i; j++)
			if (enclaves[i].cpus & enclaves[j].cpus)
				return bad(0, "two enclaves share a CPU:", enclaves[i].name);
	return 0;
}

/* Split the file into commands (words separated by blanks). */
static int parse(char *text, struct cmd *c)
{
	int n = 0, line = 0;
	for (char *s = text; s && *s;) {
		char *eol = strchr(s, '\n');
		if (eol)
			*eol = '\0';
		line++;
		char *hash = strchr(s, '#');
		if (hash)
			*hash = '\0';
		struct cmd k = { .line = line };
		for (char *w = strtok(s, " \t\r"); w; w = strtok(NULL, " \t\r")) {
			if (k.nwords == 7)
				return bad(line, "too many words", NULL);
			k.word[k.nwords++] = w;
		}
		if (k.nwords) {
			if (n == MAX_LINES)
				return bad(line, "too many commands", NULL);
			c[n++] = k;
		}
		s = eol ? eol + 1 : NULL;
	}
	return n;
}

static void join_words(char *out, size_t size, char **w, const char *first_arg)
{
	snprintf(out, size, "%s", w[0]);
	if (first_arg)
		snprintf(out + strlen(out), size - strlen(out), " %s", first_arg);
	for (int i = 1; w[i]; i++)
		snprintf(out + strlen(out), size - strlen(out), " %s", w[i]);
}

static void monitor_line(uint64_t t0)
{
	struct ghost_enclave_info info[MAX_ENCLAVES];
	long n = wisp_ghost(GHOST_ENCLAVE_LIST, (long)info, MAX_ENCLAVES, 0);
	printf("[%6.1f s]", (double)(wisp_clock_ns() - t0) / 1e9);
	for (long i = 0; i < n && i < MAX_ENCLAVES; i++)
		for (int k = 0; k < nenclaves; k++)
			if (enclaves[k].id == (int)info[i].id)
				printf("  %s: %u threads, %llu msgs, %llu commits", enclaves[k].name,
				       info[i].nthreads, (unsigned long long)info[i].messages,
				       (unsigned long long)info[i].commits);
	printf("\n");
}

int main(int argc, char **argv)
{
	static char text[FILE_MAX];
	static struct cmd cmds[MAX_LINES];
	char name[80];
	long runs[MAX_RUNS];
	int nruns = 0, failed = 0;
	uint64_t monitor_ns = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: scenario NAME (runs boot/scenarios/NAME.conf)\n");
		return 2;
	}
	snprintf(name, sizeof(name), "%s.conf", argv[1]);
	file = name;
	long len = wisp_module_read(name, text, sizeof(text) - 1, 0);
	if (len < 0) {
		fprintf(stderr, "scenario: no scenario named %s (no module %s)\n", argv[1], name);
		return 2;
	}
	if (len == sizeof(text) - 1) {
		fprintf(stderr, "scenario %s: longer than %d bytes\n", name, FILE_MAX - 1);
		return 2;
	}
	text[len] = '\0';
	int n = parse(text, cmds);
	if (n < 0 || check(cmds, n) < 0)
		return 2;

	printf("scenario %s: %d enclaves\n", name, nenclaves);
	for (int i = 0; i < n; i++) {
		struct cmd *c = &cmds[i];
		char cmdline[256], id[16];
		long r = 0;
		if (!strcmp(c->word[0], "enclave")) {
			int e = find(c->word[1]);
			r = wisp_ghost(GHOST_ENCLAVE_CREATE, (long)enclaves[e].cpus, 0, 0);
			enclaves[e].id = (int)r;
			if (r > 0)
				printf("scenario: enclave %s = %ld over CPUs %s\n", c->word[1], r, c->word[2]);
		} else if (!strcmp(c->word[0], "agent")) {
			snprintf(id, sizeof(id), "%d", enclaves[find(c->word[1])].id);
			join_words(cmdline, sizeof(cmdline), &c->word[2], id);
			r = wisp_spawn_caps(cmdline, CAP_AGENT);
		} else if (!strcmp(c->word[0], "run")) {
			int e = find(c->word[1]);
			join_words(cmdline, sizeof(cmdline), &c->word[2], NULL);
			r = wisp_spawn_enclave(cmdline, 0, e < 0 ? 0 : enclaves[e].id);
			if (r > 0 && nruns < MAX_RUNS)
				runs[nruns++] = r;
		} else if (!strcmp(c->word[0], "monitor")) {
			monitor_ns = (uint64_t)atoi(c->word[1]) * 1000000ull;
		}
		if (r < 0) {
			bad(c->line, "failed:", c->word[0]);
			return 1;
		}
	}
	uint64_t t0 = wisp_clock_ns();
	while (monitor_ns) {
		wisp_sleep_ns(monitor_ns);
		/* Runs still going while any enclave has threads (native runs are waited
		 * for below). */
		struct ghost_enclave_info info[MAX_ENCLAVES];
		long k = wisp_ghost(GHOST_ENCLAVE_LIST, (long)info, MAX_ENCLAVES, 0);
		int busy = 0;
		for (long i = 0; i < k && i < MAX_ENCLAVES; i++)
			busy += info[i].nthreads > 0;
		if (!busy)
			break;
		monitor_line(t0);
	}
	for (int i = 0; i < nruns; i++) {
		int status = -1;
		if (wisp_wait(runs[i], &status) != runs[i] || status != 0)
			failed++;
	}
	if (monitor_ns)
		monitor_line(t0);
	for (int i = 0; i < nenclaves; i++)
		if (enclaves[i].id > 0)
			wisp_ghost(GHOST_ENCLAVE_DESTROY, enclaves[i].id, 0, 0);
	printf("scenario %s: %d programs run, %d failed\n", name, nruns, failed);
	return failed ? 1 : 0;
}
