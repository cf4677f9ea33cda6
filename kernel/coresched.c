/* kernel/coresched.c: core scheduling for L1TF/MDS: the per-CPU domain word, the hold
 * that keeps a core-isolated enclave's siblings in one domain, the audit, and the
 * flushes on a change of domain.  kernel/coresched.h says what each does; the
 * argument that the hold never lets two domains run together is in docs/TRICKS.md,
 * "Core isolation".
 *
 * Kernel arguments:
 *   coresched.audit=count|panic  a violation on a CPU of a core-isolated enclave is
 *                                counted (default) or a panic (tests)
 *   coresched.flush=auto|soft|off  L1D through the MSR where enumerated, else by
 *                                reading a buffer (auto, default); always by reading
 *                                (soft); never (off, to measure what flushing costs) */
#include <kernel/args.h>
#include <kernel/coresched.h>
#include <kernel/cpu.h>
#include <kernel/enclave.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/uapi/errno.h>
#include <arch/arch.h>

static bool audit_panics;
static uint32_t flush_mode = GHOST_FLUSH_AUTO;
static unsigned features;		/* ARCH_*, the boot CPU's */

static struct spinlock last_lock = SPINLOCK_INIT("core audit");
static struct {				/* [last_lock] the last violation */
	uint32_t cpu, sibling, cookie, sibling_cookie;
	uint64_t tid, sibling_tid, ns;
} last;

static int set_audit(const char *v)
{
	if (v && !strcmp(v, "panic"))
		audit_panics = true;
	else if (v && !strcmp(v, "count"))
		audit_panics = false;
	else
		return -EINVAL;
	return 0;
}
KERNEL_ARG_NAMED(coresched_audit, "coresched.audit",
		 "coresched.audit=count|panic: a core-isolation violation is counted or panics",
		 set_audit);

static int set_flush(const char *v)
{
	if (v && !strcmp(v, "auto"))
		flush_mode = GHOST_FLUSH_AUTO;
	else if (v && !strcmp(v, "soft"))
		flush_mode = GHOST_FLUSH_SOFT;
	else if (v && !strcmp(v, "off"))
		flush_mode = GHOST_FLUSH_OFF;
	else
		return -EINVAL;
	return 0;
}
KERNEL_ARG_NAMED(coresched_flush, "coresched.flush",
		 "coresched.flush=auto|soft|off: how a change of security domain flushes the L1D",
		 set_flush);

static uint64_t ghost_features(void)
{
	return (features & ARCH_L1D_FLUSH_MSR ? GHOST_CORE_L1D_FLUSH : 0) |
	       (features & ARCH_MD_CLEAR ? GHOST_CORE_MD_CLEAR : 0);
}

void coresched_init(void)
{
	static const char *const modes[] = { "off", "auto", "soft" };

	features = arch_core_flush_features();
	printk("wisp: core scheduling: L1D flush %s, CPU buffer clear %s, flush=%s, audit %s\n",
	       features & ARCH_L1D_FLUSH_MSR ? "MSR" : "software",
	       features & ARCH_MD_CLEAR ? "VERW" : "not enumerated",
	       modes[flush_mode], audit_panics ? "panics" : "counts");
}

/* What t being on c means for its siblings.  Agent threads are trusted, like the
 * kernel, whatever cookie they inherited. */
static uint64_t word_of(struct cpu *c, struct thread *t)
{
	if (t == c->idle || t->class == &agent_class)
		return 0;
	uint64_t w = READ_ONCE(t->cookie);
	if (w && t->class != &ghost_class)
		w |= CORE_NATIVE;
	return w;
}

/* Publish w as c's word (a full barrier: the caller's loads of the siblings' words
 * come after it).  A sibling waiting for c to change is rescheduled. */
static void publish(struct cpu *c, uint64_t w, uint64_t tid)
{
	__atomic_store_n(&c->core_tid, tid, __ATOMIC_RELAXED);
	uint64_t old = __atomic_exchange_n(&c->core_word, w, __ATOMIC_SEQ_CST);
	if (old == w)
		return;
	for_each_cpu_in(s, &c->siblings)
		if (s != c->id && __atomic_load_n(&cpus[s].core_waiting, __ATOMIC_SEQ_CST))
			sched_set_need_resched(&cpus[s]);
}

