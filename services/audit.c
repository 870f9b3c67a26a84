/* audit: see audit.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crypto.h"
#include "lib/jsonu.h"
#include "services/audit.h"

static const char sql_insert[] =
    "INSERT INTO audit_log (`timestamp`, actor, actor_role, action, resource_type, resource_id,"
    " gateway_name, gateway_id, detail, client_ip, request_id)"
    " VALUES (UTC_TIMESTAMP(6), ?, ?, ?, ?, ?, ?, (SELECT id FROM gateways WHERE name = ?), ?, ?, "
    "?)";

/* One constant statement per "leading" filter (the first of actor, gateway, action,
 * resource_type that is set, or none): the leading filter and the time bounds are plain
 * conditions, so MariaDB reads a range of that filter's (col, timestamp, id) index backwards,
 * already in page order, and counts or skips within the index alone. Further filters are
 * "(? IS NULL OR col = ?)" checks on the rows of that range, in a second set of statements used
 * only when such a filter is set: MariaDB does not fold "? IS NULL" when it plans an execution,
 * so the checks would make it read every row of the range even when they are all NULL. Open
 * time bounds are bound as the extreme DATETIME values. */
#define TIME_RANGE "`timestamp` >= ? AND `timestamp` <= ?"
#define OPT(col) " AND (? IS NULL OR " col " = ?)"
#define OTHERS OPT("actor") OPT("action") OPT("resource_type") OPT("gateway_name")
#define WHERE_NONE " WHERE " TIME_RANGE
#define WHERE_LEAD(col) " WHERE " col " = ? AND " TIME_RANGE
#define ENTRY_COLS(p)                                                                            \
	p "id, DATE_FORMAT(" p "`timestamp`, '%Y-%m-%dT%H:%i:%s.%f+00:00'), " p "actor, " p      \
	  "actor_role, " p "action, " p "resource_type, " p "resource_id, " p "gateway_name, " p \
	  "detail, " p "client_ip, " p "request_id"
#define NEWEST_FIRST(p) " ORDER BY " p "`timestamp` DESC, " p "id DESC"
/* The page's ids come from the index alone (a deep offset skips index entries, not rows); only
 * the rows of the page are read in full. */
#define PAGE(where)                                                                         \
	"SELECT " ENTRY_COLS("a.") " FROM audit_log a JOIN (SELECT id FROM audit_log" where \
	    NEWEST_FIRST("") " LIMIT ? OFFSET ?) k ON k.id = a.id" NEWEST_FIRST("a.")
#define COUNT(where) "SELECT COUNT(*) FROM audit_log" where
#define EXPORT(where) "SELECT " ENTRY_COLS("") " FROM audit_log" where NEWEST_FIRST("") " LIMIT ?"
#define VARIANT(where)                                                                \
	{                                                                             \
		{COUNT(where), PAGE(where), EXPORT(where)},                           \
		{                                                                     \
			COUNT(where OTHERS), PAGE(where OTHERS), EXPORT(where OTHERS) \
		}                                                                     \
	}

enum lead { LEAD_NONE, LEAD_ACTOR, LEAD_GATEWAY, LEAD_ACTION, LEAD_RTYPE };

struct stmts {
	const char *count, *page, *export;
};
/* [lead][whether further filters are set] */
static const struct stmts variants[][2] = {
    [LEAD_NONE] = VARIANT(WHERE_NONE),
    [LEAD_ACTOR] = VARIANT(WHERE_LEAD("actor")),
    [LEAD_GATEWAY] = VARIANT(WHERE_LEAD("gateway_name")),
    [LEAD_ACTION] = VARIANT(WHERE_LEAD("action")),
    [LEAD_RTYPE] = VARIANT(WHERE_LEAD("resource_type")),
};
/* Most filters' arguments: lead, since, until, then two per optional filter. */
#define MAX_FILTER_ARGS 11

/* Unfiltered, the count is the chain's length: the trigger numbers rows without gaps and a
 * purge removes a prefix, so no index has to be counted. */
static const char sql_count_all[] = "SELECT head_id - anchor_id FROM audit_chain WHERE id = 1";
static const char sql_chain[] =
    "SELECT head_id, head_hash, anchor_id, anchor_hash FROM audit_chain WHERE id = 1";
static const char sql_walk[] =
    "SELECT id, DATE_FORMAT(`timestamp`, '%Y-%m-%dT%H:%i:%s.%f'), actor, actor_role, action,"
    " resource_type, resource_id, gateway_name, detail, client_ip, request_id, prev_hash,"
    " row_hash FROM audit_log WHERE id > ? ORDER BY id";
