/* yamlj: see yamlj.h. An event-driven recursive descent over libyaml's parser, so a cap is hit
 * as soon as the offending event arrives rather than after a whole tree was built. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "lib/utf8.h"
#include "services/yamlj.h"

#define TAG_STR "tag:yaml.org,2002:str"

struct ctx {
	yaml_parser_t parser;
	size_t nodes;
	enum bw_err rc;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, enum bw_err rc, const yaml_mark_t *mark, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct ctx *c, enum bw_err rc, const yaml_mark_t *mark, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->rc = rc;
	if (c->errlen > 0)
		snprintf(c->err, c->errlen, "line %zu, column %zu: %s",
			 mark != NULL ? mark->line + 1 : 0, mark != NULL ? mark->column + 1 : 0,
			 msg);
	return -1;
}

static int next_event(struct ctx *c, yaml_event_t *ev)
{
	if (yaml_parser_parse(&c->parser, ev))
		return 0;
	return fail(c, BW_EINVAL, &c->parser.problem_mark, "%s",
		    c->parser.problem != NULL ? c->parser.problem : "YAML syntax error");
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* [-+]?[0-9]+ that fits int64. */
static bool as_int(const char *s, size_t n, long long *v)
{
	size_t sign = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
	if (!all_digits(s + sign, n - sign))
		return false;
	errno = 0;
	char *end;
	*v = strtoll(s, &end, 10);
	return errno == 0 && end == s + n;
}

/* [-+]?(digits[.digits?] | .digits)([eE][-+]?digits)? with a '.' or an exponent: the decimal
 * floats YAML's core schema and JSON share (no .inf/.nan, which JSON cannot carry). */
static bool as_float(const char *s, size_t n, double *v)
{
	size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
	size_t int_digits = 0, frac_digits = 0;
	bool dot = false, expo = false;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, int_digits++;
	if (i < n && s[i] == '.') {
		dot = true;
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, frac_digits++;
	}
	if (int_digits + frac_digits == 0)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		expo = true;
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		size_t e = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == e)
			return false;
	}
	if (i != n || (!dot && !expo))
		return false;
	errno = 0;
	char *end;
	*v = strtod(s, &end);
	return errno == 0 && end == s + n;
}

static bool is_one_of(const char *s, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* A plain scalar typed by the core schema; NULL *out is JSON null. */
static int plain_scalar(const char *s, size_t n, struct json_object **out)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};
	long long i;
	double d;
	*out = NULL;
	if (is_one_of(s, nulls))
		return 0;
	if (is_one_of(s, trues))
		*out = json_object_new_boolean(1);
	else if (is_one_of(s, falses))
		*out = json_object_new_boolean(0);
	else if (as_int(s, n, &i))
		*out = json_object_new_int64(i);
	else if (as_float(s, n, &d))
		*out = json_object_new_double(d);
	else
		*out = json_object_new_string_len(s, (int)n);
	return *out != NULL ? 0 : -1;
}

static int scalar(struct ctx *c, const yaml_event_t *ev, struct json_object **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	if (memchr(s, '\0', n) != NULL)
		return fail(c, BW_EINVAL, &ev->start_mark, "NUL character in a scalar");
	if (!bw_utf8_valid(s, n))
		return fail(c, BW_EINVAL, &ev->start_mark, "invalid UTF-8 in a scalar");
	if (tag != NULL && strcmp(tag, TAG_STR) != 0 && strcmp(tag, "!") != 0)
		return fail(c, BW_EINVAL, &ev->start_mark, "tag %.60s is not supported", tag);
	if (tag == NULL && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (plain_scalar(s, n, out) != 0)
			return fail(c, BW_ENOMEM, &ev->start_mark, "out of memory");
		return 0;
	}
	*out = json_object_new_string_len(s, (int)n);
	if (*out == NULL)
		return fail(c, BW_ENOMEM, &ev->start_mark, "out of memory");
	return 0;
}

static int node(struct ctx *c, yaml_event_t *ev, int depth, struct json_object **out);

static int sequence(struct ctx *c, int depth, struct json_object *arr)
{
	for (;;) {
		yaml_event_t ev;
		if (next_event(c, &ev) != 0)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		struct json_object *v = NULL;
		int rc = node(c, &ev, depth, &v);
		if (rc == 0 && json_object_array_add(arr, v) != 0) {
			json_object_put(v);
			rc = fail(c, BW_ENOMEM, &ev.start_mark, "out of memory");
		}
		yaml_event_delete(&ev);
		if (rc != 0)
			return -1;
	}
}

/* Keys are strings as written; the typing of plain scalars applies to values only. */
static int mapping_key(struct ctx *c, const yaml_event_t *ev, struct json_object *obj)
{
	if (ev->type != YAML_SCALAR_EVENT)
		return fail(c, BW_EINVAL, &ev->start_mark, "mapping keys must be scalars");
	if (ev->data.scalar.anchor != NULL)
		return fail(c, BW_EINVAL, &ev->start_mark, "anchors are not allowed");
	const char *tag = (const char *)ev->data.scalar.tag;
	if (tag != NULL && strcmp(tag, TAG_STR) != 0 && strcmp(tag, "!") != 0)
		return fail(c, BW_EINVAL, &ev->start_mark, "tag %.60s is not supported", tag);
	const char *k = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	if (memchr(k, '\0', n) != NULL || !bw_utf8_valid(k, n))
		return fail(c, BW_EINVAL, &ev->start_mark, "invalid mapping key");
	if (json_object_object_get_ex(obj, k, NULL))
		return fail(c, BW_EINVAL, &ev->start_mark, "duplicate key '%.60s'", k);
	return 0;
}

