/* body: typed access to the fields of a parsed JSON request body. Type problems are collected
 * as 422 entries ({type, loc:["body",field], msg}) so a client sees all of them at once. */
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
void bw_verrs_add(struct bw_verrs *v, const char *type, const char *field, const char *msg);
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

#endif
