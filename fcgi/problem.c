/* problem: see problem.h. */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "fcgi/problem.h"

const char *bw_problem_code(int status)
{
	switch (status) {
	case 400:
	case 422:
		return "VALIDATION_ERROR";
	case 401:
		return "AUTHENTICATION_REQUIRED";
	case 403:
		return "PERMISSION_DENIED";
	case 404:
		return "NOT_FOUND";
	case 405:
		return "METHOD_NOT_ALLOWED";
	case 409:
		return "CONFLICT";
	case 413:
		return "PAYLOAD_TOO_LARGE";
	case 415:
		return "UNSUPPORTED_MEDIA_TYPE";
	case 423:
		return "LOCKED";
	case 429:
		return "RATE_LIMITED";
	case 503:
		return "SERVICE_UNAVAILABLE";
	case 504:
		return "TIMEOUT";
	default:
		return "INTERNAL_ERROR";
	}
}

struct json_object *bw_problem_new(int status, const char *code, const char *detail,
				   const char *request_id)
{
	char title[64];
	size_t t = 0;
	bool word_start = true;
	if (code == NULL)
		code = bw_problem_code(status);
	for (const char *c = code; *c != '\0' && t < sizeof(title) - 1; c++) {
		if (*c == '_') {
			title[t++] = ' ';
			word_start = true;
		} else {
			title[t++] = word_start ? (char)toupper((unsigned char)*c)
						: (char)tolower((unsigned char)*c);
			word_start = false;
		}
	}
	title[t] = '\0';
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "type", json_object_new_string("about:blank"));
	json_object_object_add(o, "title", json_object_new_string(title));
	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "detail", json_object_new_string(detail != NULL ? detail : ""));
	json_object_object_add(o, "code", json_object_new_string(code));
	if (request_id != NULL)
		json_object_object_add(o, "request_id", json_object_new_string(request_id));
	return o;
}

int bw_problem_status_for(enum bw_err err)
{
	switch (err) {
	case BW_EINVAL:
		return 400;
	case BW_ENOTFOUND:
		return 404;
	case BW_ECONFLICT:
		return 409;
	case BW_ETOOBIG:
		return 413;
	case BW_EDBLOST:
	case BW_EUNAVAIL:
		return 503;
	case BW_ETIMEDOUT:
		return 504;
	default:
		return 500;
	}
}
