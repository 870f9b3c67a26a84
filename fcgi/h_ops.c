/* h_ops: the operation routes (/api/operations...): list, get (with ?wait long-poll), cancel
 * and the Server-Sent Events stream. Long-polls and streams re-read the row on an interval in
 * autocommit mode: no transaction or lock is held while a client waits. */
#include "config.h"

#include <string.h>

#include "lib/clock.h"
#include "fcgi/body.h"
#include "fcgi/lro.h"
#include "lib/jsonu.h"
#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "services/operations.h"

#define LIST_DEFAULT 50
#define LIST_MAX 200
#define WAIT_MAX 60
#define WAIT_POLL_MS 250 /* one primary-key read per tick */
#define STREAM_POLL_MS 500
#define STREAM_KEEPALIVE_S 15
#define STREAM_MAX_S 3900 /* longest exec (3600 s) plus its create and margin */

/* Only a well-formed id is looked up (an unknown one answers 404 the same way). */
static bool id_shape_ok(const char *id)
{
	if (id == NULL || strlen(id) != BW_OP_ID_LEN)
		return false;
	for (size_t i = 0; i < BW_OP_ID_LEN; i++) {
		char c = id[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static void reply_op(struct bw_req *req, const struct bw_op *op, bool sparse)
{
	struct json_object *o = bw_op_json(op, sparse);
	if (o == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	if (sparse && bw_op_state_active(op->status))
		bw_req_header(req, "Retry-After", "2");
	bw_reply_json(req, 200, o);
	json_object_put(o);
}

void bw_h_ops_list(struct bw_req *req)
{
	long long limit = LIST_DEFAULT, offset = 0, total = 0;
	struct bw_verrs v;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_query_int(req, &v, "limit", 1, LIST_MAX, &limit);
	bw_query_int(req, &v, "offset", 0, -1, &offset);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	struct bw_op_filter f = {bw_req_query(req, "status"), bw_req_query(req, "resource_type"),
				 bw_req_query(req, "gateway"), bw_req_query(req, "actor")};
	struct bw_op *items = NULL;
	size_t n = 0;
	enum bw_err rc = bw_op_list(&req->svc, &f, limit, offset, &items, &n, &total);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	for (size_t i = 0; arr != NULL && i < n; i++)
		json_object_array_add(arr, bw_op_json(&items[i], false));
	json_object_object_add(o, "operations", arr);
	json_object_object_add(o, "total", json_object_new_int64(total));
	bw_reply_json(req, 200, o);
	json_object_put(o);
}

static bool load(struct bw_req *req, const char *id, struct bw_op *op)
{
	enum bw_err rc = id_shape_ok(id) ? bw_op_get(&req->svc, id, op) : BW_ENOTFOUND;
	if (rc == BW_ENOTFOUND)
		bw_reply_problem(req, 404, NULL, "Operation not found");
	else if (rc != BW_OK)
		bw_reply_err(req, rc);
	return rc == BW_OK;
}

void bw_h_ops_get(struct bw_req *req)
{
	long long wait = 0;
	struct bw_op op;
	struct bw_verrs v;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_query_int(req, &v, "wait", 1, WAIT_MAX, &wait);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	const char *id = bw_req_param(req, "id");
	if (!load(req, id, &op))
		return;
	double end = bw_mono_s() + (double)wait;
	for (double left = end - bw_mono_s(); bw_op_state_active(op.status) && left > 0.05;
	     left = end - bw_mono_s()) {
		bw_sleep_s(left < 0.25 ? left : WAIT_POLL_MS / 1e3);
		if (!load(req, id, &op))
			return;
	}
	reply_op(req, &op, true);
}

void bw_h_ops_cancel(struct bw_req *req)
{
	struct bw_op op;
	const char *id = bw_req_param(req, "id");
	enum bw_err rc = id_shape_ok(id) ? bw_op_cancel(&req->svc, id, &op) : BW_ENOTFOUND;
	if (rc == BW_ENOTFOUND) {
		bw_reply_problem(req, 400, NULL, "Operation not found or not running");
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	reply_op(req, &op, false);
}

/* One SSE frame of the sparse op; false once the client is gone. */
static bool send_frame(struct bw_req *req, const struct bw_op *op)
{
	struct json_object *o = bw_op_json(op, true);
	if (o == NULL)
		return false;
	/* json-c escapes CR, LF and control characters inside strings: one line per frame. */
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	const char *frame = bw_arena_printf(req->arena, "data: %s\n\n", text);
	json_object_put(o);
	return frame != NULL && bw_reply_stream_write(req, frame, strlen(frame)) &&
	       bw_reply_stream_flush(req);
}

static bool changed(const struct bw_op *a, const struct bw_op *b)
{
	const char *am = a->progress_message ? a->progress_message : "";
	const char *bm = b->progress_message ? b->progress_message : "";
	return strcmp(a->status, b->status) != 0 || a->progress != b->progress ||
	       strcmp(am, bm) != 0;
}

void bw_h_ops_stream(struct bw_req *req)
{
	struct bw_op op, last;
	const char *id = bw_req_param(req, "id");
	if (!load(req, id, &op))
		return;
	if (!bw_reply_stream_begin(req, 200, "text/event-stream"))
		return;
	if (!send_frame(req, &op))
		return;
	last = op;
	double start = bw_mono_s(), quiet = start;
	while (bw_op_state_active(last.status) && bw_mono_s() - start < STREAM_MAX_S) {
		bw_sleep_s(STREAM_POLL_MS / 1e3);
		enum bw_err rc = bw_op_get(&req->svc, id, &op);
		if (rc == BW_ENOTFOUND) {
			static const char gone[] =
			    "event: error\ndata: {\"error\": \"not_found\"}\n\n";
			if (bw_reply_stream_write(req, gone, sizeof(gone) - 1))
				bw_reply_stream_flush(req);
			return;
		}
		if (rc != BW_OK)
			continue; /* a database hiccup: try again on the next tick */
		if (changed(&op, &last)) {
			if (!send_frame(req, &op))
				return;
			last = op;
			quiet = bw_mono_s();
		} else if (bw_mono_s() - quiet >= STREAM_KEEPALIVE_S) {
			/* A comment line keeps proxies from timing the stream out. */
			if (!bw_reply_stream_write(req, ": keepalive\n\n", 13) ||
			    !bw_reply_stream_flush(req))
				return;
			quiet = bw_mono_s();
		}
	}
}
