/* arena: chunked bump allocator; see arena.h. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"

#define ALIGN 16u

struct chunk {
	struct chunk *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	_Alignas(16) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *ptr;
};

struct bw_arena {
	struct chunk *head; /* current chunk; the first chunk is last in the list */
	struct cleanup *cleanups;
	size_t chunk_size;
};

static struct chunk *chunk_new(size_t size)
{
	struct chunk *c = malloc(sizeof(*c) + size);
	if (c == NULL)
		return NULL;
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

struct bw_arena *bw_arena_new(size_t chunk_size)
{
	struct bw_arena *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->chunk_size = chunk_size < 1024 ? 1024 : chunk_size;
	a->head = chunk_new(a->chunk_size);
	if (a->head == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

static void run_cleanups(struct bw_arena *a)
{
	while (a->cleanups != NULL) {
		struct cleanup *c = a->cleanups;
		a->cleanups = c->next;
		c->fn(c->ptr);
	}
}

void bw_arena_reset(struct bw_arena *a)
{
	run_cleanups(a);
	while (a->head->next != NULL) {
		struct chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
	a->head->used = 0;
}

void bw_arena_free(struct bw_arena *a)
{
	if (a == NULL)
		return;
	bw_arena_reset(a);
	free(a->head);
	free(a);
}

void *bw_arena_alloc(struct bw_arena *a, size_t n)
{
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (need < n)
		return NULL;
	if (need == 0)
		need = ALIGN;
	if (a->head->size - a->head->used < need) {
		size_t size = need > a->chunk_size ? need : a->chunk_size;
		struct chunk *c = chunk_new(size);
		if (c == NULL)
			return NULL;
		c->next = a->head;
		a->head = c;
	}
	void *p = a->head->data + a->head->used;
	a->head->used += need;
	return p;
}

void *bw_arena_zalloc(struct bw_arena *a, size_t n)
{
	void *p = bw_arena_alloc(a, n);
	if (p != NULL)
		memset(p, 0, n);
	return p;
}

char *bw_arena_strndup(struct bw_arena *a, const char *s, size_t n)
{
	char *p = bw_arena_alloc(a, n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *bw_arena_strdup(struct bw_arena *a, const char *s)
{
	return bw_arena_strndup(a, s, strlen(s));
}

char *bw_arena_vprintf(struct bw_arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	char *p = bw_arena_alloc(a, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *bw_arena_printf(struct bw_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = bw_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

int bw_arena_defer(struct bw_arena *a, void (*fn)(void *), void *ptr)
{
	struct cleanup *c = bw_arena_alloc(a, sizeof(*c));
	if (c == NULL) {
		fn(ptr);
		return -1;
	}
	c->fn = fn;
	c->ptr = ptr;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

size_t bw_arena_footprint(const struct bw_arena *a)
{
	size_t total = 0;
	for (const struct chunk *c = a->head; c != NULL; c = c->next)
		total += sizeof(*c) + c->size;
	return total;
}
