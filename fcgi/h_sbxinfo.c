/* h_sbxinfo: /api/gateways/{gw}/sandboxes/{name}/... — logs, SSH sessions, config, provider
 * environment and attached providers (reference §6.5). Parses and validates the path names
 * (unlike the reference, a sandbox or provider name outside [a-zA-Z0-9][a-zA-Z0-9._-]* is a
 * 400 before anything reaches the gateway), the query and the body; calls services/sbxinfo;
 * renders. */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "fcgi/gwreply.h"
#include "fcgi/routes.h"
#include "services/ocsf.h"
#include "services/sbxinfo.h"

/* gw and the sandbox name; false after replying 400. */
static bool names(struct bw_req *req, const char **gw, const char **sandbox)
{
	*gw = bw_gwreply_name(req, "gw", "gateway");
	*sandbox = *gw != NULL ? bw_gwreply_name(req, "name", "sandbox") : NULL;
	return *sandbox != NULL;
}

/* The next item of a comma-separated list being cut up in place by strtok_r (copy on the first
 * call, NULL after), without its surrounding spaces; NULL after the last. */
static char *next_item(char *copy, char **save)
{
	char *tok = strtok_r(copy, ",", save);
	if (tok == NULL)
		return NULL;
	while (*tok == ' ')
		tok++;
	size_t n = strlen(tok);
	while (n > 0 && tok[n - 1] == ' ')
		tok[--n] = '\0';
	return tok;
}

