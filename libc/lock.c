/* libc/lock.c: the locks newlib takes around stdio, malloc, atexit, the environment
 * and the time zone (newlib built with --enable-newlib-retargetable-locking; the
 * contract is newlib/libc/misc/lock.c). All ten functions and nine static locks must
 * be defined here, or the link pulls newlib's empty ones and fails on duplicates. */
#include <stdlib.h>
#include <sys/lock.h>

#include "internal.h"
#include "wisp.h"

/* owner and depth are used by the recursive functions only. owner is written by
 * the holder alone and read by anyone: a thread sees its own id there only if it
 * holds the lock. */
struct __lock {
	wisp_mutex_t mutex;
	long owner;		/* lock_self() of the holder; 0 (a static lock's) is free */
	unsigned int depth;	/* acquisitions by the holder not yet released */
};

struct __lock __lock___sinit_recursive_mutex;
struct __lock __lock___sfp_recursive_mutex;
struct __lock __lock___atexit_recursive_mutex;
struct __lock __lock___at_quick_exit_mutex;
struct __lock __lock___malloc_recursive_mutex;
struct __lock __lock___env_recursive_mutex;
struct __lock __lock___tz_mutex;
struct __lock __lock___dd_hash_mutex;
struct __lock __lock___arc4random_mutex;

/* Every dynamic lock whose allocation failed shares one of these: coarser, still
 * correct, as long as newlib never nests two dynamic plain locks (3.3.0 makes none;
 * its dynamic locks are the FILE locks, all recursive). */
static struct __lock fallback_lock, fallback_recursive_lock;

/* Dynamic locks (one per FILE) come from malloc, which takes the static malloc lock:
 * newlib never holds that while creating a FILE, so there is no cycle. */
void __retarget_lock_init(_LOCK_T *lock)
{
	*lock = calloc(1, sizeof(struct __lock));
	if (*lock == NULL)
		*lock = &fallback_lock;
}

void __retarget_lock_init_recursive(_LOCK_T *lock)
{
	*lock = calloc(1, sizeof(struct __lock));
	if (*lock == NULL)
		*lock = &fallback_recursive_lock;
}

void __retarget_lock_close(_LOCK_T lock)
{
	if (lock != &fallback_lock && lock != &fallback_recursive_lock)
		free(lock);
}

void __retarget_lock_close_recursive(_LOCK_T lock)
{
	__retarget_lock_close(lock);
}

void __retarget_lock_acquire(_LOCK_T lock)
{
	wisp_mutex_lock(&lock->mutex);
}

/* Returns 0 when it took the lock, like pthread_mutex_trylock (newlib has no
 * caller in 3.3.0; later versions' ftrylockfile return it as is). */
int __retarget_lock_try_acquire(_LOCK_T lock)
{
	return wisp_mutex_trylock(&lock->mutex);
}

void __retarget_lock_release(_LOCK_T lock)
{
	wisp_mutex_unlock(&lock->mutex);
}

/* Who is asking, for the recursive functions. wisp has no thread pointer (no TLS),
 * so telling threads apart costs a SYS_gettid; a program that never called
 * wisp_thread_create has one thread and pays nothing. The first thread keeps the
 * id MAIN_THREAD after others appear, because it may hold locks across that moment
 * (a thread created from an atexit handler or a stdio callback). */
#define MAIN_THREAD	(-1L)

static long lock_self(void)
{
	long tid;

	if (!__atomic_load_n(&wisp_threads_started, __ATOMIC_RELAXED))
		return MAIN_THREAD;
	tid = wisp_gettid();
	return tid == wisp_main_tid ? MAIN_THREAD : tid + 1;
}

void __retarget_lock_acquire_recursive(_LOCK_T lock)
{
	long self = lock_self();

	if (__atomic_load_n(&lock->owner, __ATOMIC_RELAXED) != self) {
		wisp_mutex_lock(&lock->mutex);
		__atomic_store_n(&lock->owner, self, __ATOMIC_RELAXED);
	}
	lock->depth++;
}

int __retarget_lock_try_acquire_recursive(_LOCK_T lock)
{
	long self = lock_self();

	if (__atomic_load_n(&lock->owner, __ATOMIC_RELAXED) != self) {
		if (wisp_mutex_trylock(&lock->mutex) != 0)
			return 1;
		__atomic_store_n(&lock->owner, self, __ATOMIC_RELAXED);
	}
	lock->depth++;
	return 0;
}

void __retarget_lock_release_recursive(_LOCK_T lock)
{
	if (--lock->depth != 0)
		return;
	__atomic_store_n(&lock->owner, 0, __ATOMIC_RELAXED);
	wisp_mutex_unlock(&lock->mutex);
}
