/* kernel/ghost_txn.h: deciding a ghOSt transaction (kernel/ghost_txn.c).  Pure code:
 * the caller gathers the kernel's own view of the thread and the CPU under its locks
 * and this says what the transaction comes to; the host tests drive every state. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <kernel/uapi/ghost.h>

/* What the kernel knows, never what the agent wrote. */
struct txn_view {
	bool caller_is_agent;	/* the committing thread is the enclave's agent */
	bool cpu_in_enclave;
	bool cpu_native_busy;	/* a native-class thread runs or waits on the CPU */
	uint32_t cpu_aseq;
	bool thread_found;	/* tid names a live thread */
	bool thread_in_enclave;
	bool thread_runnable;
	bool thread_allowed;	/* the thread's affinity includes the CPU */
	uint32_t thread_tseq;
};

/* The final state of txn (a copy the kernel took of the slot) given the view. */
enum ghost_txn_state txn_decide(const struct ghost_txn *txn, const struct txn_view *v);
