/* jsonu: see jsonu.h. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A strict RFC 8259 scanner run before json-c builds the tree. json-c alone accepts NaN,
 * Infinity, single-quoted keys and raw control characters, replaces lone surrogates silently,
 * clamps out-of-range integers and counts depth in its own way; this pass refuses all of that
 * and reports the byte offset of the first problem. */
struct scan {
	const char *s;
	size_t len, pos;
	int depth, max_depth;
	enum bw_json_status st;
	const char *msg;
};

static bool scan_fail(struct scan *sc, enum bw_json_status st, const char *msg)
{
	sc->st = st;
	sc->msg = msg;
	return false;
}

static void scan_ws(struct scan *sc)
{
	while (sc->pos < sc->len && only_space(sc->s + sc->pos, 1))
		sc->pos++;
}

static int scan_hex4(struct scan *sc)
{
	int v = 0;
	if (sc->len - sc->pos < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = sc->s[sc->pos + (size_t)i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	sc->pos += 4;
	return v;
}

/* After "\u": one escape, a surrogate pair being two. NUL and lone surrogates are refused. */
static bool scan_unicode(struct scan *sc)
{
	int cp = scan_hex4(sc);
	if (cp < 0)
		return scan_fail(sc, BW_JSON_MALFORMED, "invalid \\u escape");
	if (cp == 0)
		return scan_fail(sc, BW_JSON_BAD_STRING, "JSON strings must not contain NUL");
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return scan_fail(sc, BW_JSON_BAD_STRING, "unpaired surrogate in a JSON string");
	if (cp < 0xd800 || cp > 0xdbff)
		return true;
	if (sc->len - sc->pos < 2 || sc->s[sc->pos] != '\\' || sc->s[sc->pos + 1] != 'u')
		return scan_fail(sc, BW_JSON_BAD_STRING, "unpaired surrogate in a JSON string");
	sc->pos += 2;
	int lo = scan_hex4(sc);
	if (lo < 0xdc00 || lo > 0xdfff)
		return scan_fail(sc, BW_JSON_BAD_STRING, "unpaired surrogate in a JSON string");
	return true;
}

static bool scan_string(struct scan *sc)
{
	sc->pos++; /* opening quote */
	while (sc->pos < sc->len) {
		unsigned char c = (unsigned char)sc->s[sc->pos];
		if (c == '"') {
			sc->pos++;
			return true;
		}
		if (c < 0x20)
			return scan_fail(sc, BW_JSON_MALFORMED, "control character in a string");
		sc->pos++;
		if (c != '\\')
			continue;
		if (sc->pos >= sc->len)
			break;
		c = (unsigned char)sc->s[sc->pos++];
		if (c == 'u') {
			if (!scan_unicode(sc))
				return false;
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
			sc->pos--;
			return scan_fail(sc, BW_JSON_MALFORMED, "invalid escape in a string");
		}
	}
	return scan_fail(sc, BW_JSON_MALFORMED, "unterminated string");
}

static size_t scan_digits(struct scan *sc)
{
	size_t n = 0;
	while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9') {
		sc->pos++;
		n++;
	}
	return n;
}

static bool scan_number(struct scan *sc)
{
	size_t start = sc->pos;
	bool is_int = true;
	if (sc->s[sc->pos] == '-')
		sc->pos++;
	size_t intpos = sc->pos, nint = scan_digits(sc);
	if (nint == 0 || (nint > 1 && sc->s[intpos] == '0'))
		return scan_fail(sc, BW_JSON_MALFORMED, "invalid number");
	if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
		sc->pos++;
		is_int = false;
		if (scan_digits(sc) == 0)
			return scan_fail(sc, BW_JSON_MALFORMED, "invalid number");
	}
	if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
		sc->pos++;
		is_int = false;
		if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
			sc->pos++;
		if (scan_digits(sc) == 0)
			return scan_fail(sc, BW_JSON_MALFORMED, "invalid number");
	}
	/* json-c would clamp an integer outside int64 to its bounds, silently changing it. */
	if (!is_int) {
		char *end = NULL;
		errno = 0;
		double d = strtod(sc->s + start, &end);
		if (errno == ERANGE && isinf(d))
			return scan_fail(sc, BW_JSON_BAD_NUMBER, "number out of range");
	}
	if (is_int && nint >= 19) {
		char buf[32];
		size_t n = sc->pos - start;
		if (n >= sizeof(buf))
			return scan_fail(sc, BW_JSON_BAD_NUMBER, "integer out of range");
		memcpy(buf, sc->s + start, n);
		buf[n] = '\0';
		errno = 0;
		(void)strtoll(buf, NULL, 10);
		if (errno == ERANGE)
			return scan_fail(sc, BW_JSON_BAD_NUMBER, "integer out of range");
	}
	return true;
}

static bool scan_literal(struct scan *sc, const char *word)
{
	size_t n = strlen(word);
	if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
		return scan_fail(sc, BW_JSON_MALFORMED, "invalid literal");
	sc->pos += n;
	return true;
}

static bool scan_value(struct scan *sc);

