/* libc/errno.c: setting errno from a system call's result. newlib is built with
 * Linux's error numbers (tools/build-newlib renumbers its <errno.h>), the kernel's
 * too (kernel/uapi/errno.h), so a kernel error is an errno value as it stands. */
#include <errno.h>
/* After newlib's header, on purpose: a kernel number that differs from newlib's
 * redefines a macro outside the system headers, which -Werror turns into a build
 * failure here rather than a wrong errno at run time. */
#include <kernel/uapi/errno.h>

#include "syscall.h"

long wisp_syscall_ret(long ret)
{
	if (ret >= 0)
		return ret;
	errno = (int)-ret;
	return -1;
}
