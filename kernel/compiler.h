/* kernel/compiler.h: attributes and small macros every file may use. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define noreturn	_Noreturn
#define __section(s)	__attribute__((section(s)))
#define __used		__attribute__((used))
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	(((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define barrier()	__asm__ volatile("" ::: "memory")

/* The caller's address, for lock and allocator diagnostics. */
#define RETURN_ADDRESS	((uintptr_t)__builtin_return_address(0))
