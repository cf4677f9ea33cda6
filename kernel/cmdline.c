/* kernel/cmdline.c: kernel command line splitting.  See cmdline.h. */
#include <kernel/cmdline.h>
#include <kernel/uapi/errno.h>
#include <stdbool.h>
#include <stddef.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copy one argument starting at *p onto itself without its quotes, terminate it,
 * and leave *p after it.  Returns false on an unterminated quote. */
static bool take_word(char **p)
{
	char *r = *p, *w = *p;
	bool quoted = false;

	for (; *r && (quoted || !is_space(*r)); r++) {
		if (*r == '"')
			quoted = !quoted;
		else
			*w++ = *r;
	}
	if (quoted)
		return false;
	*p = *r ? r + 1 : r;
	*w = '\0';
	return true;
}

int cmdline_parse(char *buf, struct cmdline_arg *args, int max)
{
	int n = 0;
	char *p = buf;

	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			return n;
		char *word = p;
		if (!take_word(&p))
			return -EINVAL;
		char *eq = word;
		while (*eq && *eq != '=')
			eq++;
		if (eq == word)
			return -EINVAL;
		if (n == max)
			return -E2BIG;
		args[n].key = word;
		args[n].value = NULL;
		if (*eq) {
			*eq = '\0';
			args[n].value = eq + 1;
		}
		n++;
	}
}
