/* body: typed access to the fields of a parsed JSON request body and to integer path and query
 * parameters. Type problems are collected as 422 entries ({type, loc:["body",field], msg}) so a
 * client sees all of them at once. */
#ifndef BW_BODY_H
#define BW_BODY_H

#include <stdbool.h>

#include <json-c/json.h>

#include "lib/arena.h"

struct bw_verrs {
	struct json_object *list; /* array, owned by the arena */
};

/* Starts an empty collection; false when out of memory. */
bool bw_verrs_init(struct bw_verrs *v, struct bw_arena *a);
/* An entry at loc ["body", field] (just ["body"] when field is NULL). */
void bw_verrs_add(struct bw_verrs *v, const char *type, const char *field, const char *msg);
/* An entry at loc ["query", name]; input (the raw value), when not NULL, is echoed as "input". */
void bw_verrs_query(struct bw_verrs *v, const char *type, const char *name, const char *msg,
		    const char *input);
static inline bool bw_verrs_any(const struct bw_verrs *v)
{
	return json_object_array_length(v->list) > 0;
}

enum bw_field { BW_OPTIONAL = 0, BW_REQUIRED = 1, BW_NULLABLE = 2 };

/* Reads a string member. *present tells whether the key was there (a JSON null counts as
 * present with *out NULL, allowed only with BW_NULLABLE). Problems go to v. */
void bw_body_string(struct json_object *body, const char *key, unsigned flags, struct bw_verrs *v,
		    const char **out, bool *present);
/* Reads an object member, same rules; *out is borrowed from body. */
void bw_body_object(struct json_object *body, const char *key, unsigned flags, struct bw_verrs *v,
		    struct json_object **out, bool *present);

struct bw_req;

/* Starts v and checks that the request body is a JSON object; false after replying 422. */
bool bw_body_require_object(struct bw_req *req, struct bw_verrs *v);

/* Reads an integer member (not a bool, not a float). Problems go to v. */
void bw_body_int(struct json_object *body, const char *key, unsigned flags, struct bw_verrs *v,
		 long long *out, bool *present);

/* The integer query parameter name in [min, max] (max < 0: no upper bound) into *out; absent
 * leaves *out as it is. A bad value adds one entry to v (int_parsing, greater_than_equal or
 * less_than_equal, with the input, as the reference's query validation) and returns false. */
bool bw_query_int(struct bw_req *req, struct bw_verrs *v, const char *name, long long min,
		  long long max, long long *out);

/* The boolean query parameter name into *out (absent: false), spelled as the reference's query
 * validation accepts it, in any case: true/false, 1/0, yes/no, on/off, t/f, y/n. Anything else
 * adds one bool_parsing entry (with the input) to v and returns false. */
bool bw_query_bool(struct bw_req *req, struct bw_verrs *v, const char *name, bool *out);

/* The integer path parameter name (digits only, at most 18); false after replying 422. */
bool bw_path_int(struct bw_req *req, const char *name, long long *out);

#endif
