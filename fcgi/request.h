/* request: one FastCGI request as the handlers see it — parameters from nginx, the decoded
 * query, the bounded body — and the only functions that write a response. Everything hangs
 * off the request's arena, freed by the worker after the response is sent. */
#ifndef BW_REQUEST_H
#define BW_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "fcgi/respcache.h"
#include "fcgi/router.h"
#include "lib/err.h"
#include "services/auth.h"
#include "services/svc.h"

struct bw_qparam {
	const char *key, *value;
};

struct bw_req {
	FCGX_Request *fcgx;
	struct bw_arena *arena;
	struct bw_svc svc;          /* what handlers pass to services */
	struct bw_actor actor;      /* who is calling, for audit rows */
	struct bw_respcache *cache; /* the worker's rendered-response cache */
	enum bw_role role;          /* the caller's effective role */
	struct bw_principal who;    /* the authenticated caller (fcgi/auth.c) */

	const char *method, *uri, *path, *query, *content_type, *request_id, *client_ip;
	long long content_length; /* -1 when absent */
	char *body;
	size_t body_len;
	struct json_object *json; /* parsed body (arena-owned), NULL without one */

	const struct bw_route *route;
	enum bw_role
	    min_role; /* the route's minimum role under the configuration (dispatch sets it) */
	const char *params[BW_MAX_PARAMS];
	struct bw_qparam *qp;
	size_t nqp;

	int status; /* sent status, 0 until a response went out */
	char extra_headers[512];
	size_t extra_len;
	double started; /* monotonic seconds */
};

/* Fills req from the FastCGI parameters. Never fails: missing values become "" / -1. */
void bw_req_init(struct bw_req *req, FCGX_Request *fcgx, struct bw_arena *a);

/* Decodes QUERY_STRING into req->qp. -1 when it is malformed (bad escape, NUL, bad UTF-8). */
int bw_req_parse_query(struct bw_req *req);
/* The last value of a query key, or NULL. */
const char *bw_req_query(const struct bw_req *req, const char *key);

/* Reads the body into req->body up to max bytes. BW_ETOOBIG (after draining the rest) when it
 * is longer; BW_EIO when the stream broke. */
enum bw_err bw_req_read_body(struct bw_req *req, long long max);

/* A path placeholder of the matched route, by name. */
const char *bw_req_param(const struct bw_req *req, const char *name);

/* Adds a response header for the next send (e.g. "Allow", "Retry-After"). */
void bw_req_header(struct bw_req *req, const char *name, const char *value);

/* Sends status, headers and body. The first send wins; later calls are ignored. */
void bw_reply(struct bw_req *req, int status, const char *content_type, const char *body,
	      size_t len);
/* A streamed response: bw_reply_stream_begin sends the status and headers without a
 * Content-Length (nginx forwards the body chunked) and with "X-Accel-Buffering: no" so nginx
 * passes each piece on instead of spooling the whole body; false when a response already went
 * out. bw_reply_stream_write sends body bytes; false once the client is gone. */
bool bw_reply_stream_begin(struct bw_req *req, int status, const char *content_type);
bool bw_reply_stream_write(struct bw_req *req, const char *p, size_t n);
/* Pushes what was written so far to nginx now (libfcgi buffers 8 KiB otherwise): for streams
 * whose pieces are small and must arrive as they happen (Server-Sent Events). */
bool bw_reply_stream_flush(struct bw_req *req);
/* Sends obj as application/json (obj is borrowed). */
void bw_reply_json(struct bw_req *req, int status, struct json_object *obj);
/* Sends obj and releases it (json_object_put); a NULL obj (failed to build) is a 500. */
void bw_reply_json_owned(struct bw_req *req, int status, struct json_object *obj);
/* THE error renderer: sends the problem+json envelope. code NULL = the status's default. */
void bw_reply_problem(struct bw_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sends a 422 whose 'errors' array (borrowed) lists the field problems. */
void bw_reply_invalid(struct bw_req *req, struct json_object *errors);
/* Sends the envelope for a service-layer error; what names the thing for 404/409 messages is
 * up to the caller, this is the fallback for everything else. */
void bw_reply_err(struct bw_req *req, enum bw_err err);

#endif
