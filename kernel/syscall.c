/* kernel/syscall.c: the system call table (numbers and contracts in
 * kernel/uapi/syscall.h).  Every argument is distrusted: pointers go through
 * usercopy.c, sizes are bounded, and a bad call returns an error, never a fault. */
#include <kernel/bootinfo.h>
#include <kernel/console.h>
#include <kernel/cpu.h>
#include <kernel/futex.h>
#include <kernel/ghost_sys.h>
#include <kernel/printk.h>
#include <kernel/syscall.h>
#include <kernel/task.h>
#include <kernel/usercopy.h>
#include <kernel/uapi/errno.h>
#include <kernel/uapi/syscall.h>
#include <arch/arch.h>

#define IO_CHUNK	256
#define MAX_SLEEP_NS	(3600ull * 1000000000ull)

typedef long (*syscall_fn)(long a, long b, long c, long d, long e, long f);

static long sys_write(long fd, long buf, long len, long d, long e, long f)
{
	char chunk[IO_CHUNK];
	long done = 0;

	if (fd != 1 && fd != 2)
		return -EBADF;
	if (len < 0)
		return -EINVAL;
	while (done < len) {
		size_t n = (size_t)MIN(len - done, IO_CHUNK);
		if (copy_from_user(chunk, (uintptr_t)buf + (uintptr_t)done, n))
			return done ? done : -EFAULT;
		console_write_locked_fn(arch_console_write, chunk, n);
		done += (long)n;
	}
	return done;
}

static long sys_read(long fd, long buf, long len, long d, long e, long f)
{
	char chunk[IO_CHUNK];
	long n = 0;
	int c;

	if (fd != 0)
		return -EBADF;
	if (len < 0)
		return -EINVAL;
	/* Refuse a bad buffer even when there is nothing to read yet. */
	if (!vm_range_ok(task_current()->vm, (uintptr_t)buf, (size_t)MIN(len, IO_CHUNK), true))
		return -EFAULT;
	while (n < len && n < IO_CHUNK && (c = console_getc()) >= 0)
		chunk[n++] = (char)c;
	if (n && copy_to_user((uintptr_t)buf, chunk, (size_t)n))
		return -EFAULT;
	return n;
}

static long sys_exit(long status, long b, long c, long d, long e, long f)
{
	task_exit((int)status);
}

static long sys_thread_create(long entry, long arg, long stack, long d, long e, long f)
{
	if ((uintptr_t)entry >= USER_TOP || (uintptr_t)stack > USER_TOP || stack % 16)
		return -EINVAL;
	return task_thread_create((uintptr_t)entry, (uintptr_t)arg, (uintptr_t)stack);
}

static long sys_thread_exit(long code, long b, long c, long d, long e, long f)
{
	task_thread_exit(code);
}

static long sys_thread_join(long tid, long ucode, long c, long d, long e, long f)
{
	long code;
	int err = task_thread_join((tid_t)tid, &code);

	if (!err && ucode && copy_to_user((uintptr_t)ucode, &code, sizeof(code)))
		return -EFAULT;
	return err;
}

static long sys_yield(long a, long b, long c, long d, long e, long f)
{
	thread_yield();
	return 0;
}

static long sys_sleep(long ns, long b, long c, long d, long e, long f)
{
	if ((uint64_t)ns > MAX_SLEEP_NS)
		return -EINVAL;
	thread_sleep((uint64_t)ns);
	return 0;
}

static long sys_clock(long a, long b, long c, long d, long e, long f)
{
	return (long)clock_ns();
}

static long sys_futex_wait(long addr, long expected, long timeout, long d, long e, long f)
{
	return futex_wait((uintptr_t)addr, (uint32_t)expected, (uint64_t)timeout);
}

static long sys_futex_wake(long addr, long n, long c, long d, long e, long f)
{
	return futex_wake((uintptr_t)addr, (int)n);
}

