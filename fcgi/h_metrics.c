/* h_metrics: GET /metrics in the Prometheus text exposition format 0.0.4. Counters and histograms
 * are read from the pool's shared block, so whichever responder answers renders the same totals
 * and a restarted worker loses nothing; gauges (gateways by status, DB handles) are computed at
 * scrape time. Who may call it is the route table's business (BW_ROLE_METRICS). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "services/operations.h"
#include "services/registry.h"
#include "services/webhooks.h"
#include "version.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static const char *const class_names[BW_METRICS_CLASSES] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

/* Label values escape backslash, double quote and newline. */
static void put_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

static void put_route(FILE *f, size_t i, const char *route_label)
{
	char m[16];
	const char *method =
	    i < bw_routes_count ? bw_methods_format(bw_routes[i].method, m, sizeof(m)) : "other";
	fprintf(f, "method=\"%s\",%s=\"", method, route_label);
	put_label(f, i < bw_routes_count ? bw_routes[i].pattern : "unmatched");
	fputc('"', f);
}

static void put_requests(FILE *f, const struct bw_metrics *mx)
{
	fputs("# HELP breakwater_http_requests_total HTTP requests by route template and status "
	      "class.\n# TYPE breakwater_http_requests_total counter\n",
	      f);
	for (size_t i = 0; i <= bw_routes_count; i++) {
		size_t row = i < bw_routes_count ? i : BW_METRICS_ROUTES;
		for (size_t c = 0; c < BW_METRICS_CLASSES; c++) {
			uint64_t n = atomic_load(&mx->http[row].by_class[c]);
			if (n == 0)
				continue;
			fputs("breakwater_http_requests_total{", f);
			put_route(f, i, "route");
			fprintf(f, ",status=\"%s\"} %llu\n", class_names[c], (unsigned long long)n);
		}
	}
}

/* One histogram family; the finite buckets are stored per bucket and rendered cumulatively. */
static void put_histogram(FILE *f, const struct bw_metrics *mx, const char *family,
			  const char *route_label)
{
	fprintf(f,
		"# HELP %s Time from request start to the end of the response, by route template.\n"
		"# TYPE %s histogram\n",
		family, family);
	for (size_t i = 0; i <= bw_routes_count; i++) {
		const struct bw_metric_route *m =
		    &mx->http[i < bw_routes_count ? i : BW_METRICS_ROUTES];
		uint64_t counts[BW_METRICS_BUCKETS + 1], sum_us = atomic_load(&m->sum_us), cum = 0;
		for (size_t b = 0; b <= BW_METRICS_BUCKETS; b++)
			counts[b] = atomic_load(&m->bucket[b]);
		for (size_t b = 0; b <= BW_METRICS_BUCKETS; b++)
			cum += counts[b];
		if (cum == 0)
			continue;
		cum = 0;
		for (size_t b = 0; b <= BW_METRICS_BUCKETS; b++) {
			cum += counts[b];
			fprintf(f, "%s_bucket{", family);
			put_route(f, i, route_label);
			if (b < BW_METRICS_BUCKETS)
				fprintf(f, ",le=\"%g\"} %llu\n", bw_metrics_bounds[b],
					(unsigned long long)cum);
			else
				fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		}
		fprintf(f, "%s_sum{", family);
		put_route(f, i, route_label);
		fprintf(f, "} %.6f\n%s_count{", (double)sum_us / 1e6, family);
		put_route(f, i, route_label);
		fprintf(f, "} %llu\n", (unsigned long long)cum);
	}
}

static bool same_labels(const struct bw_metric_grpc *a, const struct bw_metric_grpc *b)
{
	return strcmp(a->gateway, b->gateway) == 0 && strcmp(a->method, b->method) == 0 &&
	       strcmp(a->code, b->code) == 0;
}

/* The slot table is filled lock-free by many processes, so two slots can end up with the same
 * labels when their first calls race; a scrape merges them, so every series appears once. */
static bool earlier_slot(const struct bw_metrics *mx, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (atomic_load(&mx->grpc[j].state) == 2 && same_labels(&mx->grpc[j], &mx->grpc[i]))
			return true;
	return false;
}

