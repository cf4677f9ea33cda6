/* kernel/format.h: printf-style formatting into a buffer (kernel/format.c).
 * Pure code, also compiled into the host unit tests.
 *
 * Conversions: d i u x X o c s p %, with flags - 0 + space #, width and precision
 * (numbers or *), and length modifiers hh h l ll z t j.  %p prints 0x and the hex
 * value.  Like C99 vsnprintf: returns the length the whole output would have had,
 * writes at most size-1 characters and always terminates when size > 0. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

int wisp_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int wisp_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
