/* request: see request.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "fcgi/problem.h"
#include "fcgi/request.h"
#include "lib/jsonu.h"
#include "lib/log.h"

#define MAX_QUERY_PARAMS 64

static const char *param(FCGX_Request *f, const char *name)
{
	const char *v = FCGX_GetParam(name, f->envp);
	return v != NULL ? v : "";
}

/* Request ids are shown to clients and written to logs: keep only a safe alphabet. */
static bool safe_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

void bw_req_init(struct bw_req *req, FCGX_Request *fcgx, struct bw_arena *a)
{
	memset(req, 0, sizeof(*req));
	req->fcgx = fcgx;
	req->arena = a;
	req->started = bw_mono_s();
	req->method = param(fcgx, "REQUEST_METHOD");
	req->uri = param(fcgx, "REQUEST_URI");
	size_t plen = strcspn(req->uri, "?#");
	req->path = bw_arena_strndup(a, req->uri, plen);
	if (req->path == NULL)
		req->path = "";
	req->query = param(fcgx, "QUERY_STRING");
	req->content_type = param(fcgx, "CONTENT_TYPE");
	req->client_ip = param(fcgx, "REMOTE_ADDR");
	const char *rid = param(fcgx, "BW_REQUEST_ID");
	if (!safe_id(rid)) {
		unsigned char raw[8];
		char *hex = bw_arena_alloc(a, 17);
		bw_random(raw, sizeof(raw));
		for (size_t i = 0; hex != NULL && i < sizeof(raw); i++)
			snprintf(hex + 2 * i, 3, "%02x", raw[i]);
		rid = hex != NULL ? hex : "unknown";
	}
	req->request_id = rid;
	const char *cl = param(fcgx, "CONTENT_LENGTH");
	char *end = NULL;
	long long n = cl[0] != '\0' ? strtoll(cl, &end, 10) : -1;
	req->content_length = (cl[0] != '\0' && (end == NULL || *end != '\0' || n < 0)) ? -2 : n;
}

