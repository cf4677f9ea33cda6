/* kernel/args.h: kernel arguments.  Each subsystem declares the arguments it takes
 * where it uses them:
 *
 *	static int set_test(const char *value) { ... return 0 or -EINVAL; }
 *	KERNEL_ARG(test, "test=all|SUITE|list: run in-kernel tests and power off", set_test);
 *
 * args_apply() splits the command line (kernel/cmdline.c) and calls the setters in
 * order.  An unknown argument, or one whose setter refuses its value, is reported
 * with the list of known arguments, and the boot goes on. */
#pragma once

struct karg {
	const char *name;
	const char *help;
	int (*set)(const char *value);	/* value is NULL for a bare flag */
};

#define KERNEL_ARG(n, h, fn)	KERNEL_ARG_NAMED(n, #n, h, fn)
/* For a name that is not a C identifier ("sched.slice_us"). */
#define KERNEL_ARG_NAMED(id, str, h, fn)					\
	static const struct karg karg_##id __attribute__((used, section(".karg"), aligned(8))) = \
		{ .name = (str), .help = (h), .set = (fn) }

/* Apply every argument in cmdline (modified in place).  Returns the number of
 * arguments that were unknown or refused. */
int args_apply(char *cmdline);
/* Print the known arguments with their help lines. */
void args_print_known(void);
