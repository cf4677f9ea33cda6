/* tests/host/bench_ghost_queue.c: `make bench-host`: the ghOSt message ring on the
 * host's real CPUs, which an emulator cannot show.  One JSON object per line:
 *   queue_push_pop_ns        push then pop on one thread (the uncontended cost)
 *   queue_transfer_ns        per message, producer and consumer on two threads
 *   txn_decide_ns            checking one transaction (kernel/ghost_txn.c)
 * Not asserted; the numbers are this host's. */
#include <kernel/ghost_queue.h>
#include <kernel/ghost_txn.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

enum { N = 20000000 };

static void *drain(void *arg)
{
	struct ghost_queue *q = arg;
	struct ghost_msg m;
	for (uint64_t got = 0; got < N;)
		got += ghost_queue_pop(q, &m);
	return NULL;
}

int main(void)
{
	struct ghost_producer p;
	struct ghost_queue *q = aligned_alloc(64, GHOST_QUEUE_BYTES(256));
	struct ghost_msg m = { .type = GHOST_MSG_THREAD_WAKEUP, .tid = 1 };
	pthread_t t;

	ghost_queue_init(&p, q, 1, 256);
	uint64_t t0 = now_ns();
	for (int i = 0; i < N; i++) {
		m.tseq = (uint32_t)i;
		ghost_queue_push(&p, &m);
		ghost_queue_pop(q, &m);
	}
	printf("{\"bench\":\"host\",\"metric\":\"queue_push_pop_ns\",\"value\":%.2f}\n",
	       (double)(now_ns() - t0) / N);

	pthread_create(&t, NULL, drain, q);
	t0 = now_ns();
	for (int i = 0; i < N;)
		i += ghost_queue_push(&p, &m);
	pthread_join(t, NULL);
	printf("{\"bench\":\"host\",\"metric\":\"queue_transfer_ns\",\"value\":%.2f}\n",
	       (double)(now_ns() - t0) / N);
	free(q);

	struct txn_view v = { .caller_is_agent = true, .cpu_in_enclave = true, .thread_found = true,
			      .thread_in_enclave = true, .thread_runnable = true, .thread_allowed = true,
			      .thread_tseq = 7 };
	volatile unsigned ok = 0;
	t0 = now_ns();
	for (int i = 0; i < N; i++) {
		struct ghost_txn x = { .state = GHOST_TXN_READY, .tid = 1, .tseq = 7,
				       .aseq = (uint32_t)(i & 1) };
		v.cpu_aseq = (uint32_t)(i & 1);
		ok += txn_decide(&x, &v) == GHOST_TXN_COMPLETE;
	}
	printf("{\"bench\":\"host\",\"metric\":\"txn_decide_ns\",\"value\":%.2f}\n",
	       (double)(now_ns() - t0) / N);
	return ok == N ? 0 : 1;
}
