/* tests/host/test_ghost_txn.c: every transaction outcome, produced on purpose, and
 * the order in which the checks report. */
#include "htest.h"
#include <kernel/ghost_txn.h>

static const struct txn_view good_view = {
	.caller_is_agent = true, .cpu_in_enclave = true, .cpu_native_busy = false,
	.cpu_aseq = 7, .thread_found = true, .thread_in_enclave = true,
	.thread_runnable = true, .thread_allowed = true, .thread_tseq = 3,
};

static const struct ghost_txn good_txn = {
	.state = GHOST_TXN_READY, .tid = 0x10005, .tseq = 3, .aseq = 7,
};

#define OUTCOME(want, ...)							\
	do {									\
		struct ghost_txn t = good_txn;					\
		struct txn_view v = good_view;					\
		__VA_ARGS__;							\
		CHECK_EQ(txn_decide(&t, &v), want);				\
	} while (0)

HTEST(ghost_txn_every_outcome)
{
	OUTCOME(GHOST_TXN_COMPLETE, (void)0);
	OUTCOME(GHOST_TXN_NOT_PERMITTED, v.caller_is_agent = false);
	OUTCOME(GHOST_TXN_INVALID_FLAGS, t.flags = 1u << 7);
	OUTCOME(GHOST_TXN_INVALID_FLAGS, t.state = GHOST_TXN_EMPTY);
	OUTCOME(GHOST_TXN_INVALID_FLAGS, t.state = GHOST_TXN_COMPLETE);	/* committed twice */
	OUTCOME(GHOST_TXN_INVALID_FLAGS, t.flags = GHOST_TXN_IDLE);	/* idle with a tid */
	OUTCOME(GHOST_TXN_CPU_NOT_IN_ENCLAVE, v.cpu_in_enclave = false);
	OUTCOME(GHOST_TXN_CPU_BUSY, v.cpu_native_busy = true);
	OUTCOME(GHOST_TXN_AGENT_STALE, t.aseq = 6);
	OUTCOME(GHOST_TXN_NOT_IN_ENCLAVE, v.thread_found = false);
	OUTCOME(GHOST_TXN_NOT_IN_ENCLAVE, v.thread_in_enclave = false);
	OUTCOME(GHOST_TXN_THREAD_STALE, t.tseq = 2);
	OUTCOME(GHOST_TXN_NOT_RUNNABLE, v.thread_runnable = false);
	OUTCOME(GHOST_TXN_CPU_NOT_ALLOWED, v.thread_allowed = false);
	OUTCOME(GHOST_TXN_COMPLETE, t.flags = GHOST_TXN_IDLE; t.tid = 0; v.thread_allowed = false);
	OUTCOME(GHOST_TXN_COMPLETE, t.flags = GHOST_TXN_IDLE; t.tid = 0; v.thread_found = false);
}

HTEST(ghost_txn_check_order)
{
	/* With everything wrong, permission is reported first ... */
	OUTCOME(GHOST_TXN_NOT_PERMITTED, v = (struct txn_view){ 0 }; t.aseq = 99; t.tseq = 99);
	/* ... a stale agent before anything about the thread ... */
	OUTCOME(GHOST_TXN_AGENT_STALE, t.aseq = 1; v.thread_found = false);
	/* ... and a stale thread before "not runnable": the agent must read its queue. */
	OUTCOME(GHOST_TXN_THREAD_STALE, t.tseq = 9; v.thread_runnable = false);
	/* A thread that is not runnable is that first, wherever it may run. */
	OUTCOME(GHOST_TXN_NOT_RUNNABLE, v.thread_runnable = false; v.thread_allowed = false);
}
