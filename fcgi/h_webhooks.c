/* h_webhooks: the webhook routes (/api/webhooks...): body validation (422 for shapes, 400 for the
 * URL and SSRF rules with the reference's texts), the webhook and delivery objects, and the
 * signing secret shown in the create response only. Shapes follow reference §6.16. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fcgi/body.h"
#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "lib/jsonu.h"
#include "lib/utf8.h"
#include "services/hookfmt.h"
#include "services/webhooks.h"

#define MAX_URL 2048
#define MAX_EVENT_TYPES 50
#define MAX_EVENT_TYPE 100
#define DELIVERIES_DEFAULT 50
#define DELIVERIES_MAX 500

/* Parses stored JSON text (written by us); NULL when absent or unreadable. */
static struct json_object *stored(const char *text)
{
	struct json_object *o = NULL;
	struct bw_json_error jerr;
	if (text == NULL ||
	    bw_json_parse(text, strlen(text), BW_JSON_MAX_DEPTH, &o, &jerr) != BW_JSON_OK)
		return NULL;
	return o;
}

/* WebhookResponse. The list omits extra_config when there is none (as the reference). */
static struct json_object *hook_json(const struct bw_webhook *w, bool in_list)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	struct json_object *types = stored(w->event_types);
	if (types == NULL || !json_object_is_type(types, json_type_array)) {
		json_object_put(types);
		types = json_object_new_array();
	}
	json_object_object_add(o, "id", json_object_new_int64(w->id));
	json_object_object_add(o, "url", json_object_new_string(w->url));
	json_object_object_add(o, "event_types", types);
	json_object_object_add(o, "is_active", json_object_new_boolean(w->enabled));
	json_object_object_add(o, "channel_type", json_object_new_string(w->channel_type));
	json_object_object_add(o, "created_at", json_object_new_string(w->created_at));
	json_object_object_add(o, "created_by", json_object_new_string(w->created_by));
	struct json_object *extra = stored(w->extra_config);
	if (extra != NULL || !in_list)
		json_object_object_add(o, "extra_config", extra);
	return o;
}

/* --- validation ------------------------------------------------------------------------- */

/* event_types: an array of at most 50 non-blank strings of at most 100 characters. */
static void check_event_types(struct json_object *arr, struct bw_verrs *v)
{
	if (!json_object_is_type(arr, json_type_array)) {
		bw_verrs_add(v, "list_type", "event_types", "Input should be a valid list");
		return;
	}
	size_t n = json_object_array_length(arr);
	if (n > MAX_EVENT_TYPES) {
		bw_verrs_add(v, "too_long", "event_types",
			     "List should have at most 50 items after validation");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(t, json_type_string)) {
			bw_verrs_add(v, "string_type", "event_types",
				     "Input should be a valid string");
			return;
		}
		const char *s = json_object_get_string(t);
		size_t blank = strspn(s, " \t\r\n");
		if (s[blank] == '\0' || bw_utf8_count(s, strlen(s)) > MAX_EVENT_TYPE) {
			bw_verrs_add(v, "value_error", "event_types",
				     "Event types must be non-blank and at most 100 characters");
			return;
		}
	}
}

static void read_url(struct bw_req *req, unsigned flags, struct bw_verrs *v, const char **url)
{
	bool present;
	bw_body_string(req->json, "url", flags, v, url, &present);
	if (*url != NULL && bw_utf8_count(*url, strlen(*url)) > MAX_URL)
		bw_verrs_add(v, "string_too_long", "url",
			     "String should have at most 2048 characters");
}

static void read_channel(struct bw_req *req, struct bw_verrs *v, const char **channel)
{
	bool present;
	bw_body_string(req->json, "channel_type", BW_NULLABLE, v, channel, &present);
	if (*channel != NULL && !bw_hook_channel_known(*channel))
		bw_verrs_add(v, "literal_error", "channel_type",
			     "Input should be 'generic', 'slack', 'discord' or 'email'");
}

/* The URL rules (reference §2.6): scheme, host, no credentials, no private target. The
 * webhook_allow_loopback switch admits loopback only; local_mode does not apply here. An e-mail
 * webhook may name its recipient as mailto: instead. Replies 400 and returns false. */
