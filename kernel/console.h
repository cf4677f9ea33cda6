/* kernel/console.h: console input (kernel/console.c): a ring of received bytes filled
 * by the UART interrupt and read by whoever wants a line (the shell, later). */
#pragma once

#include <stddef.h>

void console_input(char c);	/* interrupt context: append; drops and counts on overflow */
int console_getc(void);		/* a byte, or -1 if none is waiting */
unsigned long console_dropped(void);
/* Send s through the console's loopback, so it comes back as input (tests). */
void console_loopback(const char *s, size_t n);
