/* Unit tests for fcgi/problem: the error envelope, default codes and error-to-status mapping. */
#include "config.h"

#include <string.h>

#include "fcgi/problem.h"
#include "tests/unit/tap.h"

static void test_codes(void)
{
	static const struct {
		int status;
		const char *code;
	} table[] = {
	    {400, "VALIDATION_ERROR"},
	    {401, "AUTHENTICATION_REQUIRED"},
	    {403, "PERMISSION_DENIED"},
	    {404, "NOT_FOUND"},
	    {405, "METHOD_NOT_ALLOWED"},
	    {409, "CONFLICT"},
	    {413, "PAYLOAD_TOO_LARGE"},
	    {415, "UNSUPPORTED_MEDIA_TYPE"},
	    {422, "VALIDATION_ERROR"},
	    {429, "RATE_LIMITED"},
	    {500, "INTERNAL_ERROR"},
	    {503, "SERVICE_UNAVAILABLE"},
	    {504, "TIMEOUT"},
	    {418, "INTERNAL_ERROR"},
	    {502, "INTERNAL_ERROR"},
	    {0, "INTERNAL_ERROR"},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const char *got = bw_problem_code(table[i].status);
		if (!tap_ok(got != NULL && strcmp(got, table[i].code) == 0, __FILE__, __LINE__,
			    "%d -> %s", table[i].status, table[i].code))
			printf("#   got '%s'\n", got != NULL ? got : "(null)");
	}
}

/* The string member key of o, or NULL when absent or not a string. */
static const char *member_str(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The keys of o joined with ',' in their order, into buf. */
static const char *keys_of(struct json_object *o, char *buf, size_t len)
{
	buf[0] = '\0';
	json_object_object_foreach(o, k, v)
	{
		(void)v;
		if (buf[0] != '\0')
			strncat(buf, ",", len - strlen(buf) - 1);
		strncat(buf, k, len - strlen(buf) - 1);
	}
	return buf;
}

static void test_envelope(void)
{
	char keys[128];
	struct json_object *p = bw_problem_new(404, NULL, "Gateway 'x' not found", "req-123");
	ok(p != NULL, "problem built");
	is_str(keys_of(p, keys, sizeof(keys)), "type,title,status,detail,code,request_id",
	       "exactly the six keys");
	is_str(member_str(p, "type"), "about:blank", "type is about:blank");
	is_str(member_str(p, "title"), "Not Found", "title is the humanised code");
	struct json_object *st = NULL;
	ok(json_object_object_get_ex(p, "status", &st) && json_object_is_type(st, json_type_int) &&
	       json_object_get_int(st) == 404,
	   "status is the integer 404");
	is_str(member_str(p, "detail"), "Gateway 'x' not found", "detail");
	is_str(member_str(p, "code"), "NOT_FOUND", "code defaults from the status");
	is_str(member_str(p, "request_id"), "req-123", "request_id");
	json_object_put(p);

	p = bw_problem_new(503, "GATEWAY_NOT_CONNECTED", "Gateway 'g' not connected.", NULL);
	is_str(keys_of(p, keys, sizeof(keys)), "type,title,status,detail,code",
	       "request_id omitted when NULL");
	is_str(member_str(p, "title"), "Gateway Not Connected", "GATEWAY_NOT_CONNECTED title");
	is_str(member_str(p, "code"), "GATEWAY_NOT_CONNECTED", "explicit code kept");
	json_object_put(p);

	p = bw_problem_new(422, NULL, "Validation error", "r");
	is_str(member_str(p, "title"), "Validation Error", "VALIDATION_ERROR title");
	json_object_put(p);
	p = bw_problem_new(500, NULL, NULL, "r");
	is_str(member_str(p, "title"), "Internal Error", "INTERNAL_ERROR title");
	is_str(member_str(p, "detail"), "", "NULL detail becomes the empty string");
	json_object_put(p);
	p = bw_problem_new(429, "CONFLICT", "gRPC error: RESOURCE_EXHAUSTED", "r");
	is_str(member_str(p, "title"), "Conflict", "one-word title");
	json_object_put(p);
	p = bw_problem_new(401, NULL, "x", "r");
	is_str(member_str(p, "title"), "Authentication Required", "AUTHENTICATION_REQUIRED title");
	json_object_put(p);
}

static void test_status_for(void)
{
	is_int(bw_problem_status_for(BW_ENOMEM), 500, "ENOMEM -> 500");
	is_int(bw_problem_status_for(BW_EINVAL), 400, "EINVAL -> 400");
	is_int(bw_problem_status_for(BW_ENOTFOUND), 404, "ENOTFOUND -> 404");
	is_int(bw_problem_status_for(BW_ECONFLICT), 409, "ECONFLICT -> 409");
	is_int(bw_problem_status_for(BW_ETOOBIG), 413, "ETOOBIG -> 413");
	is_int(bw_problem_status_for(BW_EDB), 500, "EDB -> 500");
	is_int(bw_problem_status_for(BW_EDBLOST), 503, "EDBLOST -> 503");
	is_int(bw_problem_status_for(BW_ECRYPTO), 500, "ECRYPTO -> 500");
	is_int(bw_problem_status_for(BW_EIO), 500, "EIO -> 500");
	is_int(bw_problem_status_for(BW_ESCHEMA), 500, "ESCHEMA -> 500");
	is_int(bw_problem_status_for(BW_EUNAVAIL), 503, "EUNAVAIL -> 503");
	is_int(bw_problem_status_for(BW_ETIMEDOUT), 504, "ETIMEDOUT -> 504");
}

int main(void)
{
	plan(44);
	test_codes();
	test_envelope();
	test_status_for();
	return done();
}
