/* pbjson: see pbjson.h. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/pbjson.h"

#define AT(m, off, T) ((T *)((char *)(m) + (off)))

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return sizeof(uint32_t);
	}
}

/* protobuf-c has no map flag: a map field is a repeated message "XxxEntry" {key, value}. */
static bool is_map(const ProtobufCFieldDescriptor *f)
{
	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return false;
	const ProtobufCMessageDescriptor *d = f->descriptor;
	size_t n = strlen(d->name);
	return d->n_fields == 2 && n > 5 && strcmp(d->name + n - 5, "Entry") == 0 &&
	       strcmp(d->fields[0].name, "key") == 0 && strcmp(d->fields[1].name, "value") == 0;
}

static struct json_object *from(const ProtobufCMessage *m, bool all, bw_pbjson_shown_fn *shown);

static struct json_object *scalar_json(const ProtobufCFieldDescriptor *f, const void *p,
				       bw_pbjson_shown_fn *shown)
{
	char buf[32];
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_object_new_int64(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_object_new_int64(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return json_object_new_int64(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return json_object_new_uint64(*(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		/* %.7g keeps what a float holds: 0.8f is 0.8, not 0.800000011920929. */
		snprintf(buf, sizeof(buf), "%.7g", (double)*(const float *)p);
		return json_object_new_double_s(strtod(buf, NULL), buf);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_object_new_double(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_object_new_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *v =
		    protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
		return v != NULL ? json_object_new_string(v->name)
				 : json_object_new_int64(*(const int *)p);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return json_object_new_string(s != NULL ? s : "");
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		return json_object_new_string_len((const char *)b->data, (int)b->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
		return sub != NULL ? from(sub, false, shown) : NULL;
	}
	}
	return NULL;
}

static bool is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	static const char zero[sizeof(ProtobufCBinaryData)];
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return s == NULL || s[0] == '\0';
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)p == NULL;
	default:
		return memcmp(p, zero, elem_size(f->type)) == 0;
	}
}

/* Whether a singular field carries a value worth emitting. */
static bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, bool all)
{
	const void *p = AT(m, f->offset, const char);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *AT(m, f->quantifier_offset, const uint32_t) == f->id;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		return *AT(m, f->quantifier_offset, const protobuf_c_boolean) || all;
	return all || !is_default(f, p);
}

static struct json_object *repeated_json(const ProtobufCMessage *m,
					 const ProtobufCFieldDescriptor *f, size_t n,
					 bw_pbjson_shown_fn *shown)
{
	const char *arr = *AT(m, f->offset, char *const);
	size_t sz = elem_size(f->type);
	bool map = is_map(f);
	struct json_object *out = map ? json_object_new_object() : json_object_new_array();
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const void *p = arr + i * sz;
		if (!map) {
			json_object_array_add(out, scalar_json(f, p, shown));
			continue;
		}
		const ProtobufCMessage *e = *(ProtobufCMessage *const *)p;
		const ProtobufCMessageDescriptor *d = f->descriptor;
		const char *key = *AT(e, d->fields[0].offset, char *const);
		json_object_object_add(
		    out, key != NULL ? key : "",
		    scalar_json(&d->fields[1], AT(e, d->fields[1].offset, char), shown));
	}
	return out;
}

/* all: every field of m, also at its default (oneof members only when set). */
static struct json_object *from(const ProtobufCMessage *m, bool all, bw_pbjson_shown_fn *shown)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &m->descriptor->fields[i];
		bool always = all || (shown != NULL &&
				      (f->label == PROTOBUF_C_LABEL_REPEATED ||
				       f->type != PROTOBUF_C_TYPE_MESSAGE) &&
				      shown(m->descriptor, f));
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *AT(m, f->quantifier_offset, const size_t);
			if (n > 0 || always)
				json_object_object_add(o, f->name, repeated_json(m, f, n, shown));
			continue;
		}
		if (!present(m, f, always && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)))
			continue;
		json_object_object_add(o, f->name, scalar_json(f, AT(m, f->offset, char), shown));
	}
	return o;
}

struct json_object *bw_pbjson_from(const ProtobufCMessage *m, unsigned flags)
{
	return from(m, (flags & BW_PBJSON_ALL_FIELDS) != 0, NULL);
}

struct json_object *bw_pbjson_from_shown(const ProtobufCMessage *m, bw_pbjson_shown_fn *shown)
{
	return from(m, false, shown);
}

/* ---- JSON -> message ------------------------------------------------------------------- */

struct build {
	struct bw_arena *a;
	const char *err;
};

static bool fail(struct build *b, const char *field, const char *what)
{
	b->err = bw_arena_printf(b->a, "%s: %s", field, what);
	if (b->err == NULL)
		b->err = "out of memory";
	return false;
}

static bool int_in(struct json_object *v, int64_t lo, int64_t hi, int64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return *out >= lo && *out <= hi;
}

static bool put_scalar(struct build *b, const ProtobufCFieldDescriptor *f, struct json_object *v,
		       void *p);

