/* ocsf: see ocsf.h. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "services/ocsf.h"

static const char *const classes[] = {"NET",    "HTTP",      "SSH",   "PROC", "FINDING",
				      "CONFIG", "LIFECYCLE", "EVENT", NULL};
static const char *const severities[] = {"INFO", "LOW", "MED", "HIGH", "CRIT", "FATAL", NULL};
static const char *const dispositions[] = {"ALLOWED", "DENIED", "BLOCKED", NULL};

static bool in(const char *const *set, const char *s, size_t n, bool nocase)
{
	for (size_t i = 0; set[i] != NULL; i++)
		if (strlen(set[i]) == n &&
		    (nocase ? strncasecmp(set[i], s, n) == 0 : strncmp(set[i], s, n) == 0))
			return true;
	return false;
}

bool bw_ocsf_known_class(const char *s)
{
	return in(classes, s, strlen(s), false);
}

bool bw_ocsf_known_severity(const char *s)
{
	return in(severities, s, strlen(s), false);
}

bool bw_ocsf_known_disposition(const char *s)
{
	return in(dispositions, s, strlen(s), false);
}

bool bw_ocsf_is(const char *level, const char *target)
{
	return (level != NULL && strcasecmp(level, "ocsf") == 0) ||
	       (target != NULL && strcasecmp(target, "ocsf") == 0);
}

static struct json_object *str_n(const char *s, size_t n)
{
	return json_object_new_string_len(s, (int)n);
}

/* Trims [*b, *e) of white space. */
static void trim(const char **b, const char **e)
{
	while (*b < *e && isspace((unsigned char)**b))
		(*b)++;
	while (*e > *b && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* A trailing "[k:v k:v]" of [b, *e): its tokens with a colon into fields, then *e moves before
 * it. */
static void trailing_fields(const char *b, const char **e, struct json_object *fields)
{
	if (*e <= b || (*e)[-1] != ']')
		return;
	const char *open = *e - 1;
	while (open > b && *open != '[')
		open--;
	if (*open != '[')
		return;
	const char *p = open + 1, *end = *e - 1;
	while (p < end) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		const char *tok = p;
		while (p < end && !isspace((unsigned char)*p))
			p++;
		const char *colon = memchr(tok, ':', (size_t)(p - tok));
		if (colon != NULL && colon > tok) {
			char key[128];
			size_t kn = (size_t)(colon - tok) < sizeof(key) - 1 ? (size_t)(colon - tok)
									    : sizeof(key) - 1;
			memcpy(key, tok, kn);
			key[kn] = '\0';
			json_object_object_add(fields, key,
					       str_n(colon + 1, (size_t)(p - colon - 1)));
		}
	}
	*e = open;
	trim(&b, e);
}

/* The first "/abs/path(<digits>)" of [b, e): its path; else NULL. */
static struct json_object *binary_in(const char *b, const char *e)
{
	for (const char *p = b; p < e; p++) {
		if (*p != '/' || (p > b && !isspace((unsigned char)p[-1])))
			continue;
		const char *q = p;
		while (q < e && *q != '(' && !isspace((unsigned char)*q))
			q++;
		if (q >= e || *q != '(')
			continue;
		const char *d = q + 1;
		while (d < e && isdigit((unsigned char)*d))
			d++;
		if (d > q + 1 && d < e && *d == ')')
			return str_n(p, (size_t)(q - p));
	}
	return NULL;
}

struct json_object *bw_ocsf_parse(const char *message)
{
	struct json_object *o = json_object_new_object(), *fields = json_object_new_object();
	if (o == NULL || fields == NULL) {
		json_object_put(o);
		json_object_put(fields);
		return NULL;
	}
	const char *b = message != NULL ? message : "", *e = b + strlen(b);
	trim(&b, &e);
	const char *p = b;
	while (p < e && *p >= 'A' && *p <= 'Z')
		p++;
	const char *prefix = b, *suffix = NULL;
	size_t plen = (size_t)(p - b), slen = 0;
	if (plen > 0 && p < e && *p == ':') {
		suffix = ++p;
		while (p < e && ((*p >= 'A' && *p <= 'Z') || *p == '_'))
			p++;
		slen = (size_t)(p - suffix);
	}
	bool head =
	    plen > 0 && (suffix == NULL || slen > 0) && (p == e || isspace((unsigned char)*p));
	struct json_object *cls = NULL, *activity = NULL, *severity = NULL, *disposition = NULL;
	if (head) {
		if (in(classes, prefix, plen, false))
			cls = str_n(prefix, plen);
		b = p;
		trim(&b, &e);
		if (b < e && *b == '[') {
			const char *close = memchr(b, ']', (size_t)(e - b));
			if (close != NULL) {
				if (in(severities, b + 1, (size_t)(close - b - 1), false))
					severity = str_n(b + 1, (size_t)(close - b - 1));
				b = close + 1;
				trim(&b, &e);
			}
		}
		trailing_fields(b, &e, fields);
		bool finding = plen == 7 && strncmp(prefix, "FINDING", 7) == 0;
		bool event = plen == 5 && strncmp(prefix, "EVENT", 5) == 0;
		if (finding && suffix != NULL && in(dispositions, suffix, slen, false)) {
			disposition = str_n(suffix, slen);
		} else if (!event) {
			if (suffix != NULL)
				activity = str_n(suffix, slen);
			const char *w = b;
			while (w < e && !isspace((unsigned char)*w))
				w++;
			if (w > b && in(dispositions, b, (size_t)(w - b), true)) {
				char up[8] = {0};
				for (size_t i = 0; i < (size_t)(w - b) && i < 7; i++)
					up[i] = (char)toupper((unsigned char)b[i]);
				disposition = json_object_new_string(up);
				b = w;
				trim(&b, &e);
			}
		}
	}
	struct json_object *binary = head ? binary_in(b, e) : NULL;
	struct json_object *bf = NULL;
	if (binary == NULL && json_object_object_get_ex(fields, "binary", &bf) &&
	    json_object_get_string(bf)[0] == '/')
		binary = json_object_get(bf);
	json_object_object_add(o, "class_prefix", cls);
	json_object_object_add(o, "activity", activity);
	json_object_object_add(o, "severity", severity);
	json_object_object_add(o, "disposition", disposition);
	json_object_object_add(o, "summary", str_n(b, (size_t)(e - b)));
	json_object_object_add(o, "bracket_fields", fields);
	json_object_object_add(o, "binary", binary);
	return o;
}
