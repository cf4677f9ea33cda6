/* tools/benchreport.c: make bench's report.  Reads the JSON lines tools/bench left
 * in a directory and writes there report.md (wisp and Linux side by side, with
 * ratios) and two SVG plots: short-request p99 latency against offered load for
 * each system and policy, and the short-request latency CDF at one load.  Host
 * tool, plain C; the JSON it reads is the benchmarks' own flat objects.
 * usage: benchreport DIR    (exit 1 if a file it needs is missing or empty) */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES	256
#define LINE_MAX_LEN	4096

struct file {
	int n;
	char *line[MAX_LINES];
};

static const char *dir;
static int missing;

static struct file load(const char *name)
{
	struct file f = { 0 };
	char path[1024], buf[LINE_MAX_LEN];
	snprintf(path, sizeof(path), "%s/%s.jsonl", dir, name);
	FILE *in = fopen(path, "r");
	while (in && f.n < MAX_LINES && fgets(buf, sizeof(buf), in))
		f.line[f.n++] = strdup(buf);
	if (in)
		fclose(in);
	if (!f.n) {
		fprintf(stderr, "benchreport: nothing in %s\n", path);
		missing = 1;
	}
	return f;
}

/* The value of "key" in a flat JSON object: a number (NAN if absent) or a string. */
static double num(const char *line, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(line, pat);
	return p ? strtod(p + strlen(pat), NULL) : NAN;
}

static bool str(const char *line, const char *key, char *out, size_t n)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	size_t k = 0;
	while (*p && *p != '"' && k + 1 < n)
		out[k++] = *p++;
	out[k] = '\0';
	return true;
}

/* The line of f whose "metric" is metric, or NULL. */
static const char *metric(const struct file *f, const char *m)
{
	char v[64];
	for (int i = 0; i < f->n; i++)
		if (str(f->line[i], "metric", v, sizeof(v)) && !strcmp(v, m))
			return f->line[i];
	return NULL;
}

static void micro_table(FILE *o, const char *cpus, struct file *w, struct file *l)
{
	static const char *const names[] = { "null_syscall_ns", "futex_pingpong_ns",
					     "wakeup_latency_ns", "thread_create_join_ns" };
	for (int i = 0; i < 4; i++) {
		const char *a = metric(w, names[i]), *b = metric(l, names[i]);
		if (!a || !b)
			continue;
		double wm = num(a, "median"), lm = num(b, "median");
		fprintf(o, "| %s | %s | %.0f (%.0f) | %.0f (%.0f) | %.2f |\n", names[i], cpus, wm,
			num(a, "p99"), lm, num(b, "p99"), wm > 0 ? lm / wm : NAN);
	}
}

/* Dispersion results: one series per system or policy. */
#define MAX_SERIES	8
#define MAX_POINTS	16

struct series {
	char name[32];
	int n;
	double rate[MAX_POINTS], tput[MAX_POINTS], p50[MAX_POINTS], p99[MAX_POINTS],
	       p999[MAX_POINTS], lp99[MAX_POINTS];
	double cdf_rate, cdf[102];
	int cdf_n;
};

static struct series ser[MAX_SERIES];
static int nser;

