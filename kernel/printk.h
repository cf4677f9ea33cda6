/* kernel/printk.h: kernel console output.  printk may be called from any context,
 * interrupts on or off; each call's text reaches the console whole (one lock around
 * the write), and panic bypasses the lock so a dying CPU can always speak. */
#pragma once

#include <stdarg.h>
#include <kernel/compiler.h>
#include <kernel/format.h>

#define snprintf	wisp_snprintf
#define vsnprintf	wisp_vsnprintf

int printk(const char *fmt, ...) __printf(1, 2);
int vprintk(const char *fmt, va_list ap);
/* Write raw text to the console without taking the console lock (panic path). */
void console_write_unlocked(const char *s, size_t n);
/* Call fn(s, n) holding the console lock, so no other output interleaves. */
void console_write_locked_fn(void (*fn)(const char *s, size_t n), const char *s, size_t n);