static const char sql_purge[] = "CALL audit_purge(?, ?)";
static const char sql_purged[] = "SELECT @bw_audit_purged";

enum bw_err bw_audit_write(struct bw_svc *svc, const struct bw_actor *actor,
			   const struct bw_audit *e)
{
	const char *detail = NULL;
	if (e->detail != NULL && json_object_is_type(e->detail, json_type_object) &&
	    json_object_object_length(e->detail) > 0)
		detail = bw_json_str(e->detail, NULL);
	struct bw_dbarg args[] = {
	    bw_dba_text(actor->name),
	    bw_dba_text(actor->role != NULL ? actor->role : "unknown"),
	    bw_dba_text(e->action),
	    bw_dba_text(e->resource_type),
	    bw_dba_text(e->resource_id != NULL ? e->resource_id : ""),
	    bw_dba_text(e->gateway_name),
	    bw_dba_text(e->gateway_name),
	    bw_dba_text(detail),
	    bw_dba_text(actor->client_ip),
	    bw_dba_text(actor->request_id),
	};
	return bw_db_exec(svc->db, sql_insert, args, sizeof(args) / sizeof(args[0]), NULL, NULL);
}

/* --- time parsing -------------------------------------------------------------------------- */

/* Reads exactly n digits at *p. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(long y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long long days_from_civil(long y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (long long)era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long *y, int *m, int *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (long)(yoe + era * 400 + (*m <= 2));
}

/* "HH:MM[:SS[.f{1,9}]]" into seconds of the day and microseconds. */
static bool parse_clock(const char **p, long long *secs, int *usec)
{
	int hh, mm, ss = 0;
	*usec = 0;
	if (!digits(p, 2, &hh) || **p != ':' || (++*p, !digits(p, 2, &mm)))
		return false;
	if (**p == ':') {
		++*p;
		if (!digits(p, 2, &ss))
			return false;
		if (**p == '.' || **p == ',') {
			++*p;
			int n = 0, scale = 100000;
			while ((*p)[0] >= '0' && (*p)[0] <= '9' && n < 9) {
				*usec += ((*p)[0] - '0') * scale;
				scale /= 10;
				++*p;
				n++;
			}
			if (n == 0)
				return false;
		}
	}
	if (hh > 23 || mm > 59 || ss > 59)
		return false;
	*secs = hh * 3600LL + mm * 60LL + ss;
	return true;
}

/* "Z", "+HH:MM", "+HHMM", "+HH" (or '-') into seconds east of UTC; "" is UTC. */
static bool parse_offset(const char **p, long long *off)
{
	*off = 0;
	if (**p == '\0')
		return true;
	if ((**p == 'Z' || **p == 'z') && (*p)[1] == '\0') {
		++*p;
		return true;
	}
	if (**p != '+' && **p != '-')
		return false;
	int sign = **p == '-' ? -1 : 1, oh, om = 0;
	++*p;
	if (!digits(p, 2, &oh))
		return false;
	if (**p == ':')
		++*p;
	if (**p != '\0' && !digits(p, 2, &om))
		return false;
	if (**p != '\0' || oh > 23 || om > 59)
		return false;
	*off = sign * (oh * 3600LL + om * 60LL);
	return true;
}

bool bw_audit_parse_time(const char *text, char out[BW_AUDIT_TIME_LEN])
{
	const char *p = text;
	int y, mo, d, usec = 0;
	long long secs = 0, off = 0;
	if (!digits(&p, 4, &y) || *p != '-' || (++p, !digits(&p, 2, &mo)) || *p != '-' ||
	    (++p, !digits(&p, 2, &d)))
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
		return false;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		++p;
		if (!parse_clock(&p, &secs, &usec) || !parse_offset(&p, &off))
			return false;
	} else if (*p != '\0') {
		return false;
	}
	long long t = days_from_civil(y, mo, d) * 86400 + secs - off;
	long long days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	long long tod = t - days * 86400;
	long yy;
	int mm, dd;
	civil_from_days(days, &yy, &mm, &dd);
	if (yy < 1 || yy > 9999)
		return false;
	char tmp[96]; /* the compiler cannot see the fields' ranges; they fit BW_AUDIT_TIME_LEN */
	int n = snprintf(tmp, sizeof(tmp), "%04ld-%02d-%02d %02d:%02d:%02d.%06d", yy, mm, dd,
			 (int)(tod / 3600), (int)(tod / 60 % 60), (int)(tod % 60), usec);
	if (n != BW_AUDIT_TIME_LEN - 1)
		return false;
	memcpy(out, tmp, BW_AUDIT_TIME_LEN);
	return true;
}

/* --- reading ------------------------------------------------------------------------------- */