static void add_series(const char *file, const char *name)
{
	struct file f = load(file);
	struct series *s = &ser[nser++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	for (int i = 0; i < f.n; i++) {
		const char *ln = f.line[i];
		if (strstr(ln, "\"bench\":\"dispersion\"") && s->n < MAX_POINTS) {
			s->rate[s->n] = num(ln, "offered_rps");
			s->tput[s->n] = num(ln, "throughput_rps");
			s->p50[s->n] = num(ln, "short_p50_us");
			s->p99[s->n] = num(ln, "short_p99_us");
			s->p999[s->n] = num(ln, "short_p999_us");
			s->lp99[s->n] = num(ln, "long_p99_us");
			s->n++;
		} else if (strstr(ln, "\"bench\":\"dispersion_cdf\"")) {
			s->cdf_rate = num(ln, "offered_rps");
			const char *p = strstr(ln, "\"short_us\":[");
			for (p = p ? p + 12 : NULL; p && *p && *p != ']' && s->cdf_n < 102;) {
				s->cdf[s->cdf_n++] = strtod(p, (char **)&p);
				if (*p == ',')
					p++;
			}
		}
	}
}

static const char *const colors[] = { "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e" };

/* A plot: x linear or log, y log; the series given as (x, y) arrays. */
struct plot {
	double x0, x1, y0, y1;
	bool xlog;
};

static double px(const struct plot *p, double x)
{
	double t = p->xlog ? (log10(x) - log10(p->x0)) / (log10(p->x1) - log10(p->x0)) :
			     (x - p->x0) / (p->x1 - p->x0);
	return 90 + t * 500;
}

static double py(const struct plot *p, double y)
{
	y = y < p->y0 ? p->y0 : y;
	return 330 - (log10(y) - log10(p->y0)) / (log10(p->y1) - log10(p->y0)) * 290;
}

static void svg_open(FILE *o, const char *title, const char *xlabel, const char *ylabel,
		     const struct plot *p)
{
	fprintf(o, "<svg xmlns='http://www.w3.org/2000/svg' width='760' height='380' "
		"font-family='sans-serif' font-size='12'>\n<rect width='760' height='380' fill='white'/>\n"
		"<text x='340' y='22' text-anchor='middle' font-size='14'>%s</text>\n"
		"<line x1='90' y1='330' x2='590' y2='330' stroke='black'/>\n"
		"<line x1='90' y1='40' x2='90' y2='330' stroke='black'/>\n"
		"<text x='340' y='365' text-anchor='middle'>%s</text>\n"
		"<text x='18' y='185' text-anchor='middle' transform='rotate(-90 18 185)'>%s</text>\n",
		title, xlabel, ylabel);
	for (double y = pow(10, floor(log10(p->y0))); y <= p->y1 * 1.0001; y *= 10) {
		if (y < p->y0)
			continue;
		fprintf(o, "<line x1='86' y1='%.1f' x2='590' y2='%.1f' stroke='#ddd'/>"
			"<text x='82' y='%.1f' text-anchor='end'>%.0f</text>\n", py(p, y), py(p, y),
			py(p, y) + 4, y);
	}
	for (int i = 0; i <= 4; i++) {
		double x = p->xlog ? p->x0 * pow(p->x1 / p->x0, i / 4.0) : p->x0 + (p->x1 - p->x0) * i / 4;
		fprintf(o, "<text x='%.1f' y='346' text-anchor='middle'>%.0f</text>\n", px(p, x), x);
	}
}

static void svg_series(FILE *o, const struct plot *p, int k, const char *name, const double *x,
		       const double *y, int n)
{
	fprintf(o, "<polyline fill='none' stroke='%s' stroke-width='2' points='", colors[k % 5]);
	for (int i = 0; i < n; i++)
		if (!isnan(y[i]) && y[i] > 0)
			fprintf(o, "%.1f,%.1f ", px(p, x[i]), py(p, y[i]));
	fprintf(o, "'/>\n<text x='605' y='%d' fill='%s'>%s</text>\n", 60 + 18 * k, colors[k % 5], name);
}

static void plots(void)
{
	char path[1024];
	struct plot p = { 1e300, 0, 1e300, 0, true };
	for (int s = 0; s < nser; s++)
		for (int i = 0; i < ser[s].n; i++) {
			p.x0 = fmin(p.x0, ser[s].rate[i]);
			p.x1 = fmax(p.x1, ser[s].rate[i]);
			if (ser[s].p99[i] > 0) {
				p.y0 = fmin(p.y0, ser[s].p99[i]);
				p.y1 = fmax(p.y1, ser[s].p99[i]);
			}
		}
	if (p.x1 <= p.x0 || p.y1 <= 0)
		return;
	p.y0 = pow(10, floor(log10(p.y0)));
	p.y1 = pow(10, ceil(log10(p.y1)));
	snprintf(path, sizeof(path), "%s/latency-vs-load.svg", dir);
	FILE *o = fopen(path, "w");
	svg_open(o, "Dispersion: short-request p99 latency vs offered load", "offered load (requests/s)",
		 "p99 latency of short requests (us)", &p);
	for (int s = 0; s < nser; s++)
		svg_series(o, &p, s, ser[s].name, ser[s].rate, ser[s].p99, ser[s].n);
	fprintf(o, "</svg>\n");
	fclose(o);

	struct plot c = { 0, 100, 1e300, 0, false };
	double pctl[102];
	for (int i = 0; i <= 100; i++)
		pctl[i] = i;
	pctl[101] = 99.9;
	for (int s = 0; s < nser; s++)
		for (int i = 0; i < ser[s].cdf_n; i++)
			if (ser[s].cdf[i] > 0) {
				c.y0 = fmin(c.y0, ser[s].cdf[i]);
				c.y1 = fmax(c.y1, ser[s].cdf[i]);
			}
	if (c.y1 <= 0)
		return;
	c.y0 = pow(10, floor(log10(c.y0)));
	c.y1 = pow(10, ceil(log10(c.y1)));
	snprintf(path, sizeof(path), "%s/latency-cdf.svg", dir);
	o = fopen(path, "w");
	char title[128];
	snprintf(title, sizeof(title), "Short-request latency by percentile at %.0f requests/s",
		 ser[0].cdf_rate);
	svg_open(o, title, "percentile", "latency (us)", &c);
	for (int s = 0; s < nser; s++)
		svg_series(o, &c, s, ser[s].name, pctl, ser[s].cdf, ser[s].cdf_n > 101 ? 101 : ser[s].cdf_n);
	fprintf(o, "</svg>\n");
	fclose(o);
}

/* bench=coresched: the vCPU workload with and without core isolation, and switches
 * with and without a flush. */
static void coresched_table(FILE *o, const struct file *f, bool icount)
{
	fprintf(o, "\n## wisp only: core scheduling (bench=coresched, --topology 2,2,2)\n\n");
	if (icount) {
		fprintf(o, "Not run in this mode (tools/bench --help says why).\n");
		return;
	}
	fprintf(o, "| vCPU workload | elapsed ms (median) | idle fraction | flushes/s | "
		"violations |\n|---|---|---|---|---|\n");
	for (int i = 0; i < f->n; i++) {
		const char *ln = f->line[i];
		char me[32] = "", mode[32] = "";
		str(ln, "metric", me, sizeof(me));
		if (!strcmp(me, "vcpu_elapsed_ms") && str(ln, "mode", mode, sizeof(mode)))
			fprintf(o, "| %s | %.0f | %.2f | %.0f | %.0f |\n", mode, num(ln, "median"),
				num(ln, "idle_fraction"), num(ln, "flushes_per_s"), num(ln, "violations"));
	}
	const char *r = metric(f, "throughput_ratio");
	fprintf(o, "\nThroughput kept with isolation (mix time / isolated time): %.3f\n\n",
		r ? num(r, "value") : NAN);
	fprintf(o, "| switch (one way, ns) | flush | median | p99 |\n|---|---|---|---|\n");
	for (int i = 0; i < f->n; i++) {
		const char *ln = f->line[i];
		char me[32] = "", kind[16] = "";
		str(ln, "metric", me, sizeof(me));
		str(ln, "flush", kind, sizeof(kind));
		if (!strcmp(me, "switch_ns"))
			fprintf(o, "| %s | %s | %.0f | %.0f |\n",
				num(ln, "domains") == 1 ? "same domain" : "another domain",
				num(ln, "domains") == 1 ? "none" : kind, num(ln, "median"), num(ln, "p99"));
	}
	const char *fl = metric(f, "flush_ns");
	fprintf(o, "\nOne flush: %.0f ns.\n", fl ? num(fl, "value") : NAN);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: benchreport DIR\n");
		return 2;
	}
	dir = argv[1];
	char path[1024], mode[64] = "tcg";
	snprintf(path, sizeof(path), "%s/mode", dir);
	FILE *m = fopen(path, "r");
	if (m && fscanf(m, "%63s", mode) != 1)
		strcpy(mode, "tcg");
	if (m)
		fclose(m);
	struct file ws1 = load("wisp-sched-smp1"), ws4 = load("wisp-sched-smp4");
	struct file ls1 = load("linux-micro-smp1"), ls4 = load("linux-micro-smp4");
	bool icount = strcmp(mode, "tcg") != 0;	/* no bench=ghost, bench=faults then */
	struct file gh = { 0 }, fa = { 0 }, cs = { 0 };
	if (!icount) {
		gh = load("wisp-ghost");
		fa = load("wisp-faults");
		cs = load("wisp-coresched");
	}
	add_series("wisp-dispersion-shinjuku", "wisp shinjuku");
	add_series("wisp-dispersion-fifo-central", "wisp fifo-central");
	add_series("wisp-dispersion-native", "wisp native");
	add_series("linux-dispersion", "linux (CFS)");

	snprintf(path, sizeof(path), "%s/report.md", dir);
	FILE *o = fopen(path, "w");
	if (!o) {
		perror(path);
		return 1;
	}
	fprintf(o, "# make bench: wisp and Linux in the same QEMU\n\n"
		"Mode: **%s** (QEMU TCG%s). Both systems booted with the same -smp, memory, CPU "
		"model and accelerator (tools/run, tools/linux-guest). Times are emulator times: "
		"compare ratios, not absolute values.\n\n", mode,
		strcmp(mode, "tcg") ? ", -icount: virtual time, one ns per instruction for wisp" :
				      ", wall-clock time of a shared host");
	fprintf(o, "## Microbenchmarks (ns, median (p99))\n\n| metric | CPUs | wisp | Linux | "
		"Linux / wisp |\n|---|---|---|---|---|\n");
	micro_table(o, "1", &ws1, &ls1);
	micro_table(o, "4", &ws4, &ls4);
	fprintf(o, "\nOne CPU: futex ping-pong is a same-CPU switch; four: a cross-CPU wakeup.\n");
	fprintf(o, "\n## Dispersion (short 4 us 99.5%%, long 10 ms 0.5%%): latency in us\n\n"
		"| system | offered/s | achieved/s | short p50 | short p99 | short p99.9 | long p99 |\n"
		"|---|---|---|---|---|---|---|\n");
	for (int s = 0; s < nser; s++)
		for (int i = 0; i < ser[s].n; i++)
			fprintf(o, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", ser[s].name,
				ser[s].rate[i], ser[s].tput[i], ser[s].p50[i], ser[s].p99[i],
				ser[s].p999[i], ser[s].lp99[i]);
	fprintf(o, "\n| offered/s | Linux short p99 / wisp-shinjuku short p99 |\n|---|---|\n");
	for (int i = 0; i < ser[0].n; i++)
		for (int k = 0; k < ser[3].n; k++)
			if (ser[3].rate[k] == ser[0].rate[i] && ser[0].p99[i] > 0)
				fprintf(o, "| %.0f | %.2f |\n", ser[0].rate[i], ser[3].p99[k] / ser[0].p99[i]);
	fprintf(o, "\n## wisp only: ghOSt paths (bench=ghost) and faults (bench=faults)\n\n");
	if (icount)
		fprintf(o, "Not run in this mode (tools/bench --help says why).\n");
	else
		fprintf(o, "| bench | metric | detail | median | p99 |\n|---|---|---|---|---|\n");
	struct file *both[] = { &gh, &fa };
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < both[k]->n; i++) {
			const char *ln = both[k]->line[i];
			char b[32] = "", me[64] = "", ag[32] = "";
			str(ln, "bench", b, sizeof(b));
			str(ln, "metric", me, sizeof(me));
			if (!str(ln, "agent", ag, sizeof(ag)) && str(ln, "idle", ag + 5, sizeof(ag) - 5))
				memcpy(ag, "idle ", 5);	/* bench=ghost: idle CPUs halt or poll */
			if (!isnan(num(ln, "median")))
				fprintf(o, "| %s | %s | %s | %.0f | %.0f |\n", b, me, ag, num(ln, "median"),
					num(ln, "p99"));
			else if (!isnan(num(ln, "value")))
				fprintf(o, "| %s | %s | %s | %.0f | |\n", b, me, ag, num(ln, "value"));
		}
	coresched_table(o, &cs, icount);
	fprintf(o, "\nPlots: latency-vs-load.svg, latency-cdf.svg.\n");
	fclose(o);
	plots();
	return missing;
}
