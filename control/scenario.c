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
 *	serve NAME PROGRAM ARGS	start PROGRAM natively with CAP_ENCLAVE and the
 *				enclave's id (0 for "native") as its first argument: it
 *				moves the threads it chooses into the enclave itself (a
 *				load generator stays outside: workloads/dispersion)
 *	watchdog NAME MS	the enclave's watchdog timeout (0: off; default 1000)
 *	isolate NAME		core isolation for the enclave (GHOST_ENCLAVE_CORE_ISOLATE):
 *				SMT siblings never run two security domains at once;
 *				the enclave must hold whole cores; `recreate` keeps it
 *	cookie N		the scenario's own security domain (wisp_set_cookie):
 *				every program it starts after this, agents included,
 *				inherits it, until the next `cookie`; `cookie 0` ends it
 *	monitor MS		a line of counters per enclave every MS, during
 *				`sleep` and after the last command while runs last
 *	sleep MS		wait; the runs go on (what follows happens at run time)
 *	wait NAME N		wait until enclave NAME has N threads or more (a
 *				`serve` program moves its own in when it is ready);
 *				fails after WAIT_THREADS_NS
 *	upgrade NAME PROGRAM ARGS   live upgrade: PROGRAM takes over the enclave from
 *				its agent (started `PROGRAM ID upgrade ARGS`); the
 *				threads stay in the enclave; an old agent that has not
 *				stepped down after UPGRADE_WAIT is killed
 *	recreate NAME PROGRAM ARGS  the other path: destroy the enclave (threads go
 *				native), make it again over the same CPUs with PROGRAM
 *				as agent, and move its threads back: the `run`
 *				programs' (and so their later threads), and those a
 *				`serve` program had moved in
 *	destroy NAME		destroy the enclave now; its threads go native
 * Commands run in order; then the scenario waits for every `run` program, destroys
 * its enclaves (their agents' policies go with them) and exits 0 if every run and
 * every upgrade succeeded.  An upgrade prints its blackout (GHOST_ENCLAVE_BLACKOUT:
 * the longest a thread waited with a CPU of the enclave free) and fails if a thread
 * left the ghost class.  A bad file is refused before anything starts, naming the
 * line. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kernel/uapi/ghost.h>
#include <kernel/uapi/syscall.h>
#include <wisp.h>

#define MAX_LINES	64
#define MAX_WORDS	16
#define MAX_ENCLAVES	8
#define MAX_RUNS	16
#define FILE_MAX	8192
#define UPGRADE_WAIT_NS	10000000000ull	/* for the old agent to step down */
#define SETTLE_NS	100000000ull	/* after an upgrade, before the blackout is read */
#define WAIT_THREADS_NS	60000000000ull	/* `wait`: for an enclave to fill */

struct cmd {
	int line;
	char *word[MAX_WORDS + 1];	/* the command's words, NULL-terminated */
	int nwords;
};

static struct {
	char name[24];
	uint64_t cpus;
	int id;
	const char *agent;
	long agent_task;	/* the agent running it now, 0 if none */
	long watchdog_ms;	/* -1: the kernel's default */
	bool isolated;		/* `isolate`: kept when the enclave is recreated */
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
		} else if (!strcmp(op, "agent") || !strcmp(op, "run") || !strcmp(op, "serve")) {
			if (nw < 3)
				return bad(line, "usage: agent|run|serve ENCLAVE PROGRAM ARGS...", NULL);
			bool native = strcmp(op, "agent") && !strcmp(c[i].word[1], "native");
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
		} else if (!strcmp(op, "upgrade") || !strcmp(op, "recreate")) {
			if (nw < 3)
				return bad(line, "usage: upgrade|recreate ENCLAVE PROGRAM ARGS...", NULL);
			int e = find(c[i].word[1]);
			if (e < 0)
				return bad(line, "no enclave named", c[i].word[1]);
			if (!enclaves[e].agent)
				return bad(line, "no agent to upgrade yet in", c[i].word[1]);
			char probe;
			if (wisp_module_read(c[i].word[2], &probe, 1, 0) < 0)
				return bad(line, "no program named", c[i].word[2]);
		} else if (!strcmp(op, "destroy")) {
			if (nw != 2 || find(c[i].word[1]) < 0)
				return bad(line, "usage: destroy ENCLAVE (an enclave named before)", NULL);
		} else if (!strcmp(op, "watchdog")) {
			char *end = NULL;
			long ms = nw == 3 ? strtol(c[i].word[2], &end, 10) : -1;
			if (nw != 3 || *end || ms < 0 || (ms > 0 && ms < 10) || ms > 3600000)
				return bad(line, "usage: watchdog ENCLAVE MS (0: off, else 10 to "
					   "3600000)", NULL);
			if (find(c[i].word[1]) < 0)
				return bad(line, "no enclave named", c[i].word[1]);
		} else if (!strcmp(op, "isolate")) {
			if (nw != 2 || find(c[i].word[1]) < 0)
				return bad(line, "usage: isolate ENCLAVE (an enclave named before)", NULL);
		} else if (!strcmp(op, "cookie")) {
			char *end = NULL;
			unsigned long v = nw == 2 ? strtoul(c[i].word[1], &end, 0) : 0;
			if (nw != 2 || end == c[i].word[1] || *end || v > UINT32_MAX)
				return bad(line, "usage: cookie N (a security domain, 0 to 4294967295; "
					   "0: none)", NULL);
		} else if (!strcmp(op, "wait")) {
			if (nw != 3 || find(c[i].word[1]) < 0 || atoi(c[i].word[2]) <= 0)
				return bad(line, "usage: wait ENCLAVE THREADS (an enclave named "
					   "before, a positive count)", NULL);
		} else if (!strcmp(op, "monitor") || !strcmp(op, "sleep")) {
			if (nw != 2 || atoi(c[i].word[1]) <= 0)
				return bad(line, "usage: monitor|sleep MILLISECONDS", NULL);
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
			if (k.nwords == MAX_WORDS)
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

/* Sleep, with monitor lines on their period. */
static uint64_t monitor_ns, t0, next_line;

static void sleep_ms(long ms)
{
	uint64_t end = wisp_clock_ns() + (uint64_t)ms * 1000000ull;
	for (uint64_t now = wisp_clock_ns(); now < end; now = wisp_clock_ns()) {
		uint64_t until = monitor_ns && next_line < end ? next_line : end;
		if (until > now)
			wisp_sleep_ns(until - now);
		if (monitor_ns && wisp_clock_ns() >= next_line) {
			monitor_line(t0);
			next_line += monitor_ns;
		}
	}
}

/* Wait (bounded) until every CPU of enclave e has an agent thread. */
static bool agents_up(int e, uint64_t bound_ns)
{
	struct ghost_enclave_info info;
	uint64_t end = wisp_clock_ns() + bound_ns;
	int want = __builtin_popcountll(enclaves[e].cpus);
	while (!wisp_enclave_info(enclaves[e].id, &info) && (int)info.agents < want) {
		if (wisp_clock_ns() > end)
			return false;
		wisp_sleep_ns(1000000);
	}
	return !wisp_enclave_info(enclaves[e].id, &info);
}

/* `wait`: until enclave e has n threads or more; 0, or -1 after WAIT_THREADS_NS. */
static int wait_threads(int e, uint32_t n)
{
	struct ghost_enclave_info info = { 0 };
	uint64_t end = wisp_clock_ns() + WAIT_THREADS_NS;
	while (!wisp_enclave_info(enclaves[e].id, &info) && info.nthreads < n) {
		if (wisp_clock_ns() > end)
			break;
		sleep_ms(1);
	}
	if (info.nthreads >= n)
		return 0;
	fprintf(stderr, "scenario: wait %s: %u threads after %llu s, not %u\n", enclaves[e].name,
		info.nthreads, WAIT_THREADS_NS / 1000000000ull, n);
	return -1;
}

static long spawn_agent(int e, char **words, const char *extra)
{
	char cmdline[256], id[32];
	snprintf(id, sizeof(id), extra ? "%d %s" : "%d", enclaves[e].id, extra);
	join_words(cmdline, sizeof(cmdline), words, id);
	return wisp_spawn_caps(cmdline, CAP_AGENT);
}

static void reap(int e, long task)
{
	int status = -1;
	if (task > 0 && wisp_wait(task, &status) == task)
		printf("scenario: enclave %s: agent task %ld ended, status %d\n",
		       enclaves[e].name, task, status);
}

/* Live upgrade of enclave e to the agent words[]: 0, or -1 after saying why. */
static int upgrade(int e, char **words)
{
	struct ghost_enclave_info before, now;
	int id = enclaves[e].id;
	if (wisp_enclave_info(id, &before)) {
		fprintf(stderr, "scenario: upgrade: enclave %s has gone\n", enclaves[e].name);
		return -1;
	}
	wisp_ghost(GHOST_ENCLAVE_BLACKOUT, id, 1, 0);
	uint64_t start = wisp_clock_ns();
	long task = spawn_agent(e, words, "upgrade");
	if (task < 0) {
		fprintf(stderr, "scenario: upgrade: cannot start %s: %ld\n", words[0], task);
		return -1;
	}
	long old = enclaves[e].agent_task;
	bool killed = false;
	while (!wisp_enclave_info(id, &now) && now.upgrades == before.upgrades) {
		if (!killed && wisp_clock_ns() - start > UPGRADE_WAIT_NS) {
			printf("scenario: enclave %s: agent task %ld has not stepped down: "
			       "killing it\n", enclaves[e].name, old);
			wisp_kill(old);
			killed = true;
		} else if (wisp_clock_ns() - start > 2 * UPGRADE_WAIT_NS) {
			fprintf(stderr, "scenario: upgrade of %s: no handover\n", enclaves[e].name);
			return -1;
		}
		wisp_sleep_ns(200000);
	}
	uint64_t handover = wisp_clock_ns() - start;
	reap(e, old);
	enclaves[e].agent_task = task;
	if (!agents_up(e, UPGRADE_WAIT_NS) || wisp_enclave_info(id, &now)) {
		fprintf(stderr, "scenario: upgrade of %s: the new agent did not start\n",
			enclaves[e].name);
		return -1;
	}
	wisp_sleep_ns(SETTLE_NS);
	long blackout = wisp_ghost(GHOST_ENCLAVE_BLACKOUT, id, 0, 0);
	printf("scenario: enclave %s upgraded live to %s (task %ld) in %llu us: blackout "
	       "%ld us, %llu threads went native\n", enclaves[e].name, words[0], task,
	       (unsigned long long)(handover / 1000), blackout / 1000,
	       (unsigned long long)(now.natives - before.natives));
	return now.natives == before.natives ? 0 : -1;
}

static long runs[MAX_RUNS];
static int run_enclave[MAX_RUNS];	/* index into enclaves[], -1 native */
static int nruns;

static int create(int e)
{
	long r = wisp_ghost(GHOST_ENCLAVE_CREATE, (long)enclaves[e].cpus, 0, 0);
	enclaves[e].id = (int)r;
	if (r > 0 && enclaves[e].watchdog_ms >= 0)
		r = wisp_ghost(GHOST_ENCLAVE_WATCHDOG, r, enclaves[e].watchdog_ms * 1000000, 0);
	if (r >= 0 && enclaves[e].isolated)
		r = wisp_ghost(GHOST_ENCLAVE_CORE_ISOLATE, enclaves[e].id, 1, 0);
	return r < 0 ? -1 : 0;
}

/* Destroy and recreate enclave e with the agent words[]: 0, or -1.  The threads it
 * had go back in: those `run` programs own (with them, the threads they start
 * later) and those a `serve` program moved in. */
static int recreate(int e, char **words)
{
	static uint64_t had[GHOST_MAX_THREADS];
	uint64_t start = wisp_clock_ns();
	long old = enclaves[e].agent_task;
	long nhad = wisp_ghost(GHOST_ENCLAVE_THREADS, enclaves[e].id, (long)had, GHOST_MAX_THREADS);
	wisp_ghost(GHOST_ENCLAVE_DESTROY, enclaves[e].id, 0, 0);
	reap(e, old);
	if (create(e) < 0) {
		fprintf(stderr, "scenario: recreate %s: cannot make the enclave\n", enclaves[e].name);
		return -1;
	}
	long task = spawn_agent(e, words, NULL);
	enclaves[e].agent_task = task;
	if (task < 0 || !agents_up(e, UPGRADE_WAIT_NS)) {
		fprintf(stderr, "scenario: recreate %s: the agent did not start\n", enclaves[e].name);
		return -1;
	}
	int moved = 0;
	for (int i = 0; i < nruns; i++) {
		long n = run_enclave[i] == e ? wisp_ghost(GHOST_ENCLAVE_ADD_TASK, enclaves[e].id,
							 runs[i], 0) : 0;
		moved += n > 0 ? (int)n : 0;
	}
	/* The others it had (a thread back in already answers EBUSY, one that has
	 * ended meanwhile ENOENT). */
	for (long i = 0; i < nhad && i < GHOST_MAX_THREADS; i++)
		moved += wisp_ghost(GHOST_ENCLAVE_ADD_THREAD, enclaves[e].id, (long)had[i], 0) == 0;
	uint64_t took = wisp_clock_ns() - start;
	wisp_sleep_ns(SETTLE_NS);
	long blackout = wisp_ghost(GHOST_ENCLAVE_BLACKOUT, enclaves[e].id, 0, 0);
	printf("scenario: enclave %s recreated as %d with %s (task %ld) in %llu us: %d threads "
	       "back in, blackout %ld us\n", enclaves[e].name, enclaves[e].id, words[0], task,
	       (unsigned long long)(took / 1000), moved, blackout / 1000);
	return 0;
}

int main(int argc, char **argv)
{
	static char text[FILE_MAX];
	static struct cmd cmds[MAX_LINES];
	char name[80];
	int failed = 0;

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
	for (int e = 0; e < nenclaves; e++)
		enclaves[e].watchdog_ms = -1;
	t0 = wisp_clock_ns();
	for (int i = 0; i < n; i++) {
		struct cmd *c = &cmds[i];
		char cmdline[256];
		const char *op = c->word[0];
		int e = c->nwords > 1 ? find(c->word[1]) : -1;
		long r = 0;
		int err = 0;	/* the errno a failed isolate or cookie names */
		if (!strcmp(op, "enclave")) {
			r = create(e);
			if (!r)
				printf("scenario: enclave %s = %d over CPUs %s\n", c->word[1],
				       enclaves[e].id, c->word[2]);
		} else if (!strcmp(op, "agent")) {
			r = enclaves[e].agent_task = spawn_agent(e, &c->word[2], NULL);
		} else if (!strcmp(op, "run")) {
			join_words(cmdline, sizeof(cmdline), &c->word[2], NULL);
			r = wisp_spawn_enclave(cmdline, 0, e < 0 ? 0 : enclaves[e].id);
			if (r > 0 && nruns < MAX_RUNS) {
				run_enclave[nruns] = e;
				runs[nruns++] = r;
			}
		} else if (!strcmp(op, "serve")) {
			char id[16];
			snprintf(id, sizeof(id), "%d", e < 0 ? 0 : enclaves[e].id);
			join_words(cmdline, sizeof(cmdline), &c->word[2], id);
			r = wisp_spawn_caps(cmdline, CAP_ENCLAVE);
			if (r > 0 && nruns < MAX_RUNS) {
				run_enclave[nruns] = -1;
				runs[nruns++] = r;
			}
		} else if (!strcmp(op, "watchdog")) {
			enclaves[e].watchdog_ms = atol(c->word[2]);
			r = wisp_ghost(GHOST_ENCLAVE_WATCHDOG, enclaves[e].id,
				       enclaves[e].watchdog_ms * 1000000, 0);
		} else if (!strcmp(op, "monitor")) {
			monitor_ns = (uint64_t)atoi(c->word[1]) * 1000000ull;
			next_line = wisp_clock_ns() + monitor_ns;
		} else if (!strcmp(op, "sleep")) {
			sleep_ms(atol(c->word[1]));
		} else if (!strcmp(op, "wait")) {
			r = wait_threads(e, (uint32_t)atoi(c->word[2]));
		} else if (!strcmp(op, "upgrade")) {
			r = upgrade(e, &c->word[2]);
		} else if (!strcmp(op, "recreate")) {
			r = recreate(e, &c->word[2]);
		} else if (!strcmp(op, "destroy")) {
			r = wisp_ghost(GHOST_ENCLAVE_DESTROY, enclaves[e].id, 0, 0);
			reap(e, enclaves[e].agent_task);
			enclaves[e].agent_task = 0;
			enclaves[e].id = 0;
		} else if (!strcmp(op, "isolate")) {
			r = wisp_ghost(GHOST_ENCLAVE_CORE_ISOLATE, enclaves[e].id, 1, 0);
			err = (int)-r;
			enclaves[e].isolated = r == 0;
		} else if (!strcmp(op, "cookie")) {
			r = wisp_set_cookie(0, (uint32_t)strtoul(c->word[1], NULL, 0));
			err = r < 0 ? errno : 0;
		}
		if (r < 0) {
			char why[96];
			snprintf(why, sizeof(why), "%s: %s", c->word[0], strerror(err));
			bad(c->line, "failed:", err > 0 ? why : c->word[0]);
			return 1;
		}
	}
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
		if (enclaves[i].id > 0) {
			wisp_ghost(GHOST_ENCLAVE_DESTROY, enclaves[i].id, 0, 0);
			reap(i, enclaves[i].agent_task);
		}
	printf("scenario %s: %d programs run, %d failed\n", name, nruns, failed);
	return failed ? 1 : 0;
}
