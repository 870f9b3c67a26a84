/* jsonu: json-c with the limits the API promises — bounded depth, whole-input parsing, strings
 * that are valid UTF-8 without NUL — plus small helpers shared by the faces. */
#ifndef BW_JSONU_H
#define BW_JSONU_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define BW_JSON_MAX_DEPTH 32

enum bw_json_status {
	BW_JSON_OK = 0,
	BW_JSON_EMPTY,      /* no bytes (or only white space) */
	BW_JSON_MALFORMED,  /* syntax error at err->offset */
	BW_JSON_DEPTH,      /* nesting deeper than the limit */
	BW_JSON_BAD_UTF8,   /* input bytes are not UTF-8 */
	BW_JSON_BAD_STRING, /* a string decodes to a NUL or an unpaired surrogate */
	BW_JSON_BAD_NUMBER  /* an integer outside the 64-bit range (it would be altered) */
};

struct bw_json_error {
	size_t offset; /* byte offset of the problem (MALFORMED) */
	char msg[128]; /* human text */
};

/* Parses buf[0..len) as exactly one strict RFC 8259 JSON value, at most max_depth arrays and
 * objects deep. On BW_JSON_OK *out is a new reference the caller must json_object_put (NULL
 * for a top-level null); on any other status *out is NULL and err is filled. */
enum bw_json_status bw_json_parse(const char *buf, size_t len, int max_depth,
				  struct json_object **out, struct bw_json_error *err);

/* Serialises obj compactly (no slash escaping). The string belongs to obj. */
const char *bw_json_str(struct json_object *obj, size_t *len);

/* Length in characters of Python's json.dumps(obj) with default separators and ensure_ascii,
 * which is how the reference measures metadata size. */
size_t bw_json_pylen(struct json_object *obj);

/* Member lookup that distinguishes "absent" from "null": returns true when key is present
 * (then *val is the member, possibly NULL for JSON null). */
bool bw_json_member(struct json_object *obj, const char *key, struct json_object **val);

/* A new JSON string for s, or NULL (JSON null) when s is NULL. */
struct json_object *bw_json_str_or_null(const char *s);

/* json_object_put with the signature bw_arena_defer wants. */
void bw_json_release(void *obj);

#endif
