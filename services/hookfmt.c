/* hookfmt: see hookfmt.h. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/jsonu.h"
#include "services/hookfmt.h"
#include "services/netaddr.h"

#define MAX_URL 2048

static void free_curlu(void *h)
{
	curl_url_cleanup(h);
}

/* Copies a CURLU part into the arena; NULL when absent. */
static const char *url_part(struct bw_arena *a, CURLU *h, CURLUPart what, unsigned flags)
{
	char *v = NULL;
	if (curl_url_get(h, what, &v, flags) != CURLUE_OK || v == NULL)
		return NULL;
	const char *copy = bw_arena_strdup(a, v);
	curl_free(v);
	return copy;
}

static bool is_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

const char *bw_hook_url_parse(struct bw_arena *a, const char *url, struct bw_hook_url *out)
{
	static const char bad[] = "URL is not valid";
	while (isspace((unsigned char)*url))
		url++;
	size_t n = strlen(url);
	while (n > 0 && isspace((unsigned char)url[n - 1]))
		n--;
	const char *sep = strstr(url, "://");
	if (sep == NULL || (size_t)(sep - url) >= n || sep == url)
		return "URL scheme must be http or https, got ''";
	/* curl would read "http:///x" as host "x"; a URL parser (and the reference) sees none. */
	if (sep[3] == '/' || sep[3] == '?' || sep[3] == '#' || (size_t)(sep + 3 - url) >= n)
		return "URL must include a hostname";
	char *text = bw_arena_strndup(a, url, n);
	CURLU *h = curl_url();
	if (text == NULL || h == NULL || bw_arena_defer(a, free_curlu, h) != 0)
		return bad;
	CURLUcode uc = curl_url_set(h, CURLUPART_URL, text, CURLU_NON_SUPPORT_SCHEME);
	if (uc == CURLUE_NO_HOST)
		return "URL must include a hostname";
	if (uc != CURLUE_OK)
		return bad;
	const char *scheme = url_part(a, h, CURLUPART_SCHEME, 0);
	if (scheme == NULL ||
	    (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
		/* curl accepted it as a scheme, so it is short ASCII, safe to echo. */
		const char *msg =
		    bw_arena_printf(a, "URL scheme must be http or https, got '%.32s'",
				    scheme != NULL ? scheme : "");
		return msg != NULL ? msg : "URL scheme must be http or https";
	}
	if (url_part(a, h, CURLUPART_USER, 0) != NULL ||
	    url_part(a, h, CURLUPART_PASSWORD, 0) != NULL)
		return "URL must not contain credentials";
	const char *host = url_part(a, h, CURLUPART_HOST, 0);
	const char *port = url_part(a, h, CURLUPART_PORT, CURLU_DEFAULT_PORT);
	if (host == NULL || host[0] == '\0')
		return "URL must include a hostname";
	size_t hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']')
		host = bw_arena_strndup(a, host + 1, hl - 2);
	if (host == NULL || port == NULL)
		return bad;
	out->scheme = scheme;
	out->host = host;
	out->port = atoi(port);
	out->literal = is_literal(host);
	return NULL;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return false;
}

bool bw_hook_addr_allowed(const struct sockaddr *sa, bool allow_loopback)
{
	if (allow_loopback && is_loopback(sa))
		return true;
	return !bw_addr_is_private(sa);
}

/* An asynchronous lookup shared by the caller and glibc's completion callback: whichever lets
 * go last frees it, so a caller that stops waiting never leaves the resolver a dangling
 * request. */
struct lookup {
	struct gaicb cb;
	struct addrinfo hints;
	char host[256];
	atomic_int refs;
};

