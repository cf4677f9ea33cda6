/* kernel/ghost_queue.h: the message ring of kernel/uapi/ghost.h, both ends.  Pure
 * code (no locks, no kernel calls), so the host tests and `make bench-host` run the
 * same functions as the kernel (producer) and agents/lib (consumer). */
#pragma once

#include <stdbool.h>
#include <kernel/uapi/ghost.h>

/* The producer's own view, kept where the agent cannot write: the shared head and
 * nslots are for the agent to read, and are never read back. */
struct ghost_producer {
	struct ghost_queue *q;
	uint64_t head;
	uint64_t overflow;
	uint32_t nslots;
};

/* Lay out an empty queue of nslots (a power of two) in memory of
 * GHOST_QUEUE_BYTES(nslots) bytes, and the producer's view of it. */
void ghost_queue_init(struct ghost_producer *p, struct ghost_queue *q, uint32_t id,
		      uint32_t nslots);
/* Producer (one at a time): append m; false, with overflow counted, when full.  A
 * tail the agent corrupted (ahead of head, or too far behind) reads as full: the
 * kernel never writes outside the ring whatever the agent does. */
bool ghost_queue_push(struct ghost_producer *p, const struct ghost_msg *m);
/* Consumer (one at a time): take the oldest message into *m; false when empty. */
bool ghost_queue_pop(struct ghost_queue *q, struct ghost_msg *m);
/* Messages waiting, as the consumer sees them. */
uint64_t ghost_queue_pending(const struct ghost_queue *q);