static bool url_allowed(struct bw_req *req, const char *url, const char *channel)
{
	struct bw_hook_url u;
	char pin[64];
	if (strcmp(channel, "email") == 0 && strncmp(url, "mailto:", 7) == 0)
		return true;
	const char *why = bw_hook_url_parse(req->arena, url, &u);
	if (why != NULL) {
		bw_reply_problem(req, 400, NULL, "%s", why);
		return false;
	}
	/* A name that does not resolve now is accepted; every delivery re-checks. */
	if (bw_hook_resolve(u.host, req->svc.conf->webhook_allow_loopback, pin, sizeof(pin)) ==
	    BW_HOOK_BLOCKED) {
		bw_reply_problem(req, 400, NULL,
				 "URL must not point to a private/loopback address");
		return false;
	}
	return true;
}

static bool has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

static bool mail_address_ok(struct json_object *v)
{
	if (!json_object_is_type(v, json_type_string))
		return false;
	const char *s = json_object_get_string(v);
	return strchr(s, '@') != NULL && !has_crlf(s) && strpbrk(s, "<> ,") == NULL &&
	       strlen(s) <= 254;
}

/* An e-mail extra_config: smtp_host and to_addrs required; the other keys typed; smtp_pass is
 * taken out (it is sealed apart and never shown). The copy without it goes to *clean. */
static bool email_config(struct bw_req *req, struct json_object *cfg, struct json_object **clean,
			 const char **smtp_pass)
{
	struct json_object *host = NULL, *to = NULL, *v = NULL;
	char pin[64];
	if (!json_object_object_get_ex(cfg, "smtp_host", &host) ||
	    !json_object_object_get_ex(cfg, "to_addrs", &to)) {
		bw_reply_problem(req, 400, NULL,
				 "Email extra_config must include smtp_host and to_addrs");
		return false;
	}
	const char *h =
	    json_object_is_type(host, json_type_string) ? json_object_get_string(host) : "";
	bool ok = h[0] != '\0' && strlen(h) <= 253 && strpbrk(h, "/@ \r\n") == NULL &&
		  json_object_is_type(to, json_type_array) && json_object_array_length(to) > 0 &&
		  json_object_array_length(to) <= 50;
	for (size_t i = 0; ok && i < json_object_array_length(to); i++)
		ok = mail_address_ok(json_object_array_get_idx(to, i));
	if (ok && json_object_object_get_ex(cfg, "from_addr", &v))
		ok = mail_address_ok(v);
	if (ok && json_object_object_get_ex(cfg, "smtp_port", &v))
		ok = json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 1 &&
		     json_object_get_int64(v) <= 65535;
	if (ok && json_object_object_get_ex(cfg, "smtp_user", &v))
		ok = json_object_is_type(v, json_type_string) &&
		     !has_crlf(json_object_get_string(v));
	*smtp_pass = NULL;
	if (ok && json_object_object_get_ex(cfg, "smtp_pass", &v)) {
		ok = json_object_is_type(v, json_type_string);
		*smtp_pass = ok ? bw_arena_strdup(req->arena, json_object_get_string(v)) : NULL;
	}
	if (!ok) {
		bw_reply_problem(
		    req, 400, NULL,
		    "Email extra_config needs smtp_host (a host name), to_addrs (1 to 50 "
		    "e-mail addresses), and optionally from_addr, smtp_port (1-65535), "
		    "smtp_user and smtp_pass (strings)");
		return false;
	}
	if (bw_hook_resolve(h, req->svc.conf->webhook_allow_loopback, pin, sizeof(pin)) ==
	    BW_HOOK_BLOCKED) {
		bw_reply_problem(req, 400, NULL,
				 "SMTP host must not point to a private/loopback address");
		return false;
	}
	struct json_object *copy = NULL;
	if (json_object_deep_copy(cfg, &copy, NULL) != 0 ||
	    bw_arena_defer(req->arena, bw_json_release, copy) != 0) {
		bw_reply_err(req, BW_ENOMEM);
		return false;
	}
	json_object_object_del(copy, "smtp_pass");
	*clean = copy;
	return true;
}

/* The trimmed URL (the reference stores it untrimmed; we store what was checked). */
static const char *trim(struct bw_arena *a, const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return bw_arena_strndup(a, s, n);
}

/* --- routes ------------------------------------------------------------------------------ */

