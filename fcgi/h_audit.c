/* h_audit: the audit trail routes (/api/audit...): query parameters (422 for limit/offset/format
 * problems, then 400 for unreadable times, like the reference's order of checks), a filtered
 * page with its total, and the streamed CSV/JSON export. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/body.h"
#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "lib/csv.h"
#include "lib/jsonu.h"
#include "lib/log.h"
#include "services/audit.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000
/* Pieces of an export are handed to FastCGI in blocks of about this size. */
#define FLUSH_BYTES 32768

/* An exact-match filter; an empty value means no filter. */
static const char *filter_value(struct bw_req *req, const char *name)
{
	const char *v = bw_req_query(req, name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Reads the filters into f (times normalised into arena memory); false after replying 400. */
static bool read_filters(struct bw_req *req, struct bw_audit_filter *f)
{
	static const char *const bounds[] = {"since", "until"};
	memset(f, 0, sizeof(*f));
	f->actor = filter_value(req, "actor");
	f->action = filter_value(req, "action");
	f->resource_type = filter_value(req, "resource_type");
	f->gateway = filter_value(req, "gateway");
	for (size_t i = 0; i < 2; i++) {
		const char *v = filter_value(req, bounds[i]);
		char *t = NULL;
		if (v == NULL)
			continue;
		t = bw_arena_alloc(req->arena, BW_AUDIT_TIME_LEN);
		if (t == NULL) {
			bw_reply_err(req, BW_ENOMEM);
			return false;
		}
		if (!bw_audit_parse_time(v, t)) {
			bw_reply_problem(
			    req, 400, NULL,
			    "Invalid '%s' timestamp '%.64s': expected ISO-8601 / RFC 3339, "
			    "e.g. 2026-04-20T12:34:56Z",
			    bounds[i], v);
			return false;
		}
		if (i == 0)
			f->since = t;
		else
			f->until = t;
	}
	return true;
}

/* The stored detail parsed (a new reference), the raw text when it is not JSON, NULL when
 * empty. */
static struct json_object *detail_value(const struct bw_audit_entry *e)
{
	struct json_object *o = NULL;
	struct bw_json_error jerr;
	if (e->detail == NULL || e->detail_len == 0)
		return NULL;
	if (bw_json_parse(e->detail, e->detail_len, BW_JSON_MAX_DEPTH, &o, &jerr) == BW_JSON_OK)
		return o;
	return json_object_new_string_len(e->detail, (int)e->detail_len);
}

/* A new object for one entry (caller puts it). */
static struct json_object *entry_json(const struct bw_audit_entry *e)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_int64(e->id));
	json_object_object_add(o, "timestamp", bw_json_str_or_null(e->timestamp));
	json_object_object_add(o, "actor", bw_json_str_or_null(e->actor));
	json_object_object_add(o, "actor_role", bw_json_str_or_null(e->actor_role));
	json_object_object_add(o, "action", bw_json_str_or_null(e->action));
	json_object_object_add(o, "resource_type", bw_json_str_or_null(e->resource_type));
	json_object_object_add(o, "resource_id", bw_json_str_or_null(e->resource_id));
	json_object_object_add(o, "gateway", bw_json_str_or_null(e->gateway));
	json_object_object_add(o, "detail", detail_value(e));
	json_object_object_add(o, "client_ip", bw_json_str_or_null(e->client_ip));
	json_object_object_add(o, "request_id", bw_json_str_or_null(e->request_id));
	return o;
}

void bw_h_audit_list(struct bw_req *req)
{
	struct bw_verrs v;
	long long limit = PAGE_DEFAULT, offset = 0, total = 0;
	struct bw_audit_filter f;
	struct bw_audit_entry *items = NULL;
	size_t n = 0;
	struct json_object *body = NULL, *list = NULL;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_query_int(req, &v, "limit", 1, PAGE_MAX, &limit);
	bw_query_int(req, &v, "offset", 0, -1, &offset);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		goto out;
	}
	if (!read_filters(req, &f))
		goto out;
	enum bw_err rc = bw_audit_list(&req->svc, &f, limit, offset, &items, &n, &total);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		goto out;
	}
	body = json_object_new_object();
	list = json_object_new_array_ext((int)n);
	if (body == NULL || list == NULL) {
		json_object_put(list);
		bw_reply_err(req, BW_ENOMEM);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		json_object_array_add(list, entry_json(&items[i]));
	json_object_object_add(body, "entries", list);
	json_object_object_add(body, "total", json_object_new_int64(total));
	bw_reply_json(req, 200, body);
out:
	json_object_put(body);
}

/* --- export ------------------------------------------------------------------------------- */

enum format { FMT_JSON, FMT_CSV };

struct export
{
	struct bw_req *req;
	enum format fmt;
	struct bw_sbuf buf;
	long long rows;
	bool started; /* headers sent */
	bool gone;    /* the client went away or memory ran out */
};

