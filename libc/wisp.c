/* libc/wisp.c: wisp's own calls for user programs (libc/wisp.h): clock, sleep,
 * yield, thread id, spawning and waiting for tasks, futexes. Threads, mutexes and
 * condition variables are in libc/thread.c. */
#include "syscall.h"
#include "wisp.h"

#include <errno.h>
#include <kernel/uapi/ghost.h>

uint64_t wisp_clock_ns(void)
{
	return (uint64_t)wisp_syscall0(SYS_clock);
}

void wisp_sleep_ns(uint64_t ns)
{
	if (ns != 0)
		wisp_syscall1(SYS_sleep, (long)ns);
}

void wisp_yield(void)
{
	wisp_syscall0(SYS_yield);
}

long wisp_gettid(void)
{
	return wisp_syscall0(SYS_gettid);
}

int wisp_getcpu(void)
{
	return (int)wisp_syscall0(SYS_getcpu);
}

long wisp_spawn(const char *cmdline)
{
	return wisp_spawn_caps(cmdline, CAP_ALL);	/* the kernel keeps only ours */
}

long wisp_spawn_caps(const char *cmdline, unsigned caps)
{
	return wisp_syscall_ret(wisp_syscall2(SYS_spawn, (long)cmdline, (long)caps));
}

long wisp_spawn_enclave(const char *cmdline, unsigned caps, int enclave)
{
	return wisp_syscall_ret(wisp_syscall3(SYS_spawn, (long)cmdline, (long)caps, enclave));
}

int wisp_set_affinity(long tid, uint64_t cpus)
{
	long r = wisp_syscall2(SYS_affinity, tid, (long)cpus);

	return r < 0 ? (int)-r : 0;
}

long wisp_module_read(const char *name, void *buf, size_t len, size_t offset)
{
	return wisp_syscall_ret(wisp_syscall6(SYS_module, (long)name, (long)buf, (long)len,
					      (long)offset, 0, 0));
}

int wisp_kill(long task)
{
	return (int)wisp_syscall_ret(wisp_syscall1(SYS_kill, task));
}

long wisp_ghost(int op, long a, long b, long c)
{
	return wisp_syscall6(SYS_ghost, op, a, b, c, 0, 0);
}

int wisp_set_cookie(long tid, uint32_t cookie)
{
	return (int)wisp_syscall_ret(wisp_ghost(GHOST_SET_COOKIE, tid, cookie, 0));
}

int wisp_core_stats(int cpu, struct ghost_core_stats *out)
{
	return (int)wisp_syscall_ret(wisp_ghost(GHOST_CORE_STATS, cpu, (long)out, 0));
}

int wisp_enclave_info(int id, struct ghost_enclave_info *out)
{
	struct ghost_enclave_info all[GHOST_MAX_CPUS];	/* a CPU each at the most */
	long n = wisp_ghost(GHOST_ENCLAVE_LIST, (long)all, GHOST_MAX_CPUS, 0);
	for (long i = 0; i < n && i < GHOST_MAX_CPUS; i++)
		if ((int)all[i].id == id) {
			*out = all[i];
			return 0;
		}
	errno = ENOENT;
	return -1;
}

long wisp_wait(long task, int *status)
{
	return wisp_syscall_ret(wisp_syscall2(SYS_wait, task, (long)status));
}

int wisp_futex_wait(uint32_t *addr, uint32_t expected, uint64_t timeout_ns)
{
	long r = wisp_syscall3(SYS_futex_wait, (long)addr, expected, (long)timeout_ns);

	return r < 0 ? (int)-r : 0;
}

int wisp_futex_wake(uint32_t *addr, int n)
{
	return (int)wisp_syscall_ret(wisp_syscall2(SYS_futex_wake, (long)addr, n));
}
