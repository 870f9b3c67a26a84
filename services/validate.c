/* validate: see validate.h. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/utf8.h"
#include "services/netaddr.h"
#include "services/validate.h"

static bool name_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '-';
}

/* [a-zA-Z0-9][a-zA-Z0-9._-]{0,max-1}, ASCII only (isalnum in the C locale). */
static bool token(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!name_char((unsigned char)s[i]))
			return false;
	return true;
}

bool bw_valid_gateway_name(const char *s)
{
	return token(s, BW_MAX_NAME);
}

const char *bw_check_endpoint(const char *in, bool local_mode, struct bw_arena *a, char **norm)
{
	while (isspace((unsigned char)*in))
		in++;
	size_t n = strlen(in);
	while (n > 0 && isspace((unsigned char)in[n - 1]))
		n--;
	if (n == 0)
		return "endpoint must not be empty";
	char *ep = bw_arena_strndup(a, in, n);
	if (ep == NULL)
		return "out of memory";
	char *colon = strchr(ep, ':');
	size_t hostlen = colon != NULL ? (size_t)(colon - ep) : 0;
	size_t portlen = colon != NULL ? strlen(colon + 1) : 0;
	bool ok = colon != NULL && hostlen > 0 && portlen >= 1 && portlen <= 5;
	for (size_t i = 0; ok && i < hostlen; i++)
		ok = name_char((unsigned char)ep[i]);
	for (size_t i = 0; ok && i < portlen; i++)
		ok = isdigit((unsigned char)colon[1 + i]) != 0;
	if (!ok)
		return "endpoint must be in host:port format (e.g. '10.0.0.5:8443')";
	long port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		return "endpoint port must be between 1 and 65535";
	char *host = bw_arena_strndup(a, ep, hostlen);
	if (host == NULL)
		return "out of memory";
	static const char cluster[] = ".svc.cluster.local";
	size_t cl = sizeof(cluster) - 1;
	bool in_cluster = hostlen > cl && strcasecmp(host + hostlen - cl, cluster) == 0;
	if (!in_cluster && !local_mode && bw_host_is_private(host))
		return "endpoint must not point to a private/loopback address; use a routable IP "
		       "or "
		       "hostname";
	*norm = ep;
	return NULL;
}

const char *bw_check_labels(struct json_object *labels, struct bw_arena *a, bool *type_error)
{
	*type_error = false;
	if (!json_object_is_type(labels, json_type_object)) {
		*type_error = true;
		return "labels must be an object";
	}
	if (json_object_object_length(labels) > BW_MAX_LABELS)
		return bw_arena_printf(a, "Too many labels (max %d)", BW_MAX_LABELS);
	json_object_object_foreach(labels, k, v)
	{
		if (!json_object_is_type(v, json_type_string)) {
			*type_error = true;
			return bw_arena_printf(a, "Label value for '%s' must be a string", k);
		}
		if (!token(k, BW_MAX_LABEL_KEY))
			return bw_arena_printf(a,
					       "Invalid label key '%s': must match "
					       "[a-zA-Z0-9][a-zA-Z0-9._-]* (max %d chars)",
					       k, BW_MAX_LABEL_KEY);
		const char *s = json_object_get_string(v);
		if (bw_utf8_count(s, (size_t)json_object_get_string_len(v)) > BW_MAX_LABEL_VALUE)
			return bw_arena_printf(a,
					       "Label value for '%s' exceeds maximum length of %d",
					       k, BW_MAX_LABEL_VALUE);
	}
	return NULL;
}

const char *bw_check_description(const char *s, size_t len)
{
	if (bw_utf8_count(s, len) > BW_MAX_DESCRIPTION)
		return "description exceeds maximum length of 1000";
	return NULL;
}

bool bw_parse_label_filter(const char *item, struct bw_arena *a, char **key, char **value)
{
	const char *colon = strchr(item, ':');
	if (colon == NULL || colon == item)
		return false;
	*key = bw_arena_strndup(a, item, (size_t)(colon - item));
	*value = bw_arena_strdup(a, colon + 1);
	return *key != NULL && *value != NULL;
}

bool bw_valid_runtime(const char *s, const char **lower)
{
	static const char *const known[] = {"docker", "kubernetes", "libkrun"};
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, known[i]) == 0) {
			*lower = known[i];
			return true;
		}
	}
	return false;
}