static void lookup_release(struct lookup *l)
{
	if (atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	if (l->cb.ar_result != NULL)
		freeaddrinfo(l->cb.ar_result);
	free(l);
}

static void lookup_done(union sigval sv)
{
	lookup_release(sv.sival_ptr);
}

/* getaddrinfo with a time budget (the reference's 2 s): a resolver that hangs must not hold a
 * request thread, nor let a delivery outlive its lease. *res is the caller's to free. */
static int resolve_within(const char *host, int ms, struct addrinfo **res)
{
	struct lookup *l = calloc(1, sizeof(*l));
	if (l == NULL || strlen(host) >= sizeof(l->host)) {
		free(l);
		return -1;
	}
	memcpy(l->host, host, strlen(host) + 1);
	l->hints.ai_family = AF_UNSPEC;
	l->hints.ai_socktype = SOCK_STREAM;
	l->cb.ar_name = l->host;
	l->cb.ar_request = &l->hints;
	atomic_init(&l->refs, 2);
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = lookup_done;
	sev.sigev_value.sival_ptr = l;
	struct gaicb *list[1] = {&l->cb};
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, &sev) != 0) {
		free(l);
		return -1;
	}
	struct timespec until, now;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left_ms =
		    (until.tv_sec - now.tv_sec) * 1000 + (until.tv_nsec - now.tv_nsec) / 1000000;
		if (gai_error(&l->cb) != EAI_INPROGRESS || left_ms <= 0)
			break;
		struct timespec wait = {left_ms / 1000, (left_ms % 1000) * 1000000L};
		gai_suspend((const struct gaicb *const *)list, 1, &wait);
	}
	int rc = gai_error(&l->cb);
	if (rc == 0) {
		*res = l->cb.ar_result;
		l->cb.ar_result = NULL;
	}
	lookup_release(l);
	return rc == 0 && *res != NULL ? 0 : -1;
}

enum bw_hook_resolve bw_hook_resolve(const char *host, bool allow_loopback, char *pin,
				     size_t pinlen)
{
	struct addrinfo *res = NULL;
	bool named_local =
	    strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.localdomain") == 0;
	if (named_local && !allow_loopback)
		return BW_HOOK_BLOCKED;
	/* "localhost" is loopback by definition; never let a resolver map it elsewhere. */
	const char *lookup = named_local ? "127.0.0.1" : host;
	if (resolve_within(lookup, BW_HOOK_DNS_MS, &res) != 0)
		return BW_HOOK_NO_DNS;
	enum bw_hook_resolve verdict = BW_HOOK_RESOLVED;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
		if (!bw_hook_addr_allowed(ai->ai_addr, allow_loopback))
			verdict = BW_HOOK_BLOCKED;
	const void *addr =
	    res->ai_family == AF_INET
		? (const void *)&((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr
		: (const void *)&((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_addr;
	if (inet_ntop(res->ai_family, addr, pin, (socklen_t)pinlen) == NULL)
		verdict = BW_HOOK_NO_DNS;
	freeaddrinfo(res);
	return verdict;
}

int bw_hook_parse_delays(const char *text, int *delays, int max)
{
	int n = 0;
	const char *p = text;
	while (*p != '\0') {
		char *end;
		errno = 0;
		while (*p == ' ')
			p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		long v = strtol(p, &end, 10);
		if (errno != 0 || v < 0 || v > 86400 || n >= max)
			return -1;
		delays[n++] = (int)v;
		while (*end == ' ')
			end++;
		if (*end == ',')
			end++;
		else if (*end != '\0')
			return -1;
		p = end;
	}
	return n;
}

int bw_hook_next_delay(const int *delays, int ndelays, int attempt)
{
	if (attempt < 1 || attempt > ndelays)
		return -1;
	return delays[attempt - 1];
}

enum bw_hook_verdict bw_hook_classify(long code)
{
	if (code >= 100 && code < 400)
		return BW_HOOK_SUCCESS;
	if (code == 408 || code == 429)
		return BW_HOOK_RETRY;
	if (code >= 400 && code < 500)
		return BW_HOOK_PERMANENT;
	return BW_HOOK_RETRY;
}

void bw_hook_sign(const char *secret, const void *body, size_t len, char out[BW_HOOK_SIG_LEN])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	static const char hex[] = "0123456789abcdef";
	HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, mac, &maclen);
	memcpy(out, "sha256=", 7);
	for (unsigned i = 0; i < maclen && i < 32; i++) {
		out[7 + 2 * i] = hex[mac[i] >> 4];
		out[8 + 2 * i] = hex[mac[i] & 15];
	}
	out[7 + 64] = '\0';
}

struct look {
	const char *event, *label, *slack;
	int discord;
};

static const struct look looks[] = {
    {"approval.pending", "Approval Pending", "warning", 0xFFA500},
    {"approval.approved", "Approval Approved", "good", 0x2ECC71},
    {"approval.rejected", "Approval Rejected", "danger", 0xE74C3C},
    {"sandbox.created", "Sandbox Created", "#2196F3", 0x2196F3},
    {"sandbox.deleted", "Sandbox Deleted", "#9E9E9E", 0x9E9E9E},
    {"gateway.registered", "Gateway Registered", "good", 0x2ECC71},
    {"gateway.unregistered", "Gateway Unregistered", "warning", 0xFFA500},
    {"inference.updated", "Inference Updated", "#2196F3", 0x2196F3},
    {"policy.updated", "Policy Updated", "#2196F3", 0x2196F3},
    {"webhook.test", "Test Event", "#6C757D", 0x6C757D},
};

static const struct look *find_look(const char *event)
{
	for (size_t i = 0; i < sizeof(looks) / sizeof(looks[0]); i++)
		if (strcmp(looks[i].event, event) == 0)
			return &looks[i];
	return NULL;
}

const char *bw_hook_label(struct bw_arena *a, const char *event)
{
	const struct look *l = find_look(event);
	if (l != NULL)
		return l->label;
	/* Dots and underscores both separate words ("policy.drift_detected" -> "Policy Drift
	 * Detected"), unlike the reference's "Policy Drift_Detected". */
	char *s = bw_arena_strdup(a, event);
	if (s == NULL)
		return NULL;
	bool start = true;
	for (char *p = s; *p != '\0'; p++) {
		if (*p == '.' || *p == '_') {
			*p = ' ';
			start = true;
		} else if (start) {
			*p = (char)toupper((unsigned char)*p);
			start = false;
		}
	}
	return s;
}

static const char *const display_keys[] = {"sandbox",  "gateway", "actor", "reason",  "message",
					   "provider", "model",   "image", "endpoint"};

/* A payload value as display text: strings as they are, anything else as compact JSON. */
static const char *display_value(struct json_object *v)
{
	if (v == NULL)
		return "null";
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	const char *s = bw_json_str(v, NULL);
	return s != NULL ? s : "";
}

/* The payload's display fields in the fixed order: title-cased key and value text. */
static size_t display_fields(struct bw_arena *a, struct json_object *data, const char **keys,
			     const char **vals)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof(display_keys) / sizeof(display_keys[0]); i++) {
		struct json_object *v = NULL;
		if (data == NULL || !json_object_object_get_ex(data, display_keys[i], &v))
			continue;
		char *k = bw_arena_strdup(a, display_keys[i]);
		if (k == NULL)
			continue;
		k[0] = (char)toupper((unsigned char)k[0]);
		keys[n] = k;
		vals[n] = display_value(v);
		n++;
	}
	return n;
}

