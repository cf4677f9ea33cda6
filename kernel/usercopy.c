/* kernel/usercopy.c: checked copies to and from user memory.  See usercopy.h. */
#include <kernel/usercopy.h>
#include <kernel/uapi/errno.h>
#include <arch/arch.h>

long arch_copy_user(void *dst, const void *src, size_t n);

static int user_range_ok(uintptr_t a, size_t n)
{
	return a + n >= a && a + n <= USER_TOP;
}

int copy_from_user(void *dst, uintptr_t usrc, size_t n)
{
	if (!user_range_ok(usrc, n))
		return -EFAULT;
	return arch_copy_user(dst, (const void *)usrc, n) ? -EFAULT : 0;
}

int copy_to_user(uintptr_t udst, const void *src, size_t n)
{
	if (!user_range_ok(udst, n))
		return -EFAULT;
	return arch_copy_user((void *)udst, src, n) ? -EFAULT : 0;
}

long copy_string_from_user(char *dst, uintptr_t usrc, size_t max)
{
	for (size_t i = 0; i < max; i++) {
		if (copy_from_user(&dst[i], usrc + i, 1))
			return -EFAULT;
		if (dst[i] == '\0')
			return (long)i;
	}
	return -ENAMETOOLONG;
}
