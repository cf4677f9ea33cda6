/* kernel/list.h: intrusive doubly linked lists with a sentinel head. */
#pragma once

#include <stdbool.h>
#include <kernel/compiler.h>

struct list {
	struct list *next, *prev;
};

static inline void list_init(struct list *l)
{
	l->next = l->prev = l;
}

static inline bool list_empty(const struct list *l)
{
	return l->next == l;
}

/* Insert n before pos (at the tail when pos is the head). */
static inline void list_insert_before(struct list *pos, struct list *n)
{
	n->prev = pos->prev;
	n->next = pos;
	pos->prev->next = n;
	pos->prev = n;
}

static inline void list_remove(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#define list_entry(p, type, member)	container_of(p, type, member)
#define list_for_each(p, head)	for (struct list *p = (head)->next; p != (head); p = p->next)
