/* libc/time.c: POSIX clocks and sleeps on SYS_clock and SYS_sleep. wisp has no
 * real-time clock: CLOCK_REALTIME and gettimeofday count from boot (1970-01-01 is
 * boot time). newlib declares clock_gettime and nanosleep only with _POSIX_TIMERS,
 * which the Makefile's UCFLAGS define for every user program. */
#include <errno.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "wisp.h"

#define NS_PER_SEC	1000000000ULL

int clock_gettime(clockid_t id, struct timespec *ts)
{
	uint64_t ns;

	if (id != CLOCK_MONOTONIC && id != CLOCK_REALTIME) {
		errno = EINVAL;
		return -1;
	}
	ns = wisp_clock_ns();
	ts->tv_sec = (time_t)(ns / NS_PER_SEC);
	ts->tv_nsec = (long)(ns % NS_PER_SEC);
	return 0;
}

/* The kernel reports nanoseconds; its clock is finer than that only in name. */
int clock_getres(clockid_t id, struct timespec *res)
{
	if (id != CLOCK_MONOTONIC && id != CLOCK_REALTIME) {
		errno = EINVAL;
		return -1;
	}
	if (res != NULL) {
		res->tv_sec = 0;
		res->tv_nsec = 1;
	}
	return 0;
}

/* newlib's time() comes through here. The time zone argument is ignored. */
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	uint64_t ns = wisp_clock_ns();

	if (tv != NULL) {
		tv->tv_sec = (time_t)(ns / NS_PER_SEC);
		tv->tv_usec = (suseconds_t)(ns % NS_PER_SEC / 1000);
	}
	return 0;
}

/* Sleeps are never interrupted (no signals), so *rem is always zero. */
int nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= (long)NS_PER_SEC) {
		errno = EINVAL;
		return -1;
	}
	wisp_sleep_ns((uint64_t)req->tv_sec * NS_PER_SEC + (uint64_t)req->tv_nsec);
	if (rem != NULL) {
		rem->tv_sec = 0;
		rem->tv_nsec = 0;
	}
	return 0;
}

unsigned sleep(unsigned int seconds)
{
	wisp_sleep_ns(seconds * NS_PER_SEC);
	return 0;
}

int usleep(useconds_t us)
{
	wisp_sleep_ns(us * 1000ULL);
	return 0;
}

/* The kernel keeps no per-task CPU time, so clock() (which adds tms_utime and
 * tms_stime) reports "not available", (clock_t)-1, as C11 7.27.2.1 allows; time
 * intervals come from clock_gettime(CLOCK_MONOTONIC) or wisp_clock_ns(). */
clock_t times(struct tms *buf)
{
	errno = ENOSYS;
	return (clock_t)-1;
}
