/* kernel/ghost_sys.c: SYS_ghost: every enclave and agent call checks the caller's
 * capability, then its arguments, then does the work in kernel/enclave.c.  Ops and
 * their contracts: kernel/uapi/ghost.h. */
#include <kernel/ghost_sys.h>
#include <kernel/enclave.h>
#include <kernel/coresched.h>
#include <kernel/kmalloc.h>
#include <kernel/sched.h>
#include <kernel/task.h>
#include <kernel/usercopy.h>
#include <kernel/vm.h>
#include <arch/arch.h>
#include <kernel/uapi/errno.h>
#include <kernel/uapi/syscall.h>

#define MAX_WAIT_NS	(3600ull * 1000000000ull)

static bool has(unsigned cap)
{
	return task_current()->caps & cap;
}

static long enclave_create_op(uint64_t mask)
{
	cpumask_t set = { { 0 } };
	int err;

	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (mask & (1ull << c))
			cpumask_set(&set, c);
	if (MAX_CPUS < 64 && (mask >> MAX_CPUS))
		return -EINVAL;
	struct enclave *e = enclave_create(&set, &err);
	return e ? e->id : err;
}

static long with_enclave(long id, int (*fn)(struct enclave *e, long a, long b), long a, long b)
{
	if (id <= 0 || id > INT32_MAX)
		return -ENOENT;
	struct enclave *e = enclave_get((int)id);
	if (!e)
		return -ENOENT;
	long r = fn(e, a, b);
	enclave_put(e);
	return r;
}

static int dump(struct enclave *e, long a, long b)
{
	enclave_dump(e);
	return 0;
}

static bool may_populate(struct enclave *e);

static int watchdog(struct enclave *e, long ns, long b)
{
	if (!may_populate(e))
		return -EPERM;
	return ns < 0 ? -EINVAL : enclave_set_watchdog(e, (uint64_t)ns);
}

static int add_task(struct enclave *e, long task, long b)
{
	return may_populate(e) ? task_join_enclave(task, e) : -EPERM;
}

static int destroy(struct enclave *e, long a, long b)
{
	enclave_destroy(e);
	return 0;
}

/* The control program, or the enclave's own agent. */
static bool may_populate(struct enclave *e)
{
	return has(CAP_ENCLAVE) || (has(CAP_AGENT) && enclave_of_agent_task(task_current()) == e);
}

static int add_thread(struct enclave *e, long tid, long b)
{
	if (!may_populate(e))
		return -EPERM;
	struct thread *t = thread_get((tid_t)tid);
	/* User threads only: kernel threads are the kernel's to schedule. */
	int err = !t ? -ENOENT : !t->task ? -EPERM : enclave_add_thread(e, t);
	if (t)
		thread_put(t);
	return err;
}

/* GHOST_ENCLAVE_THREADS: at most GHOST_MAX_THREADS tids, the number of members. */
static int threads_op(struct enclave *e, long buf, long n)
{
	if (!may_populate(e))
		return -EPERM;
	if (n < 0 || n > GHOST_MAX_THREADS)
		return -EINVAL;
	uint64_t *tids = n ? kmalloc((size_t)n * sizeof(*tids)) : NULL;
	if (n && !tids)
		return -ENOMEM;
	int count = enclave_threads(e, tids, (int)n);
	size_t bytes = (size_t)MIN(count, (int)n) * sizeof(*tids);
	if (bytes && copy_to_user((uintptr_t)buf, tids, bytes))
		count = -EFAULT;
	kfree(tids);
	return count;
}

static int remove_thread(struct enclave *e, long tid, long b)
{
	if (!may_populate(e))
		return -EPERM;
	struct thread *t = thread_get((tid_t)tid);
	int err = t ? enclave_remove_thread(e, t) : -ENOENT;
	if (t)
		thread_put(t);
	return err;
}

static int core_isolate(struct enclave *e, long on, long b)
{
	if (!may_populate(e))
		return -EPERM;
	return on != 0 && on != 1 ? -EINVAL : enclave_core_isolate(e, on == 1);
}

/* GHOST_SET_COOKIE: a domain is fixed while an enclave schedules the thread, so that
 * a policy never sees it change under its decisions. */
