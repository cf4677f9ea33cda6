/* kernel/ghost_txn.c: the checks a transaction must pass, in a fixed order so an
 * agent always gets the most useful failure first: who commits, the slot itself, the
 * CPU, the agent's staleness, then the thread. */
#include <kernel/ghost_txn.h>

enum ghost_txn_state txn_decide(const struct ghost_txn *txn, const struct txn_view *v)
{
	if (!v->caller_is_agent)
		return GHOST_TXN_NOT_PERMITTED;
	if (txn->state != GHOST_TXN_READY || (txn->flags & ~GHOST_TXN_FLAGS))
		return GHOST_TXN_INVALID_FLAGS;
	if ((txn->flags & GHOST_TXN_IDLE) && txn->tid != 0)
		return GHOST_TXN_INVALID_FLAGS;
	if (!v->cpu_in_enclave)
		return GHOST_TXN_CPU_NOT_IN_ENCLAVE;
	if (v->cpu_native_busy)
		return GHOST_TXN_CPU_BUSY;
	if (txn->aseq != v->cpu_aseq)
		return GHOST_TXN_AGENT_STALE;
	if (txn->flags & GHOST_TXN_IDLE)
		return GHOST_TXN_COMPLETE;
	if (!v->thread_found || !v->thread_in_enclave)
		return GHOST_TXN_NOT_IN_ENCLAVE;
	if (txn->tseq != v->thread_tseq)
		return GHOST_TXN_THREAD_STALE;
	if (!v->thread_runnable)
		return GHOST_TXN_NOT_RUNNABLE;
	if (!v->thread_allowed)
		return GHOST_TXN_CPU_NOT_ALLOWED;
	return GHOST_TXN_COMPLETE;
}
