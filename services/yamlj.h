/* yamlj: bounded conversion of one YAML document (libyaml) into json-c values. It exists for the
 * data files under data/ (presets, templates) and refuses whatever those files never need:
 * anchors and aliases (no alias bombs), explicit tags other than !!str, complex or duplicate
 * mapping keys, NUL in scalars, more than one document, and anything over the size, depth and
 * node caps below. Plain scalars are typed (null, true/false, integers, decimal floats); every
 * quoted or block scalar stays a string. */
#ifndef BW_YAMLJ_H
#define BW_YAMLJ_H

#include <stddef.h>

#include <json-c/json.h>

#include "lib/err.h"

#define BW_YAML_MAX_BYTES (256 * 1024)
#define BW_YAML_MAX_DEPTH 32
#define BW_YAML_MAX_NODES 50000

/* Converts buf[0..len) into *out, a new json-c value the caller releases with json_object_put
 * (a YAML null document yields *out == NULL with BW_OK). BW_ETOOBIG over a cap, BW_EINVAL for
 * anything malformed or refused; err then holds a one-line reason with the line number. */
enum bw_err bw_yaml_to_json(const char *buf, size_t len, struct json_object **out, char *err,
			    size_t errlen);

#endif