static bool unfiltered(const struct bw_audit_filter *f)
{
	return f->actor == NULL && f->action == NULL && f->resource_type == NULL &&
	       f->gateway == NULL && f->since == NULL && f->until == NULL;
}

/* Picks the statements for f and fills their filter arguments; returns how many. */
static size_t filter_args(const struct bw_audit_filter *f, const struct stmts **st,
			  struct bw_dbarg *a)
{
	size_t n = 0;
	enum lead lead = f->actor != NULL           ? LEAD_ACTOR
			 : f->gateway != NULL       ? LEAD_GATEWAY
			 : f->action != NULL        ? LEAD_ACTION
			 : f->resource_type != NULL ? LEAD_RTYPE
						    : LEAD_NONE;
	const char *lead_value[] = {NULL, f->actor, f->gateway, f->action, f->resource_type};
	const char *opt[] = {f->actor, f->action, f->resource_type, f->gateway};
	size_t set = 0;
	for (size_t i = 0; i < 4; i++)
		set += opt[i] != NULL;
	bool others = set > 1;
	*st = &variants[lead][others];
	if (lead != LEAD_NONE)
		a[n++] = bw_dba_text(lead_value[lead]);
	a[n++] = bw_dba_text(f->since != NULL ? f->since : "0001-01-01 00:00:00.000000");
	a[n++] = bw_dba_text(f->until != NULL ? f->until : "9999-12-31 23:59:59.999999");
	for (size_t i = 0; others && i < 4; i++) {
		a[n++] = bw_dba_text(opt[i]);
		a[n++] = bw_dba_text(opt[i]);
	}
	return n;
}

static void cells_to_entry(const char *const *c, const unsigned long *len, struct bw_audit_entry *e)
{
	e->id = atoll(c[0]);
	e->timestamp = c[1];
	e->actor = c[2];
	e->actor_role = c[3];
	e->action = c[4];
	e->resource_type = c[5];
	e->resource_id = c[6];
	e->gateway = c[7];
	e->detail = c[8];
	e->detail_len = c[8] != NULL ? len[8] : 0;
	e->client_ip = c[9];
	e->request_id = c[10];
}

enum bw_err bw_audit_list(struct bw_svc *svc, const struct bw_audit_filter *f, long long limit,
			  long long offset, struct bw_audit_entry **items, size_t *n,
			  long long *total)
{
	struct bw_dbarg args[MAX_FILTER_ARGS + 2];
	struct bw_dbres r;
	const struct stmts *st = NULL;
	size_t nargs = filter_args(f, &st, args);
	enum bw_err rc = unfiltered(f)
			     ? bw_db_query(svc->db, svc->arena, sql_count_all, NULL, 0, &r)
			     : bw_db_query(svc->db, svc->arena, st->count, args, nargs, &r);
	if (rc != BW_OK)
		return rc;
	*total = r.nrows == 1 && bw_db_cell(&r, 0, 0) != NULL ? atoll(bw_db_cell(&r, 0, 0)) : 0;
	args[nargs] = bw_dba_int(limit);
	args[nargs + 1] = bw_dba_int(offset);
	rc = bw_db_query(svc->db, svc->arena, st->page, args, nargs + 2, &r);
	if (rc != BW_OK)
		return rc;
	struct bw_audit_entry *list = bw_arena_zalloc(svc->arena, sizeof(*list) * (r.nrows + 1));
	if (list == NULL)
		return BW_ENOMEM;
	for (size_t i = 0; i < r.nrows; i++) {
		const char *const *row = (const char *const *)(r.cells + i * r.ncols);
		cells_to_entry(row, r.lens + i * r.ncols, &list[i]);
	}
	*items = list;
	*n = r.nrows;
	return BW_OK;
}

struct stream_ctx {
	bw_audit_row_fn fn;
	void *ctx;
};

static int stream_row(void *ctx, const char *const *cells, const unsigned long *lens, size_t ncols)
{
	struct stream_ctx *s = ctx;
	struct bw_audit_entry e;
	if (ncols != 11)
		return -1;
	cells_to_entry(cells, lens, &e);
	return s->fn(s->ctx, &e);
}

enum bw_err bw_audit_stream(struct bw_svc *svc, const struct bw_audit_filter *f, long long limit,
			    bw_audit_row_fn fn, void *ctx, bool *stopped)
{
	struct bw_dbarg args[MAX_FILTER_ARGS + 1];
	struct stream_ctx s = {fn, ctx};
	const struct stmts *st = NULL;
	size_t nargs = filter_args(f, &st, args);
	args[nargs] = bw_dba_int(limit > 0 ? limit : 0x7fffffffffffffffLL);
	return bw_db_stream(svc->db, st->export, args, nargs + 1, stream_row, &s, stopped);
}

