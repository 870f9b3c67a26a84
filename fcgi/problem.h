/* problem: builds the one error envelope (RFC 9457 problem+json plus 'code' and 'request_id')
 * that every error response uses. Pure: request.c sends what this builds. */
#ifndef BW_PROBLEM_H
#define BW_PROBLEM_H

#include <json-c/json.h>

#include "lib/err.h"

/* The default machine code of an HTTP status (400 -> "VALIDATION_ERROR", ...). */
const char *bw_problem_code(int status);

/* Builds {"type","title","status","detail","code","request_id"}; title is the code humanised
 * ("NOT_FOUND" -> "Not Found"). code NULL means the status default; request_id may be NULL.
 * Returns a new reference (caller puts) or NULL when out of memory. */
struct json_object *bw_problem_new(int status, const char *code, const char *detail,
				   const char *request_id);

/* The HTTP status for a service-layer error (BW_ENOTFOUND -> 404, BW_EDBLOST -> 503, ...). */
int bw_problem_status_for(enum bw_err err);

#endif
