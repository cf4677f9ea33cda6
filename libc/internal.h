/* libc/internal.h: what libc/ files share with each other and not with programs. */
#pragma once

/* Set by the first wisp_thread_create, in the task's first thread, before the
 * second thread exists; never cleared. libc/lock.c tells threads apart only after. */
extern int wisp_threads_started;
extern long wisp_main_tid;
