/* kernel/thread.c: thread objects: ids, stacks, creation, exit and join, sleeping,
 * wait queues.  The scheduling itself is kernel/sched.c.
 * Lock order: slots_lock is a leaf; a waitq's lock before any thread's lock. */
#include <kernel/enclave.h>
#include <kernel/kmalloc.h>
#include <kernel/page.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/uapi/errno.h>
#include <arch/arch.h>

size_t arch_fpu_area_size(void);
void arch_fpu_init_area(void *area);
uintptr_t arch_thread_stack_init(void *stack_top, void (*entry)(struct thread *, void (*)(void *), void *),
				 struct thread *t, void (*fn)(void *), void *arg);
void sched_thread_entry(struct thread *t, void (*fn)(void *), void *arg);

#define SLOT_BITS	16

static struct spinlock slots_lock = SPINLOCK_INIT("thread slots");
static struct thread *slots[MAX_THREADS];	/* [slots_lock] */
static uint64_t generation[MAX_THREADS];	/* [slots_lock] */
static unsigned nthreads;			/* [slots_lock] */

struct thread *thread_current(void)
{
	return this_cpu()->curr;
}

unsigned thread_count(void)
{
	return READ_ONCE(nthreads);
}

/* A thread object with an id and an FPU area, no stack, not runnable. */
static struct thread *alloc_thread(const char *name)
{
	struct thread *t = kzalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->fpu_raw = kmalloc(arch_fpu_area_size() + 64);
	if (!t->fpu_raw) {
		kfree(t);
		return NULL;
	}
	t->fpu = (void *)ALIGN_UP((uintptr_t)t->fpu_raw, 64);
	arch_fpu_init_area(t->fpu);
	strlcpy(t->name, name, sizeof(t->name));
	t->lock = (struct spinlock)SPINLOCK_INIT("thread");
	list_init(&t->rq_link);
	list_init(&t->wait_link);
	t->affinity = cpus_online;
	t->class = &native_class;

	unsigned long flags = spin_lock_irqsave(&slots_lock);
	for (unsigned i = 0; i < MAX_THREADS; i++) {
		if (!slots[i]) {
			slots[i] = t;
			generation[i]++;
			nthreads++;
			t->tid = generation[i] << SLOT_BITS | i;
			spin_unlock_irqrestore(&slots_lock, flags);
			return t;
		}
	}
	spin_unlock_irqrestore(&slots_lock, flags);
	kfree(t->fpu_raw);
	kfree(t);
	return NULL;
}

static void free_memory(struct thread *t)
{
	kfree(t->joiners);
	kfree(t->fpu_raw);
	kfree(t);
}

/* The slot goes now; the memory once nobody holds the thread (thread_get). */
static void free_thread(struct thread *t)
{
	unsigned long flags = spin_lock_irqsave(&slots_lock);
	slots[t->tid & (MAX_THREADS - 1)] = NULL;
	nthreads--;
	t->unlinked = true;
	bool now = t->refs == 0;
	spin_unlock_irqrestore(&slots_lock, flags);
	if (now)
		free_memory(t);
}

/* The thread with this id, or NULL if the id is stale or was never issued; held
 * (thread_put) if hold. */
static struct thread *find(tid_t tid, bool hold)
{
	unsigned i = tid & (MAX_THREADS - 1);
	struct thread *t = NULL;

	if ((tid >> SLOT_BITS) == 0 || (tid & ((1ull << SLOT_BITS) - 1)) >= MAX_THREADS)
		return NULL;
	unsigned long flags = spin_lock_irqsave(&slots_lock);
	if (slots[i] && slots[i]->tid == tid) {
		t = slots[i];
		t->refs += hold;
	}
	spin_unlock_irqrestore(&slots_lock, flags);
	return t;
}

struct thread *thread_get(tid_t tid)
{
	return find(tid, true);
}

void thread_put(struct thread *t)
{
	unsigned long flags = spin_lock_irqsave(&slots_lock);
	bool last = --t->refs == 0 && t->unlinked;
	spin_unlock_irqrestore(&slots_lock, flags);
	if (last)
		free_memory(t);
}

struct thread *thread_lookup(tid_t tid)
{
	return find(tid, false);
}

/* A dead thread has left its CPU (called from the next thread there): free its
 * stack, then let a joiner have it (on_cpu = 0), or free it all if detached. */
void thread_reap(struct thread *t)
{
	if (t->stack) {
		page_free(t->stack, KSTACK_SIZE / PAGE_SIZE);
		t->stack = NULL;
	}
	if (t->detached)
		free_thread(t);
	else
		__atomic_store_n(&t->on_cpu, 0, __ATOMIC_RELEASE);
}

static struct thread *new_with_stack(const char *name, void (*fn)(void *), void *arg);

void user_thread_start(void *arg);	/* kernel/task.c */

struct thread *thread_create_user(struct task *task, uintptr_t entry, uintptr_t arg,
				  uintptr_t stack)
{
	struct thread *t = new_with_stack("user", user_thread_start, NULL);
	if (!t)
		return NULL;
	t->task = task;
	t->cookie = thread_current() ? READ_ONCE(thread_current()->cookie) : 0;	/* its domain */
	t->ustart_entry = entry;
	t->ustart_arg = arg;
	t->ustart_stack = stack;
	return t;
}