static long sys_mmap(long len, long prot, long c, long d, long e, long f)
{
	if (len <= 0 || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	unsigned p = (prot & PROT_WRITE ? MAP_WRITE : 0) | (prot & PROT_EXEC ? MAP_EXEC : 0);
	uintptr_t a = vm_mmap(task_current()->vm, (size_t)len, p);
	return a ? (long)a : -ENOMEM;
}

static long sys_munmap(long addr, long len, long c, long d, long e, long f)
{
	if (len <= 0)
		return -EINVAL;
	return vm_munmap(task_current()->vm, (uintptr_t)addr, (size_t)len);
}

static long sys_spawn(long ucmd, long caps, long enclave, long d, long e, long f)
{
	char cmd[256];
	unsigned mine = task_current()->caps;

	if (!(mine & CAP_SPAWN) || (enclave && !(mine & CAP_ENCLAVE)))
		return -EPERM;
	if (enclave < 0 || enclave > INT32_MAX)
		return -ENOENT;
	long n = copy_string_from_user(cmd, (uintptr_t)ucmd, sizeof(cmd));
	if (n < 0)
		return n == -ENAMETOOLONG ? -E2BIG : n;
	return task_spawn_in(cmd, (unsigned)caps & mine, (int)enclave);	/* nobody gains a capability */
}

static long sys_wait(long id, long ustatus, long c, long d, long e, long f)
{
	int status;
	int err;

	if (id == task_current()->id)
		return -EDEADLK;
	if ((err = task_wait(id, &status)))
		return err;
	if (ustatus && copy_to_user((uintptr_t)ustatus, &status, sizeof(status)))
		return -EFAULT;
	return id;
}

static long sys_getpid(long a, long b, long c, long d, long e, long f)
{
	return task_current()->id;
}

static long sys_gettid(long a, long b, long c, long d, long e, long f)
{
	return (long)thread_current()->tid;
}

static long sys_getcpu(long a, long b, long c, long d, long e, long f)
{
	return (long)this_cpu()->id;
}

static long sys_affinity(long tid, long mask, long c, long d, long e, long f)
{
	cpumask_t m = { { (uint64_t)mask } };	/* MAX_CPUS is 64: one word */

	return task_thread_affinity((tid_t)tid, &m);
}

static long sys_module(long uname, long buf, long len, long off, long e, long f)
{
	char name[64];

	long n = copy_string_from_user(name, (uintptr_t)uname, sizeof(name));
	if (n < 0)
		return n == -ENAMETOOLONG ? -ENOENT : n;
	const struct boot_module *m = boot_module(name);
	if (!m)
		return -ENOENT;
	uint64_t size = m->end - m->start;
	if (len < 0 || off < 0)
		return -EINVAL;
	if ((uint64_t)off >= size)
		return 0;
	size_t k = (size_t)MIN((uint64_t)len, size - (uint64_t)off);
	if (k && copy_to_user((uintptr_t)buf, (const char *)phys_to_virt(m->start) + off, k))
		return -EFAULT;
	return (long)k;
}

static long sys_kill(long task, long b, long c, long d, long e, long f)
{
	if (!(task_current()->caps & CAP_ENCLAVE))
		return -EPERM;
	return task_kill(task);
}

static const syscall_fn table[SYS_count] = {
	[SYS_write] = sys_write,
	[SYS_read] = sys_read,
	[SYS_exit] = sys_exit,
	[SYS_thread_create] = sys_thread_create,
	[SYS_thread_exit] = sys_thread_exit,
	[SYS_thread_join] = sys_thread_join,
	[SYS_yield] = sys_yield,
	[SYS_sleep] = sys_sleep,
	[SYS_clock] = sys_clock,
	[SYS_futex_wait] = sys_futex_wait,
	[SYS_futex_wake] = sys_futex_wake,
	[SYS_mmap] = sys_mmap,
	[SYS_munmap] = sys_munmap,
	[SYS_spawn] = sys_spawn,
	[SYS_wait] = sys_wait,
	[SYS_getpid] = sys_getpid,
	[SYS_gettid] = sys_gettid,
	[SYS_ghost] = sys_ghost,
	[SYS_affinity] = sys_affinity,
	[SYS_module] = sys_module,
	[SYS_kill] = sys_kill,
	[SYS_getcpu] = sys_getcpu,
};

long syscall_invoke(unsigned long n, const long a[6])
{
	if (n >= SYS_count || !table[n])
		return -ENOSYS;
	long r = table[n](a[0], a[1], a[2], a[3], a[4], a[5]);
	task_check_exit();
	return r;
}
