/* validate: the input rules of the gateway registry (names, endpoints, labels, descriptions,
 * metadata, label filters, runtimes). Pure functions: no I/O except the endpoint's private-
 * address test, which may resolve a name. Messages are the API's 'detail' texts. */
#ifndef BW_VALIDATE_H
#define BW_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "lib/arena.h"

#define BW_MAX_NAME 253
#define BW_MAX_LABELS 20
#define BW_MAX_LABEL_KEY 63
#define BW_MAX_LABEL_VALUE 253
#define BW_MAX_DESCRIPTION 1000
#define BW_MAX_CERT_BYTES 65536
#define BW_MAX_METADATA_BYTES 16384

/* ^[a-zA-Z0-9][a-zA-Z0-9._-]{0,252}$ — also safe as a path segment and in logs. */
bool bw_valid_gateway_name(const char *s);

/* Checks an endpoint "host:port". On success returns NULL and *norm is the trimmed endpoint
 * (arena); otherwise returns the message. Private hosts are refused unless local_mode. */
const char *bw_check_endpoint(const char *in, bool local_mode, struct bw_arena *a, char **norm);

/* Checks a labels object: count, then per entry key and value. Returns NULL when valid, else
 * the message (arena). *type_error is set when a value is not a string (a 422, not a 400). */
const char *bw_check_labels(struct json_object *labels, struct bw_arena *a, bool *type_error);

/* Description length in code points; NULL when valid. */
const char *bw_check_description(const char *s, size_t len);

/* Splits a "key:value" filter at the first colon. False for a missing or leading colon. */
bool bw_parse_label_filter(const char *item, struct bw_arena *a, char **key, char **value);

/* Known runtimes, case-insensitive: docker, kubernetes, libkrun. *lower gets the canonical form. */
bool bw_valid_runtime(const char *s, const char **lower);

#endif
