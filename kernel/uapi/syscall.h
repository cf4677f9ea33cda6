/* kernel/uapi/syscall.h: wisp's system calls, as user programs make them.
 *
 * Convention (the same registers as Linux on x86-64, so tools recognize it): the
 * `syscall` instruction with the call number in rax and up to six arguments in rdi,
 * rsi, rdx, r10, r8, r9; the result comes back in rax, a negative error number
 * (kernel/uapi/errno.h) on failure.  rcx and r11 are clobbered by the instruction.
 * Every pointer argument is checked: a bad one gets -EFAULT, never a fault.
 *
 * Program start: rsp points at argc (8 bytes), then argc pointers to the argument
 * strings, then a null pointer; rdi and rsi also hold argc and argv.  The stack is
 * 16-byte aligned at the first instruction (rsp % 16 == 0). */
#pragma once

#define WISP_ABI_SYSCALL_VERSION 1

enum wisp_syscall {
	SYS_write = 1,		/* (int fd, const void *buf, size_t len) -> bytes; fd 1 and 2: console */
	SYS_read = 2,		/* (int fd, void *buf, size_t len) -> bytes; fd 0: console, never blocks: 0 if none */
	SYS_exit = 3,		/* (int status): ends the whole task, every thread */
	SYS_thread_create = 4,	/* (void (*entry)(void *), void *arg, void *stack_top) -> tid */
	SYS_thread_exit = 5,	/* (long code): ends this thread; the last one ends the task */
	SYS_thread_join = 6,	/* (tid_t tid, long *code) -> 0 */
	SYS_yield = 7,		/* () -> 0 */
	SYS_sleep = 8,		/* (uint64_t ns) -> 0 */
	SYS_clock = 9,		/* () -> monotonic nanoseconds since boot */
	SYS_futex_wait = 10,	/* (uint32_t *addr, uint32_t expected, uint64_t timeout_ns or 0)
				 * -> 0 when woken, -EAGAIN if *addr != expected, -ETIMEDOUT */
	SYS_futex_wake = 11,	/* (uint32_t *addr, int n) -> threads woken */
	SYS_mmap = 12,		/* (size_t len, int prot) -> address of zeroed anonymous pages */
	SYS_munmap = 13,	/* (void *addr, size_t len) -> 0 */
	SYS_spawn = 14,		/* (const char *cmdline, unsigned caps, int enclave) -> task
				 * id; cmdline = "module args..."; the child gets caps & the
				 * caller's own; -EPERM if the caller lacks CAP_SPAWN; with
				 * enclave != 0 (needs CAP_ENCLAVE) every thread of the child
				 * is born in that enclave (-ENOENT: no such enclave) */
	SYS_wait = 15,		/* (long task, int *status) -> task id when it has ended */
	SYS_getpid = 16,	/* () -> this task's id */
	SYS_gettid = 17,	/* () -> this thread's id */
	SYS_ghost = 18,		/* (enum ghost_op op, a, b, c) -> per op: kernel/uapi/ghost.h */
	SYS_affinity = 19,	/* (tid_t tid or 0 for the caller, uint64_t cpus) -> 0: the CPUs
				 * a thread of this task may run on; -EINVAL: no online CPU
				 * in cpus, or (a thread of an enclave) none of its
				 * enclave's; -ENOENT: no such thread in this task.  An
				 * enclave's agent may only commit a thread to a CPU of its
				 * affinity (GHOST_TXN_CPU_NOT_ALLOWED) */
	SYS_module = 20,	/* (const char *name, void *buf, size_t len, size_t offset) ->
				 * bytes of boot module name from offset copied to buf (0 at
				 * the end); -ENOENT: no such module.  Scenario files come so */
	SYS_kill = 21,		/* (long task) -> 0: end the task, status WAIT_KILLED (its
				 * waiter still reaps it); CAP_ENCLAVE: a control program
				 * stops an agent that will not step down; -ENOENT: no such
				 * live task, -EINVAL: the caller itself */
	SYS_getcpu = 22,	/* () -> the CPU the caller runs on (it may move at once) */
	SYS_count
};

/* Capabilities of a task.  Programs the kernel starts (init=, test=user) have all;
 * a task passes on only what it has and chooses to. */
#define CAP_SPAWN	(1u << 0)	/* may start programs */
#define CAP_AGENT	(1u << 1)	/* may attach to an enclave as its agent */
#define CAP_ENCLAVE	(1u << 2)	/* may create, destroy and populate enclaves */
#define CAP_ALL		(CAP_SPAWN | CAP_AGENT | CAP_ENCLAVE)

/* SYS_mmap prot bits. */
#define PROT_READ	1
#define PROT_WRITE	2
#define PROT_EXEC	4

/* SYS_wait status of a task killed by a fault: 128 + vector, as a shell would say. */
#define WAIT_FAULT_BASE	128
/* SYS_wait status of a task ended by SYS_kill. */
#define WAIT_KILLED	160
