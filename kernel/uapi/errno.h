/* kernel/uapi/errno.h: error numbers shared by the kernel and user programs.
 * Kernel functions return them negated (-ENOMEM); the values follow Linux's so a
 * researcher reading a trace recognizes them. */
#pragma once

#define EPERM		1	/* operation not permitted (capability missing) */
#define ENOENT		2	/* no such object */
#define EINTR		4	/* interrupted: the task is ending */
#define EIO		5
#define E2BIG		7	/* argument list too long */
#define ENOEXEC		8	/* bad executable */
#define EBADF		9
#define EAGAIN		11
#define ENOMEM		12
#define EFAULT		14	/* bad user address */
#define EBUSY		16
#define EEXIST		17
#define EINVAL		22
#define ENOSPC		28
#define ERANGE		34
#define EDEADLK		35	/* would wait for itself */
#define ENOSYS		38
#define ENAMETOOLONG	36
#define EOVERFLOW	75
#define ETIMEDOUT	110
