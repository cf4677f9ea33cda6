/* kernel/cmdline.h: splitting a kernel command line into key=value arguments
 * (kernel/cmdline.c).  Pure code, also compiled into the host unit tests.
 *
 * Arguments are separated by spaces or tabs.  A double-quoted stretch keeps its
 * spaces and loses its quotes: init="server --rate 5" gives key init, value
 * `server --rate 5`.  An argument without '=' is a flag (value NULL). */
#pragma once

struct cmdline_arg {
	char *key;
	char *value;	/* NULL for a flag */
};

/* Split buf in place into at most max arguments.
 * Returns the number of arguments, -E2BIG if there are more than max (the first max
 * are filled), -EINVAL for an unterminated quote or an empty key ("=x"). */
int cmdline_parse(char *buf, struct cmdline_arg *args, int max);