static uint64_t slot_total(const struct bw_metrics *mx, size_t i)
{
	uint64_t total = 0;
	for (size_t k = i; k < BW_METRICS_GRPC_SLOTS; k++)
		if (atomic_load(&mx->grpc[k].state) == 2 && same_labels(&mx->grpc[k], &mx->grpc[i]))
			total += atomic_load(&mx->grpc[k].count);
	return total;
}

static void put_grpc(FILE *f, const struct bw_metrics *mx)
{
	fputs("# HELP breakwater_grpc_calls_total Unary gRPC calls to gateways (after retries) by "
	      "gateway, method and status; label sets beyond the fixed table count as (other).\n"
	      "# TYPE breakwater_grpc_calls_total counter\n",
	      f);
	for (size_t i = 0; i < BW_METRICS_GRPC_SLOTS; i++) {
		const struct bw_metric_grpc *s = &mx->grpc[i];
		if (atomic_load(&s->state) != 2 || earlier_slot(mx, i))
			continue;
		fputs("breakwater_grpc_calls_total{gateway=\"", f);
		put_label(f, s->gateway);
		fputs("\",method=\"", f);
		put_label(f, s->method);
		fputs("\",code=\"", f);
		put_label(f, s->code);
		fprintf(f, "\"} %llu\n", (unsigned long long)slot_total(mx, i));
	}
	uint64_t other = atomic_load(&mx->grpc_other);
	if (other > 0)
		fprintf(f,
			"breakwater_grpc_calls_total{gateway=\"(other)\",method=\"(other)\","
			"code=\"(other)\"} %llu\n",
			(unsigned long long)other);
}

static void put_db(FILE *f, const struct bw_metrics *mx)
{
	long long open = 0, busy = 0, procs = 0;
	for (size_t i = 0; i < BW_METRICS_PROCS; i++) {
		const struct bw_metric_proc *p = &mx->procs[i];
		if (!bw_metrics_pid_alive(atomic_load(&p->pid)))
			continue;
		procs++;
		open += atomic_load(&p->open);
		busy += atomic_load(&p->busy);
	}
	fprintf(
	    f,
	    "# HELP breakwater_responder_processes Live responder processes.\n"
	    "# TYPE breakwater_responder_processes gauge\n"
	    "breakwater_responder_processes %lld\n"
	    "# HELP breakwater_db_connections Database handles of the responder threads, summed "
	    "over live processes: open (one per request thread) and busy (serving a request).\n"
	    "# TYPE breakwater_db_connections gauge\n"
	    "breakwater_db_connections{state=\"open\"} %lld\n"
	    "breakwater_db_connections{state=\"busy\"} %lld\n",
	    procs, open, busy);
}

static void put_gateways(FILE *f, struct bw_req *req)
{
	struct bw_dbres r;
	enum bw_err rc = bw_registry_count_by_status(&req->svc, &r);
	fprintf(f,
		"# HELP breakwater_metrics_db_up Whether the scrape could read the database.\n"
		"# TYPE breakwater_metrics_db_up gauge\nbreakwater_metrics_db_up %d\n",
		rc == BW_OK);
	if (rc != BW_OK) {
		bw_log(BW_LOG_WARN, "metrics", req->request_id, "gateway counts: %s",
		       bw_strerror(rc));
		return;
	}
	static const char *const families[] = {"breakwater_gateways", "shoreguard_gateways_total"};
	for (size_t k = 0; k < 2; k++) {
		fprintf(f,
			"# HELP %s Registered gateways by last health status (read at scrape "
			"time).\n# TYPE %s gauge\n",
			families[k], families[k]);
		for (size_t i = 0; i < r.nrows; i++) {
			fprintf(f, "%s{status=\"", families[k]);
			put_label(f, bw_db_cell(&r, i, 0) != NULL ? bw_db_cell(&r, i, 0) : "");
			fprintf(f, "\"} %s\n", bw_db_cell(&r, i, 1));
		}
	}
}