static int mapping(struct ctx *c, int depth, struct json_object *obj)
{
	for (;;) {
		yaml_event_t kev, vev;
		if (next_event(c, &kev) != 0)
			return -1;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return 0;
		}
		int rc = mapping_key(c, &kev, obj);
		if (rc == 0 && ++c->nodes > BW_YAML_MAX_NODES)
			rc = fail(c, BW_ETOOBIG, &kev.start_mark, "more than %d nodes",
				  BW_YAML_MAX_NODES);
		if (rc == 0)
			rc = next_event(c, &vev);
		if (rc == 0) {
			struct json_object *v = NULL;
			rc = node(c, &vev, depth, &v);
			if (rc == 0 && json_object_object_add(
					   obj, (const char *)kev.data.scalar.value, v) != 0) {
				json_object_put(v);
				rc = fail(c, BW_ENOMEM, &vev.start_mark, "out of memory");
			}
			yaml_event_delete(&vev);
		}
		yaml_event_delete(&kev);
		if (rc != 0)
			return -1;
	}
}

/* Converts the node that starts with ev (owned by the caller) at nesting depth. */
static int node(struct ctx *c, yaml_event_t *ev, int depth, struct json_object **out)
{
	*out = NULL;
	if (++c->nodes > BW_YAML_MAX_NODES)
		return fail(c, BW_ETOOBIG, &ev->start_mark, "more than %d nodes",
			    BW_YAML_MAX_NODES);
	if (ev->type == YAML_ALIAS_EVENT)
		return fail(c, BW_EINVAL, &ev->start_mark, "aliases are not allowed");
	if (ev->type == YAML_SCALAR_EVENT) {
		if (ev->data.scalar.anchor != NULL)
			return fail(c, BW_EINVAL, &ev->start_mark, "anchors are not allowed");
		return scalar(c, ev, out);
	}
	bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
	if (!seq && ev->type != YAML_MAPPING_START_EVENT)
		return fail(c, BW_EINVAL, &ev->start_mark, "unexpected YAML event");
	const yaml_char_t *anchor =
	    seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
	const yaml_char_t *tag = seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag;
	if (anchor != NULL)
		return fail(c, BW_EINVAL, &ev->start_mark, "anchors are not allowed");
	if (tag != NULL)
		return fail(c, BW_EINVAL, &ev->start_mark, "tags on collections are not supported");
	if (depth >= BW_YAML_MAX_DEPTH)
		return fail(c, BW_EINVAL, &ev->start_mark, "nesting deeper than %d",
			    BW_YAML_MAX_DEPTH);
	struct json_object *v = seq ? json_object_new_array() : json_object_new_object();
	if (v == NULL)
		return fail(c, BW_ENOMEM, &ev->start_mark, "out of memory");
	int rc = seq ? sequence(c, depth + 1, v) : mapping(c, depth + 1, v);
	if (rc != 0) {
		json_object_put(v);
		return -1;
	}
	*out = v;
	return 0;
}

/* Expects the next event to be of type want; fails with what otherwise. */
static int expect(struct ctx *c, yaml_event_type_t want, const char *what)
{
	yaml_event_t ev;
	if (next_event(c, &ev) != 0)
		return -1;
	int rc = ev.type == want ? 0 : fail(c, BW_EINVAL, &ev.start_mark, "%s", what);
	yaml_event_delete(&ev);
	return rc;
}

static int document(struct ctx *c, struct json_object **out)
{
	yaml_event_t ev;
	if (expect(c, YAML_STREAM_START_EVENT, "not a YAML stream") != 0)
		return -1;
	if (next_event(c, &ev) != 0)
		return -1;
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		yaml_mark_t mark = ev.start_mark;
		yaml_event_delete(&ev);
		return fail(c, BW_EINVAL, &mark, "the file holds no YAML document");
	}
	yaml_event_delete(&ev);
	if (next_event(c, &ev) != 0)
		return -1;
	int rc = node(c, &ev, 0, out);
	yaml_event_delete(&ev);
	if (rc == 0)
		rc = expect(c, YAML_DOCUMENT_END_EVENT, "unexpected content after the document");
	if (rc == 0)
		rc = expect(c, YAML_STREAM_END_EVENT, "only one YAML document is allowed");
	if (rc != 0) {
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

enum bw_err bw_yaml_to_json(const char *buf, size_t len, struct json_object **out, char *err,
			    size_t errlen)
{
	struct ctx c = {.rc = BW_OK, .err = err, .errlen = errlen};
	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (len > BW_YAML_MAX_BYTES) {
		fail(&c, BW_ETOOBIG, NULL, "over %d bytes", BW_YAML_MAX_BYTES);
		return c.rc;
	}
	if (!yaml_parser_initialize(&c.parser)) {
		fail(&c, BW_ENOMEM, NULL, "out of memory");
		return c.rc;
	}
	/* UTF-8 only: no BOM sniffing into UTF-16. */
	yaml_parser_set_encoding(&c.parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)buf, len);
	if (document(&c, out) != 0 && c.rc == BW_OK)
		c.rc = BW_EINVAL;
	yaml_parser_delete(&c.parser);
	return c.rc;
}
