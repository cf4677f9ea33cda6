/* kernel/args.c: applying kernel arguments.  See args.h. */
#include <kernel/args.h>
#include <kernel/cmdline.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/uapi/errno.h>

#define MAX_ARGS	64

extern const struct karg __karg_start[], __karg_end[];

static const struct karg *find(const char *name)
{
	for (const struct karg *k = __karg_start; k < __karg_end; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

static void print_names(void)
{
	char line[256];
	size_t n = 0;

	line[0] = '\0';
	for (const struct karg *k = __karg_start; k < __karg_end; k++)
		n += (size_t)snprintf(line + MIN(n, sizeof(line)), sizeof(line) - MIN(n, sizeof(line)),
				      "%s%s", k == __karg_start ? "" : " ", k->name);
	printk("wisp: known kernel arguments: %s\n", line);
}

void args_print_known(void)
{
	for (const struct karg *k = __karg_start; k < __karg_end; k++)
		printk("  %-10s %s\n", k->name, k->help);
}

int args_apply(char *cmdline)
{
	struct cmdline_arg args[MAX_ARGS];
	int bad = 0;
	int n = cmdline_parse(cmdline, args, MAX_ARGS);

	if (n == -E2BIG) {
		printk("wisp: warning: more than %d kernel arguments; the rest are ignored\n", MAX_ARGS);
		n = MAX_ARGS;
		bad++;
	} else if (n < 0) {
		printk("wisp: warning: kernel command line is malformed (unterminated quote "
		       "or empty name); no arguments applied\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		const struct karg *k = find(args[i].key);
		if (!k) {
			printk("wisp: warning: unknown kernel argument '%s' (ignored)\n", args[i].key);
			bad++;
			print_names();
			continue;
		}
		int err = k->set(args[i].value);
		if (err) {
			printk("wisp: warning: kernel argument %s%s%s refused (error %d): %s\n",
			       args[i].key, args[i].value ? "=" : "",
			       args[i].value ? args[i].value : "", err, k->help);
			bad++;
		}
	}
	return bad;
}