/* sources: comma-separated, each trimmed item 1..32 of [a-z0-9_-], at most 8. */
static void parse_sources(struct bw_req *req, struct bw_verrs *v, struct bw_logs_query *q)
{
	const char *s = bw_req_query(req, "sources");
	if (s == NULL || s[0] == '\0')
		return;
	char *copy = bw_arena_strdup(req->arena, s);
	if (copy == NULL)
		return;
	char *save = NULL;
	for (char *tok = next_item(copy, &save); tok != NULL; tok = next_item(NULL, &save)) {
		size_t n = strlen(tok);
		bool ok =
		    n > 0 && n <= 32 && strspn(tok, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
		if (!ok || q->n_sources == BW_LOG_SOURCES_MAX) {
			bw_verrs_query(v, "value_error", "sources",
				       "At most 8 comma-separated sources of [a-z0-9_-] "
				       "(e.g. gateway,sandbox)",
				       NULL);
			return;
		}
		q->sources[q->n_sources++] = tok;
	}
}

/* An OCSF filter: comma-separated, trimmed, upper-cased; every item must be a known value. */
static void parse_set(struct bw_req *req, struct bw_verrs *v, const char *name,
		      bool (*known)(const char *), const char **out, size_t *n)
{
	const char *s = bw_req_query(req, name);
	if (s == NULL || s[0] == '\0')
		return;
	char *copy = bw_arena_strdup(req->arena, s);
	if (copy == NULL)
		return;
	char *save = NULL;
	for (char *tok = next_item(copy, &save); tok != NULL; tok = next_item(NULL, &save)) {
		size_t len = strlen(tok);
		for (size_t i = 0; i < len; i++)
			tok[i] = (char)toupper((unsigned char)tok[i]);
		if (len == 0 || !known(tok) || *n == BW_LOG_SOURCES_MAX) {
			bw_verrs_query(v, "enum", name,
				       "Comma-separated known OCSF values (classes NET, HTTP, "
				       "SSH, PROC, FINDING, CONFIG, LIFECYCLE, EVENT; severities "
				       "INFO, LOW, MED, HIGH, CRIT, FATAL; dispositions ALLOWED, "
				       "DENIED, BLOCKED)",
				       NULL);
			return;
		}
		out[(*n)++] = tok;
	}
}

void bw_h_sandbox_logs(struct bw_req *req)
{
	struct bw_verrs v;
	struct bw_logs_query q = {.min_rank = -1};
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw, *sandbox;
	if (!names(req, &gw, &sandbox))
		return;
	if (!bw_verrs_init(&v, req->arena)) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	long long lines = 200;
	bw_query_int(req, &v, "lines", 1, 10000, &lines);
	q.lines = (unsigned)lines;
	bw_query_int(req, &v, "since_ms", 0, 999999999999999LL, &q.since_ms);
	const char *level = bw_req_query(req, "min_level");
	if (level != NULL && level[0] != '\0') {
		q.min_rank = bw_sbxinfo_level_rank(level);
		if (q.min_rank < 0)
			bw_verrs_query(&v, "enum", "min_level",
				       "Input should be one of error, warn, info, debug, "
				       "trace (any case) or empty",
				       NULL);
	}
	parse_sources(req, &v, &q);
	bw_query_bool(req, &v, "ocsf_only", &q.ocsf_only);
	parse_set(req, &v, "ocsf_class", bw_ocsf_known_class, q.classes, &q.n_classes);
	parse_set(req, &v, "ocsf_disposition", bw_ocsf_known_disposition, q.dispositions,
		  &q.n_dispositions);
	parse_set(req, &v, "ocsf_severity", bw_ocsf_known_severity, q.severities, &q.n_severities);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_err rc = bw_sbxinfo_logs(&req->svc, gw, sandbox, &q, &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

void bw_h_sandbox_ssh_create(struct bw_req *req)
{
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw, *sandbox, *bad = NULL;
	if (!names(req, &gw, &sandbox))
		return;
	enum bw_err rc = bw_sbxinfo_ssh_create(&req->svc, &req->actor, gw, sandbox, &o, &bad, &r);
	if (rc == BW_OK && r.st == BW_GW_OK && bad != NULL) {
		bw_reply_problem(req, 502, "BAD_GATEWAY",
				 "The gateway's SSH session answer violates the charset contract "
				 "(field=%s); refusing to pass it on",
				 bad);
		return;
	}
	bw_gwreply_done(req, gw, rc, &r, 201, o);
}

/* token: the URL-safe charset of the proto, 1..4096. */
static bool token_ok(const char *s, size_t n)
{
	if (n == 0 || n > 4096 || strlen(s) != n)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+/=-") ==
	       n;
}

void bw_h_sandbox_ssh_revoke(struct bw_req *req)
{
	struct bw_verrs v;
	struct bw_gw_result r;
	const char *gw, *sandbox, *token = NULL;
	bool present = false, revoked = false;
	if (!names(req, &gw, &sandbox) || !bw_body_require_object(req, &v))
		return;
	bw_body_string(req->json, "token", BW_REQUIRED, &v, &token, &present);
	if (token != NULL && !token_ok(token, (size_t)json_object_get_string_len(
						  json_object_object_get(req->json, "token"))))
		bw_verrs_add(&v, "string_pattern_mismatch", "token",
			     "String should match '^[A-Za-z0-9._~+/=-]{1,4096}$'");
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_err rc =
	    bw_sbxinfo_ssh_revoke(&req->svc, &req->actor, gw, sandbox, token, &revoked, &r);
	struct json_object *o = NULL;
	if (rc == BW_OK && r.st == BW_GW_OK && (o = json_object_new_object()) != NULL)
		json_object_object_add(o, "revoked", json_object_new_boolean(revoked));
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

void bw_h_sandbox_config(struct bw_req *req)
{
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw, *sandbox;
	if (!names(req, &gw, &sandbox))
		return;
	enum bw_err rc = bw_sbxinfo_config(&req->svc, gw, sandbox, &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

void bw_h_sandbox_provider_env(struct bw_req *req)
{
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw, *sandbox;
	if (!names(req, &gw, &sandbox))
		return;
	enum bw_err rc = bw_sbxinfo_provider_env(&req->svc, gw, sandbox, &o, &r);
	if (rc == BW_OK && r.st == BW_GW_PERMISSION) {
		/* From v0.0.51 gateways serve it to the sandbox's own supervisor only. */
		bw_reply_problem(req, 403, "PERMISSION_DENIED",
				 "Permission denied by the gateway: from v0.0.51 it serves the "
				 "provider environment to sandbox principals only.");
		return;
	}
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

void bw_h_sandbox_providers(struct bw_req *req)
{
	struct json_object *o = NULL;
	struct bw_gw_result r;
	const char *gw, *sandbox;
	if (!names(req, &gw, &sandbox))
		return;
	enum bw_err rc = bw_sbxinfo_providers(&req->svc, gw, sandbox, &o, &r);
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

static void attach(struct bw_req *req, bool on)
{
	struct bw_gw_result r;
	const char *gw, *sandbox;
	bool changed = false;
	if (!names(req, &gw, &sandbox))
		return;
	const char *provider = bw_gwreply_name(req, "provider", "provider");
	if (provider == NULL)
		return;
	enum bw_err rc =
	    bw_sbxinfo_attach(&req->svc, &req->actor, gw, sandbox, provider, on, &changed, &r);
	struct json_object *o = NULL;
	if (rc == BW_OK && r.st == BW_GW_OK && (o = json_object_new_object()) != NULL)
		json_object_object_add(o, on ? "attached" : "detached",
				       json_object_new_boolean(changed));
	bw_gwreply_done(req, gw, rc, &r, 200, o);
}

void bw_h_sandbox_provider_attach(struct bw_req *req)
{
	attach(req, true);
}

void bw_h_sandbox_provider_detach(struct bw_req *req)
{
	attach(req, false);
}
