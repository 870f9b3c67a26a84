/* metrics: see metrics.h. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "lib/metrics.h"

/* The reference's buckets, so dashboards built for it keep working. */
const double bw_metrics_bounds[BW_METRICS_BUCKETS] = {0.01, 0.025, 0.05, 0.1, 0.25,
						      0.5,  1,     2.5,  5,   10};

/* A claimer writes three short strings; a reader waits at most this many rounds for it (a
 * claimer killed mid-write leaves the slot unusable, never a reader stuck). */
#define CLAIM_SPINS 100000

void bw_metrics_http(struct bw_shared *sh, size_t route, int status, double seconds)
{
	if (sh == NULL)
		return;
	if (route > BW_METRICS_ROUTES)
		route = BW_METRICS_ROUTES;
	struct bw_metric_route *m = &sh->metrics.http[route];
	int cls = status / 100 - 1;
	if (cls < 0 || cls >= BW_METRICS_CLASSES)
		cls = BW_METRICS_CLASSES - 1;
	size_t b = 0;
	while (b < BW_METRICS_BUCKETS && seconds > bw_metrics_bounds[b])
		b++;
	if (seconds < 0)
		seconds = 0;
	/* Sum and buckets before the class counter: a scrape that sees a request in _count has
	 * seen it in the buckets too, or at worst misses it everywhere but _sum. */
	atomic_fetch_add(&m->sum_us, (uint64_t)(seconds * 1e6));
	atomic_fetch_add(&m->bucket[b], 1);
	atomic_fetch_add(&m->by_class[cls], 1);
}

static void copy_label(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int same(const struct bw_metric_grpc *s, const char *gw, const char *method,
		const char *code)
{
	return strncmp(s->gateway, gw, sizeof(s->gateway) - 1) == 0 &&
	       strncmp(s->method, method, sizeof(s->method) - 1) == 0 &&
	       strncmp(s->code, code, sizeof(s->code) - 1) == 0;
}

/* FNV-1a over the three labels as copy_label stores them (truncated), separated by NULs. */
static size_t label_hash(const char *gw, const char *method, const char *code)
{
	const char *parts[] = {gw, method, code};
	const size_t caps[] = {sizeof(((struct bw_metric_grpc *)0)->gateway),
			       sizeof(((struct bw_metric_grpc *)0)->method),
			       sizeof(((struct bw_metric_grpc *)0)->code)};
	uint64_t h = 1469598103934665603ULL;
	for (size_t p = 0; p < 3; p++) {
		size_t n = strnlen(parts[p], caps[p] - 1);
		for (size_t i = 0; i <= n; i++) {
			h ^= i < n ? (unsigned char)parts[p][i] : 0;
			h *= 1099511628211ULL;
		}
	}
	return (size_t)(h % BW_METRICS_GRPC_SLOTS);
}

/* Waits for a slot being claimed to become readable; its final state. */
static uint32_t settled(struct bw_metric_grpc *s)
{
	uint32_t st = atomic_load(&s->state);
	for (int i = 0; st == 1 && i < CLAIM_SPINS; i++)
		st = atomic_load(&s->state);
	return st;
}

void bw_metrics_grpc(struct bw_shared *sh, const char *gateway, const char *method,
		     const char *code)
{
	if (sh == NULL)
		return;
	/* Open addressing from the label set's hash: slots are never freed, so a probe that meets
	 * a free slot knows the set has none yet, and a call costs a few comparisons, not a scan.
	 */
	size_t start = label_hash(gateway, method, code);
	for (size_t k = 0; k < BW_METRICS_GRPC_SLOTS; k++) {
		struct bw_metric_grpc *s = &sh->metrics.grpc[(start + k) % BW_METRICS_GRPC_SLOTS];
		uint32_t st = settled(s);
		if (st == 0) {
			uint32_t want = 0;
			if (!atomic_compare_exchange_strong(&s->state, &want, 1)) {
				st = settled(s);
			} else {
				copy_label(s->gateway, sizeof(s->gateway), gateway);
				copy_label(s->method, sizeof(s->method), method);
				copy_label(s->code, sizeof(s->code), code);
				atomic_store(&s->state, 2);
				atomic_fetch_add(&s->count, 1);
				return;
			}
		}
		if (st == 2 && same(s, gateway, method, code)) {
			atomic_fetch_add(&s->count, 1);
			return;
		}
	}
	atomic_fetch_add(&sh->metrics.grpc_other, 1);
}

int bw_metrics_pid_alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

struct bw_metric_proc *bw_metrics_proc_claim(struct bw_shared *sh)
{
	if (sh == NULL)
		return NULL;
	int32_t me = (int32_t)getpid();
	for (size_t i = 0; i < BW_METRICS_PROCS; i++) {
		struct bw_metric_proc *p = &sh->metrics.procs[i];
		int32_t cur = atomic_load(&p->pid);
		if (cur != 0 && bw_metrics_pid_alive(cur))
			continue;
		if (!atomic_compare_exchange_strong(&p->pid, &cur, me))
			continue;
		atomic_store(&p->open, 0);
		atomic_store(&p->busy, 0);
		return p;
	}
	return NULL;
}