void bw_h_webhooks_list(struct bw_req *req)
{
	struct bw_webhook *items = NULL;
	size_t n = 0;
	enum bw_err rc = bw_webhooks_list(&req->svc, &items, &n);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	for (size_t i = 0; arr != NULL && i < n; i++)
		json_object_array_add(arr, hook_json(&items[i], true));
	if (o != NULL) {
		json_object_object_add(o, "items", arr);
		json_object_object_add(o, "total", json_object_new_int64((int64_t)n));
	} else {
		json_object_put(arr);
	}
	bw_reply_json_owned(req, 200, o);
}

void bw_h_webhooks_create(struct bw_req *req)
{
	struct bw_verrs v;
	bool present;
	const char *url = NULL, *channel = NULL;
	struct json_object *types = NULL, *extra = NULL;
	if (!bw_body_require_object(req, &v))
		return;
	read_url(req, BW_REQUIRED, &v, &url);
	if (!bw_json_member(req->json, "event_types", &types) || types == NULL)
		bw_verrs_add(&v, "missing", "event_types", "Field required");
	else
		check_event_types(types, &v);
	read_channel(req, &v, &channel);
	bw_body_object(req->json, "extra_config", BW_NULLABLE, &v, &extra, &present);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	struct bw_webhook_new in = {trim(req->arena, url), channel ? channel : "generic", types,
				    extra, NULL};
	if (in.url == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	if (!url_allowed(req, in.url, in.channel_type))
		return;
	if (strcmp(in.channel_type, "email") == 0) {
		if (extra == NULL || json_object_object_length(extra) == 0) {
			bw_reply_problem(req, 400, NULL,
					 "Email channel requires extra_config with smtp_host and "
					 "to_addrs");
			return;
		}
		if (!email_config(req, extra, &in.extra_config, &in.smtp_pass))
			return;
	} else if (extra != NULL && json_object_object_get_ex(extra, "smtp_pass", NULL)) {
		bw_reply_problem(req, 400, NULL, "smtp_pass belongs to the email channel only");
		return;
	}
	struct bw_webhook w;
	char secret[BW_WEBHOOK_SECRET_LEN];
	enum bw_err rc = bw_webhooks_create(&req->svc, &req->actor, &in, &w, secret);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *o = hook_json(&w, false);
	if (o != NULL)
		json_object_object_add(o, "secret", json_object_new_string(secret));
	OPENSSL_cleanse(secret, sizeof(secret));
	bw_reply_json_owned(req, 201, o);
}

static bool hook_id(struct bw_req *req, long long *id)
{
	return bw_path_int(req, "id", id);
}

static void not_found(struct bw_req *req)
{
	bw_reply_problem(req, 404, NULL, "Webhook not found");
}

void bw_h_webhooks_get(struct bw_req *req)
{
	long long id;
	struct bw_webhook w;
	if (!hook_id(req, &id))
		return;
	enum bw_err rc = bw_webhooks_get(&req->svc, id, &w);
	if (rc == BW_ENOTFOUND)
		not_found(req);
	else if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		bw_reply_json_owned(req, 200, hook_json(&w, false));
}

/* Reads the PUT body into p; false after a reply. */
static bool read_patch(struct bw_req *req, struct bw_webhook_patch *p, const char **url)
{
	struct bw_verrs v;
	bool present;
	struct json_object *types = NULL, *active = NULL;
	memset(p, 0, sizeof(*p));
	p->enabled = -1;
	if (!bw_body_require_object(req, &v))
		return false;
	read_url(req, BW_NULLABLE, &v, url);
	if (bw_json_member(req->json, "event_types", &types) && types != NULL) {
		check_event_types(types, &v);
		p->event_types = types;
	}
	if (bw_json_member(req->json, "is_active", &active) && active != NULL) {
		if (!json_object_is_type(active, json_type_boolean))
			bw_verrs_add(&v, "bool_type", "is_active",
				     "Input should be a valid boolean");
		else
			p->enabled = json_object_get_boolean(active) ? 1 : 0;
	}
	read_channel(req, &v, &p->channel_type);
	bw_body_object(req->json, "extra_config", BW_NULLABLE, &v, &p->extra_config, &present);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return false;
	}
	/* An empty object means "unchanged", as the reference. */
	if (p->extra_config != NULL && json_object_object_length(p->extra_config) == 0)
		p->extra_config = NULL;
	return true;
}