/* Operations by state, counted in MariaDB at scrape time (every state is always listed). */
static void put_operations(FILE *f, struct bw_req *req)
{
	static const char *const states[] = {"pending", "running", "cancelling", "succeeded",
					     "failed"};
	struct bw_dbres r;
	if (bw_op_count_by_status(&req->svc, &r) != BW_OK)
		return;
	fputs("# HELP breakwater_operations Long-running operations by state (read at scrape "
	      "time).\n# TYPE breakwater_operations gauge\n",
	      f);
	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		const char *n = "0";
		for (size_t i = 0; i < r.nrows; i++)
			if (strcmp(bw_db_cell(&r, i, 0), states[k]) == 0)
				n = bw_db_cell(&r, i, 1);
		fprintf(f, "breakwater_operations{status=\"%s\"} %s\n", states[k], n);
	}
}

/* Deliveries are attempted by breakwater-worker (another process, no shared block), so they are
 * read from MariaDB at scrape time: the delivery log by status as a gauge, and the reference's
 * counter of finished deliveries from the totals the worker bumps as it finishes each one. */
static void put_webhooks(FILE *f, struct bw_req *req)
{
	static const char *const states[] = {"pending", "retrying", "success", "failed"};
	long long counts[4] = {0, 0, 0, 0};
	struct bw_dbres r;
	enum bw_err rc = bw_webhooks_count_by_status(&req->svc, &r);
	if (rc != BW_OK) {
		bw_log(BW_LOG_WARN, "metrics", req->request_id, "webhook counts: %s",
		       bw_strerror(rc));
		return;
	}
	for (size_t i = 0; i < r.nrows; i++)
		for (size_t k = 0; k < 4; k++)
			if (strcmp(bw_db_cell(&r, i, 0), states[k]) == 0)
				counts[k] = atoll(bw_db_cell(&r, i, 1));
	fputs("# HELP breakwater_webhook_deliveries Webhook deliveries by status (read at scrape "
	      "time).\n# TYPE breakwater_webhook_deliveries gauge\n",
	      f);
	for (size_t k = 0; k < 4; k++)
		fprintf(f, "breakwater_webhook_deliveries{status=\"%s\"} %lld\n", states[k],
			counts[k]);
	if (bw_webhooks_totals(&req->svc, &r) != BW_OK)
		return;
	fputs("# HELP shoreguard_webhook_deliveries_total Finished webhook deliveries by outcome.\n"
	      "# TYPE shoreguard_webhook_deliveries_total counter\n",
	      f);
	for (size_t i = 0; i < r.nrows; i++)
		fprintf(f, "shoreguard_webhook_deliveries_total{status=\"%s\"} %s\n",
			bw_db_cell(&r, i, 0), bw_db_cell(&r, i, 1));
}

static void put_info(FILE *f)
{
	const char *sha = getenv("BREAKWATER_GIT_SHA");
	static const char *const families[] = {"breakwater_info", "shoreguard_info"};
	for (size_t k = 0; k < 2; k++) {
		fprintf(f, "# HELP %s Build of this control plane.\n# TYPE %s gauge\n%s{version=\"",
			families[k], families[k], families[k]);
		put_label(f, PACKAGE_VERSION);
		fputs("\",git_sha=\"", f);
		put_label(f, sha != NULL ? sha : BW_GIT_SHA);
		fputs("\",build_time=\"", f);
		put_label(f, BW_BUILD_TIME);
		fputs("\"} 1\n", f);
	}
}

void bw_h_metrics(struct bw_req *req)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	put_info(f);
	if (req->svc.shared != NULL) {
		const struct bw_metrics *mx = &req->svc.shared->metrics;
		put_requests(f, mx);
		put_histogram(f, mx, "breakwater_http_request_duration_seconds", "route");
		put_histogram(f, mx, "shoreguard_http_request_duration_seconds", "path_template");
		put_grpc(f, mx);
		put_db(f, mx);
	}
	put_gateways(f, req);
	put_operations(f, req);
	put_webhooks(f, req);
	if (fclose(f) != 0 || text == NULL) {
		free(text);
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_reply(req, 200, CONTENT_TYPE, text, len);
	free(text);
}
