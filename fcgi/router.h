/* router: the route table's types and the pure matching of a request path against it.
 * Paths are split on '/' before percent-decoding, so "%2F" can never create a separator, and
 * dot segments, NUL bytes and invalid UTF-8 are refused outright. */
#ifndef BW_ROUTER_H
#define BW_ROUTER_H

#include <stddef.h>

#include "lib/arena.h"

enum bw_method {
	BW_GET = 1u << 0,
	BW_POST = 1u << 1,
	BW_PUT = 1u << 2,
	BW_PATCH = 1u << 3,
	BW_DELETE = 1u << 4,
};

/* Minimum role to call a route; the dispatcher checks it before the handler runs.
 * BW_ROLE_METRICS is not a rank but a per-route flag: admin, or public when the configuration
 * says metrics_access = public; bw_route_min_role resolves it. */
enum bw_role {
	BW_ROLE_PUBLIC = 0,
	BW_ROLE_VIEWER,
	BW_ROLE_OPERATOR,
	BW_ROLE_ADMIN,
	BW_ROLE_METRICS
};

/* What the route accepts as a body. JSON bodies must be application/json. BW_BODY_JSON_OR_YAML
 * also takes application/yaml (x-yaml, text/yaml): then req->json stays NULL and the handler
 * reads the raw bytes (same size cap). */
enum bw_body { BW_BODY_NONE, BW_BODY_JSON, BW_BODY_JSON_OPTIONAL, BW_BODY_JSON_OR_YAML };

struct bw_req;
typedef void (*bw_handler_fn)(struct bw_req *req);

struct bw_route {
	unsigned method;     /* one enum bw_method bit */
	const char *pattern; /* "/api/gateway/{name}/info" */
	bw_handler_fn handler;
	enum bw_role min_role;
	enum bw_body body;
	long long max_body; /* bytes; 0 = the configured global cap */
};

#define BW_MAX_SEGMENTS 16
#define BW_MAX_PARAMS 8

struct bw_path {
	char *seg[BW_MAX_SEGMENTS]; /* decoded, arena memory */
	size_t n;
};

/* Splits and decodes the path part of a raw request URI (the query is ignored). Returns 0, or
 * -1 for a malformed path (bad escape, NUL, invalid UTF-8, dot segment, too many segments). */
int bw_path_split(const char *raw_uri, struct bw_arena *a, struct bw_path *out);

/* Percent-decodes s[0..n) into arena memory ('+' as space when form is set). NULL when the
 * escape is malformed or the result contains NUL or invalid UTF-8. */
char *bw_url_decode(const char *s, size_t n, int form, struct bw_arena *a);

enum bw_match { BW_MATCH_OK, BW_MATCH_NOT_FOUND, BW_MATCH_BAD_METHOD };

/* Finds the route for method and path. The route with the most literal segments wins. On OK,
 * params[i] are the values of the pattern's {placeholders} in order. On BAD_METHOD, *allowed is
 * the mask of methods the path does accept. */
enum bw_match bw_route_match(const struct bw_route *table, size_t n, unsigned method,
			     const struct bw_path *path, const struct bw_route **out,
			     const char *params[BW_MAX_PARAMS], unsigned *allowed);

/* Looks up a placeholder's value by name in a matched route; NULL when the pattern has none. */
const char *bw_route_param(const struct bw_route *route, const char *const params[BW_MAX_PARAMS],
			   const char *name);

/* The role a route needs under the configuration: its min_role, with BW_ROLE_METRICS resolved to
 * public when metrics_public is set and to admin otherwise. */
enum bw_role bw_route_min_role(const struct bw_route *route, int metrics_public);

/* "GET" -> BW_GET; 0 for methods the API does not serve. */
unsigned bw_method_parse(const char *m);
/* Writes "GET, POST" for a mask into buf; returns buf. */
char *bw_methods_format(unsigned mask, char *buf, size_t len);

#endif
