/* authcache: see authcache.h. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/shm.h"
#include "services/auth.h"
#include "services/authcache.h"

struct entry {
	char hash[65];
	uint64_t epoch;
	int64_t stored_ms, expires_unix;
	enum bw_princ_kind kind;
	long long id;
	enum bw_rank role;
	char *email, *name, *actor;
};

struct bw_authcache {
	pthread_mutex_t lock;
	struct entry *e;
	size_t slots;
};

struct bw_authcache *bw_authcache_new(size_t slots)
{
	struct bw_authcache *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->e = calloc(slots, sizeof(*c->e));
	if (c->e == NULL) {
		free(c);
		return NULL;
	}
	c->slots = slots;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

static void clear(struct entry *e)
{
	free(e->email);
	free(e->name);
	free(e->actor);
	memset(e, 0, sizeof(*e));
}

void bw_authcache_free(struct bw_authcache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->slots; i++)
		clear(&c->e[i]);
	free(c->e);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

uint64_t bw_authcache_epoch(const struct bw_svc *svc)
{
	return svc->shared != NULL ? atomic_load(&svc->shared->auth_epoch) : 0;
}

void bw_authcache_invalidate(struct bw_svc *svc)
{
	if (svc->shared != NULL)
		atomic_fetch_add(&svc->shared->auth_epoch, 1);
}

enum bw_err bw_authcache_commit(struct bw_svc *svc, enum bw_err rc)
{
	if (rc != BW_OK) {
		bw_db_rollback(svc->db);
		return rc;
	}
	rc = bw_db_commit(svc->db);
	if (rc == BW_OK)
		bw_authcache_invalidate(svc);
	return rc;
}

/* The slot of a hash: its first hex digits spread entries over the table. */
static struct entry *slot(struct bw_authcache *c, const char *hash)
{
	unsigned long h = 0;
	for (int i = 0; i < 8 && hash[i] != '\0'; i++)
		h = h * 16 + (unsigned long)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
	return &c->e[h % c->slots];
}

static char *dup_or_null(struct bw_arena *a, const char *s)
{
	return s != NULL ? bw_arena_strdup(a, s) : NULL;
}

bool bw_authcache_get(struct bw_authcache *c, const char *hash, uint64_t epoch, int64_t now_unix,
		      struct bw_arena *a, struct bw_principal *out)
{
	bool hit = false;
	pthread_mutex_lock(&c->lock);
	struct entry *e = slot(c, hash);
	if (strcmp(e->hash, hash) == 0 && e->epoch == epoch &&
	    bw_now_ms() - e->stored_ms < BW_AUTHCACHE_MAX_AGE_MS &&
	    (e->expires_unix == 0 || now_unix < e->expires_unix)) {
		memset(out, 0, sizeof(*out));
		out->kind = e->kind;
		out->id = e->id;
		out->role = e->role;
		out->email = dup_or_null(a, e->email);
		out->name = dup_or_null(a, e->name);
		out->actor = dup_or_null(a, e->actor);
		hit = out->actor != NULL;
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

static char *heap_dup(const char *s, bool *ok)
{
	if (s == NULL)
		return NULL;
	char *d = strdup(s);
	if (d == NULL)
		*ok = false;
	return d;
}

void bw_authcache_put(struct bw_authcache *c, const char *hash, uint64_t epoch,
		      int64_t expires_unix, const struct bw_principal *p)
{
	bool ok = true;
	struct entry fresh = {.epoch = epoch,
			      .stored_ms = bw_now_ms(),
			      .expires_unix = expires_unix,
			      .kind = p->kind,
			      .id = p->id,
			      .role = p->role};
	snprintf(fresh.hash, sizeof(fresh.hash), "%s", hash);
	fresh.email = heap_dup(p->email, &ok);
	fresh.name = heap_dup(p->name, &ok);
	fresh.actor = heap_dup(p->actor, &ok);
	if (!ok || fresh.actor == NULL) {
		clear(&fresh);
		return;
	}
	pthread_mutex_lock(&c->lock);
	struct entry *e = slot(c, hash);
	clear(e);
	*e = fresh;
	pthread_mutex_unlock(&c->lock);
}