void thread_destroy_unstarted(struct thread *t)
{
	page_free(t->stack, KSTACK_SIZE / PAGE_SIZE);
	free_thread(t);
}

void thread_start(struct thread *t)
{
	t->cpu = this_cpu()->id;
	t->state = THREAD_RUNNABLE;
	t->on_rq = true;
	t->born = true;
	sched_enqueue_on(t, t->class->select_cpu(t));
}

static struct thread *new_with_stack(const char *name, void (*fn)(void *), void *arg)
{
	struct thread *t = alloc_thread(name);
	if (!t)
		return NULL;
	t->joiners = kmalloc(sizeof(struct waitq));
	t->stack = page_alloc(KSTACK_SIZE / PAGE_SIZE);
	if (!t->stack || !t->joiners) {
		if (t->stack)
			page_free(t->stack, KSTACK_SIZE / PAGE_SIZE);
		free_thread(t);
		return NULL;
	}
	waitq_init(t->joiners, "join");
	/* The top of the stack is kept for the user-mode trap frame (arch/traps.h). */
	t->sp = arch_thread_stack_init((char *)t->stack + KSTACK_SIZE - KSTACK_USER_FRAME,
				       sched_thread_entry, t, fn, arg);
	return t;
}

struct thread *thread_create_on(const char *name, void (*fn)(void *arg), void *arg,
				const cpumask_t *affinity)
{
	struct thread *t = new_with_stack(name, fn, arg);
	if (!t)
		return NULL;
	if (affinity)
		for (int i = 0; i < CPUMASK_WORDS; i++)
			t->affinity.bits[i] &= affinity->bits[i];
	if (!cpumask_count(&t->affinity))
		t->affinity = cpus_online;
	thread_start(t);
	return t;
}

struct thread *thread_create(const char *name, void (*fn)(void *arg), void *arg)
{
	return thread_create_on(name, fn, arg, NULL);
}

noreturn void thread_exit(long code)
{
	struct thread *t = thread_current();

	assert(t != this_cpu()->idle);
	/* From here no enclave takes it (enclave_add_thread looks under this lock), so
	 * the enclave it is in, if any, is the one ghost_thread_exit leaves. */
	unsigned long f = spin_lock_irqsave(&t->lock);
	t->dying = true;
	spin_unlock_irqrestore(&t->lock, f);
	ghost_thread_exit(t);	/* THREAD_DEAD; it finishes in the native class */
	t->exit_code = code;
	spin_lock_irqsave(&t->joiners->lock);
	spin_lock(&t->lock);
	t->state = THREAD_DEAD;
	spin_unlock(&t->lock);
	waitq_wake_all_locked(t->joiners);
	spin_unlock(&t->joiners->lock);	/* interrupts stay off until the switch */
	schedule();
	panic("thread_exit: a dead thread ran again");
}