/* Arrays and objects: elements separated by commas, object members as "key": value. */
static bool scan_container(struct scan *sc, char close, bool object)
{
	if (++sc->depth > sc->max_depth)
		return scan_fail(sc, BW_JSON_DEPTH, "JSON nesting is too deep");
	sc->pos++;
	scan_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == close) {
		sc->pos++;
		sc->depth--;
		return true;
	}
	for (;;) {
		scan_ws(sc);
		if (object) {
			if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
				return scan_fail(sc, BW_JSON_MALFORMED, "expected a string key");
			if (!scan_string(sc))
				return false;
			scan_ws(sc);
			if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
				return scan_fail(sc, BW_JSON_MALFORMED, "expected ':'");
			sc->pos++;
		}
		if (!scan_value(sc))
			return false;
		scan_ws(sc);
		if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
			sc->pos++;
			continue;
		}
		if (sc->pos < sc->len && sc->s[sc->pos] == close) {
			sc->pos++;
			sc->depth--;
			return true;
		}
		return scan_fail(sc, BW_JSON_MALFORMED,
				 object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool scan_value(struct scan *sc)
{
	scan_ws(sc);
	if (sc->pos >= sc->len)
		return scan_fail(sc, BW_JSON_MALFORMED, "unexpected end of JSON input");
	char c = sc->s[sc->pos];
	switch (c) {
	case '{':
		return scan_container(sc, '}', true);
	case '[':
		return scan_container(sc, ']', false);
	case '"':
		return scan_string(sc);
	case 't':
		return scan_literal(sc, "true");
	case 'f':
		return scan_literal(sc, "false");
	case 'n':
		return scan_literal(sc, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return scan_number(sc);
		return scan_fail(sc, BW_JSON_MALFORMED, "unexpected character");
	}
}

static void set_error(struct bw_json_error *err, size_t offset, const char *msg)
{
	err->offset = offset;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
}

enum bw_json_status bw_json_parse(const char *buf, size_t len, int max_depth,
				  struct json_object **out, struct bw_json_error *err)
{
	*out = NULL;
	set_error(err, 0, "");
	if (only_space(buf, len)) {
		set_error(err, 0, "request body is empty");
		return BW_JSON_EMPTY;
	}
	if (!bw_utf8_valid(buf, len)) {
		set_error(err, 0, "request body is not valid UTF-8");
		return BW_JSON_BAD_UTF8;
	}
	struct scan sc = {buf, len, 0, 0, max_depth, BW_JSON_OK, NULL};
	if (scan_value(&sc)) {
		scan_ws(&sc);
		if (sc.pos != len)
			scan_fail(&sc, BW_JSON_MALFORMED, "unexpected data after the JSON value");
	}
	if (sc.st != BW_JSON_OK) {
		if (sc.st == BW_JSON_DEPTH) {
			char msg[64];
			snprintf(msg, sizeof(msg), "JSON nesting exceeds %d levels", max_depth);
			set_error(err, sc.pos, msg);
		} else {
			set_error(err, sc.pos, sc.msg);
		}
		return sc.st;
	}
	/* The text is valid JSON: json-c now only builds the tree. Its own depth counts scalars
	 * too, hence the extra level. */
	struct json_tokener *tok = json_tokener_new_ex(max_depth + 2);
	if (tok == NULL) {
		set_error(err, 0, "out of memory");
		return BW_JSON_MALFORMED;
	}
	struct json_object *obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (obj == NULL && json_tokener_get_error(tok) == json_tokener_continue)
		obj = json_tokener_parse_ex(tok, "", 1); /* ends a top-level number or literal */
	json_tokener_free(tok);
	if (obj == NULL) {
		/* json-c gives NULL for a top-level null as well; the scan proved the text valid,
		 * so only that case, or running out of memory, gets here. */
		size_t i = 0;
		while (i < len && only_space(buf + i, 1))
			i++;
		if (buf[i] != 'n') {
			set_error(err, 0, "out of memory");
			return BW_JSON_MALFORMED;
		}
	}
	*out = obj;
	return BW_JSON_OK;
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
			else if (c < 0x20 || c == 0x7f)
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

/* Length of Python's repr() of a finite double: the shortest digits that round-trip, in fixed
 * notation for exponents -4..15 (at least one decimal) and d.ddde+XX otherwise. */
static size_t py_float_len(double d)
{
	char buf[40];
	int ndig = 1;
	for (; ndig <= 17; ndig++) {
		snprintf(buf, sizeof(buf), "%.*e", ndig - 1, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (ndig > 17)
		ndig = 17;
	const char *e = strchr(buf, 'e');
	int exp = e != NULL ? atoi(e + 1) : 0;
	size_t len = signbit(d) ? 1 : 0;
	if (exp >= -4 && exp < 16) {
		if (exp >= 0)
			len += ndig <= exp + 1 ? (size_t)exp + 1 + 2 : (size_t)ndig + 1;
		else
			len += 2 + (size_t)(-exp - 1) + (size_t)ndig;
		return len;
	}
	int aexp = exp < 0 ? -exp : exp;
	len += (ndig == 1 ? 1 : (size_t)ndig + 1) + 2 + (aexp >= 100 ? 3 : 2);
	return len;
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
	case json_type_int: {
		char buf[32];
		return (size_t)snprintf(buf, sizeof(buf), "%" PRId64, json_object_get_int64(obj));
	}
	case json_type_double:
		return py_float_len(json_object_get_double(obj));
	default:
		return 4;
	}
}

void bw_json_release(void *obj)
{
	json_object_put(obj);
}

struct json_object *bw_json_str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}
