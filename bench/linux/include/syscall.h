/* bench/linux/include/syscall.h: wisp's raw system call helper, on Linux. */
#pragma once
#include <sys/syscall.h>
#include <unistd.h>

#define wisp_syscall3(n, a, b, c)	syscall((n), (a), (b), (c))
