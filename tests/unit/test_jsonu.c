/* Unit tests for lib/jsonu: strict bounded parsing and the Python json.dumps length. */
#include "config.h"

#include <string.h>

#include "lib/jsonu.h"
#include "tests/unit/tap.h"

/* Parses s with the default depth; returns the status and keeps the value in *out (or NULL). */
static enum bw_json_status parse(const char *s, struct json_object **out, struct bw_json_error *err)
{
	return bw_json_parse(s, strlen(s), BW_JSON_MAX_DEPTH, out, err);
}

/* Parses s and reports its status only. */
static enum bw_json_status status_of(const char *s)
{
	struct json_object *o = NULL;
	struct bw_json_error err;
	enum bw_json_status st = parse(s, &o, &err);
	json_object_put(o);
	return st;
}

static void test_ok(void)
{
	struct json_object *o = NULL;
	struct bw_json_error err;
	enum bw_json_status st = parse(" {\"a\": [1, \"x\", null, true], \"b\": {}} \n", &o, &err);
	is_int(st, BW_JSON_OK, "object parses");
	ok(o != NULL && json_object_is_type(o, json_type_object), "result is an object");
	struct json_object *a = NULL;
	ok(json_object_object_get_ex(o, "a", &a) && json_object_array_length(a) == 4,
	   "member a is the 4-element array");
	is_str(bw_json_str(o, NULL), "{\"a\":[1,\"x\",null,true],\"b\":{}}", "compact form");
	json_object_put(o);

	o = NULL;
	st = parse("{\"url\":\"https://x/y\"}", &o, &err);
	size_t len = 0;
	const char *s = st == BW_JSON_OK ? bw_json_str(o, &len) : "";
	is_str(s, "{\"url\":\"https://x/y\"}", "bw_json_str does not escape slashes");
	is_int(len, strlen("{\"url\":\"https://x/y\"}"), "bw_json_str reports the length");
	json_object_put(o);

	is_int(status_of("[]"), BW_JSON_OK, "empty array parses");
	is_int(status_of("\"\xc3\xa9\""), BW_JSON_OK, "a UTF-8 string parses");
	is_int(status_of("\"\\ud83d\\ude00\""), BW_JSON_OK, "a surrogate pair escape parses");
	/* A JSON text may be any value; buf[0..len) holds exactly one. */
	is_int(status_of("true"), BW_JSON_OK, "top-level true parses");
	is_int(status_of("123"), BW_JSON_OK, "top-level number parses");
}

static void test_empty(void)
{
	struct json_object *o = (struct json_object *)&o; /* must be reset to NULL */
	struct bw_json_error err;
	is_int(bw_json_parse("", 0, BW_JSON_MAX_DEPTH, &o, &err), BW_JSON_EMPTY, "no bytes: EMPTY");
	ok(o == NULL, "out is NULL on EMPTY");
	is_int(status_of(" \t\r\n "), BW_JSON_EMPTY, "only white space: EMPTY");
	is_str(err.msg, "request body is empty", "EMPTY message");
}

static void test_malformed(void)
{
	struct json_object *o = NULL;
	struct bw_json_error err;
	is_int(parse("{\"a\" 1}", &o, &err), BW_JSON_MALFORMED, "missing colon: MALFORMED");
	is_int(err.offset, 5, "offset of the missing colon is 5");
	ok(o == NULL, "out is NULL on MALFORMED");
	ok(err.msg[0] != '\0', "MALFORMED has a message (%s)", err.msg);
	is_int(parse("[1,]", &o, &err), BW_JSON_MALFORMED, "trailing comma: MALFORMED");
	is_int(err.offset, 3, "offset of the stray ']' is 3");
	is_int(parse("[1, 2", &o, &err), BW_JSON_MALFORMED, "unterminated array: MALFORMED");
	is_int(err.offset, 5, "unterminated input: offset is the length");
	is_int(parse("{\"a\":1}x", &o, &err), BW_JSON_MALFORMED, "trailing garbage: MALFORMED");
	is_int(err.offset, 7, "offset of the trailing garbage is 7");
	is_int(parse("{} {}", &o, &err), BW_JSON_MALFORMED, "two values: MALFORMED");
	is_int(err.offset, 3, "offset of the second value is 3");
	is_int(status_of("[1] \n "), BW_JSON_OK, "trailing white space is fine");
	is_int(status_of("[01]"), BW_JSON_MALFORMED, "leading zero: MALFORMED");
	is_int(status_of("[tRue]"), BW_JSON_MALFORMED, "bad literal: MALFORMED");
}

