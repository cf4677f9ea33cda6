/* kernel/task.c: user programs: loading, threads, exit and wait.  See task.h.
 * Lock order: tasks_lock is a leaf. */
#include <kernel/task.h>
#include <kernel/bootinfo.h>
#include <kernel/elf_check.h>
#include <kernel/enclave.h>
#include <kernel/kmalloc.h>
#include <kernel/panic.h>
#include <kernel/printk.h>
#include <kernel/sched.h>
#include <kernel/string.h>
#include <kernel/trace.h>
#include <kernel/uapi/errno.h>
#include <kernel/uapi/syscall.h>
#include <arch/arch.h>

void arch_enter_user_thread(uintptr_t entry, uintptr_t arg, uintptr_t stack, uintptr_t kstack_top);

/* What a thread created by SYS_thread_create leaves for its joiner. */
struct exit_record {
	struct list link;
	tid_t tid;
	long code;
	bool exited;
};

static struct spinlock tasks_lock = SPINLOCK_INIT("tasks");
static struct list tasks = { &tasks, &tasks };	/* [tasks_lock] */
static long next_id = 1;			/* [tasks_lock] */
static unsigned ntasks;				/* [tasks_lock] */

struct task *task_current(void)
{
	return thread_current()->task;
}

unsigned task_count(void)
{
	return READ_ONCE(ntasks);
}

static struct task *lookup(long id)
{
	struct task *found = NULL;
	unsigned long flags = spin_lock_irqsave(&tasks_lock);
	list_for_each(p, &tasks) {
		struct task *t = list_entry(p, struct task, link);
		if (t->id == id)
			found = t;
	}
	spin_unlock_irqrestore(&tasks_lock, flags);
	return found;
}

/* The user stack of the main thread: argc, argv[], NULL, then the strings. */
static int build_stack(struct vm *vm, char *args, int argc, char **argv, uintptr_t *sp)
{
	uintptr_t top = VM_STACK_TOP, strings[32];
	int err = vm_reserve(vm, VM_STACK_TOP - VM_STACK_SIZE, VM_STACK_SIZE, MAP_WRITE);

	for (int i = argc - 1; i >= 0 && !err; i--) {
		size_t n = strlen(argv[i]) + 1;
		top -= n;
		strings[i] = top;
		err = vm_write(vm, top, argv[i], n);
	}
	top = ALIGN_DOWN(top, 16);
	uint64_t words[34];
	int n = 0;
	words[n++] = (uint64_t)argc;
	for (int i = 0; i < argc; i++)
		words[n++] = strings[i];
	words[n++] = 0;
	top -= (size_t)n * 8;
	top = ALIGN_DOWN(top, 16);
	if (!err)
		err = vm_write(vm, top, words, (size_t)n * 8);
	*sp = top;
	(void)args;
	return err;
}

static int load(struct task *t, const struct boot_module *m, uint64_t *entry)
{
	struct elf_image img;
	const char *why;
	const void *data = phys_to_virt(m->start);
	size_t size = m->end - m->start;

	if (elf_check(data, size, VM_USER_BASE, VM_MMAP_BASE, &img, &why)) {
		printk("wisp: cannot start %s: %s\n", m->name, why);
		return -ENOEXEC;
	}
	for (int i = 0; i < img.nsegs; i++) {
		const struct elf_segment *s = &img.segs[i];
		int err = vm_reserve(t->vm, s->vaddr, s->memsz, s->prot);
		if (!err)
			err = vm_write(t->vm, s->vaddr, (const char *)data + s->offset, s->filesz);
		if (err)
			return err;
	}
	*entry = img.entry;
	return 0;
}

static void task_free(struct task *t)
{
	unsigned long flags = spin_lock_irqsave(&tasks_lock);
	list_remove(&t->link);
	ntasks--;
	spin_unlock_irqrestore(&tasks_lock, flags);
	kfree(t);
}

/* Start th, in the task's enclave if it has one (born there, never native); if the
 * enclave is gone, it starts native.  Called with t->lock held (interrupts off), so
 * the enclave reference is returned for the caller to drop once they are on again
 * (the last enclave_put waits for an IPI round). */
static struct enclave *start_thread(struct task *t, struct thread *th)
{
	int id = READ_ONCE(t->spawn_enclave);
	struct enclave *e = id ? enclave_get(id) : NULL;
	int err = e ? enclave_add_thread(e, th) : -ENOENT;
	if (err)
		thread_start(th);
	return e;
}