static long set_cookie(long tid, long cookie)
{
	if (!has(CAP_ENCLAVE))
		return -EPERM;
	if (cookie < 0 || cookie > UINT32_MAX)
		return -EINVAL;
	struct thread *t = tid ? thread_get((tid_t)tid) : thread_current();
	if (!t)
		return -ENOENT;
	int err = 0;
	unsigned long flags = spin_lock_irqsave(&t->lock);
	if (!t->task)
		err = -EPERM;
	else if (t->enclave)
		err = -EBUSY;
	else
		t->cookie = (uint32_t)cookie;
	unsigned cpu = t->cpu;
	bool running = t->on_cpu;
	spin_unlock_irqrestore(&t->lock, flags);
	/* A running thread's CPU publishes the new domain at its next switch: now. */
	if (!err && running)
		sched_set_need_resched(&cpus[cpu]);
	if (tid)
		thread_put(t);
	return err;
}

static long core_stats_op(long cpu, long uout)
{
	struct ghost_core_stats st;
	int err = cpu < -1 || cpu > INT32_MAX ? -EINVAL : core_stats((int)cpu, &st);
	if (!err && copy_to_user((uintptr_t)uout, &st, sizeof(st)))
		err = -EFAULT;
	return err;
}

static long list(long ubuf, long n)
{
	struct ghost_enclave_info info[16];

	if (n < 0)
		return -EINVAL;
	unsigned total = enclave_list(info, 16);
	size_t k = (size_t)MIN((unsigned long)n, MIN(total, 16u));
	if (k && copy_to_user((uintptr_t)ubuf, info, k * sizeof(info[0])))
		return -EFAULT;
	return total;
}

static int attach(struct enclave *e, long mode, long uout)
{
	struct task *task = task_current();
	struct ghost_attach out = { 0 };
	int err = enclave_attach(e, task, (int)mode);
	if (err)
		return err;
	out.status = (void *)vm_map_shm(task->vm, e->status_shm, 0);
	out.agent = (void *)vm_map_shm(task->vm, e->agent_shm, MAP_WRITE);
	out.default_queue = (void *)vm_map_shm(task->vm, e->def->shm, MAP_WRITE);
	out.default_queue_id = 0;
	if (!out.status || !out.agent || !out.default_queue)
		return -ENOMEM;	/* the maps made go with the task */
	if (copy_to_user((uintptr_t)uout, &out, sizeof(out)))
		return -EFAULT;
	return 0;
}

/* The enclave this agent task is attached to, held; NULL if none. */
static struct enclave *mine(void)
{
	return enclave_get_of_agent(task_current());
}

static long agent_op(long op, long a, long b, long c)
{
	struct enclave *e = mine();
	struct thread *me = thread_current();
	long r = 0;

	if (!e)
		return -ENOENT;
	bool is_agent = me->agent_of == e;
	/* A successor (live upgrade) only waits, in GHOST_AGENT_INIT, until it is in
	 * charge. */
	if (op != GHOST_AGENT_INIT && READ_ONCE(e->agent_task) != task_current())
		op = -EAGAIN;
	switch (op) {
	case -EAGAIN:
		r = -EAGAIN;
		break;
	case GHOST_AGENT_INIT:
		r = a < 0 ? -EINVAL : enclave_agent_init(e, me, (unsigned)a);
		break;
	case GHOST_QUEUE_CREATE: {
		uintptr_t at = 0;
		r = a <= 0 || a > GHOST_QUEUE_MAX_SLOTS ? -EINVAL : enclave_queue_create(e, (uint32_t)a, &at);
		if (r > 0 && b && copy_to_user((uintptr_t)b, &at, sizeof(at))) {
			enclave_queue_destroy(e, (int)r);
			r = -EFAULT;
		}
		break;
	}
	case GHOST_QUEUE_DESTROY:
		r = enclave_queue_destroy(e, (int)a);
		break;
	case GHOST_ASSOCIATE_QUEUE:
		r = enclave_associate(e, (uint64_t)a, (int)b);
		break;
	case GHOST_CONFIG_QUEUE_WAKEUP:
		r = enclave_config_wakeup(e, (int)a, (int)b);
		break;
	case GHOST_COMMIT: {
		unsigned flags = (unsigned)b;
		if (flags & ~GHOST_COMMIT_FLAGS) {
			r = -EINVAL;
			break;
		}
		uint64_t mask = (uint64_t)a;	/* MAX_CPUS is 64: every bit a CPU */
		bool permitted = is_agent && (e->mode != GHOST_MODE_CENTRAL ||
			__atomic_load_n(&e->status->hdr.global_cpu, __ATOMIC_ACQUIRE) == me->agent_cpu);
		r = enclave_commit_group(e, mask, flags & GHOST_COMMIT_SYNC, permitted);
		if (is_agent && (flags & GHOST_COMMIT_WAIT) &&
		    (!(mask & (1ull << me->agent_cpu)) ||
		     e->agent->txn[me->agent_cpu].state == GHOST_TXN_COMPLETE))
			enclave_agent_wait(e, me->agent_cpu, 0);
		break;
	}
	case GHOST_WAIT:
		if (!is_agent)
			r = -EPERM;
		else if ((uint64_t)a > MAX_WAIT_NS)
			r = -EINVAL;
		else
			r = enclave_agent_wait(e, me->agent_cpu, (uint64_t)a);
		break;
	case GHOST_PING:
		if (a < 0 || a >= MAX_CPUS || !cpumask_test(&e->cpus, (unsigned)a))
			r = -EINVAL;
		else
			enclave_ping(e, (unsigned)a);
		break;
	case GHOST_SET_TICK:
		if (a != 0 && (a < 10000 || (uint64_t)a > MAX_WAIT_NS))
			r = -EINVAL;	/* at least 10 µs */
		else
			e->tick_ns = (uint64_t)a;
		break;
	case GHOST_TIMER_ARM:
		r = a < 0 || a >= MAX_CPUS ? -EINVAL : enclave_timer_arm(e, (unsigned)a, (uint64_t)b, (uint64_t)c);
		break;
	case GHOST_SET_IDLE_POLL:
		if (a != 0 && a != 1)
			r = -EINVAL;
		else
			WRITE_ONCE(e->idle_poll, a == 1);
		break;
	default:
		r = -EINVAL;
	}
	enclave_put(e);
	return r;
}

