/* bench/linux/linuxbench.c: /init of the Linux guest that make bench boots in the
 * same QEMU configuration as wisp.  It runs the same benchmark programs, built from
 * the same sources on pthreads (bench/linux/include/): `micro` is
 * tests/bench/benchsched.c, `dispersion ARGS` is workloads/dispersion.c.  The
 * kernel passes what follows "--" on its command line as arguments; each is a
 * command, `;` separating them (e.g. `-- micro ; dispersion 0 rates=1000`).  Then
 * the machine powers off (init must never exit). */
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

int micro_main(void);
int dispersion_main(int argc, char **argv);

static int run(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "micro"))
		return micro_main();
	if (argc >= 1 && !strcmp(argv[0], "dispersion"))
		return dispersion_main(argc, argv);
	fprintf(stderr, "linuxbench: unknown command %s\n", argc ? argv[0] : "(none)");
	return 2;
}

int main(int argc, char **argv)
{
	int bad = 0;
	printf("linuxbench: %ld CPUs\n", sysconf(_SC_NPROCESSORS_ONLN));
	for (int i = 1; i < argc;) {
		int j = i;
		while (j < argc && strcmp(argv[j], ";"))
			j++;
		/* Each command in a child, so one's threads and memory are gone before the
		 * next starts, as with wisp's tasks. */
		pid_t pid = fork();
		if (pid == 0) {
			argv[j] = NULL;
			fflush(stdout);
			_exit(run(j - i, argv + i));
		}
		int status = 1;
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			bad = 1;
		i = j + 1;
	}
	printf("linuxbench: done, %s\n", bad ? "a command failed" : "every command succeeded");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
