/* polyaml: see polyaml.h. */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "services/polcore.h"
#include "services/polyaml.h"
#include "services/yamlj.h"

struct out {
	char *buf;
	size_t len, cap;
	bool oom;
};

static int write_cb(void *data, unsigned char *p, size_t n)
{
	struct out *o = data;
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->cap ? o->cap : 1024);
		while (cap < o->len + n + 1)
			cap *= 2;
		char *nb = realloc(o->buf, cap);
		if (nb == NULL) {
			o->oom = true;
			return 0;
		}
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return 1;
}

/* Whether a plain scalar s could be read back as something other than a string (null, bool,
 * number, timestamp); such strings are quoted. Erring towards quoting is harmless. */
static bool needs_quotes(const char *s)
{
	static const char *const words[] = {"null", "~",  "true", "false", "yes",
					    "no",   "on", "off",  "y",     "n"};
	if (s[0] == '\0' || strchr("0123456789+-.", s[0]) != NULL)
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0)
			return true;
	return false;
}

static int scalar(yaml_emitter_t *e, const char *s, bool quote_if_typed)
{
	yaml_event_t ev;
	bool q = quote_if_typed && needs_quotes(s);
	if (!yaml_scalar_event_initialize(
		&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), q ? 0 : 1, 1,
		q ? YAML_SINGLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE))
		return 0;
	return yaml_emitter_emit(e, &ev);
}

static int emit(yaml_emitter_t *e, struct json_object *v)
{
	yaml_event_t ev;
	char num[32];
	switch (json_object_get_type(v)) {
	case json_type_null:
		return scalar(e, "null", false);
	case json_type_boolean:
		return scalar(e, json_object_get_boolean(v) ? "true" : "false", false);
	case json_type_int:
		snprintf(num, sizeof(num), "%" PRId64, json_object_get_int64(v));
		return scalar(e, num, false);
	case json_type_double:
		snprintf(num, sizeof(num), "%.17g", json_object_get_double(v));
		return scalar(e, num, false);
	case json_type_string:
		return scalar(e, json_object_get_string(v), true);
	case json_type_array:
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							  YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return 0;
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!emit(e, json_object_array_get_idx(v, i)))
				return 0;
		return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
	case json_type_object: {
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							 YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return 0;
		json_object_object_foreach(v, k, val)
		{
			if (!scalar(e, k, true) || !emit(e, val))
				return 0;
		}
		return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
	}
	}
	return 0;
}

char *bw_polyaml_render(struct json_object *doc, size_t *len)
{
	struct out o = {NULL, 0, 0, false};
	yaml_emitter_t e;
	yaml_event_t ev;
	struct json_object *sorted = bw_pol_sorted(doc);
	int ok = sorted != NULL &&
		 write_cb(&o, (unsigned char *)BW_POLYAML_HEADER, strlen(BW_POLYAML_HEADER));
	if (!ok || !yaml_emitter_initialize(&e)) {
		json_object_put(sorted);
		free(o.buf);
		return NULL;
	}
	yaml_emitter_set_output(&e, write_cb, &o);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_emitter_set_indent(&e, 2);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	     yaml_emitter_emit(&e, &ev) &&
	     yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	     yaml_emitter_emit(&e, &ev) && emit(&e, sorted) &&
	     yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
	     yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev) &&
	     yaml_emitter_flush(&e);
	yaml_emitter_delete(&e);
	json_object_put(sorted);
	if (!ok || o.oom) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}

enum bw_err bw_polyaml_parse(const char *text, size_t len, struct json_object **doc,
			     struct json_object **policy, struct json_object **metadata, char *why,
			     size_t whylen)
{
	char err[200] = "";
	struct json_object *d = NULL, *p = NULL, *m = NULL;
	*doc = *policy = *metadata = NULL;
	enum bw_err rc = bw_yaml_to_json(text, len, &d, err, sizeof(err));
	if (rc != BW_OK) {
		snprintf(why, whylen, "Malformed YAML: %s", err);
		return rc == BW_ENOMEM ? rc : (rc == BW_ETOOBIG ? BW_ETOOBIG : BW_EINVAL);
	}
	if (d == NULL || !json_object_is_type(d, json_type_object)) {
		snprintf(why, whylen, "Top-level YAML must be a mapping");
		json_object_put(d);
		return BW_EINVAL;
	}
	if (!json_object_object_get_ex(d, "policy", &p)) {
		snprintf(why, whylen, "Missing required 'policy' key");
		json_object_put(d);
		return BW_EINVAL;
	}
	if (p == NULL || !json_object_is_type(p, json_type_object)) {
		snprintf(why, whylen, "'policy' must be a mapping");
		json_object_put(d);
		return BW_EINVAL;
	}
	if (json_object_object_get_ex(d, "metadata", &m) &&
	    (m == NULL || !json_object_is_type(m, json_type_object))) {
		snprintf(why, whylen, "'metadata' must be a mapping");
		json_object_put(d);
		return BW_EINVAL;
	}
	*doc = d;
	*policy = p;
	*metadata = m;
	return BW_OK;
}