/* The siblings whose words clash with want; *natives: some of them are native. */
static bool clashes(struct cpu *c, uint64_t want, bool *natives)
{
	bool any = false;

	*natives = false;
	for_each_cpu_in(s, &c->siblings) {
		uint64_t w = s == c->id ? 0 : __atomic_load_n(&cpus[s].core_word, __ATOMIC_SEQ_CST);
		if (core_conflict(want, w)) {
			any = true;
			*natives |= (w & CORE_NATIVE) != 0;
		}
	}
	return any;
}

/* c holds a thread back: it waits for a sibling's word to change.  Waiting is
 * announced before the siblings are looked at again (publish's order, mirrored), so
 * either the sibling sees c waiting or c sees the sibling's new word. */
static void hold(struct cpu *c, uint64_t want, uint64_t now)
{
	bool natives;

	c->core_count.held_back++;
	c->core_held_since = now ? now : 1;
	__atomic_store_n(&c->core_waiting, 1, __ATOMIC_SEQ_CST);
	if (!clashes(c, want, &natives))
		__atomic_store_n(&c->need_resched, 1, __ATOMIC_RELAXED);	/* try again */
}

static void audit(struct cpu *c, uint64_t mine, uint64_t tid, bool isolated, uint64_t now)
{
	c->core_count.switches++;
	if (!CORE_COOKIE(mine))
		return;
	for_each_cpu_in(s, &c->siblings) {
		uint64_t w = s == c->id ? 0 : __atomic_load_n(&cpus[s].core_word, __ATOMIC_SEQ_CST);
		if ((w & CORE_HELD) || !core_conflict(mine, w))
			continue;
		c->core_count.violations++;
		spin_lock(&last_lock);
		last.cpu = c->id;
		last.sibling = s;
		last.cookie = CORE_COOKIE(mine);
		last.sibling_cookie = CORE_COOKIE(w);
		last.tid = tid;
		last.sibling_tid = __atomic_load_n(&cpus[s].core_tid, __ATOMIC_RELAXED);
		last.ns = now;
		spin_unlock(&last_lock);
		/* Two native threads are not core-scheduled (core_switch): no panic. */
		if (audit_panics && isolated && !(mine & w & CORE_NATIVE))
			panic("coresched: cpu %u runs cookie %u (thread %lx) while its sibling %u "
			      "runs cookie %u", c->id, CORE_COOKIE(mine), (unsigned long)tid, s,
			      CORE_COOKIE(w));
	}
}

/* A change of domain on c: nothing the last domain left may reach the next. */
static void flush(struct cpu *c, uint32_t cookie)
{
	if (!cookie || cookie == c->core_last)
		return;
	uint32_t prev = c->core_last;
	c->core_last = cookie;
	if (!prev)
		return;		/* the first domain here: nobody's data to clear */
	c->core_count.domain_changes++;
	if (flush_mode == GHOST_FLUSH_OFF)
		return;
	uint64_t t0 = clock_ns();
	if (flush_mode == GHOST_FLUSH_AUTO && (features & ARCH_L1D_FLUSH_MSR)) {
		arch_flush_l1d_msr();
		c->core_count.flush_l1d_msr++;
	} else {
		arch_flush_l1d_soft();
		c->core_count.flush_l1d_soft++;
	}
	if (features & ARCH_MD_CLEAR) {
		arch_clear_cpu_buffers();
		c->core_count.flush_verw++;
	}
	c->core_count.flush_ns += clock_ns() - t0;
}

/* What c runs instead of next, if it must wait for a sibling (docs/TRICKS.md, "Core
 * isolation"); the word published, audited, flushed for. */
static struct thread *core_decide(struct cpu *c, struct thread *next, uint64_t now)
{
	struct enclave *e = READ_ONCE(c->enclave);
	bool isolated = e && READ_ONCE(e->core_isolated);
	uint64_t want = word_of(c, next);

