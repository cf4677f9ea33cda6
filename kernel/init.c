/* kernel/init.c: the first user program.  init="PROGRAM ARGS" starts a module after
 * boot, waits for it and powers off with its exit status; test=user runs the user
 * test program (usertests) the same way, wrapped in a leak check. */
#include <kernel/args.h>
#include <kernel/kmalloc.h>
#include <kernel/page.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/trace.h>
#include <kernel/uapi/errno.h>
#include <kernel/uapi/syscall.h>
#include <arch/arch.h>

static char init_cmd[256];

static int set_init(const char *v)
{
	if (!v || !*v)
		return -EINVAL;
	return strlcpy(init_cmd, v, sizeof(init_cmd)) >= sizeof(init_cmd) ? -E2BIG : 0;
}
KERNEL_ARG(init, "init=\"PROGRAM ARGS\": run this boot module, then power off with its status",
	   set_init);

/* scenario=NAME: the control program runs boot/scenarios/NAME.conf. */
static int set_scenario(const char *v)
{
	if (!v || !*v || strchr(v, ' '))
		return -EINVAL;
	snprintf(init_cmd, sizeof(init_cmd), "scenario %s", v);
	return strlen(v) > 64 ? -E2BIG : 0;
}
KERNEL_ARG(scenario, "scenario=NAME: run boot/scenarios/NAME.conf (enclaves, agents, programs), "
	   "then power off", set_scenario);

/* Run cmd to its end; its exit status, or -1 if it could not start. */
int init_run(const char *cmd)
{
	long id = task_spawn(cmd, CAP_ALL);
	int status = -1;

	if (id < 0) {
		printk("wisp: cannot start '%s': %s\n", cmd, id == -ENOENT ? "no such module" :
		       id == -ENOEXEC ? "not a valid program" : "out of memory or bad arguments");
		return -1;
	}
	task_wait(id, &status);
	return status;
}

static noreturn void power_off_with(int status)
{
	trace_dump();
	arch_power_off(status < 0 ? 1 : status > 126 ? 126 : status);
}

void init_run_requested(void)
{
	if (!init_cmd[0])
		return;
	int status = init_run(init_cmd);
	printk("wisp: init '%s' exited with status %d\n", init_cmd, status);
	power_off_with(status);
}

/* test=user and test=ghost: usertests or ghosttests prints its own cases and
 * "N passed, N failed"; the kernel adds the leak check of the whole run. */
noreturn void init_run_user_tests(const char *program)
{
	uint64_t pages = page_free_count();
	unsigned threads = thread_count(), tasks = task_count();
	struct kmalloc_stats before, after;

	kmalloc_stats(&before);
	int status = init_run(program);
	kmalloc_stats(&after);
	if (page_free_count() != pages || thread_count() != threads || task_count() != tasks ||
	    after.objects != before.objects) {
		printk("FAIL user leak check: %ld pages, %d threads, %d tasks, %ld heap objects "
		       "not given back\n", (long)(pages - page_free_count()),
		       (int)(thread_count() - threads), (int)(task_count() - tasks),
		       (long)(after.objects - before.objects));
		power_off_with(status ? status : 1);
	}
	printk("ok user leak check\n");
	power_off_with(status);
}