/* Serialises o into the arena and releases it. */
static const char *finish_json(struct bw_arena *a, struct json_object *o, size_t *len)
{
	if (o == NULL)
		return NULL;
	size_t n = 0;
	const char *s = bw_json_str(o, &n);
	char *copy = s != NULL ? bw_arena_strndup(a, s, n) : NULL;
	json_object_put(o);
	if (copy != NULL)
		*len = n;
	return copy;
}

static const char *generic_body(struct bw_arena *a, const char *event, const char *ts,
				struct json_object *data, size_t *len)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "timestamp", json_object_new_string(ts));
	json_object_object_add(o, "data",
			       data != NULL ? json_object_get(data) : json_object_new_object());
	return finish_json(a, o, len);
}

static struct json_object *obj2(const char *k1, struct json_object *v1, const char *k2,
				struct json_object *v2)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL) {
		json_object_put(v1);
		json_object_put(v2);
		return NULL;
	}
	json_object_object_add(o, k1, v1);
	json_object_object_add(o, k2, v2);
	return o;
}

static const char *slack_body(struct bw_arena *a, const char *label, const char *color,
			      const char *ts, const char **keys, const char **vals, size_t n,
			      size_t *len)
{
	const char *text = bw_arena_printf(a, "*%s*\n", label);
	for (size_t i = 0; text != NULL && i < n; i++)
		text =
		    bw_arena_printf(a, "%s%s*%s:* %s", text, i > 0 ? "\n" : "", keys[i], vals[i]);
	const char *foot = bw_arena_printf(a, "ShoreGuard | %s", ts);
	if (text == NULL || foot == NULL)
		return NULL;
	struct json_object *section = obj2(
	    "type", json_object_new_string("section"), "text",
	    obj2("type", json_object_new_string("mrkdwn"), "text", json_object_new_string(text)));
	struct json_object *elems = json_object_new_array();
	json_object_array_add(elems, obj2("type", json_object_new_string("mrkdwn"), "text",
					  json_object_new_string(foot)));
	struct json_object *context =
	    obj2("type", json_object_new_string("context"), "elements", elems);
	struct json_object *blocks = json_object_new_array();
	json_object_array_add(blocks, section);
	json_object_array_add(blocks, context);
	struct json_object *att = obj2("color", json_object_new_string(color), "blocks", blocks);
	struct json_object *atts = json_object_new_array();
	json_object_array_add(atts, att);
	struct json_object *o = json_object_new_object();
	if (o == NULL) {
		json_object_put(atts);
		return NULL;
	}
	json_object_object_add(o, "attachments", atts);
	return finish_json(a, o, len);
}

