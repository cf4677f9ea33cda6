/* kernel/usercopy.h: moving bytes across the user/kernel boundary (kernel/usercopy.c).
 * Every user pointer is checked against user space first, and a fault during the
 * copy (an unmapped or forbidden page) returns -EFAULT instead of stopping the kernel.
 * Pages of the task's regions are mapped on first touch by the fault handler. */
#pragma once

#include <stddef.h>
#include <stdint.h>

int copy_from_user(void *dst, uintptr_t usrc, size_t n);
int copy_to_user(uintptr_t udst, const void *src, size_t n);
/* A NUL-terminated string of at most max-1 bytes into dst: its length, -EFAULT, or
 * -ENAMETOOLONG. */
long copy_string_from_user(char *dst, uintptr_t usrc, size_t max);
