/* body: see body.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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

void bw_verrs_add(struct bw_verrs *v, const char *type, const char *field, const char *msg)
{
	struct json_object *e = json_object_new_object();
	struct json_object *loc = json_object_new_array();
	if (e == NULL || loc == NULL) {
		json_object_put(e);
		json_object_put(loc);
		return;
	}
	json_object_array_add(loc, json_object_new_string("body"));
	if (field != NULL)
		json_object_array_add(loc, json_object_new_string(field));
	json_object_object_add(e, "type", json_object_new_string(type));
	json_object_object_add(e, "loc", loc);
	json_object_object_add(e, "msg", json_object_new_string(msg));
	json_object_array_add(v->list, e);
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
	struct json_object *errors = json_object_new_array();
	struct json_object *e = json_object_new_object();
	struct json_object *loc = json_object_new_array();
	json_object_array_add(loc, json_object_new_string("path"));
	json_object_array_add(loc, json_object_new_string(name));
	json_object_object_add(e, "type", json_object_new_string("int_parsing"));
	json_object_object_add(e, "loc", loc);
	json_object_object_add(e, "msg",
			       json_object_new_string("Input should be a valid integer, unable to "
						      "parse string as an integer"));
	json_object_array_add(errors, e);
	bw_reply_invalid(req, errors);
	json_object_put(errors);
	return false;
}
