/* jsonu: see jsonu.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lib/jsonu.h"
#include "lib/utf8.h"

static bool only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

/* Every string and key must be NUL-free, valid UTF-8 after unescaping (json-c turns an unpaired
 * \ud800 escape into bytes that are not UTF-8). */
static bool strings_ok(struct json_object *o, int depth)
{
	if (depth > BW_JSON_MAX_DEPTH + 1)
		return false;
	switch (json_object_get_type(o)) {
	case json_type_string: {
		const char *s = json_object_get_string(o);
		size_t n = (size_t)json_object_get_string_len(o);
		return strlen(s) == n && bw_utf8_valid(s, n);
	}
	case json_type_object: {
		json_object_object_foreach(o, k, v)
		{
			if (!bw_utf8_valid(k, strlen(k)))
				return false;
			if (v != NULL && !strings_ok(v, depth + 1))
				return false;
		}
		return true;
	}
	case json_type_array: {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++) {
			struct json_object *v = json_object_array_get_idx(o, i);
			if (v != NULL && !strings_ok(v, depth + 1))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

/* json-c accepts a few things JSON does not (NaN, Infinity, single quotes in non-strict mode);
 * strict mode refuses them. Keys are checked for NUL separately below: json-c keeps a key with
 * an embedded NUL truncated, so a raw scan for the \u0000 escape is the reliable test. */
static bool has_escaped_nul(const char *buf, size_t len)
{
	for (size_t i = 0; i + 5 < len; i++) {
		if (buf[i] != '\\')
			continue;
		if (buf[i + 1] == 'u' && memcmp(buf + i + 2, "0000", 4) == 0)
			return true;
		i++; /* skip the escaped character so "\\\\u0000" is not misread */
	}
	return false;
}

enum bw_json_status bw_json_parse(const char *buf, size_t len, int max_depth,
				  struct json_object **out, struct bw_json_error *err)
{
	enum bw_json_status st = BW_JSON_MALFORMED;
	struct json_object *obj = NULL;
	*out = NULL;
	err->offset = 0;
	err->msg[0] = '\0';
	if (only_space(buf, len)) {
		snprintf(err->msg, sizeof(err->msg), "request body is empty");
		return BW_JSON_EMPTY;
	}
	if (!bw_utf8_valid(buf, len)) {
		snprintf(err->msg, sizeof(err->msg), "request body is not valid UTF-8");
		return BW_JSON_BAD_UTF8;
	}
	struct json_tokener *tok = json_tokener_new_ex(max_depth);
	if (tok == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return BW_JSON_MALFORMED;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = tok->char_offset;
	if (obj == NULL && jerr == json_tokener_continue) {
		/* The input ended inside a value. */
		err->offset = len;
		snprintf(err->msg, sizeof(err->msg), "unexpected end of JSON input");
		goto out;
	}
	if (obj == NULL) {
		err->offset = used;
		if (jerr == json_tokener_error_depth) {
			snprintf(err->msg, sizeof(err->msg), "JSON nesting exceeds %d levels",
				 max_depth);
			st = BW_JSON_DEPTH;
		} else {
			snprintf(err->msg, sizeof(err->msg), "%s", json_tokener_error_desc(jerr));
		}
		goto out;
	}
	if (!only_space(buf + used, len - used)) {
		err->offset = used;
		snprintf(err->msg, sizeof(err->msg), "unexpected data after the JSON value");
		goto out;
	}
	if (has_escaped_nul(buf, len) || !strings_ok(obj, 0)) {
		snprintf(err->msg, sizeof(err->msg),
			 "JSON strings must be valid Unicode without NUL characters");
		st = BW_JSON_BAD_STRING;
		goto out;
	}
	*out = obj;
	obj = NULL;
	st = BW_JSON_OK;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	return st;
}

const char *bw_json_str(struct json_object *obj, size_t *len)
{
	size_t n = 0;
	const char *s = json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (len != NULL)
		*len = n;
	return s;
}

bool bw_json_member(struct json_object *obj, const char *key, struct json_object **val)
{
	*val = NULL;
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return false;
	return json_object_object_get_ex(obj, key, val) != 0;
}

/* Characters Python's ensure_ascii json.dumps writes for one string, quotes included. */
static size_t py_strlen(const char *s, size_t n)
{
	size_t total = 2;
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c < 0x80) {
			if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' ||
			    c == '\b' || c == '\f')
				total += 2;
			else if (c < 0x20)
				total += 6;
			else
				total += 1;
			i++;
		} else if (c >= 0xf0) {
			total += 12; /* a surrogate pair */
			i += 4;
		} else {
			total += 6;
			i += c >= 0xe0 ? 3 : 2;
		}
	}
	return total;
}

size_t bw_json_pylen(struct json_object *obj)
{
	if (obj == NULL)
		return 4; /* null */
	switch (json_object_get_type(obj)) {
	case json_type_null:
		return 4;
	case json_type_boolean:
		return json_object_get_boolean(obj) ? 4 : 5;
	case json_type_string:
		return py_strlen(json_object_get_string(obj),
				 (size_t)json_object_get_string_len(obj));
	case json_type_object: {
		size_t total = 2, i = 0;
		json_object_object_foreach(obj, k, v)
		{
			total += (i++ > 0 ? 2 : 0) + py_strlen(k, strlen(k)) + 2 + bw_json_pylen(v);
		}
		return total;
	}
	case json_type_array: {
		size_t n = json_object_array_length(obj), total = 2;
		for (size_t i = 0; i < n; i++)
			total += (i > 0 ? 2 : 0) + bw_json_pylen(json_object_array_get_idx(obj, i));
		return total;
	}
	default: {
		size_t len = 0;
		bw_json_str(obj, &len);
		return len;
	}
	}
}

void bw_json_release(void *obj)
{
	json_object_put(obj);
}
