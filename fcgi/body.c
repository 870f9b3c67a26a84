/* body: see body.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/body.h"
#include "fcgi/request.h"
#include "lib/jsonu.h"

bool bw_verrs_init(struct bw_verrs *v, struct bw_arena *a)
{
	v->list = json_object_new_array();
	if (v->list == NULL)
		return false;
	bw_arena_defer(a, bw_json_release, v->list);
	return true;
}

/* One entry at loc [where, field] (field may be NULL); input, when not NULL, is echoed. */
static void add_at(struct bw_verrs *v, const char *where, const char *type, const char *field,
		   const char *msg, const char *input)
{
	struct json_object *e = json_object_new_object();
	struct json_object *loc = json_object_new_array();
	if (e == NULL || loc == NULL) {
		json_object_put(e);
		json_object_put(loc);
		return;
	}
	json_object_array_add(loc, json_object_new_string(where));
	if (field != NULL)
		json_object_array_add(loc, json_object_new_string(field));
	json_object_object_add(e, "type", json_object_new_string(type));
	json_object_object_add(e, "loc", loc);
	json_object_object_add(e, "msg", json_object_new_string(msg));
	if (input != NULL)
		json_object_object_add(e, "input", json_object_new_string(input));
	json_object_array_add(v->list, e);
}

void bw_verrs_add(struct bw_verrs *v, const char *type, const char *field, const char *msg)
{
	add_at(v, "body", type, field, msg, NULL);
}

void bw_verrs_query(struct bw_verrs *v, const char *type, const char *name, const char *msg,
		    const char *input)
{
	add_at(v, "query", type, name, msg, input);
}

#define INT_PARSING_MSG "Input should be a valid integer, unable to parse string as an integer"

bool bw_query_int(struct bw_req *req, struct bw_verrs *v, const char *name, long long min,
		  long long max, long long *out)
{
	const char *s = bw_req_query(req, name);
	if (s == NULL)
		return true;
	char *end = NULL, msg[96];
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (s[0] == '\0' || errno != 0 || *end != '\0') {
		bw_verrs_query(v, "int_parsing", name, INT_PARSING_MSG, s);
		return false;
	}
	if (n < min) {
		snprintf(msg, sizeof(msg), "Input should be greater than or equal to %lld", min);
		bw_verrs_query(v, "greater_than_equal", name, msg, s);
		return false;
	}
	if (max >= 0 && n > max) {
		snprintf(msg, sizeof(msg), "Input should be less than or equal to %lld", max);
		bw_verrs_query(v, "less_than_equal", name, msg, s);
		return false;
	}
	*out = n;
	return true;
}

bool bw_query_bool(struct bw_req *req, struct bw_verrs *v, const char *name, bool *out)
{
	static const char *const spellings[][2] = {{"true", "false"}, {"1", "0"}, {"yes", "no"},
						   {"on", "off"},     {"t", "f"}, {"y", "n"}};
	const char *s = bw_req_query(req, name);
	*out = false;
	if (s == NULL)
		return true;
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		for (int b = 0; b < 2; b++) {
			if (strcasecmp(s, spellings[i][b]) == 0) {
				*out = b == 0;
				return true;
			}
		}
	}
	bw_verrs_query(v, "bool_parsing", name,
		       "Input should be a valid boolean, unable to interpret input", s);
	return false;
}

static struct json_object *member(struct json_object *body, const char *key, unsigned flags,
				  struct bw_verrs *v, bool *present, bool *is_null)
{
	struct json_object *val = NULL;
	*present = json_object_object_get_ex(body, key, &val) != 0;
	*is_null = *present && val == NULL;
	if (!*present && (flags & BW_REQUIRED))
		bw_verrs_add(v, "missing", key, "Field required");
	if (*is_null && !(flags & BW_NULLABLE))
		bw_verrs_add(v, "null_not_allowed", key, "Field may not be null");
	return val;
}

void bw_body_string(struct json_object *body, const char *key, unsigned flags, struct bw_verrs *v,
		    const char **out, bool *present)
{
	bool is_null;
	struct json_object *val = member(body, key, flags, v, present, &is_null);
	*out = NULL;
	if (val == NULL)
		return;
	if (!json_object_is_type(val, json_type_string)) {
		bw_verrs_add(v, "string_type", key, "Input should be a valid string");
		return;
	}
	*out = json_object_get_string(val);
}

void bw_body_object(struct json_object *body, const char *key, unsigned flags, struct bw_verrs *v,
		    struct json_object **out, bool *present)
{
	bool is_null;
	struct json_object *val = member(body, key, flags, v, present, &is_null);
	*out = NULL;
	if (val == NULL)
		return;
	if (!json_object_is_type(val, json_type_object)) {
		bw_verrs_add(v, "dict_type", key, "Input should be a valid dictionary");
		return;
	}
	*out = val;
}

bool bw_body_require_object(struct bw_req *req, struct bw_verrs *v)
{
	if (!bw_verrs_init(v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return false;
	}
	if (req->json != NULL && json_object_is_type(req->json, json_type_object))
		return true;
	bw_verrs_add(v, "model_attributes_type", NULL, "Input should be a valid dictionary");
	bw_reply_invalid(req, v->list);
	return false;
}

void bw_body_int(struct json_object *body, const char *key, unsigned flags, struct bw_verrs *v,
		 long long *out, bool *present)
{
	bool is_null;
	struct json_object *val = member(body, key, flags, v, present, &is_null);
	*out = 0;
	if (val == NULL)
		return;
	if (!json_object_is_type(val, json_type_int)) {
		bw_verrs_add(v, "int_type", key, "Input should be a valid integer");
		return;
	}
	*out = json_object_get_int64(val);
}

bool bw_path_int(struct bw_req *req, const char *name, long long *out)
{
	const char *s = bw_req_param(req, name);
	size_t n = s != NULL ? strlen(s) : 0;
	if (n > 0 && n <= 18 && strspn(s, "0123456789") == n) {
		*out = strtoll(s, NULL, 10);
		return true;
	}
	struct bw_verrs v;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return false;
	}
	add_at(&v, "path", "int_parsing", name, INT_PARSING_MSG, NULL);
	bw_reply_invalid(req, v.list);
	return false;
}
