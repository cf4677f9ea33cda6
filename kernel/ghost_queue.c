/* kernel/ghost_queue.c: the single-producer, single-consumer message ring.
 * Ordering: the producer writes the slot, then release-stores head; the consumer
 * acquire-loads head, reads the slot, then release-stores tail, and the producer
 * acquire-loads tail before reusing a slot.  So a consumer never reads a slot being
 * written, and a producer never writes one being read (C11 7.17.4, release/acquire
 * synchronizes-with). */
#include <kernel/ghost_queue.h>

void ghost_queue_init(struct ghost_producer *p, struct ghost_queue *q, uint32_t id,
		      uint32_t nslots)
{
	*q = (struct ghost_queue){
		.magic = GHOST_QUEUE_MAGIC,
		.version = GHOST_ABI_VERSION,
		.nslots = nslots,
		.id = id,
	};
	*p = (struct ghost_producer){ .q = q, .nslots = nslots };
}

bool ghost_queue_push(struct ghost_producer *p, const struct ghost_msg *m)
{
	struct ghost_queue *q = p->q;
	uint64_t tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);

	if (tail > p->head || p->head - tail >= p->nslots) {
		__atomic_store_n(&q->overflow, ++p->overflow, __ATOMIC_RELEASE);
		return false;
	}
	q->msgs[p->head & (p->nslots - 1)] = *m;
	__atomic_store_n(&q->head, ++p->head, __ATOMIC_RELEASE);
	return true;
}

bool ghost_queue_pop(struct ghost_queue *q, struct ghost_msg *m)
{
	uint64_t tail = q->tail;	/* only we write it */
	uint64_t head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);

	if (tail == head)
		return false;
	*m = q->msgs[tail & (q->nslots - 1)];
	__atomic_store_n(&q->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

uint64_t ghost_queue_pending(const struct ghost_queue *q)
{
	return __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) - __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
}