int thread_join(tid_t tid, long *code)
{
	struct thread *t = thread_lookup(tid);

	if (!t || t->detached || !t->joiners)
		return -ENOENT;
	if (t == thread_current())
		return -EDEADLK;
	unsigned long flags = spin_lock_irqsave(&t->joiners->lock);
	while (t->state != THREAD_DEAD)
		waitq_wait(t->joiners);
	spin_unlock_irqrestore(&t->joiners->lock, flags);
	/* Dead, but its CPU may still be switching away from its stack. */
	while (__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	if (code)
		*code = t->exit_code;
	free_thread(t);
	return 0;
}

void thread_detach(struct thread *t)
{
	t->detached = true;
}

void thread_yield(void)
{
	thread_current()->yielding = true;
	schedule();
}

static void sleep_done(struct timer *tm)
{
	sched_wake(container_of(tm, struct thread, sleep_timer));
}

void thread_sleep(uint64_t ns)
{
	struct thread *t = thread_current();
	uint64_t deadline = clock_ns() + ns;

	while (clock_ns() < deadline && !(t->task && READ_ONCE(t->task->exiting))) {
		/* Interrupts stay off from BLOCKED to the switch: an interrupt's preemption
		 * point in between would block the thread before its timer is armed, and
		 * nothing would ever wake it. */
		unsigned long flags = spin_lock_irqsave(&t->lock);
		t->state = THREAD_BLOCKED;
		spin_unlock(&t->lock);
		/* Armed on this CPU; if the thread wakes on another, the timer still fires
		 * here and sched_wake finds it runnable: a no-op. */
		if (timer_arm(&t->sleep_timer, this_cpu()->id, deadline, sleep_done)) {
			arch_irq_restore(flags);
			sched_wake(t);
			break;
		}
		schedule();
		arch_irq_restore(flags);
		timer_cancel(&t->sleep_timer);
	}
}

/* Set t's affinity; a running thread moves at its next scheduling point, which
 * is now when it is another CPU's (a reschedule IPI).  Any lock before t->lock may
 * be held; the caller reschedules itself if it is t. */
int thread_set_affinity_locked(struct thread *t, const cpumask_t *m)
{
	cpumask_t allowed = *m;

	for (int i = 0; i < CPUMASK_WORDS; i++)
		allowed.bits[i] &= cpus_online.bits[i];
	if (!cpumask_count(&allowed))
		return -EINVAL;
	unsigned long flags = spin_lock_irqsave(&t->lock);
	/* A thread of an enclave keeps at least one of its CPUs: with none it could
	 * never run again. */
	if (t->enclave && !cpumask_intersects(&allowed, &t->enclave->cpus)) {
		spin_unlock_irqrestore(&t->lock, flags);
		return -EINVAL;
	}
	t->affinity = allowed;
	ghost_affinity_changed(t);
	bool elsewhere = t != thread_current() && READ_ONCE(cpus[t->cpu].curr) == t &&
			 !cpumask_test(&allowed, t->cpu);
	spin_unlock(&t->lock);
	if (elsewhere)
		sched_set_need_resched(&cpus[t->cpu]);
	ghost_flush_wakes();
	arch_irq_restore(flags);
	return 0;
}

int thread_set_affinity(struct thread *t, const cpumask_t *m)
{
	int err = thread_set_affinity_locked(t, m);
	if (!err && t == thread_current() && !cpumask_test(&t->affinity, this_cpu()->id))
		schedule();
	return err;
}

/* The context running now (the boot CPU's kmain, an AP's start-up path) as a thread
 * without a stack of its own to free. */
struct thread *thread_adopt_boot_context(const char *name, const struct sched_class *cls)
{
	struct thread *t = alloc_thread(name);
	if (!t)
		panic("thread: no memory for the %s thread", name);
	t->joiners = kmalloc(sizeof(struct waitq));
	if (!t->joiners)
		panic("thread: no memory for the %s thread", name);
	waitq_init(t->joiners, "join");
	t->class = cls;
	t->cpu = this_cpu()->id;
	t->state = THREAD_RUNNABLE;
	t->on_rq = true;
	t->born = true;
	t->on_cpu = 1;
	t->last_start = clock_ns();
	return t;
}

static void idle_entry(void *arg)
{
	sched_idle_loop();
}

struct thread *thread_new_idle(unsigned cpu, bool adopt)
{
	char name[THREAD_NAME];
	snprintf(name, sizeof(name), "idle/%u", cpu);
	struct thread *t = adopt ? thread_adopt_boot_context(name, &idle_class)
				 : new_with_stack(name, idle_entry, NULL);
	if (!t)
		return NULL;
	t->class = &idle_class;
	t->cpu = cpu;
	cpumask_t one = { { 0 } };
	cpumask_set(&one, cpu);
	t->affinity = one;
	t->state = THREAD_RUNNABLE;
	t->on_rq = true;
	t->born = true;
	return t;
}

/* Wait queues. */
void waitq_init(struct waitq *wq, const char *name)
{
	wq->lock = (struct spinlock)SPINLOCK_INIT(name);
	list_init(&wq->waiters);
}

void waitq_wait(struct waitq *wq)
{
	struct thread *t = thread_current();

	assert_held(&wq->lock);
	list_insert_before(&wq->waiters, &t->wait_link);
	spin_lock(&t->lock);
	t->state = THREAD_BLOCKED;
	spin_unlock(&t->lock);
	/* Interrupts are off here (the caller took wq->lock with irqsave); keep them
	 * off across the unlock so schedule() runs before any interrupt could. */
	unsigned long flags = arch_irq_save();
	spin_unlock(&wq->lock);
	schedule();
	spin_lock(&wq->lock);
	arch_irq_restore(flags);
	if (!list_empty(&t->wait_link))
		list_remove(&t->wait_link);	/* woken some other way */
}

int waitq_wake_match_locked(struct waitq *wq, bool (*match)(struct thread *t, void *arg),
			    void *arg, int n)
{
	int woken = 0;
	struct list *p = wq->waiters.next;

	while (p != &wq->waiters && woken < n) {
		struct thread *t = list_entry(p, struct thread, wait_link);
		p = p->next;
		if (!match(t, arg))
			continue;
		list_remove(&t->wait_link);
		sched_wake(t);
		woken++;
	}
	return woken;
}

int waitq_wake_one_locked(struct waitq *wq)
{
	if (list_empty(&wq->waiters))
		return 0;
	struct thread *t = list_entry(wq->waiters.next, struct thread, wait_link);
	list_remove(&t->wait_link);
	sched_wake(t);
	return 1;
}

int waitq_wake_all_locked(struct waitq *wq)
{
	int n = 0;
	while (waitq_wake_one_locked(wq))
		n++;
	return n;
}

int waitq_wake_one(struct waitq *wq)
{
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	int n = waitq_wake_one_locked(wq);
	spin_unlock_irqrestore(&wq->lock, flags);
	return n;
}

int waitq_wake_all(struct waitq *wq)
{
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	int n = waitq_wake_all_locked(wq);
	spin_unlock_irqrestore(&wq->lock, flags);
	return n;
}
