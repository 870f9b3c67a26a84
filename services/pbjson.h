/* pbjson: protobuf-c messages to and from JSON by reflection over their descriptors, with the
 * proto field names as keys (what the REST API passes through for draft chunks and rules).
 * Maps (repeated *Entry messages with key/value) become JSON objects. Building a message from
 * JSON is strict: unknown keys, wrong types and out-of-range numbers are refused with a
 * message naming the field, so hostile input never reaches a gateway. */
#ifndef BW_PBJSON_H
#define BW_PBJSON_H

#include <stdbool.h>

#include <json-c/json.h>
#include <protobuf-c/protobuf-c.h>

#include "lib/arena.h"

/* Emit every field of the top-level message, also those at their default value (nested
 * messages always omit defaults, as the reference's dicts do). */
#define BW_PBJSON_ALL_FIELDS 1u

/* A new JSON object for m (caller owns it, json_object_put); NULL when out of memory. */
struct json_object *bw_pbjson_from(const ProtobufCMessage *m, unsigned flags);

/* Whether field f of messages of type d is emitted even at its default (an unset message stays
 * out: only scalar and repeated fields are forced). */
typedef bool bw_pbjson_shown_fn(const ProtobufCMessageDescriptor *d,
				const ProtobufCFieldDescriptor *f);

/* bw_pbjson_from(m, 0) with the fields shown() names emitted at their default too, at every
 * depth (the policy shape: services/polcore). Caller owns the result; NULL when out of memory. */
struct json_object *bw_pbjson_from_shown(const ProtobufCMessage *m, bw_pbjson_shown_fn *shown);

/* Builds a message of type desc from the JSON object obj, all in arena memory: pack it, never
 * free it with protobuf_c_message_free_unpacked. NULL on failure with *err set to the reason
 * (arena or static text). */
ProtobufCMessage *bw_pbjson_to(const ProtobufCMessageDescriptor *desc, struct json_object *obj,
			       struct bw_arena *a, const char **err);

#endif