static const char csv_header[] = "id,timestamp,actor,actor_role,action,resource_type,resource_id,"
				 "gateway,detail,client_ip,request_id\r\n";

/* Headers go out with the first row (or at the end), so a failure before any row is still a
 * proper error response. */
static bool export_start(struct export *x)
{
	if (x->started)
		return true;
	bool csv = x->fmt == FMT_CSV;
	bw_req_header(x->req, "Content-Disposition",
		      csv ? "attachment; filename=\"audit_log.csv\""
			  : "attachment; filename=\"audit_log.json\"");
	x->started = true;
	if (!bw_reply_stream_begin(x->req, 200,
				   csv ? "text/csv; charset=utf-8" : "application/json"))
		return false;
	if (csv)
		bw_sbuf_put(&x->buf, csv_header, sizeof(csv_header) - 1);
	else
		bw_sbuf_put(&x->buf, "[", 1);
	return true;
}

static bool export_flush(struct export *x)
{
	if (x->buf.oom)
		return false;
	bool ok = bw_reply_stream_write(x->req, x->buf.p, x->buf.len);
	x->buf.len = 0;
	return ok;
}

static void csv_text(struct bw_sbuf *b, const char *s)
{
	bw_csv_field(b, s, s != NULL ? strlen(s) : 0, false);
}

static void csv_row(struct bw_sbuf *b, const struct bw_audit_entry *e)
{
	char id[24];
	int n = snprintf(id, sizeof(id), "%lld", e->id);
	bw_csv_field(b, id, (size_t)n, true);
	csv_text(b, e->timestamp);
	csv_text(b, e->actor);
	csv_text(b, e->actor_role);
	csv_text(b, e->action);
	csv_text(b, e->resource_type);
	csv_text(b, e->resource_id);
	csv_text(b, e->gateway);
	struct json_object *d = detail_value(e);
	size_t dlen = 0;
	const char *dtext = d != NULL ? bw_json_str(d, &dlen) : NULL;
	bw_csv_field(b, dtext, dlen, false);
	json_object_put(d);
	csv_text(b, e->client_ip);
	csv_text(b, e->request_id);
	bw_csv_end(b);
}

static int export_row(void *ctx, const struct bw_audit_entry *e)
{
	struct export *x = ctx;
	if (!export_start(x)) {
		x->gone = true;
		return 1;
	}
	if (x->fmt == FMT_CSV) {
		csv_row(&x->buf, e);
	} else {
		struct json_object *o = entry_json(e);
		size_t len = 0;
		const char *s = o != NULL ? bw_json_str(o, &len) : NULL;
		bw_sbuf_puts(&x->buf, x->rows > 0 ? ",\n" : "\n");
		if (s == NULL)
			x->buf.oom = true;
		else
			bw_sbuf_put(&x->buf, s, len);
		json_object_put(o);
	}
	x->rows++;
	if (x->buf.len >= FLUSH_BYTES && !export_flush(x)) {
		x->gone = true;
		return 1;
	}
	return 0;
}

void bw_h_audit_export(struct bw_req *req)
{
	struct bw_verrs v;
	long long limit = 0;
	struct bw_audit_filter f;
	struct export x = {req, FMT_JSON, {NULL, 0, 0, false}, 0, false, false};
	bool stopped = false;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	const char *format = bw_req_query(req, "format");
	if (format != NULL && strcmp(format, "csv") == 0)
		x.fmt = FMT_CSV;
	else if (format != NULL && strcmp(format, "json") != 0)
		bw_verrs_query(&v, "string_pattern_mismatch", "format",
			       "String should match pattern '^(json|csv)$'", format);
	bw_query_int(req, &v, "limit", 1, -1, &limit);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		goto out;
	}
	if (!read_filters(req, &f))
		goto out;
	enum bw_err rc = bw_audit_stream(&req->svc, &f, limit, export_row, &x, &stopped);
	if (rc != BW_OK && !x.started) {
		bw_reply_err(req, rc);
		goto out;
	}
	if (rc != BW_OK || x.gone) {
		/* Headers are gone already: the body stays incomplete (a JSON export then does not
		 * parse), which is all a client can be told mid-stream. */
		bw_log(BW_LOG_WARN, "audit", req->request_id,
		       "export cut short after %lld rows: %s", x.rows,
		       rc != BW_OK ? bw_strerror(rc) : "client gone");
		if (!x.gone)
			export_flush(&x);
		goto out;
	}
	if (!export_start(&x))
		goto out;
	if (x.fmt == FMT_JSON)
		bw_sbuf_puts(&x.buf, x.rows > 0 ? "\n]\n" : "]\n");
	export_flush(&x);
out:
	bw_sbuf_free(&x.buf);
}
