/* respcache: see respcache.h. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "fcgi/respcache.h"
#include "lib/shm.h"

struct entry {
	char *key;
	uint64_t gen;
	char *body;
	size_t len;
	uint64_t stored;   /* insertion order, to evict the oldest */
	int64_t stored_ms; /* when, for max_age */
};

struct bw_respcache {
	pthread_mutex_t lock;
	struct entry *e;
	size_t n, max, max_body;
	int64_t max_age_ms;
	uint64_t clock;
};

struct bw_respcache *bw_respcache_new(size_t max_entries, size_t max_body, int64_t max_age_ms)
{
	struct bw_respcache *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->e = calloc(max_entries, sizeof(*c->e));
	if (c->e == NULL) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->max = max_entries;
	c->max_body = max_body;
	c->max_age_ms = max_age_ms;
	return c;
}

static void drop(struct entry *e)
{
	free(e->key);
	free(e->body);
	memset(e, 0, sizeof(*e));
}

void bw_respcache_free(struct bw_respcache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		drop(&c->e[i]);
	free(c->e);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static struct entry *find(struct bw_respcache *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

bool bw_respcache_get(struct bw_respcache *c, const char *key, uint64_t gen, struct bw_arena *a,
		      char **body, size_t *len)
{
	bool hit = false;
	pthread_mutex_lock(&c->lock);
	struct entry *e = find(c, key);
	if (e != NULL && e->gen == gen && bw_now_ms() - e->stored_ms < c->max_age_ms) {
		*body = bw_arena_strndup(a, e->body, e->len);
		*len = e->len;
		hit = *body != NULL;
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void bw_respcache_put(struct bw_respcache *c, const char *key, uint64_t gen, const char *body,
		      size_t len)
{
	if (len > c->max_body || c->max == 0)
		return;
	char *k = strdup(key), *b = malloc(len + 1);
	if (k == NULL || b == NULL) {
		free(k);
		free(b);
		return;
	}
	memcpy(b, body, len);
	b[len] = '\0';
	pthread_mutex_lock(&c->lock);
	struct entry *e = find(c, key);
	if (e != NULL && e->gen > gen) {
		e = NULL; /* a newer rendering is already there */
		free(k);
		free(b);
		goto out;
	}
	if (e == NULL && c->n < c->max)
		e = &c->e[c->n++];
	if (e == NULL) {
		e = &c->e[0];
		for (size_t i = 1; i < c->n; i++)
			if (c->e[i].stored < e->stored)
				e = &c->e[i];
	}
	drop(e);
	e->key = k;
	e->gen = gen;
	e->body = b;
	e->len = len;
	e->stored = ++c->clock;
	e->stored_ms = bw_now_ms();
out:
	pthread_mutex_unlock(&c->lock);
}