long task_spawn(const char *cmdline, unsigned caps)
{
	return task_spawn_in(cmdline, caps, 0);
}

long task_spawn_in(const char *cmdline, unsigned caps, int enclave)
{
	char buf[256];
	char *argv[32];
	int argc = 0;

	if (strlcpy(buf, cmdline, sizeof(buf)) >= sizeof(buf))
		return -E2BIG;
	for (char *p = buf; *p;) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		if (argc == 31)
			return -E2BIG;
		argv[argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	if (argc == 0)
		return -ENOENT;
	const struct boot_module *m = boot_module(argv[0]);
	if (!m)
		return -ENOENT;

	struct task *t = kzalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->vm = vm_create();
	if (!t->vm) {
		kfree(t);
		return -ENOMEM;
	}
	strlcpy(t->name, argv[0], sizeof(t->name));
	t->caps = caps;
	t->spawn_enclave = enclave;
	if (enclave) {
		struct enclave *e = enclave_get(enclave);
		if (!e) {
			vm_destroy(t->vm);
			kfree(t);
			return -ENOENT;
		}
		enclave_put(e);
	}
	t->lock = (struct spinlock)SPINLOCK_INIT("task");
	list_init(&t->threads);
	waitq_init(&t->done, "task done");
	waitq_init(&t->joins, "task joins");
	list_init(&t->exits);

	uint64_t entry;
	uintptr_t sp;
	int err = load(t, m, &entry);
	if (!err)
		err = build_stack(t->vm, buf, argc, argv, &sp);
	struct thread *th = err ? NULL : thread_create_user(t, entry, (uintptr_t)argc, sp);
	if (th)
		thread_detach(th);	/* the main thread is not joined */
	if (!th) {
		vm_destroy(t->vm);
		kfree(t);
		return err ? err : -ENOMEM;
	}
	unsigned long flags = spin_lock_irqsave(&tasks_lock);
	t->id = next_id++;
	list_insert_before(&tasks, &t->link);
	ntasks++;
	spin_unlock_irqrestore(&tasks_lock, flags);
	strlcpy(th->name, t->name, sizeof(th->name));
	long id = t->id;	/* once started, the task may end and be waited for */
	trace_task(id, t->name);
	flags = spin_lock_irqsave(&t->lock);	/* task_join_enclave may look already */
	list_insert_before(&t->threads, &th->task_link);
	t->nthreads = 1;
	struct enclave *e = start_thread(t, th);
	spin_unlock_irqrestore(&t->lock, flags);
	if (e)
		enclave_put(e);
	return id;
}

/* A user thread's first kernel code: leave for user mode. */
void user_thread_start(void *arg)
{
	struct thread *th = thread_current();
	/* Killed before it first ran (a ghost thread waits for its agent): it never
	 * reaches user mode, where nothing might interrupt it to look. */
	task_check_exit();
	arch_enter_user_thread(th->ustart_entry, th->ustart_arg, th->ustart_stack,
			       (uintptr_t)th->stack + KSTACK_SIZE);
}

/* The task's last thread is leaving: free the address space, tell the waiters.
 * Called on that thread, whose CPU then still runs on the task's page tables: it
 * switches to the kernel's first. */
static void task_end(struct task *t)
{
	enclave_task_end(t);	/* an agent's enclave goes with it */
	/* Gone before it is freed: preempted in vm_destroy, this thread comes back on
	 * the page tables schedule() finds in t->vm, which would be freed ones (a CPU
	 * loaded freed memory into CR3 this way, about one bench=faults boot in 150). */
	struct vm *vm = t->vm;
	WRITE_ONCE(t->vm, NULL);
	vm_destroy(vm);
	/* Waiters are told once this thread is gone too (task_ended, called by the next
	 * thread on this CPU), so a wait() returns with everything given back. */
	thread_current()->ends_task = true;
	unsigned long f = spin_lock_irqsave(&t->joins.lock);
	while (!list_empty(&t->exits)) {
		struct exit_record *r = list_entry(t->exits.next, struct exit_record, link);
		list_remove(&r->link);
		kfree(r);
	}
	spin_unlock_irqrestore(&t->joins.lock, f);
}

void task_ended(struct task *t)
{
	unsigned long flags = spin_lock_irqsave(&t->done.lock);
	t->ended = true;
	waitq_wake_all_locked(&t->done);
	spin_unlock_irqrestore(&t->done.lock, flags);
}

noreturn void task_thread_exit(long code)
{
	struct thread *th = thread_current();
	struct task *t = th->task;
	void arch_uvm_activate(uintptr_t root);

	/* Off the task's page tables before it can count as gone: the last thread
	 * frees them. */
	arch_uvm_activate(0);
	if (th->exit_record) {
		struct exit_record *r = th->exit_record;
		unsigned long f = spin_lock_irqsave(&t->joins.lock);
		r->code = code;
		r->exited = true;
		waitq_wake_all_locked(&t->joins);
		spin_unlock_irqrestore(&t->joins.lock, f);
	}
	unsigned long flags = spin_lock_irqsave(&t->lock);
	list_remove(&th->task_link);
	bool last = --t->nthreads == 0;
	if (last && !t->exiting) {
		t->exiting = true;
		t->status = 0;
	}
	spin_unlock_irqrestore(&t->lock, flags);
	if (last)
		task_end(t);
	thread_detach(th);	/* joiners use the exit record; the kernel frees the thread */
	thread_exit(code);
}

/* Mark t ending with status (first caller wins) and wake its blocked threads. */
static void begin_exit(struct task *t, int status)
{
	unsigned long flags = spin_lock_irqsave(&t->lock);
	if (!t->exiting) {
		t->exiting = true;
		t->status = status;
	}
	list_for_each(p, &t->threads) {
		struct thread *th = list_entry(p, struct thread, task_link);
		if (th != thread_current()) {
			sched_wake(th);		/* blocked ones come back and see exiting */
			sched_set_need_resched(&cpus[th->cpu]);
		}
	}
	spin_unlock_irqrestore(&t->lock, flags);
}

int task_kill(long id)
{
	int err = -ENOENT;
	unsigned long flags = spin_lock_irqsave(&tasks_lock);
	list_for_each(p, &tasks) {
		struct task *t = list_entry(p, struct task, link);
		if (t->id != id)
			continue;
		if (t == task_current())
			err = -EINVAL;
		else if (READ_ONCE(t->nthreads) > 0) {
			begin_exit(t, WAIT_KILLED);	/* tasks_lock before a task's lock */
			err = 0;
		}
	}
	spin_unlock_irqrestore(&tasks_lock, flags);
	return err;
}

int task_join_enclave(long id, struct enclave *e)
{
	int n = -ENOENT;
	unsigned long flags = spin_lock_irqsave(&tasks_lock);
	list_for_each(p, &tasks) {
		struct task *t = list_entry(p, struct task, link);
		if (t->id != id || n >= 0)
			continue;
		n = 0;
		/* Threads are listed and started under t->lock: each one here has
		 * started, and each one after is born in e. */
		spin_lock(&t->lock);
		WRITE_ONCE(t->spawn_enclave, e->id);
		list_for_each(q, &t->threads) {
			struct thread *th = list_entry(q, struct thread, task_link);
			n += enclave_add_thread(e, th) == 0;
		}
		spin_unlock(&t->lock);
	}
	spin_unlock_irqrestore(&tasks_lock, flags);
	return n;
}

noreturn void task_exit(int status)
{
	begin_exit(task_current(), status);
	task_thread_exit(status);
}

noreturn void task_fault(unsigned vector, uintptr_t rip, uintptr_t addr)
{
	static const char *const names[32] = {
		[0] = "divide error", [6] = "invalid opcode", [13] = "general protection",
		[14] = "page fault", [3] = "breakpoint", [17] = "alignment check",
		[19] = "SIMD floating-point", [16] = "x87 floating-point",
	};
	struct thread *th = thread_current();
	struct task *t = th->task;

	printk("wisp: task %ld (%s) thread %#lx killed: %s (vector %u) at rip 0x%lx, address 0x%lx\n",
	       t->id, t->name, th->tid, names[vector & 31] ? names[vector & 31] : "exception",
	       vector, rip, addr);
	begin_exit(t, WAIT_FAULT_BASE + (int)vector);
	task_thread_exit(WAIT_FAULT_BASE + (long)vector);
}

void task_check_exit(void)
{
	struct task *t = task_current();
	if (t && READ_ONCE(t->exiting)) {
		/* From an interrupt the way out runs with interrupts off, but the last
		 * thread's task_end may wait for other CPUs (enclave_put's IPI round);
		 * the interrupt is acknowledged, so they go on, as for a fault. */
		arch_irq_restore(RFLAGS_IF);
		task_thread_exit(0);
	}
}

int task_wait(long id, int *status)
{
	struct task *t = lookup(id);
	if (!t)
		return -ENOENT;
	struct task *me = task_current();
	unsigned long flags = spin_lock_irqsave(&t->done.lock);
	while (!t->ended && !(me && READ_ONCE(me->exiting)))
		waitq_wait(&t->done);
	bool ended = t->ended;
	spin_unlock_irqrestore(&t->done.lock, flags);
	if (!ended)
		return -EINTR;	/* the waiter's own task is ending */
	if (status)
		*status = t->status;
	task_free(t);
	return 0;
}

long task_thread_create(uintptr_t entry, uintptr_t arg, uintptr_t stack)
{
	struct task *t = task_current();
	struct exit_record *r = kzalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	struct thread *th = thread_create_user(t, entry, arg, stack);
	if (!th) {
		kfree(r);
		return -ENOMEM;
	}
	strlcpy(th->name, t->name, sizeof(th->name));
	r->tid = th->tid;
	th->exit_record = r;
	th->affinity = thread_current()->affinity;
	tid_t tid = th->tid;	/* once started, th may run, exit and be freed at once */
	unsigned long f = spin_lock_irqsave(&t->joins.lock);
	list_insert_before(&t->exits, &r->link);
	spin_unlock_irqrestore(&t->joins.lock, f);
	/* Listed and started in one step: task_join_enclave sees started threads only. */
	unsigned long flags = spin_lock_irqsave(&t->lock);
	bool dying = t->exiting;
	struct enclave *e = NULL;
	if (!dying) {
		list_insert_before(&t->threads, &th->task_link);
		t->nthreads++;
		e = start_thread(t, th);
	}
	spin_unlock_irqrestore(&t->lock, flags);
	if (e)
		enclave_put(e);
	if (dying) {
		f = spin_lock_irqsave(&t->joins.lock);
		list_remove(&r->link);
		spin_unlock_irqrestore(&t->joins.lock, f);
		kfree(r);
		thread_destroy_unstarted(th);
		return -EAGAIN;
	}
	return (long)tid;
}

int task_thread_affinity(tid_t tid, const cpumask_t *m)
{
	struct task *t = task_current();
	struct thread *found = NULL;

	if (!tid || tid == thread_current()->tid)
		return thread_set_affinity(thread_current(), m);
	/* Under the task's lock the thread cannot leave the task, so not be freed. */
	unsigned long flags = spin_lock_irqsave(&t->lock);
	list_for_each(p, &t->threads) {
		struct thread *th = list_entry(p, struct thread, task_link);
		if (th->tid == tid)
			found = th;
	}
	int err = found ? thread_set_affinity_locked(found, m) : -ENOENT;
	spin_unlock_irqrestore(&t->lock, flags);
	return err;
}

int task_thread_join(tid_t tid, long *code)
{
	struct task *t = task_current();
	struct exit_record *r = NULL;

	if (tid == thread_current()->tid)
		return -EDEADLK;
	unsigned long f = spin_lock_irqsave(&t->joins.lock);
	list_for_each(p, &t->exits) {
		struct exit_record *e = list_entry(p, struct exit_record, link);
		if (e->tid == tid)
			r = e;
	}
	if (!r) {
		spin_unlock_irqrestore(&t->joins.lock, f);
		return -ENOENT;
	}
	list_remove(&r->link);	/* one joiner per thread, as with pthreads */
	while (!r->exited && !READ_ONCE(t->exiting))
		waitq_wait(&t->joins);
	bool ok = r->exited;
	spin_unlock_irqrestore(&t->joins.lock, f);
	if (ok && code)
		*code = r->code;
	if (!ok) {
		/* The task is ending and the thread may still write the record: put it back. */
		f = spin_lock_irqsave(&t->joins.lock);
		list_insert_before(&t->exits, &r->link);
		spin_unlock_irqrestore(&t->joins.lock, f);
		return -EINTR;
	}
	kfree(r);
	return 0;
}