static const char *discord_body(struct bw_arena *a, const char *label, int color, const char *ts,
				const char **keys, const char **vals, size_t n, size_t *len)
{
	struct json_object *embed = json_object_new_object();
	if (embed == NULL)
		return NULL;
	json_object_object_add(embed, "title", json_object_new_string(label));
	json_object_object_add(embed, "color", json_object_new_int(color));
	json_object_object_add(embed, "timestamp", json_object_new_string(ts));
	struct json_object *footer = json_object_new_object();
	if (footer != NULL)
		json_object_object_add(footer, "text", json_object_new_string("ShoreGuard"));
	json_object_object_add(embed, "footer", footer);
	if (n > 0) {
		struct json_object *fields = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			struct json_object *f = obj2("name", json_object_new_string(keys[i]),
						     "value", json_object_new_string(vals[i]));
			if (f != NULL)
				json_object_object_add(f, "inline", json_object_new_boolean(1));
			json_object_array_add(fields, f);
		}
		json_object_object_add(embed, "fields", fields);
	}
	struct json_object *embeds = json_object_new_array();
	json_object_array_add(embeds, embed);
	struct json_object *o = json_object_new_object();
	if (o == NULL) {
		json_object_put(embeds);
		return NULL;
	}
	json_object_object_add(o, "embeds", embeds);
	return finish_json(a, o, len);
}

static const char *email_body(struct bw_arena *a, const char *label, const char *ts,
			      const char **keys, const char **vals, size_t n, size_t *len,
			      const char **subject)
{
	/* U+2014 EM DASH, as the reference's subject line. */
	const char *first = bw_arena_printf(a, "ShoreGuard \xe2\x80\x94 %s", label);
	const char *text = first != NULL ? bw_arena_printf(a, "%s\nTime: %s\n", first, ts) : NULL;
	for (size_t i = 0; text != NULL && i < n; i++)
		text = bw_arena_printf(a, "%s\n%s: %s", text, keys[i], vals[i]);
	if (text == NULL)
		return NULL;
	if (subject != NULL)
		*subject = first;
	*len = strlen(text);
	return text;
}

bool bw_hook_channel_known(const char *channel)
{
	return strcmp(channel, "generic") == 0 || strcmp(channel, "slack") == 0 ||
	       strcmp(channel, "discord") == 0 || strcmp(channel, "email") == 0;
}

const char *bw_hook_body(struct bw_arena *a, const char *channel, const char *event, const char *ts,
			 struct json_object *data, size_t *len, const char **subject)
{
	const char *keys[sizeof(display_keys) / sizeof(display_keys[0])];
	const char *vals[sizeof(display_keys) / sizeof(display_keys[0])];
	if (strcmp(channel, "generic") == 0)
		return generic_body(a, event, ts, data, len);
	const struct look *l = find_look(event);
	const char *label = bw_hook_label(a, event);
	if (label == NULL)
		return NULL;
	size_t n = display_fields(a, data, keys, vals);
	if (strcmp(channel, "slack") == 0)
		return slack_body(a, label, l != NULL ? l->slack : "#6C757D", ts, keys, vals, n,
				  len);
	if (strcmp(channel, "discord") == 0)
		return discord_body(a, label, l != NULL ? l->discord : 0x6C757D, ts, keys, vals, n,
				    len);
	if (strcmp(channel, "email") == 0)
		return email_body(a, label, ts, keys, vals, n, len, subject);
	return NULL;
}