/* Builds n nested arrays around leaf into buf. */
static const char *nest(char *buf, size_t cap, int n, const char *leaf)
{
	size_t o = 0;
	for (int i = 0; i < n && o + 1 < cap; i++)
		buf[o++] = '[';
	for (const char *p = leaf; *p != '\0' && o + 1 < cap; p++)
		buf[o++] = *p;
	for (int i = 0; i < n && o + 1 < cap; i++)
		buf[o++] = ']';
	buf[o] = '\0';
	return buf;
}

static void test_depth(void)
{
	char buf[256];
	int max = BW_JSON_MAX_DEPTH;
	is_int(status_of(nest(buf, sizeof(buf), max, "")), BW_JSON_OK,
	       "32 empty nested arrays: OK");
	is_int(status_of(nest(buf, sizeof(buf), max + 1, "")), BW_JSON_DEPTH,
	       "33 empty nested arrays: DEPTH");
	is_int(status_of(nest(buf, sizeof(buf), max, "1")), BW_JSON_OK,
	       "32 nested arrays around a number: OK");
	is_int(status_of(nest(buf, sizeof(buf), max + 1, "1")), BW_JSON_DEPTH,
	       "33 nested arrays around a number: DEPTH");
	struct json_object *o = NULL;
	struct bw_json_error err;
	is_int(bw_json_parse("[[[1]]]", 7, 2, &o, &err), BW_JSON_DEPTH, "explicit limit 2: DEPTH");
	ok(strstr(err.msg, "2 levels") != NULL, "DEPTH message names the limit (%s)", err.msg);
}

static void test_bad_utf8(void)
{
	is_int(status_of("\"\xff\""), BW_JSON_BAD_UTF8, "byte FF in a string: BAD_UTF8");
	is_int(status_of("{\"\xc0\x80\":1}"), BW_JSON_BAD_UTF8, "overlong in a key: BAD_UTF8");
	is_int(status_of("[\"\xed\xa0\x80\"]"), BW_JSON_BAD_UTF8, "raw surrogate bytes: BAD_UTF8");
	is_int(status_of("[1]\xe2\x82"), BW_JSON_BAD_UTF8,
	       "truncated bytes after the value: BAD_UTF8");
}

static void test_bad_string(void)
{
	is_int(status_of("\"\\u0000\""), BW_JSON_BAD_STRING, "\\u0000 in a value: BAD_STRING");
	is_int(status_of("{\"a\":\"x\\u0000y\"}"), BW_JSON_BAD_STRING,
	       "\\u0000 inside a member value: BAD_STRING");
	is_int(status_of("{\"k\\u0000\":1}"), BW_JSON_BAD_STRING, "\\u0000 in a key: BAD_STRING");
	is_int(status_of("[\"a\\\\\\u0000\"]"), BW_JSON_BAD_STRING,
	       "escaped backslash then \\u0000: BAD_STRING");
	struct json_object *o = NULL;
	struct bw_json_error err;
	is_int(parse("[\"\\\\u0000\"]", &o, &err), BW_JSON_OK,
	       "escaped backslash followed by u0000 is fine");
	is_str(o != NULL ? json_object_get_string(json_object_array_get_idx(o, 0)) : NULL,
	       "\\u0000", "it decodes to a backslash and u0000");
	json_object_put(o);
	is_int(status_of("\"\\ud800\""), BW_JSON_BAD_STRING, "lone high surrogate: BAD_STRING");
	is_int(status_of("\"\\udc00\""), BW_JSON_BAD_STRING, "lone low surrogate: BAD_STRING");
	is_int(status_of("[\"\\ud800\\u0041\"]"), BW_JSON_BAD_STRING,
	       "high surrogate followed by a non-surrogate: BAD_STRING");
}

static void test_strict(void)
{
	is_int(status_of("[NaN]"), BW_JSON_MALFORMED, "NaN rejected");
	is_int(status_of("[Infinity]"), BW_JSON_MALFORMED, "Infinity rejected");
	is_int(status_of("[-Infinity]"), BW_JSON_MALFORMED, "-Infinity rejected");
	is_int(status_of("['a']"), BW_JSON_MALFORMED, "single-quoted value rejected");
	is_int(status_of("{'a':1}"), BW_JSON_MALFORMED, "single-quoted key rejected");
	is_int(status_of("[\"a\tb\"]"), BW_JSON_MALFORMED, "raw control character in a string");
	is_int(status_of("{\"a\":1,}"), BW_JSON_MALFORMED, "trailing comma in an object");
	is_int(status_of("/* c */ {}"), BW_JSON_MALFORMED, "comments rejected");
}

