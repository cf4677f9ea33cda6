/* kernel/ghost_sys.h: SYS_ghost, the enclave and agent calls (kernel/ghost_sys.c). */
#pragma once

long sys_ghost(long op, long a, long b, long c, long d, long e);
