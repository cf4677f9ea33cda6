/* tests/ktest/test_task.c: user programs from the kernel's side: start, wait, exit
 * status, faults that end only their task, refusals; the leak check around each case
 * proves address spaces, threads and tasks are given back. */
#include <kernel/cpu.h>
#include <kernel/ktest.h>
#include <kernel/task.h>
#include <kernel/uapi/errno.h>
#include <kernel/uapi/syscall.h>

KTEST(task, spawn_and_wait)
{
	int status = -1;
	unsigned tasks = task_count();
	long id = task_spawn("raw", CAP_ALL);

	KT_ASSERT(id > 0);
	KT_EQ(task_wait(id, &status), 0);
	KT_EQ(status, 42);
	KT_EQ(task_count(), tasks);
	KT_EQ(task_wait(id, &status), -ENOENT);	/* waited once: forgotten */
}

KTEST(task, many_at_once)
{
	enum { N = 8 };
	long ids[N];

	for (int i = 0; i < N; i++) {
		ids[i] = task_spawn(i % 2 ? "fault gp" : "raw", CAP_ALL);
		KT_ASSERT(ids[i] > 0);
	}
	for (int i = 0; i < N; i++) {
		int status = -1;
		KT_EQ(task_wait(ids[i], &status), 0);
		KT_EQ(status, i % 2 ? 128 + 13 : 42);
	}
}

KTEST(task, faults_end_only_their_task)
{
	static const char *const kinds[] = { "fault pf", "fault gp", "fault ud", "fault de",
					     "fault nx", "fault kernel" };
	static const int vectors[] = { 14, 13, 6, 0, 14, 14 };

	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int status = -1;
		long id = task_spawn(kinds[i], CAP_ALL);
		KT_ASSERT(id > 0);
		KT_EQ(task_wait(id, &status), 0);
		KT_EQ(status, 128 + vectors[i]);
	}
}

KTEST(task, refusals)
{
	KT_EQ(task_spawn("nosuchprogram", CAP_ALL), -ENOENT);
	KT_EQ(task_spawn("", CAP_ALL), -ENOENT);
	KT_EQ(task_spawn("badelf", CAP_ALL), -ENOEXEC);
	KT_EQ(task_spawn("kernel.sym", CAP_ALL), -ENOEXEC);	/* an ELF, but not a program */
}