long sys_ghost(long op, long a, long b, long c, long d, long f)
{
	switch (op) {
	case GHOST_ENCLAVE_CREATE:
		return has(CAP_ENCLAVE) ? enclave_create_op((uint64_t)a) : -EPERM;
	case GHOST_ENCLAVE_DESTROY:
		return has(CAP_ENCLAVE) ? with_enclave(a, destroy, 0, 0) : -EPERM;
	case GHOST_ENCLAVE_WATCHDOG:
		return with_enclave(a, watchdog, b, 0);
	case GHOST_ENCLAVE_DUMP:
		return has(CAP_ENCLAVE) ? with_enclave(a, dump, 0, 0) : -EPERM;
	case GHOST_ENCLAVE_LIST:
		return list(a, b);
	case GHOST_THREAD_BATCH: {
		if (a != 0 && a != 1)
			return -EINVAL;
		struct thread *me = thread_current();
		unsigned long flags = spin_lock_irqsave(&me->lock);
		me->ghost_batch = a == 1;
		spin_unlock_irqrestore(&me->lock, flags);
		return 0;
	}
	case GHOST_ENCLAVE_FATE: {
		struct ghost_enclave_end end;
		int err = a <= 0 || a > INT32_MAX ? -ENOENT : enclave_fate((int)a, &end);
		if (!err && copy_to_user((uintptr_t)b, &end, sizeof(end)))
			err = -EFAULT;
		return err;
	}
	case GHOST_ENCLAVE_ADD_TASK:
		return with_enclave(a, add_task, b, 0);
	case GHOST_SET_COOKIE:
		return set_cookie(a, b);
	case GHOST_ENCLAVE_CORE_ISOLATE:
		return with_enclave(a, core_isolate, b, 0);
	case GHOST_CORE_STATS:
		return core_stats_op(a, b);
	case GHOST_ENCLAVE_THREADS:
		return with_enclave(a, threads_op, b, c);
	case GHOST_ENCLAVE_BLACKOUT: {
		if (!has(CAP_ENCLAVE))
			return -EPERM;
		if (b != 0 && b != 1)
			return -EINVAL;
		struct enclave *e = a > 0 && a <= INT32_MAX ? enclave_get((int)a) : NULL;
		if (!e)
			return -ENOENT;
		long ns = (long)enclave_blackout(e, b == 1);
		enclave_put(e);
		return ns;
	}
	case GHOST_ENCLAVE_ADD_THREAD:
		return with_enclave(a, add_thread, b, 0);
	case GHOST_ENCLAVE_REMOVE_THREAD:
		return with_enclave(a, remove_thread, b, 0);
	case GHOST_ATTACH:
		return has(CAP_AGENT) ? with_enclave(a, attach, b, c) : -EPERM;
	case GHOST_AGENT_INIT: case GHOST_QUEUE_CREATE: case GHOST_QUEUE_DESTROY:
	case GHOST_ASSOCIATE_QUEUE: case GHOST_CONFIG_QUEUE_WAKEUP: case GHOST_COMMIT:
	case GHOST_WAIT: case GHOST_PING: case GHOST_SET_TICK: case GHOST_SET_IDLE_POLL:
	case GHOST_TIMER_ARM:
		return has(CAP_AGENT) ? agent_op(op, a, b, c) : -EPERM;
	default:
		return -EINVAL;
	}
}
