/* kernel/futex.c: wait on a user word until someone wakes the address (the Linux
 * futex idea, Franke, Russell and Kirkwood, OLS 2002).  Waiters hash by (address
 * space, address) into buckets, each a wait queue; a waiter checks the word under the
 * bucket lock, so a waker that changes the word and then wakes under the same lock
 * cannot slip in between. */
#include <kernel/futex.h>
#include <kernel/cpu.h>
#include <arch/arch.h>
#include <kernel/task.h>
#include <kernel/timer.h>
#include <kernel/usercopy.h>
#include <kernel/uapi/errno.h>

#define BUCKETS	64

static struct waitq buckets[BUCKETS];

void futex_init(void)
{
	for (int i = 0; i < BUCKETS; i++)
		waitq_init(&buckets[i], "futex");
}

static struct waitq *bucket(struct vm *vm, uintptr_t addr)
{
	return &buckets[(((uintptr_t)vm >> 6) ^ (addr >> 2)) % BUCKETS];
}

struct key {
	struct vm *vm;
	uintptr_t addr;
};

static bool same_key(struct thread *t, void *arg)
{
	struct key *k = arg;
	return t->task && t->task->vm == k->vm && t->futex_addr == k->addr;
}

/* Under the bucket's lock, so the waiter, which checks futex_timed_out under it,
 * cannot miss the wakeup even when it now runs on another CPU than the timer's
 * (a ghost thread often does). */
static void timeout(struct timer *tm)
{
	struct thread *t = container_of(tm, struct thread, sleep_timer);
	struct waitq *wq = t->futex_wq;
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	t->futex_timed_out = true;
	sched_wake(t);
	spin_unlock_irqrestore(&wq->lock, flags);
}

long futex_wait(uintptr_t addr, uint32_t expected, uint64_t timeout_ns)
{
	struct thread *me = thread_current();
	struct task *t = me->task;
	struct waitq *wq;
	uint32_t now;

	if (addr % 4)
		return -EINVAL;
	/* Touch the word first: the fault that maps it must not happen under the lock. */
	if (copy_from_user(&now, addr, 4))
		return -EFAULT;
	wq = bucket(t->vm, addr);
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	if (copy_from_user(&now, addr, 4) || now != expected) {
		spin_unlock_irqrestore(&wq->lock, flags);
		return now != expected ? -EAGAIN : -EFAULT;
	}
	me->futex_addr = addr;
	me->futex_woken = false;
	me->futex_timed_out = false;
	me->futex_wq = wq;
	uint64_t deadline = timeout_ns ? clock_ns() + timeout_ns : 0;
	if (deadline)
		timer_arm(&me->sleep_timer, this_cpu()->id, deadline, timeout);
	long ret = 0;
	while (!me->futex_woken) {
		if (READ_ONCE(t->exiting)) {
			ret = -EINTR;
			break;
		}
		if (deadline && (me->futex_timed_out || clock_ns() >= deadline)) {
			ret = -ETIMEDOUT;
			break;
		}
		waitq_wait(wq);
	}
	if (!list_empty(&me->wait_link))
		list_remove(&me->wait_link);
	me->futex_addr = 0;
	spin_unlock_irqrestore(&wq->lock, flags);
	if (deadline)
		timer_cancel(&me->sleep_timer);
	return ret;
}

static bool wake_match(struct thread *t, void *arg)
{
	if (!same_key(t, arg))
		return false;
	t->futex_woken = true;
	return true;
}

long futex_wake(uintptr_t addr, int n)
{
	struct task *t = task_current();
	struct key k = { t->vm, addr };

	if (addr % 4 || addr >= USER_TOP)
		return -EINVAL;
	if (n <= 0)
		return 0;
	struct waitq *wq = bucket(t->vm, addr);
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	int woken = waitq_wake_match_locked(wq, wake_match, &k, n);
	spin_unlock_irqrestore(&wq->lock, flags);
	return woken;
}