void bw_h_webhooks_update(struct bw_req *req)
{
	long long id;
	struct bw_webhook cur, w;
	struct bw_webhook_patch p;
	const char *url = NULL;
	if (!hook_id(req, &id) || !read_patch(req, &p, &url))
		return;
	enum bw_err rc = bw_webhooks_get(&req->svc, id, &cur);
	if (rc == BW_ENOTFOUND) {
		not_found(req);
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	const char *channel = p.channel_type != NULL ? p.channel_type : cur.channel_type;
	if (url != NULL &&
	    ((p.url = trim(req->arena, url)) == NULL || !url_allowed(req, p.url, channel)))
		return;
	if (strcmp(channel, "email") == 0 && p.extra_config != NULL &&
	    !email_config(req, p.extra_config, &p.extra_config, &p.smtp_pass))
		return;
	if (strcmp(channel, "email") != 0 && p.extra_config != NULL &&
	    json_object_object_get_ex(p.extra_config, "smtp_pass", NULL)) {
		bw_reply_problem(req, 400, NULL, "smtp_pass belongs to the email channel only");
		return;
	}
	rc = bw_webhooks_update(&req->svc, &req->actor, id, &p, &w);
	if (rc == BW_ENOTFOUND)
		not_found(req);
	else if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		bw_reply_json_owned(req, 200, hook_json(&w, false));
}

void bw_h_webhooks_delete(struct bw_req *req)
{
	long long id;
	if (!hook_id(req, &id))
		return;
	enum bw_err rc = bw_webhooks_delete(&req->svc, &req->actor, id);
	if (rc == BW_ENOTFOUND)
		not_found(req);
	else if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		bw_reply(req, 204, "application/json", "", 0);
}

void bw_h_webhooks_test(struct bw_req *req)
{
	long long id, event_id = 0;
	if (!hook_id(req, &id))
		return;
	enum bw_err rc = bw_webhooks_test(&req->svc, &req->actor, id, &event_id);
	if (rc == BW_ENOTFOUND) {
		not_found(req);
		return;
	}
	if (rc == BW_ECONFLICT) {
		bw_reply_problem(
		    req, 409, NULL,
		    "Webhook is paused \xe2\x80\x94 resume it before sending a test event");
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *o = json_object_new_object();
	if (o != NULL) {
		json_object_object_add(o, "status", json_object_new_string("Test event sent"));
		json_object_object_add(o, "event_id", json_object_new_int64(event_id));
	}
	bw_reply_json_owned(req, 200, o);
}

static struct json_object *delivery_json(const struct bw_delivery *d)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_int64(d->id));
	json_object_object_add(o, "webhook_id", json_object_new_int64(d->webhook_id));
	json_object_object_add(o, "event_id", json_object_new_int64(d->event_id));
	json_object_object_add(o, "event_type", json_object_new_string(d->event_type));
	json_object_object_add(o, "status", json_object_new_string(d->status));
	json_object_object_add(o, "response_code",
			       d->response_code >= 0 ? json_object_new_int64(d->response_code)
						     : NULL);
	json_object_object_add(o, "error_message", bw_json_str_or_null(d->error));
	json_object_object_add(o, "attempt", json_object_new_int(d->attempts));
	json_object_object_add(o, "created_at", json_object_new_string(d->created_at));
	json_object_object_add(o, "delivered_at", bw_json_str_or_null(d->delivered_at));
	bool waiting = strcmp(d->status, "pending") == 0 || strcmp(d->status, "retrying") == 0;
	json_object_object_add(o, "next_attempt_at",
			       waiting ? bw_json_str_or_null(d->next_attempt_at) : NULL);
	return o;
}

/* ?limit= within 1..500; false after replying 422. */
static bool read_limit(struct bw_req *req, long long *limit)
{
	struct bw_verrs v;
	*limit = DELIVERIES_DEFAULT;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return false;
	}
	if (bw_query_int(req, &v, "limit", 1, DELIVERIES_MAX, limit))
		return true;
	bw_reply_invalid(req, v.list);
	return false;
}

void bw_h_webhooks_deliveries(struct bw_req *req)
{
	long long id, limit;
	struct bw_delivery *items = NULL;
	size_t n = 0;
	if (!hook_id(req, &id) || !read_limit(req, &limit))
		return;
	enum bw_err rc = bw_webhooks_deliveries(&req->svc, id, limit, &items, &n);
	if (rc == BW_ENOTFOUND) {
		not_found(req);
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr != NULL && i < n; i++)
		json_object_array_add(arr, delivery_json(&items[i]));
	bw_reply_json_owned(req, 200, arr);
}