int bw_req_parse_query(struct bw_req *req)
{
	req->nqp = 0;
	if (req->query[0] == '\0')
		return 0;
	req->qp = bw_arena_alloc(req->arena, sizeof(*req->qp) * MAX_QUERY_PARAMS);
	if (req->qp == NULL)
		return -1;
	const char *p = req->query;
	while (*p != '\0') {
		size_t len = strcspn(p, "&");
		if (len > 0) {
			if (req->nqp == MAX_QUERY_PARAMS)
				return -1;
			const char *eq = memchr(p, '=', len);
			size_t klen = eq != NULL ? (size_t)(eq - p) : len;
			char *k = bw_url_decode(p, klen, 1, req->arena);
			char *v = eq != NULL ? bw_url_decode(eq + 1, len - klen - 1, 1, req->arena)
					     : bw_arena_strdup(req->arena, "");
			if (k == NULL || v == NULL)
				return -1;
			req->qp[req->nqp].key = k;
			req->qp[req->nqp].value = v;
			req->nqp++;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

const char *bw_req_query(const struct bw_req *req, const char *key)
{
	const char *found = NULL;
	for (size_t i = 0; i < req->nqp; i++)
		if (strcmp(req->qp[i].key, key) == 0)
			found = req->qp[i].value;
	return found;
}

enum bw_err bw_req_read_body(struct bw_req *req, long long max)
{
	size_t cap = req->content_length > 0 && req->content_length <= max
			 ? (size_t)req->content_length + 1
			 : 65536;
	size_t len = 0;
	char *buf = malloc(cap);
	enum bw_err rc = BW_OK;
	if (buf == NULL)
		return BW_ENOMEM;
	for (;;) {
		if (len == cap) {
			size_t ncap = cap * 2;
			char *nb = (long long)cap > max ? NULL : realloc(buf, ncap);
			if (nb == NULL) {
				rc = (long long)cap > max ? BW_ETOOBIG : BW_ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		int got = FCGX_GetStr(buf + len, (int)(cap - len), req->fcgx->in);
		if (got <= 0)
			break;
		len += (size_t)got;
		if ((long long)len > max) {
			rc = BW_ETOOBIG;
			break;
		}
	}
	if (rc == BW_ETOOBIG) {
		/* Drain the rest so nginx is not cut off mid-upload and can read our answer. */
		char sink[16384];
		while (FCGX_GetStr(sink, sizeof(sink), req->fcgx->in) > 0)
			;
	}
	if (rc == BW_OK && FCGX_GetError(req->fcgx->in) != 0)
		rc = BW_EIO;
	if (rc == BW_OK) {
		req->body = bw_arena_strndup(req->arena, buf, len);
		req->body_len = len;
		if (req->body == NULL)
			rc = BW_ENOMEM;
	}
	free(buf);
	return rc;
}

const char *bw_req_param(const struct bw_req *req, const char *name)
{
	return req->route != NULL ? bw_route_param(req->route, req->params, name) : NULL;
}

void bw_req_header(struct bw_req *req, const char *name, const char *value)
{
	size_t room = sizeof(req->extra_headers) - req->extra_len;
	int n = snprintf(req->extra_headers + req->extra_len, room, "%s: %s\r\n", name, value);
	if (n > 0 && (size_t)n < room)
		req->extra_len += (size_t)n;
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 423:
		return "Locked";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Unknown";
	}
}

void bw_reply(struct bw_req *req, int status, const char *content_type, const char *body,
	      size_t len)
{
	if (req->status != 0)
		return;
	req->status = status;
	/* libfcgi's own printf knows no %zu or %.*s, so the head is formatted here. */
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\n%.*s\r\n",
			 status, reason(status), content_type, len, (int)req->extra_len,
			 req->extra_headers);
	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	FCGX_PutStr(head, n, req->fcgx->out);
	if (len > 0)
		FCGX_PutStr(body, (int)len, req->fcgx->out);
}

bool bw_reply_stream_begin(struct bw_req *req, int status, const char *content_type)
{
	if (req->status != 0)
		return false;
	req->status = status;
	char head[1024];
	int n =
	    snprintf(head, sizeof(head),
		     "Status: %d %s\r\nContent-Type: %s\r\nCache-Control: no-store\r\n"
		     "X-Accel-Buffering: no\r\n%.*s\r\n",
		     status, reason(status), content_type, (int)req->extra_len, req->extra_headers);
	if (n < 0 || (size_t)n >= sizeof(head))
		return false;
	return FCGX_PutStr(head, n, req->fcgx->out) == n;
}

bool bw_reply_stream_write(struct bw_req *req, const char *p, size_t n)
{
	while (n > 0) {
		int piece = n > 65536 ? 65536 : (int)n;
		if (FCGX_PutStr(p, piece, req->fcgx->out) != piece)
			return false;
		p += piece;
		n -= (size_t)piece;
	}
	return true;
}

bool bw_reply_stream_flush(struct bw_req *req)
{
	return FCGX_FFlush(req->fcgx->out) == 0;
}

void bw_reply_json(struct bw_req *req, int status, struct json_object *obj)
{
	size_t len = 0;
	const char *s = bw_json_str(obj, &len);
	bw_reply(req, status, "application/json", s, len);
}

void bw_reply_json_owned(struct bw_req *req, int status, struct json_object *obj)
{
	if (obj == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_reply_json(req, status, obj);
	json_object_put(obj);
}

static void send_problem(struct bw_req *req, struct json_object *o, int status)
{
	if (o == NULL) {
		static const char oom[] = "{\"type\":\"about:blank\",\"title\":\"Internal Error\","
					  "\"status\":500,\"detail\":\"out of memory\","
					  "\"code\":\"INTERNAL_ERROR\"}";
		bw_reply(req, 500, "application/problem+json", oom, sizeof(oom) - 1);
		return;
	}
	size_t len = 0;
	const char *s = bw_json_str(o, &len);
	bw_reply(req, status, "application/problem+json", s, len);
	json_object_put(o);
}

void bw_reply_problem(struct bw_req *req, int status, const char *code, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	send_problem(req, bw_problem_new(status, code, detail, req->request_id), status);
}

void bw_reply_invalid(struct bw_req *req, struct json_object *errors)
{
	struct json_object *o = bw_problem_new(422, NULL, "Validation error", req->request_id);
	if (o != NULL)
		json_object_object_add(o, "errors", json_object_get(errors));
	send_problem(req, o, 422);
}

void bw_reply_err(struct bw_req *req, enum bw_err err)
{
	int status = bw_problem_status_for(err);
	switch (err) {
	case BW_EDBLOST:
		bw_reply_problem(req, status, NULL, "Database unavailable, try again later");
		break;
	case BW_ETIMEDOUT:
		bw_reply_problem(req, status, NULL, "The operation timed out");
		break;
	case BW_ENOTFOUND:
		bw_reply_problem(req, status, NULL, "Not found");
		break;
	case BW_ECONFLICT:
		bw_reply_problem(req, status, NULL, "Conflict");
		break;
	default:
		bw_log(BW_LOG_ERROR, "http", req->request_id, "internal error: %s",
		       bw_strerror(err));
		bw_reply_problem(req, status, NULL, "Internal server error");
		break;
	}
}