static bool put_message(struct build *b, const ProtobufCMessageDescriptor *d,
			struct json_object *obj, const char *field, ProtobufCMessage **out)
{
	if (!json_object_is_type(obj, json_type_object))
		return fail(b, field, "must be an object");
	ProtobufCMessage *m = bw_arena_zalloc(b->a, d->sizeof_message);
	if (m == NULL)
		return fail(b, field, "out of memory");
	d->message_init(m);
	json_object_object_foreach(obj, key, val)
	{
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field_by_name(d, key);
		if (f == NULL)
			return fail(b, key, "unknown field");
		if (val == NULL)
			continue; /* null = not set */
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			if (!put_scalar(b, f, val, AT(m, f->offset, char)))
				return false;
			if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
				*AT(m, f->quantifier_offset, uint32_t) = f->id;
			else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
				 f->type != PROTOBUF_C_TYPE_STRING &&
				 f->type != PROTOBUF_C_TYPE_MESSAGE)
				*AT(m, f->quantifier_offset, protobuf_c_boolean) = 1;
			continue;
		}
		bool map = is_map(f);
		if (map ? !json_object_is_type(val, json_type_object)
			: !json_object_is_type(val, json_type_array))
			return fail(b, key, map ? "must be an object" : "must be an array");
		size_t n =
		    map ? (size_t)json_object_object_length(val) : json_object_array_length(val);
		char *arr = n > 0 ? bw_arena_zalloc(b->a, n * elem_size(f->type)) : NULL;
		if (n > 0 && arr == NULL)
			return fail(b, key, "out of memory");
		size_t i = 0;
		if (map) {
			const ProtobufCMessageDescriptor *ed = f->descriptor;
			json_object_object_foreach(val, mk, mv)
			{
				ProtobufCMessage *e = bw_arena_zalloc(b->a, ed->sizeof_message);
				char *ks = bw_arena_strdup(b->a, mk);
				if (e == NULL || ks == NULL)
					return fail(b, key, "out of memory");
				ed->message_init(e);
				*AT(e, ed->fields[0].offset, char *) = ks;
				if (mv != NULL && !put_scalar(b, &ed->fields[1], mv,
							      AT(e, ed->fields[1].offset, char)))
					return false;
				((ProtobufCMessage **)(void *)arr)[i++] = e;
			}
		} else {
			for (; i < n; i++) {
				struct json_object *item = json_object_array_get_idx(val, i);
				if (item == NULL)
					return fail(b, key, "null items are not allowed");
				if (!put_scalar(b, f, item, arr + i * elem_size(f->type)))
					return false;
			}
		}
		*AT(m, f->quantifier_offset, size_t) = n;
		*AT(m, f->offset, char *) = arr;
	}
	*out = m;
	return true;
}

static bool put_scalar(struct build *b, const ProtobufCFieldDescriptor *f, struct json_object *v,
		       void *p)
{
	int64_t i = 0;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (!int_in(v, INT32_MIN, INT32_MAX, &i))
			return fail(b, f->name, "must be a 32-bit integer");
		*(int32_t *)p = (int32_t)i;
		return true;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (!int_in(v, 0, UINT32_MAX, &i))
			return fail(b, f->name, "must be an integer in 0..4294967295");
		*(uint32_t *)p = (uint32_t)i;
		return true;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (!int_in(v, INT64_MIN, INT64_MAX, &i))
			return fail(b, f->name, "must be an integer");
		*(int64_t *)p = i;
		return true;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (!int_in(v, 0, INT64_MAX, &i))
			return fail(b, f->name, "must be a non-negative integer");
		*(uint64_t *)p = (uint64_t)i;
		return true;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		if (!json_object_is_type(v, json_type_double) &&
		    !json_object_is_type(v, json_type_int))
			return fail(b, f->name, "must be a number");
		if (f->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)p = (float)json_object_get_double(v);
		else
			*(double *)p = json_object_get_double(v);
		return true;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return fail(b, f->name, "must be a boolean");
		*(protobuf_c_boolean *)p = json_object_get_boolean(v);
		return true;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev = NULL;
		if (json_object_is_type(v, json_type_string))
			ev = protobuf_c_enum_descriptor_get_value_by_name(
			    f->descriptor, json_object_get_string(v));
		else if (int_in(v, INT32_MIN, INT32_MAX, &i))
			ev = protobuf_c_enum_descriptor_get_value(f->descriptor, (int)i);
		if (ev == NULL)
			return fail(b, f->name, "unknown enum value");
		*(int *)p = ev->value;
		return true;
	}
	case PROTOBUF_C_TYPE_STRING: {
		if (!json_object_is_type(v, json_type_string))
			return fail(b, f->name, "must be a string");
		char *s = bw_arena_strdup(b->a, json_object_get_string(v));
		if (s == NULL)
			return fail(b, f->name, "out of memory");
		*(char **)p = s;
		return true;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return fail(b, f->name, "bytes fields are not accepted");
	case PROTOBUF_C_TYPE_MESSAGE:
		return put_message(b, f->descriptor, v, f->name, (ProtobufCMessage **)p);
	}
	return fail(b, f->name, "unsupported type");
}

ProtobufCMessage *bw_pbjson_to(const ProtobufCMessageDescriptor *desc, struct json_object *obj,
			       struct bw_arena *a, const char **err)
{
	struct build b = {a, NULL};
	ProtobufCMessage *m = NULL;
	if (!put_message(&b, desc, obj, "body", &m)) {
		*err = b.err;
		return NULL;
	}
	return m;
}
