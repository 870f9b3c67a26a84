/* pbjson: a generic rendering of an unpacked protobuf-c message as JSON, driven by its
 * descriptor — proto field names as keys, maps (repeated XxxEntry {key, value}) as objects,
 * enums as their numbers, 64-bit integers as JSON integers, bytes as base64, unset message
 * fields as null, unselected oneof members left out. Used for gateway answers that are passed
 * on as they are (sandbox config, policies). Never use it on messages that carry secrets. */
#ifndef BW_PBJSON_H
#define BW_PBJSON_H

#include <json-c/json.h>
#include <protobuf-c/protobuf-c.h>

/* A new JSON object (caller puts it), or NULL when out of memory or m is NULL. */
struct json_object *bw_pbjson(const ProtobufCMessage *m);

#endif
