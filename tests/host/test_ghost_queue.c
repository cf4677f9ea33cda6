/* tests/host/test_ghost_queue.c: the ghOSt message ring: order, fullness and
 * overflow, a hostile tail, and a producer and consumer on two real threads. */
#include "htest.h"
#include <kernel/ghost_queue.h>

#include <pthread.h>
#include <stdlib.h>

static struct ghost_queue *make(struct ghost_producer *p, uint32_t nslots)
{
	struct ghost_queue *q = aligned_alloc(64, GHOST_QUEUE_BYTES(nslots));
	ghost_queue_init(p, q, 7, nslots);
	return q;
}

static struct ghost_msg msg(uint64_t tid, uint32_t tseq)
{
	return (struct ghost_msg){ .type = GHOST_MSG_THREAD_WAKEUP, .tid = tid, .tseq = tseq };
}

HTEST(ghost_queue_fifo_and_full)
{
	struct ghost_producer p;
	struct ghost_queue *q = make(&p, 8);
	struct ghost_msg m;

	CHECK_EQ(q->magic, GHOST_QUEUE_MAGIC);
	CHECK(!ghost_queue_pop(q, &m));
	for (uint32_t i = 0; i < 8; i++)
		CHECK(ghost_queue_push(&p, &(struct ghost_msg){ .tid = i, .tseq = i + 1 }));
	CHECK(!ghost_queue_push(&p, &(struct ghost_msg){ .tid = 99 }));	/* full */
	CHECK_EQ(q->overflow, 1);
	CHECK_EQ(ghost_queue_pending(q), 8);
	for (uint32_t i = 0; i < 8; i++) {
		CHECK(ghost_queue_pop(q, &m));
		CHECK_EQ(m.tid, i);
		CHECK_EQ(m.tseq, i + 1);
	}
	CHECK(!ghost_queue_pop(q, &m));
	/* Wraps around the ring many times. */
	for (uint32_t i = 0; i < 1000; i++) {
		CHECK(ghost_queue_push(&p, &(struct ghost_msg){ .tid = i }));
		CHECK(ghost_queue_pop(q, &m));
		CHECK_EQ(m.tid, i);
	}
	free(q);
}

HTEST(ghost_queue_hostile_agent)
{
	struct ghost_producer p;
	struct ghost_queue *q = make(&p, 4);
	struct ghost_msg m = msg(1, 1);

	q->tail = 1000;			/* ahead of head */
	q->nslots = 1u << 30;		/* and a lie about the size */
	q->head = 12345;
	CHECK(!ghost_queue_push(&p, &m));
	q->tail = 0;
	for (int i = 0; i < 4; i++)
		CHECK(ghost_queue_push(&p, &m));
	CHECK(!ghost_queue_push(&p, &m));	/* the kernel's nslots, not the agent's */
	CHECK_EQ(q->head, 4);			/* the kernel's head, rewritten */
	CHECK_EQ(q->overflow, 2);
	free(q);
}

enum { STRESS = 2000000 };

static void *consumer(void *arg)
{
	struct ghost_queue *q = arg;
	struct ghost_msg m;
	uint64_t want = 0;

	while (want < STRESS) {
		if (!ghost_queue_pop(q, &m))
			continue;
		if (m.tid != want || m.tseq != (uint32_t)(want * 3))
			return (void *)1;
		want++;
	}
	return NULL;
}

HTEST(ghost_queue_two_threads)
{
	struct ghost_producer p;
	struct ghost_queue *q = make(&p, 64);
	pthread_t t;
	void *bad;

	CHECK(pthread_create(&t, NULL, consumer, q) == 0);
	for (uint64_t i = 0; i < STRESS;)
		if (ghost_queue_push(&p, &(struct ghost_msg){ .tid = i, .tseq = (uint32_t)(i * 3) }))
			i++;
	CHECK(pthread_join(t, &bad) == 0);
	CHECK(bad == NULL);
	CHECK_EQ(ghost_queue_pending(q), 0);
	free(q);
}