/* --- the hash chain ------------------------------------------------------------------------ */

struct walk {
	struct bw_audit_verdict *v;
	char expect_prev[65];
	char *buf;
	size_t cap;
	long long last_id;
};

static bool walk_put(struct walk *w, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > w->cap) {
		size_t cap = (*len + n + 1) * 2;
		char *nb = realloc(w->buf, cap);
		if (nb == NULL)
			return false;
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + *len, s, n);
	*len += n;
	return true;
}

/* The canonical text of sql/003_audit.sql: prev|id|timestamp|F(field)... */
static bool canonical(struct walk *w, const char *const *c, const unsigned long *lens, size_t *len)
{
	*len = 0;
	bool ok = walk_put(w, len, c[11], lens[11]) && walk_put(w, len, "|", 1) &&
		  walk_put(w, len, c[0], lens[0]) && walk_put(w, len, "|", 1) &&
		  walk_put(w, len, c[1], lens[1]);
	for (size_t i = 2; ok && i <= 10; i++) {
		char pre[32];
		int n = c[i] == NULL ? snprintf(pre, sizeof(pre), "|~")
				     : snprintf(pre, sizeof(pre), "|%lu:", lens[i]);
		ok = walk_put(w, len, pre, (size_t)n) &&
		     (c[i] == NULL || walk_put(w, len, c[i], lens[i]));
	}
	return ok;
}

static int walk_row(void *ctx, const char *const *c, const unsigned long *lens, size_t ncols)
{
	struct walk *w = ctx;
	size_t len = 0;
	char hash[65];
	if (ncols != 13 || c[0] == NULL || c[1] == NULL || c[11] == NULL || c[12] == NULL)
		return -1;
	w->v->rows++;
	w->last_id = atoll(c[0]);
	if (strcmp(c[11], w->expect_prev) != 0) {
		w->v->broken_id = w->last_id;
		w->v->reason = "prev_hash does not match the previous row's hash";
		return 1;
	}
	if (!canonical(w, c, lens, &len))
		return -1;
	bw_sha256_hex(w->buf, len, hash);
	if (strcmp(hash, c[12]) != 0) {
		w->v->broken_id = w->last_id;
		w->v->reason = "row_hash does not match the row's contents";
		return 1;
	}
	snprintf(w->expect_prev, sizeof(w->expect_prev), "%s", c[12]);
	return 0;
}

enum bw_err bw_audit_verify(struct bw_svc *svc, struct bw_audit_verdict *out)
{
	struct bw_dbres r;
	struct walk w = {out, "", NULL, 0, 0};
	bool stopped = false;
	memset(out, 0, sizeof(*out));
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_chain, NULL, 0, &r);
	if (rc != BW_OK)
		return rc;
	if (r.nrows != 1)
		return BW_ESCHEMA;
	out->head_id = atoll(bw_db_cell(&r, 0, 0));
	snprintf(out->head_hash, sizeof(out->head_hash), "%s", bw_db_cell(&r, 0, 1));
	long long anchor = atoll(bw_db_cell(&r, 0, 2));
	snprintf(w.expect_prev, sizeof(w.expect_prev), "%s", bw_db_cell(&r, 0, 3));
	w.last_id = anchor;
	struct bw_dbarg arg = bw_dba_int(anchor);
	rc = bw_db_stream(svc->db, sql_walk, &arg, 1, walk_row, &w, &stopped);
	free(w.buf);
	if (rc != BW_OK)
		return rc;
	if (stopped && out->broken_id == 0)
		return BW_ENOMEM;
	if (out->broken_id == 0 &&
	    (w.last_id != out->head_id || strcmp(w.expect_prev, out->head_hash) != 0)) {
		/* The newest rows are gone (or the head was moved): the break is after the last
		 * row that still links. */
		out->broken_id = w.last_id + 1;
		out->reason = "the chain ends before the recorded head (rows removed at the end)";
	}
	return BW_OK;
}

enum bw_err bw_audit_purge(struct bw_svc *svc, const char *actor, unsigned days, long long *count)
{
	struct bw_dbres r;
	struct bw_dbarg args[] = {bw_dba_int(days), bw_dba_text(actor)};
	enum bw_err rc = bw_db_exec(svc->db, sql_purge, args, 2, NULL, NULL);
	if (rc == BW_OK)
		rc = bw_db_query(svc->db, svc->arena, sql_purged, NULL, 0, &r);
	if (rc == BW_OK)
		*count = r.nrows == 1 && bw_db_cell(&r, 0, 0) ? atoll(bw_db_cell(&r, 0, 0)) : 0;
	return rc;
}