/* bw_json_pylen of the parsed JSON text s; (size_t)-1 when s does not parse. */
static size_t pylen(const char *s)
{
	struct json_object *o = NULL;
	struct bw_json_error err;
	if (parse(s, &o, &err) != BW_JSON_OK)
		return (size_t)-1;
	size_t n = bw_json_pylen(o);
	json_object_put(o);
	return n;
}

/* Expected values are len(json.dumps(json.loads(s))) from CPython 3.11. */
static void test_pylen(void)
{
	struct json_object *o = NULL;
	struct bw_json_error err;
	is_int(pylen("{}"), 2, "{} -> 2");
	is_int(pylen("[]"), 2, "[] -> 2");
	is_int(pylen("{\"a\":1}"), 8, "{\"a\": 1} -> 8");
	is_int(pylen("{\"a\":\"\xc3\xa9\"}"), 15, "{\"a\": \"\\u00e9\"} -> 15");
	is_int(pylen("[1,2]"), 6, "[1, 2] -> 6");
	is_int(pylen("{\"a\":[1,\"x\"],\"b\":null}"), 26, "nested with null -> 26");
	is_int(pylen("[true,false]"), 13, "[true, false] -> 13");
	is_int(pylen("\"a\\nb\""), 6, "newline escapes to 2 characters");
	is_int(pylen("\"\\\"\\\\\""), 6, "quote and backslash escape to 2 each");
	is_int(pylen("\"\\u0001\\u001f\""), 14, "control characters escape to \\u00XX");
	is_int(pylen("\"\\t\\r\\b\\f\""), 10, "\\t \\r \\b \\f escape to 2 each");
	is_int(pylen("\"/\""), 3, "slash is not escaped");
	is_int(pylen("\"\xf0\x9f\x98\x80\""), 14, "emoji is a 12-character surrogate pair");
	is_int(pylen("\"\xe2\x82\xac\""), 8, "euro sign is \\u20ac");
	is_int(pylen("{\"\xc3\xa9\":\"x\"}"), 15, "non-ASCII key is escaped too");
	is_int(pylen("\"\x7f\""), 8, "DEL is escaped as \\u007f");
	is_int(pylen("[-5,1234567890123]"), 19, "integers");
	is_int(pylen("[1.5]"), 5, "[1.5] -> 5");
	is_int(pylen("[1.50]"), 5, "[1.50] is dumped as 1.5 -> 5");
	is_int(pylen("[1E2]"), 7, "[1E2] is dumped as 100.0 -> 7");
	/* json-c would clamp it to 2^64-1, silently changing the value: refused instead. */
	is_int(parse("[123456789012345678901]", &o, &err), BW_JSON_BAD_NUMBER,
	       "an integer beyond 64 bits is refused, not altered");
	is_int(parse("[9223372036854775807]", &o, &err), BW_JSON_OK, "INT64_MAX is accepted");
	json_object_put(o);
	is_int(parse("[1e400]", &o, &err), BW_JSON_BAD_NUMBER,
	       "a double overflowing to inf is refused");
	is_int(bw_json_pylen(NULL), 4, "NULL is null -> 4");
}

static void test_member(void)
{
	struct json_object *o = NULL, *v = (struct json_object *)&o;
	struct bw_json_error err;
	parse("{\"n\":null,\"s\":\"x\"}", &o, &err);
	ok(bw_json_member(o, "n", &v), "null member is present");
	ok(v == NULL, "null member value is NULL");
	ok(bw_json_member(o, "s", &v) && v != NULL && strcmp(json_object_get_string(v), "x") == 0,
	   "string member is present with its value");
	v = (struct json_object *)&o;
	ok(!bw_json_member(o, "missing", &v), "absent member is not present");
	ok(v == NULL, "absent member value is NULL");
	struct json_object *arr = json_object_new_array();
	ok(!bw_json_member(arr, "n", &v), "an array has no members");
	ok(!bw_json_member(NULL, "n", &v), "NULL has no members");
	json_object_put(arr);
	json_object_put(o);
}

int main(void)
{
	plan(88);
	test_ok();
	test_empty();
	test_malformed();
	test_depth();
	test_bad_utf8();
	test_bad_string();
	test_strict();
	test_pylen();
	test_member();
	return done();
}
