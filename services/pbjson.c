/* pbjson: see pbjson.h. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "services/pbjson.h"

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static struct json_object *bytes_json(const ProtobufCBinaryData *b)
{
	size_t n = 4 * ((b->len + 2) / 3);
	char *s = malloc(n + 1);
	if (s == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < b->len; i += 3) {
		unsigned v = (unsigned)b->data[i] << 16;
		if (i + 1 < b->len)
			v |= (unsigned)b->data[i + 1] << 8;
		if (i + 2 < b->len)
			v |= b->data[i + 2];
		s[o++] = b64chars[(v >> 18) & 63];
		s[o++] = b64chars[(v >> 12) & 63];
		s[o++] = i + 1 < b->len ? b64chars[(v >> 6) & 63] : '=';
		s[o++] = i + 2 < b->len ? b64chars[v & 63] : '=';
	}
	s[o] = '\0';
	struct json_object *j = json_object_new_string_len(s, (int)o);
	free(s);
	return j;
}

/* One value of field f stored at p. */
static struct json_object *value_json(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return json_object_new_int(*(const int32_t *)p);
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
		return json_object_new_double(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_object_new_double(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_object_new_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return json_object_new_string(s != NULL ? s : "");
	}
	case PROTOBUF_C_TYPE_BYTES:
		return bytes_json((const ProtobufCBinaryData *)p);
	case PROTOBUF_C_TYPE_MESSAGE:
		return bw_pbjson(*(ProtobufCMessage *const *)p);
	}
	return NULL;
}

static bool is_map_entry(const ProtobufCFieldDescriptor *f)
{
	if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED)
		return false;
	const ProtobufCMessageDescriptor *d = f->descriptor;
	size_t n = strlen(d->short_name);
	return d->n_fields == 2 && n > 5 && strcmp(d->short_name + n - 5, "Entry") == 0 &&
	       strcmp(d->fields[0].name, "key") == 0 && strcmp(d->fields[1].name, "value") == 0;
}

static struct json_object *map_json(const ProtobufCFieldDescriptor *f, size_t n,
				    ProtobufCMessage *const *entries)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const ProtobufCMessageDescriptor *d = f->descriptor;
		const char *base = (const char *)entries[i];
		struct json_object *k = value_json(&d->fields[0], base + d->fields[0].offset);
		struct json_object *v = value_json(&d->fields[1], base + d->fields[1].offset);
		const char *key = k != NULL ? json_object_get_string(k) : "";
		json_object_object_add(o, key, v);
		json_object_put(k);
	}
	return o;
}

static struct json_object *repeated_json(const ProtobufCFieldDescriptor *f, const char *base)
{
	size_t n = *(const size_t *)(base + f->quantifier_offset);
	const char *arr = *(char *const *)(base + f->offset);
	if (is_map_entry(f))
		return map_json(f, n, (ProtobufCMessage *const *)arr);
	static const size_t sizes[] = {[PROTOBUF_C_TYPE_INT32] = 4,
				       [PROTOBUF_C_TYPE_SINT32] = 4,
				       [PROTOBUF_C_TYPE_SFIXED32] = 4,
				       [PROTOBUF_C_TYPE_INT64] = 8,
				       [PROTOBUF_C_TYPE_SINT64] = 8,
				       [PROTOBUF_C_TYPE_SFIXED64] = 8,
				       [PROTOBUF_C_TYPE_UINT32] = 4,
				       [PROTOBUF_C_TYPE_FIXED32] = 4,
				       [PROTOBUF_C_TYPE_UINT64] = 8,
				       [PROTOBUF_C_TYPE_FIXED64] = 8,
				       [PROTOBUF_C_TYPE_FLOAT] = 4,
				       [PROTOBUF_C_TYPE_DOUBLE] = 8,
				       [PROTOBUF_C_TYPE_BOOL] = sizeof(protobuf_c_boolean),
				       [PROTOBUF_C_TYPE_ENUM] = 4,
				       [PROTOBUF_C_TYPE_STRING] = sizeof(char *),
				       [PROTOBUF_C_TYPE_BYTES] = sizeof(ProtobufCBinaryData),
				       [PROTOBUF_C_TYPE_MESSAGE] = sizeof(ProtobufCMessage *)};
	struct json_object *a = json_object_new_array();
	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, value_json(f, arr + i * sizes[f->type]));
	return a;
}

struct json_object *bw_pbjson(const ProtobufCMessage *m)
{
	if (m == NULL)
		return NULL;
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		struct json_object *v;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			v = repeated_json(f, base);
		} else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
			v = value_json(f, base + f->offset);
		} else {
			v = value_json(f, base + f->offset);
		}
		json_object_object_add(o, f->name, v);
	}
	return o;
}