	if (c->core_held_since) {
		c->core_count.forced_idle_ns += now - MIN(now, c->core_held_since);
		c->core_held_since = 0;
	}
	c->core_native_held = false;
	__atomic_store_n(&c->core_waiting, 0, __ATOMIC_RELAXED);
	if (isolated && CORE_COOKIE(want)) {
		bool natives;
		publish(c, want | CORE_HELD, next->tid);	/* first say what c wants */
		if (clashes(c, want, &natives)) {
			if (!(want & CORE_NATIVE)) {
				/* A ghost thread yields: it stays latched and runs once the
				 * sibling has moved, unless a native thread holds the sibling
				 * (no telling how long): then the agent gets it back. */
				c->ghost_next = next;
				c->core_unlatch = natives ? next->tid : 0;
				publish(c, 0, 0);
				hold(c, want, now);
				return c->idle;
			}
			if (!natives) {
				/* A native thread waits for ghost siblings to leave, keeping
				 * its claim (CORE_HELD) so that they do. */
				for_each_cpu_in(s, &c->siblings)
					if (s != c->id && core_conflict(want, READ_ONCE(cpus[s].core_word)))
						sched_set_need_resched(&cpus[s]);
				native_requeue_front(c, next);
				c->core_native_held = true;
				hold(c, want, now);
				return c->idle;
			}
			/* Two native threads of different domains: the native class is
			 * not core-scheduled; the audit counts it. */
		}
	}
	publish(c, want, next->tid);
	audit(c, want, next->tid, isolated, now);
	flush(c, CORE_COOKIE(want));
	return next;
}

/* Time in the idle thread, for GHOST_CORE_STATS: from the switch to it to the next. */
static void idle_time(struct cpu *c, struct thread *next, uint64_t now)
{
	uint64_t since = c->core_idle_since;
	if (since)
		c->core_count.idle_ns += now - MIN(now, since);
	__atomic_store_n(&c->core_idle_since, next == c->idle ? (now ? now : 1) : 0,
			 __ATOMIC_RELAXED);
}

struct thread *core_switch(struct cpu *c, struct thread *next, uint64_t now)
{
	next = core_decide(c, next, now);
	idle_time(c, next, now);
	return next;
}

void core_after_switch(struct cpu *c)
{
	uint64_t tid = c->core_unlatch;
	if (!tid)
		return;
	c->core_unlatch = 0;
	ghost_unlatch_cpu(c, tid);
}

void core_count_conflict(unsigned cpu)
{
	__atomic_add_fetch(&cpus[cpu].core_count.commit_conflicts, 1, __ATOMIC_RELAXED);
}

int core_stats(int cpu, struct ghost_core_stats *out)
{
	if (cpu < -1 || cpu >= (int)ncpus)
		return -EINVAL;
	uint64_t now = clock_ns();
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < ncpus; i++) {
		if (cpu >= 0 && (unsigned)cpu != i)
			continue;
		const struct ghost_core_stats *s = &cpus[i].core_count;
		out->switches += READ_ONCE(s->switches);
		out->violations += READ_ONCE(s->violations);
		out->domain_changes += READ_ONCE(s->domain_changes);
		out->flush_l1d_msr += READ_ONCE(s->flush_l1d_msr);
		out->flush_l1d_soft += READ_ONCE(s->flush_l1d_soft);
		out->flush_verw += READ_ONCE(s->flush_verw);
		out->flush_ns += READ_ONCE(s->flush_ns);
		out->held_back += READ_ONCE(s->held_back);
		out->forced_idle_ns += READ_ONCE(s->forced_idle_ns);
		uint64_t since = __atomic_load_n(&cpus[i].core_idle_since, __ATOMIC_RELAXED);
		out->idle_ns += READ_ONCE(s->idle_ns) + (since && now > since ? now - since : 0);
		out->commit_conflicts += __atomic_load_n(&s->commit_conflicts, __ATOMIC_RELAXED);
	}
	out->features = (uint32_t)ghost_features();
	out->flush_mode = flush_mode;
	unsigned long flags = spin_lock_irqsave(&last_lock);
	out->last_cpu = last.cpu;
	out->last_sibling = last.sibling;
	out->last_cookie = last.cookie;
	out->last_sibling_cookie = last.sibling_cookie;
	out->last_tid = last.tid;
	out->last_sibling_tid = last.sibling_tid;
	out->last_ns = last.ns;
	spin_unlock_irqrestore(&last_lock, flags);
	return 0;
}
