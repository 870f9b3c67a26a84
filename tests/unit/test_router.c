/* Unit tests for fcgi/router: path splitting and decoding, route matching, methods. */
#include "config.h"

#include <string.h>

#include "fcgi/router.h"
#include "tests/unit/tap.h"

static void h_list(struct bw_req *req)
{
	(void)req;
}

static void h_info(struct bw_req *req)
{
	(void)req;
}

static void h_delete(struct bw_req *req)
{
	(void)req;
}

static void h_things(struct bw_req *req)
{
	(void)req;
}

static void h_sandbox(struct bw_req *req)
{
	(void)req;
}

static const struct bw_route table[] = {
    {BW_GET, "/api/gateway/{name}", h_info, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    {BW_GET, "/api/gateway/list", h_list, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    {BW_DELETE, "/api/gateway/{name}", h_delete, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_GET, "/api/things", h_things, BW_ROLE_PUBLIC, BW_BODY_NONE, 0},
    {BW_POST, "/api/things", h_things, BW_ROLE_OPERATOR, BW_BODY_JSON, 0},
    {BW_GET, "/api/gateways/{gw}/sandboxes/{name}", h_sandbox, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    {BW_GET, "/", h_list, BW_ROLE_PUBLIC, BW_BODY_NONE, 0},
};

#define NROUTES (sizeof(table) / sizeof(table[0]))

struct result {
	enum bw_match m;
	const struct bw_route *route;
	const char *params[BW_MAX_PARAMS];
	unsigned allowed;
};

/* Splits uri and matches it with method; m is -1 when the path does not split. */
static struct result route(const char *method, const char *uri, struct bw_arena *a)
{
	struct result r;
	struct bw_path path;
	memset(&r, 0, sizeof(r));
	if (bw_path_split(uri, a, &path) != 0) {
		r.m = (enum bw_match) - 1;
		return r;
	}
	r.m = bw_route_match(table, NROUTES, bw_method_parse(method), &path, &r.route, r.params,
			     &r.allowed);
	return r;
}

static void test_match(struct bw_arena *a)
{
	struct result r = route("GET", "/api/gateway/list", a);
	is_int(r.m, BW_MATCH_OK, "GET /api/gateway/list matches");
	ok(r.route == &table[1], "the literal route beats {name} listed before it");
	ok(r.route != NULL && r.route->handler == h_list, "handler of the literal route");

	r = route("GET", "/api/gateway/prod", a);
	is_int(r.m, BW_MATCH_OK, "GET /api/gateway/prod matches");
	ok(r.route == &table[0], "the {name} route");
	is_str(r.params[0], "prod", "params[0] is the name");
	is_str(r.route != NULL ? bw_route_param(r.route, r.params, "name") : NULL, "prod",
	       "bw_route_param finds name");
	is_str(r.route != NULL ? bw_route_param(r.route, r.params, "nam") : "x", NULL,
	       "bw_route_param of an unknown placeholder is NULL");

	r = route("DELETE", "/api/gateway/prod", a);
	ok(r.m == BW_MATCH_OK && r.route == &table[2], "DELETE picks the DELETE route");

	r = route("GET", "/api/gateways/gw1/sandboxes/box%201", a);
	is_int(r.m, BW_MATCH_OK, "two-parameter route matches");
	is_str(r.route != NULL ? bw_route_param(r.route, r.params, "gw") : NULL, "gw1", "param gw");
	is_str(r.route != NULL ? bw_route_param(r.route, r.params, "name") : NULL, "box 1",
	       "param name is decoded");

	r = route("GET", "/api/gateway/a%2Fb", a);
	is_int(r.m, BW_MATCH_OK, "%2F stays inside one segment and matches {name}");
	is_str(r.params[0], "a/b", "the parameter holds the slash");

	r = route("POST", "/api/gateway/list", a);
	is_int(r.m, BW_MATCH_BAD_METHOD, "POST /api/gateway/list: BAD_METHOD");
	is_int(r.allowed, BW_GET | BW_DELETE, "allowed is the union of matching routes");

	r = route("DELETE", "/api/things", a);
	is_int(r.m, BW_MATCH_BAD_METHOD, "DELETE /api/things: BAD_METHOD");
	is_int(r.allowed, BW_GET | BW_POST, "allowed is GET|POST");
	char buf[64];
	is_str(bw_methods_format(r.allowed, buf, sizeof(buf)), "GET, POST", "Allow text");

	r = route("PATCH", "/api/things", a);
	is_int(r.m, BW_MATCH_BAD_METHOD, "an unknown-to-the-path method: BAD_METHOD");
	r = route("HEAD", "/api/things", a);
	is_int(r.m, BW_MATCH_BAD_METHOD, "a method the API does not serve: BAD_METHOD");

	is_int(route("GET", "/api/nothing", a).m, BW_MATCH_NOT_FOUND, "unknown path: NOT_FOUND");
	is_int(route("GET", "/api/gateway", a).m, BW_MATCH_NOT_FOUND, "prefix only: NOT_FOUND");
	is_int(route("GET", "/api/gateway/prod/extra", a).m, BW_MATCH_NOT_FOUND,
	       "extra segment: NOT_FOUND");
	is_int(route("GET", "/api/gateway/list/", a).m, BW_MATCH_NOT_FOUND,
	       "trailing slash does not match");
	is_int(route("GET", "/api/things/", a).m, BW_MATCH_NOT_FOUND,
	       "trailing slash on a literal route does not match");
	is_int(route("GET", "/api//gateway/list", a).m, BW_MATCH_NOT_FOUND,
	       "double slash does not match");
	is_int(route("GET", "/api/gateway/", a).m, BW_MATCH_NOT_FOUND,
	       "an empty segment does not fill {name}");
	is_int(route("GET", "/API/things", a).m, BW_MATCH_NOT_FOUND, "matching is case-sensitive");

	r = route("GET", "/api/gateway/list?name=x&y=%zz", a);
	ok(r.m == BW_MATCH_OK && r.route == &table[1], "the query string is ignored");
	r = route("GET", "/api/gateway/prod#frag", a);
	ok(r.m == BW_MATCH_OK && strcmp(r.params[0], "prod") == 0, "a fragment is ignored");
	r = route("GET", "/", a);
	ok(r.m == BW_MATCH_OK && r.route == &table[6], "/ matches the root route");
}

/* Splits uri; returns the segment count or -1. */
static int split(const char *uri, struct bw_arena *a, struct bw_path *p)
{
	return bw_path_split(uri, a, p) == 0 ? (int)p->n : -1;
}

static void test_split(struct bw_arena *a)
{
	struct bw_path p;
	is_int(split("/", a, &p), 0, "/ has no segments");
	is_int(split("/a/b/c", a, &p), 3, "three segments");
	is_int(split("/a%41b/%2e", a, &p), -1, "%2e alone is a dot segment");
	is_int(split("/a%41b/c%7E", a, &p), 2, "escapes decode");
	is_str(p.seg[0], "aAb", "%41 decodes to A");
	is_str(p.seg[1], "c~", "%7E decodes to ~");
	is_int(split("/x/a%2Fb/y", a, &p), 3, "%2F does not split");
	is_str(p.seg[1], "a/b", "%2F decodes inside its segment");
	is_int(split("/a/b?c/d/e", a, &p), 2, "the query does not add segments");
	is_int(split("/a+b", a, &p), 1, "plus sign in a path");
	is_str(p.seg[0], "a+b", "'+' is not a space in a path");
	is_int(split("/caf%C3%A9", a, &p), 1, "UTF-8 escape");
	is_str(p.seg[0], "caf\xc3\xa9", "decoded UTF-8");
	is_int(split("/...", a, &p), 1, "three dots is an ordinary segment");
	is_int(split("/.well-known", a, &p), 1, "a leading dot is fine");

	is_int(split("/a/../b", a, &p), -1, "'..' refused");
	is_int(split("/a/./b", a, &p), -1, "'.' refused");
	is_int(split("/..", a, &p), -1, "'..' as the only segment refused");
	is_int(split("/a/%2e%2e/b", a, &p), -1, "%2e%2e refused");
	is_int(split("/a/%2E.", a, &p), -1, "%2E. refused");
	is_int(split("/a%00b", a, &p), -1, "%00 refused");
	is_int(split("/a%zz", a, &p), -1, "%zz refused");
	is_int(split("/a%4", a, &p), -1, "truncated %4 refused");
	is_int(split("/a%", a, &p), -1, "lone % refused");
	is_int(split("/a%4/b", a, &p), -1, "truncated escape before a slash refused");
	is_int(split("/%ff", a, &p), -1, "%ff (invalid UTF-8) refused");
	is_int(split("/%c0%80", a, &p), -1, "overlong UTF-8 refused");
	is_int(split("/a\xff", a, &p), -1, "raw invalid UTF-8 refused");
	is_int(split("", a, &p), -1, "empty URI refused");
	is_int(split("a/b", a, &p), -1, "relative URI refused");
	ok(bw_path_split(NULL, a, &p) == -1, "NULL refused");

	char uri[128] = "";
	for (int i = 0; i < BW_MAX_SEGMENTS; i++)
		strcat(uri, "/s");
	is_int(split(uri, a, &p), BW_MAX_SEGMENTS, "exactly BW_MAX_SEGMENTS segments");
	strcat(uri, "/s");
	is_int(split(uri, a, &p), -1, "one more than BW_MAX_SEGMENTS refused");
}

static void test_decode(struct bw_arena *a)
{
	is_str(bw_url_decode("a+b%20c", 7, 1, a), "a b c", "form decoding turns '+' into space");
	is_str(bw_url_decode("a+b%20c", 7, 0, a), "a+b c", "path decoding keeps '+'");
	is_str(bw_url_decode("%2B", 3, 1, a), "+", "%2B is a literal plus in form mode");
	is_str(bw_url_decode("%41%42", 6, 0, a), "AB", "adjacent escapes");
	is_str(bw_url_decode("%4a%4A", 6, 0, a), "JJ", "hex digits of both cases");
	is_str(bw_url_decode("abc%41", 4, 0, a), NULL, "n cuts the escape: refused");
	is_str(bw_url_decode("", 0, 0, a), "", "empty input");
	is_str(bw_url_decode("%00", 3, 1, a), NULL, "NUL refused");
	is_str(bw_url_decode("%e2%82", 6, 1, a), NULL, "truncated UTF-8 refused");
	is_str(bw_url_decode("%g1", 3, 1, a), NULL, "bad hex refused");
}

static void test_methods(void)
{
	char buf[64];
	is_int(bw_method_parse("GET"), BW_GET, "GET");
	is_int(bw_method_parse("POST"), BW_POST, "POST");
	is_int(bw_method_parse("PUT"), BW_PUT, "PUT");
	is_int(bw_method_parse("PATCH"), BW_PATCH, "PATCH");
	is_int(bw_method_parse("DELETE"), BW_DELETE, "DELETE");
	is_int(bw_method_parse("get"), 0, "methods are case-sensitive");
	is_int(bw_method_parse("HEAD"), 0, "HEAD is not served");
	is_int(bw_method_parse(NULL), 0, "NULL");
	is_str(bw_methods_format(0, buf, sizeof(buf)), "", "empty mask");
	is_str(bw_methods_format(BW_DELETE | BW_GET, buf, sizeof(buf)), "GET, DELETE",
	       "fixed order");
	is_str(
	    bw_methods_format(BW_GET | BW_POST | BW_PUT | BW_PATCH | BW_DELETE, buf, sizeof(buf)),
	    "GET, POST, PUT, PATCH, DELETE", "all methods");
}

static void test_min_role(void)
{
	struct bw_route viewer = {BW_GET, "/a", NULL, BW_ROLE_VIEWER, BW_BODY_NONE, 0};
	struct bw_route metrics = {BW_GET, "/metrics", NULL, BW_ROLE_METRICS, BW_BODY_NONE, 0};
	is_int(bw_route_min_role(&viewer, 1), BW_ROLE_VIEWER, "a ranked role is kept (public set)");
	is_int(bw_route_min_role(&viewer, 0), BW_ROLE_VIEWER, "a ranked role is kept");
	is_int(bw_route_min_role(&metrics, 0), BW_ROLE_ADMIN, "metrics: admin by default");
	is_int(bw_route_min_role(&metrics, 1), BW_ROLE_PUBLIC, "metrics: public when configured");
}

int main(void)
{
	plan(90);
	struct bw_arena *a = bw_arena_new(4096);
	test_match(a);
	test_split(a);
	test_decode(a);
	test_methods();
	test_min_role();
	bw_arena_free(a);
	return done();
}
