/* pbjson: see pbjson.h. Everything is allocated with malloc so protobuf-c's own
 * free_unpacked (default allocator) releases it. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/pbjson.h"

static int fill(const ProtobufCMessageDescriptor *d, ProtobufCMessage *m, struct json_object *o,
		char *err, size_t errlen);

static ProtobufCMessage *new_message(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = malloc(d->sizeof_message);
	if (m != NULL)
		d->message_init(m);
	return m;
}

static int scalar_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

/* Stores one JSON value v of field f at p (the field's storage or an array slot). */
static int put_value(const ProtobufCFieldDescriptor *f, void *p, struct json_object *v, char *err,
		     size_t errlen)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		if (!json_object_is_type(v, json_type_string))
			goto bad;
		char *s = strdup(json_object_get_string(v));
		if (s == NULL)
			goto oom;
		*(char **)p = s;
		return 0;
	}
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			goto bad;
		*(protobuf_c_boolean *)p = json_object_get_boolean(v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		if (json_object_is_type(v, json_type_int)) {
			*(int32_t *)p = (int32_t)json_object_get_int(v);
			return 0;
		}
		const ProtobufCEnumValue *ev = json_object_is_type(v, json_type_string)
						   ? protobuf_c_enum_descriptor_get_value_by_name(
							 ed, json_object_get_string(v))
						   : NULL;
		if (ev == NULL)
			goto bad;
		*(int32_t *)p = ev->value;
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		if (!json_object_is_type(v, json_type_object))
			goto bad;
		ProtobufCMessage *sub = new_message(f->descriptor);
		if (sub == NULL)
			goto oom;
		*(ProtobufCMessage **)p = sub;
		return fill(f->descriptor, sub, v, err, errlen);
	}
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64: {
		if (!json_object_is_type(v, json_type_int))
			goto bad;
		int64_t n = json_object_get_int64(v);
		int unsig = f->type == PROTOBUF_C_TYPE_UINT32 || f->type == PROTOBUF_C_TYPE_UINT64;
		if (unsig && n < 0)
			goto bad;
		if (f->type == PROTOBUF_C_TYPE_INT32 || f->type == PROTOBUF_C_TYPE_UINT32) {
			if (n > (unsig ? (int64_t)UINT32_MAX : INT32_MAX) || n < INT32_MIN)
				goto bad;
			*(int32_t *)p = (int32_t)n;
		} else {
			*(int64_t *)p = n;
		}
		return 0;
	}
	default:
		snprintf(err, errlen, "field '%s' has an unsupported type", f->name);
		return -1;
	}
bad:
	snprintf(err, errlen, "field '%s' has a value of the wrong type", f->name);
	return -1;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* A JSON object for a map field becomes an array of {key, value} objects. */
static struct json_object *map_entries(struct json_object *v)
{
	struct json_object *arr = json_object_new_array();
	if (arr == NULL)
		return NULL;
	json_object_object_foreach(v, k, val)
	{
		struct json_object *e = json_object_new_object();
		if (e == NULL)
			break;
		json_object_object_add(e, "key", json_object_new_string(k));
		json_object_object_add(e, "value", json_object_get(val));
		json_object_array_add(arr, e);
	}
	return arr;
}

static int is_map(const ProtobufCFieldDescriptor *f)
{
	if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED)
		return 0;
	const ProtobufCMessageDescriptor *d = f->descriptor;
	size_t n = strlen(d->name);
	return n > 5 && strcmp(d->name + n - 5, "Entry") == 0 && d->n_fields == 2;
}

static int put_repeated(const ProtobufCFieldDescriptor *f, ProtobufCMessage *m,
			struct json_object *v, char *err, size_t errlen)
{
	struct json_object *arr = v, *owned = NULL;
	if (is_map(f) && json_object_is_type(v, json_type_object))
		arr = owned = map_entries(v);
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "field '%s' must be a list", f->name);
		json_object_put(owned);
		return -1;
	}
	size_t n = json_object_array_length(arr), sz = (size_t)scalar_size(f->type);
	void *slots = n > 0 ? calloc(n, sz) : NULL;
	if (n > 0 && slots == NULL) {
		json_object_put(owned);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*(void **)((char *)m + f->offset) = slots;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = put_value(f, (char *)slots + i * sz, json_object_array_get_idx(arr, i), err,
			       errlen);
		/* Count what was stored so free_unpacked releases it even after a failure. */
		*(size_t *)((char *)m + f->quantifier_offset) = i + 1;
	}
	json_object_put(owned);
	return rc;
}

static int fill(const ProtobufCMessageDescriptor *d, ProtobufCMessage *m, struct json_object *o,
		char *err, size_t errlen)
{
	json_object_object_foreach(o, key, v)
	{
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field_by_name(d, key);
		if (f == NULL) {
			snprintf(err, errlen, "unknown field '%s' in %s", key, d->short_name);
			return -1;
		}
		if (v == NULL)
			continue;
		int rc;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			rc = put_repeated(f, m, v, err, errlen);
		} else {
			rc = put_value(f, (char *)m + f->offset, v, err, errlen);
			if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0)
				*(uint32_t *)((char *)m + f->quantifier_offset) = f->id;
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

ProtobufCMessage *bw_pbjson_build(const ProtobufCMessageDescriptor *d, struct json_object *obj,
				  char *err, size_t errlen)
{
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "%s must be an object", d->short_name);
		return NULL;
	}
	ProtobufCMessage *m = new_message(d);
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (fill(d, m, obj, err, errlen) != 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		return NULL;
	}
	return m;
}
