/* libc/syscalls.c: the system interface newlib's libc.a calls (its x86_64-elf build
 * has no supplied syscalls and uses the plain names: write, not _write). Console I/O
 * on fds 0-2 and exit are real; wisp has no files, processes or signals in the POSIX
 * sense, so the rest fail with ENOSYS, or EBADF for a descriptor above 2. */
#include <cpuid.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscall.h"
#include "wisp.h"

/* How often read(0) asks the console again while it has nothing: SYS_read never
 * blocks, but stdio takes a read of 0 bytes for end of file. */
#define CONSOLE_POLL_NS	(10 * 1000 * 1000)

static int console_fd(int fd)
{
	return fd >= 0 && fd <= 2;
}

/* newlib declares read and write to return _READ_WRITE_RETURN_TYPE, which is int on
 * this target: one call moves at most INT_MAX bytes (a short count, as POSIX allows). */
_READ_WRITE_RETURN_TYPE write(int fd, const void *buf, size_t len)
{
	if (len > INT_MAX)
		len = INT_MAX;
	return (int)wisp_syscall_ret(wisp_syscall3(SYS_write, fd, (long)buf, (long)len));
}

/* Blocks until fd 0 has input, as a terminal read would; other descriptors go to
 * the kernel as they are. */
_READ_WRITE_RETURN_TYPE read(int fd, void *buf, size_t len)
{
	long r;

	if (len > INT_MAX)
		len = INT_MAX;
	for (;;) {
		r = wisp_syscall3(SYS_read, fd, (long)buf, (long)len);
		if (r != 0 || fd != STDIN_FILENO || len == 0)
			return (int)wisp_syscall_ret(r);
		wisp_sleep_ns(CONSOLE_POLL_NS);
	}
}

_Noreturn void _exit(int status)
{
	for (;;)
		wisp_syscall1(SYS_exit, status);
}

pid_t getpid(void)
{
	return (pid_t)wisp_syscall0(SYS_getpid);
}

/* The console is a character device: stdio makes stdout line-buffered because of
 * this and isatty. */
int fstat(int fd, struct stat *st)
{
	if (!console_fd(fd)) {
		errno = EBADF;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0620;
	return 0;
}

int isatty(int fd)
{
	if (console_fd(fd))
		return 1;
	errno = EBADF;
	return 0;
}

off_t lseek(int fd, off_t offset, int whence)
{
	errno = console_fd(fd) ? ESPIPE : EBADF;
	return -1;
}

int close(int fd)
{
	if (console_fd(fd))
		return 0;
	errno = EBADF;
	return -1;
}

int fcntl(int fd, int cmd, ...)
{
	errno = console_fd(fd) ? ENOSYS : EBADF;
	return -1;
}

/* No signals: raise() and abort() end up here, and abort() then calls _exit(1). */
int kill(pid_t pid, int sig)
{
	errno = ENOSYS;
	return -1;
}

/* No signal can be blocked or delivered; the mask is always empty. */
int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (old != NULL)
		sigemptyset(old);
	return 0;
}

static int no_such_call(void)
{
	errno = ENOSYS;
	return -1;
}

int open(const char *path, int flags, ...)
{
	return no_such_call();
}

int stat(const char *restrict path, struct stat *restrict st)
{
	return no_such_call();
}

int unlink(const char *path)
{
	return no_such_call();
}

int link(const char *old, const char *new)
{
	return no_such_call();
}

int mkdir(const char *path, mode_t mode)
{
	return no_such_call();
}

/* Tasks are started with wisp_spawn and awaited with wisp_wait (libc/wisp.h). */
pid_t fork(void)
{
	return no_such_call();
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	return no_such_call();
}

pid_t wait(int *status)
{
	return no_such_call();
}

/* For arc4random. From RDRAND when the CPU has it (CPUID.01H:ECX bit 30, Intel SDM
 * vol. 1 7.3.17: "the RDRAND instruction returns a random number"), else a mix of the
 * TSC and the clock that is NOT cryptographically strong. At most 256 bytes per call,
 * as on OpenBSD (EIO above). */
__attribute__((target("rdrnd"))) static int rdrand64(unsigned long long *v)
{
	return __builtin_ia32_rdrand64_step(v);
}

int getentropy(void *buf, size_t len)
{
	static int has_rdrand = -1;
	unsigned char *p = buf;
	unsigned int a, b, c, d;
	unsigned long long v = 0;
	size_t n;

	if (len > 256) {
		errno = EIO;
		return -1;
	}
	if (has_rdrand < 0)
		has_rdrand = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_RDRND) != 0;
	while (len > 0) {
		int ok = 0;

		for (int tries = 0; has_rdrand && !ok && tries < 10; tries++)
			ok = rdrand64(&v);
		if (!ok) {
			/* splitmix64 over the TSC and the clock */
			v += __builtin_ia32_rdtsc() ^ wisp_clock_ns();
			v += 0x9e3779b97f4a7c15ULL;
			v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
			v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
			v ^= v >> 31;
		}
		n = len < sizeof(v) ? len : sizeof(v);
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
	return 0;
}
