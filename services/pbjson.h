/* pbjson: builds a protobuf-c message from a JSON object whose keys are the proto field names
 * (the shape of the bundled preset fragments): strings, booleans, integers, enums (number or
 * value name), nested messages, repeated fields (arrays) and maps (objects). An unknown key or a
 * value of the wrong type is an error naming the field, never silently dropped. */
#ifndef BW_PBJSON_H
#define BW_PBJSON_H

#include <stddef.h>

#include <json-c/json.h>
#include <protobuf-c/protobuf-c.h>

/* Returns a new message (free it with protobuf_c_message_free_unpacked(msg, NULL)), or NULL with
 * a message in err. */
ProtobufCMessage *bw_pbjson_build(const ProtobufCMessageDescriptor *d, struct json_object *obj,
				  char *err, size_t errlen);

#endif
