/* ocsf: the shorthand of OCSF log lines (services §3.12) — "PREFIX[:SUFFIX] [SEVERITY]
 * [DISPOSITION] summary [k:v k:v]" — parsed into {class_prefix, activity, severity,
 * disposition, summary, bracket_fields, binary}. Pure functions, no state. */
#ifndef BW_OCSF_H
#define BW_OCSF_H

#include <stdbool.h>

#include <json-c/json.h>

/* Whether a log line is OCSF: level "OCSF" or target "ocsf" (any case). */
bool bw_ocsf_is(const char *level, const char *target);

/* The parse of message as a new JSON object (NULL when out of memory); absent parts are null,
 * bracket_fields is {} when there are none. */
struct json_object *bw_ocsf_parse(const char *message);

/* Known values, for filters: classes NET HTTP SSH PROC FINDING CONFIG LIFECYCLE EVENT;
 * severities INFO LOW MED HIGH CRIT FATAL; dispositions ALLOWED DENIED BLOCKED. */
bool bw_ocsf_known_class(const char *s);
bool bw_ocsf_known_severity(const char *s);
bool bw_ocsf_known_disposition(const char *s);

#endif
