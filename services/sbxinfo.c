/* sbxinfo: see sbxinfo.h. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "sandbox.pb-c.h"
#include "services/gwcall.h"
#include "services/ocsf.h"
#include "services/polcore.h"
#include "services/providers.h"
#include "services/sbxinfo.h"

#define RPC(m) "/openshell.v1.OpenShell/" m

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v != NULL ? v : ""));
}

int bw_sbxinfo_level_rank(const char *level)
{
	static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
	for (int i = 0; level != NULL && i < 5; i++)
		if (strcasecmp(level, names[i]) == 0)
			return i;
	return -1;
}

static bool keep_level(const Openshell__V1__SandboxLogLine *l, int min_rank)
{
	if (bw_ocsf_is(l->level, l->target) || min_rank < 0)
		return true;
	int r = bw_sbxinfo_level_rank(l->level);
	return r >= 0 && r <= min_rank;
}

/* Whether ocsf.key is one of set[0..n) (n == 0: no filter). */
static bool in_set(struct json_object *ocsf, const char *key, const char *const *set, size_t n)
{
	if (n == 0)
		return true;
	const char *v = json_object_get_string(json_object_object_get(ocsf, key));
	for (size_t i = 0; v != NULL && i < n; i++)
		if (strcmp(v, set[i]) == 0)
			return true;
	return false;
}

static bool keep_ocsf(struct json_object *ocsf, const struct bw_logs_query *q)
{
	bool filtered = q->ocsf_only || q->n_classes || q->n_dispositions || q->n_severities;
	if (ocsf == NULL)
		return !filtered;
	return in_set(ocsf, "class_prefix", q->classes, q->n_classes) &&
	       in_set(ocsf, "disposition", q->dispositions, q->n_dispositions) &&
	       in_set(ocsf, "severity", q->severities, q->n_severities);
}

static struct json_object *line_json(const Openshell__V1__SandboxLogLine *l)
{
	struct json_object *o = json_object_new_object(), *f = json_object_new_object();
	if (o == NULL || f == NULL) {
		json_object_put(o);
		json_object_put(f);
		return NULL;
	}
	json_object_object_add(o, "timestamp_ms", json_object_new_int64(l->timestamp_ms));
	add_str(o, "level", l->level);
	add_str(o, "message", l->message);
	add_str(o, "source", l->source[0] != '\0' ? l->source : "gateway");
	add_str(o, "target", l->target);
	for (size_t i = 0; i < l->n_fields; i++)
		add_str(f, l->fields[i]->key, l->fields[i]->value);
	json_object_object_add(o, "fields", f);
	if (bw_ocsf_is(l->level, l->target)) {
		struct json_object *ocsf = bw_ocsf_parse(l->message);
		if (ocsf != NULL)
			json_object_object_add(ocsf, "fields", json_object_get(f));
		json_object_object_add(o, "ocsf", ocsf);
	}
	return o;
}

enum bw_err bw_sbxinfo_logs(struct bw_svc *svc, const char *gw, const char *sandbox,
			    const struct bw_logs_query *q, struct json_object **out,
			    struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	const char *id;
	ProtobufCMessage *resp = NULL;
	*out = NULL;
	enum bw_err rc = bw_gwcall_sandbox_id(svc, gw, sandbox, &creds, &t, &id, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	Openshell__V1__GetSandboxLogsRequest req = OPENSHELL__V1__GET_SANDBOX_LOGS_REQUEST__INIT;
	req.sandbox_id = (char *)id;
	req.lines = q->lines;
	req.since_ms = q->since_ms;
	req.sources = (char **)q->sources;
	req.n_sources = q->n_sources;
	/* The level filter runs here so OCSF entries survive it (reference). */
	*res = bw_gw_unary(&t, RPC("GetSandboxLogs"), &req.base,
			   &openshell__v1__get_sandbox_logs_response__descriptor, true, &resp);
	if (res->st != BW_GW_OK)
		return BW_OK;
	const Openshell__V1__GetSandboxLogsResponse *r =
	    (const Openshell__V1__GetSandboxLogsResponse *)resp;
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; a != NULL && i < r->n_logs; i++) {
		if (!keep_level(r->logs[i], q->min_rank))
			continue;
		struct json_object *e = line_json(r->logs[i]);
		if (e == NULL || keep_ocsf(json_object_object_get(e, "ocsf"), q))
			json_object_array_add(a, e);
		else
			json_object_put(e);
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	*out = a;
	return a != NULL ? BW_OK : BW_ENOMEM;
}

/* s is 1..max bytes, each in the set allowed (plus alphanumerics). */
static bool charset_ok(const char *s, size_t min, size_t max, const char *allowed)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && strchr(allowed, c) == NULL)
			return false;
	}
	return true;
}

const char *bw_sbxinfo_ssh_check(const Openshell__V1__CreateSshSessionResponse *r,
				 const char *sandbox_id)
{
	if (!charset_ok(r->sandbox_id, 1, 128, "._-") ||
	    (sandbox_id != NULL && strcmp(r->sandbox_id, sandbox_id) != 0))
		return "sandbox_id";
	if (!charset_ok(r->token, 1, 4096, "._~+/=-"))
		return "token";
	if (!charset_ok(r->gateway_host, 1, 253, ".-:[]"))
		return "gateway_host";
	if (r->gateway_port < 1 || r->gateway_port > 65535)
		return "gateway_port";
	if (r->gateway_scheme == NULL ||
	    (strcmp(r->gateway_scheme, "http") != 0 && strcmp(r->gateway_scheme, "https") != 0))
		return "gateway_scheme";
	if (r->host_key_fingerprint != NULL && r->host_key_fingerprint[0] != '\0' &&
	    !charset_ok(r->host_key_fingerprint, 1, 512, ":+/=-"))
		return "host_key_fingerprint";
	if (r->expires_at_ms < 0)
		return "expires_at_ms";
	return NULL;
}

static struct json_object *ssh_json(const Openshell__V1__CreateSshSessionResponse *r)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	add_str(o, "sandbox_id", r->sandbox_id);
	add_str(o, "token", r->token);
	add_str(o, "gateway_host", r->gateway_host);
	json_object_object_add(o, "gateway_port", json_object_new_int64(r->gateway_port));
	add_str(o, "gateway_scheme", r->gateway_scheme);
	add_str(o, "host_key_fingerprint", r->host_key_fingerprint);
	json_object_object_add(o, "expires_at_ms", json_object_new_int64(r->expires_at_ms));
	return o;
}

static enum bw_err sandbox_audit(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				 const char *action, const char *sandbox,
				 struct json_object *detail)
{
	struct bw_audit entry = {action, "sandbox", sandbox, gw, detail};
	enum bw_err rc =
	    detail != NULL ? bw_gwcall_audit(svc, actor, &entry, NULL, NULL) : BW_ENOMEM;
	json_object_put(detail);
	return rc;
}

enum bw_err bw_sbxinfo_ssh_create(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				  const char *sandbox, struct json_object **out,
				  const char **bad_field, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	const char *id;
	ProtobufCMessage *resp = NULL;
	*out = NULL;
	*bad_field = NULL;
	enum bw_err rc = bw_gwcall_sandbox_id(svc, gw, sandbox, &creds, &t, &id, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	Openshell__V1__CreateSshSessionRequest req =
	    OPENSHELL__V1__CREATE_SSH_SESSION_REQUEST__INIT;
	req.sandbox_id = (char *)id;
	*res = bw_gw_unary(&t, RPC("CreateSshSession"), &req.base,
			   &openshell__v1__create_ssh_session_response__descriptor, false, &resp);
	if (res->st != BW_GW_OK)
		return BW_OK;
	const Openshell__V1__CreateSshSessionResponse *r =
	    (const Openshell__V1__CreateSshSessionResponse *)resp;
	/* The values end up in an OpenSSH ProxyCommand run by /bin/sh: nothing that breaks the
	 * contract is passed on, and the offending value is not logged either. */
	*bad_field = bw_sbxinfo_ssh_check(r, id);
	struct json_object *o = *bad_field == NULL ? ssh_json(r) : NULL;
	struct json_object *detail = json_object_new_object();
	if (detail != NULL) {
		add_str(detail, "sandbox_id", id);
		json_object_object_add(detail, "expires_at_ms",
				       json_object_new_int64(r->expires_at_ms));
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	if (*bad_field != NULL) {
		json_object_put(detail);
		return BW_OK;
	}
	if (o == NULL) {
		json_object_put(detail);
		return BW_ENOMEM;
	}
	rc = sandbox_audit(svc, actor, gw, "sandbox.ssh.create", sandbox, detail);
	if (rc != BW_OK) {
		json_object_put(o);
		return rc;
	}
	*out = o;
	return BW_OK;
}

enum bw_err bw_sbxinfo_ssh_revoke(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				  const char *sandbox, const char *token, bool *revoked,
				  struct bw_gw_result *res)
{
	ProtobufCMessage *resp = NULL;
	*revoked = false;
	Openshell__V1__RevokeSshSessionRequest req =
	    OPENSHELL__V1__REVOKE_SSH_SESSION_REQUEST__INIT;
	req.token = (char *)token;
	enum bw_err rc = bw_gwcall_unary(svc, gw, RPC("RevokeSshSession"), &req.base,
					 &openshell__v1__revoke_ssh_session_response__descriptor,
					 false, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	*revoked = ((Openshell__V1__RevokeSshSessionResponse *)resp)->revoked;
	protobuf_c_message_free_unpacked(resp, NULL);
	struct json_object *detail = json_object_new_object();
	if (detail != NULL)
		json_object_object_add(detail, "revoked", json_object_new_boolean(*revoked));
	return sandbox_audit(svc, actor, gw, "sandbox.ssh.revoke", sandbox, detail);
}

static struct json_object *setting_json(const Openshell__Sandbox__V1__SettingValue *v)
{
	if (v == NULL)
		return NULL;
	switch (v->value_case) {
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_STRING_VALUE:
		return json_object_new_string(v->string_value != NULL ? v->string_value : "");
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BOOL_VALUE:
		return json_object_new_boolean(v->bool_value);
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_INT_VALUE:
		return json_object_new_int64(v->int_value);
	case OPENSHELL__SANDBOX__V1__SETTING_VALUE__VALUE_BYTES_VALUE:
		return json_object_new_string_len((const char *)v->bytes_value.data,
						  (int)v->bytes_value.len);
	default:
		return NULL;
	}
}

static struct json_object *config_json(const Openshell__Sandbox__V1__GetSandboxConfigResponse *c)
{
	struct json_object *o = json_object_new_object(), *s = json_object_new_object();
	if (o == NULL || s == NULL) {
		json_object_put(o);
		json_object_put(s);
		return NULL;
	}
	json_object_object_add(o, "policy",
			       c->policy != NULL ? bw_pol_to_json(&c->policy->base) : NULL);
	json_object_object_add(o, "version", json_object_new_int64(c->version));
	add_str(o, "policy_hash", c->policy_hash);
	for (size_t i = 0; i < c->n_settings; i++) {
		const Openshell__Sandbox__V1__EffectiveSetting *e = c->settings[i]->value;
		struct json_object *one = json_object_new_object();
		if (one == NULL)
			continue;
		json_object_object_add(one, "value", setting_json(e != NULL ? e->value : NULL));
		json_object_object_add(one, "scope",
				       json_object_new_int(e != NULL ? (int)e->scope : 0));
		json_object_object_add(s, c->settings[i]->key, one);
	}
	json_object_object_add(o, "settings", s);
	json_object_object_add(o, "config_revision", json_object_new_uint64(c->config_revision));
	json_object_object_add(o, "policy_source", json_object_new_int((int)c->policy_source));
	json_object_object_add(o, "global_policy_version",
			       json_object_new_int64(c->global_policy_version));
	json_object_object_add(o, "provider_env_revision",
			       json_object_new_uint64(c->provider_env_revision));
	return o;
}

enum bw_err bw_sbxinfo_config(struct bw_svc *svc, const char *gw, const char *sandbox,
			      struct json_object **out, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	const char *id;
	ProtobufCMessage *resp = NULL;
	*out = NULL;
	enum bw_err rc = bw_gwcall_sandbox_id(svc, gw, sandbox, &creds, &t, &id, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	Openshell__Sandbox__V1__GetSandboxConfigRequest req =
	    OPENSHELL__SANDBOX__V1__GET_SANDBOX_CONFIG_REQUEST__INIT;
	req.sandbox_id = (char *)id;
	*res = bw_gw_unary(&t, RPC("GetSandboxConfig"), &req.base,
			   &openshell__sandbox__v1__get_sandbox_config_response__descriptor, true,
			   &resp);
	if (res->st != BW_GW_OK)
		return BW_OK;
	*out = config_json((const Openshell__Sandbox__V1__GetSandboxConfigResponse *)resp);
	protobuf_c_message_free_unpacked(resp, NULL);
	return *out != NULL ? BW_OK : BW_ENOMEM;
}

enum bw_err bw_sbxinfo_provider_env(struct bw_svc *svc, const char *gw, const char *sandbox,
				    struct json_object **out, struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	const char *id;
	ProtobufCMessage *resp = NULL;
	*out = NULL;
	enum bw_err rc = bw_gwcall_sandbox_id(svc, gw, sandbox, &creds, &t, &id, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	Openshell__V1__GetSandboxProviderEnvironmentRequest req =
	    OPENSHELL__V1__GET_SANDBOX_PROVIDER_ENVIRONMENT_REQUEST__INIT;
	req.sandbox_id = (char *)id;
	*res = bw_gw_unary(&t, RPC("GetSandboxProviderEnvironment"), &req.base,
			   &openshell__v1__get_sandbox_provider_environment_response__descriptor,
			   true, &resp);
	if (res->st != BW_GW_OK)
		return BW_OK;
	const Openshell__V1__GetSandboxProviderEnvironmentResponse *r =
	    (const Openshell__V1__GetSandboxProviderEnvironmentResponse *)resp;
	struct json_object *o = json_object_new_object(), *env = json_object_new_object();
	/* The answer holds the raw credentials: only the keys leave this loop. */
	for (size_t i = 0; env != NULL && i < r->n_environment; i++)
		add_str(env, r->environment[i]->key, BW_REDACTED);
	uint64_t rev = r->provider_env_revision;
	protobuf_c_message_free_unpacked(resp, NULL);
	if (o == NULL || env == NULL) {
		json_object_put(o);
		json_object_put(env);
		return BW_ENOMEM;
	}
	json_object_object_add(o, "env", env);
	json_object_object_add(o, "provider_env_revision", json_object_new_uint64(rev));
	*out = o;
	return BW_OK;
}

enum bw_err bw_sbxinfo_providers(struct bw_svc *svc, const char *gw, const char *sandbox,
				 struct json_object **out, struct bw_gw_result *res)
{
	ProtobufCMessage *resp = NULL;
	*out = NULL;
	Openshell__V1__ListSandboxProvidersRequest req =
	    OPENSHELL__V1__LIST_SANDBOX_PROVIDERS_REQUEST__INIT;
	req.sandbox_name = (char *)sandbox;
	enum bw_err rc = bw_gwcall_unary(
	    svc, gw, RPC("ListSandboxProviders"), &req.base,
	    &openshell__v1__list_sandbox_providers_response__descriptor, true, &resp, res);
	if (rc != BW_OK || res->st != BW_GW_OK)
		return rc;
	const Openshell__V1__ListSandboxProvidersResponse *r =
	    (const Openshell__V1__ListSandboxProvidersResponse *)resp;
	struct json_object *o = json_object_new_object(), *items = json_object_new_array();
	rc = o != NULL && items != NULL ? BW_OK : BW_ENOMEM;
	for (size_t i = 0; rc == BW_OK && i < r->n_providers; i++) {
		struct json_object *p = bw_provider_json(&r->providers[i]->base);
		if (p == NULL)
			rc = BW_ENOMEM;
		json_object_array_add(items, p);
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	if (rc != BW_OK) {
		json_object_put(o);
		json_object_put(items);
		return rc;
	}
	json_object_object_add(o, "items", items);
	*out = o;
	return BW_OK;
}

enum bw_err bw_sbxinfo_attach(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
			      const char *sandbox, const char *provider, bool attach, bool *changed,
			      struct bw_gw_result *res)
{
	struct bw_gateway_creds creds;
	struct bw_gw_target t;
	ProtobufCMessage *resp = NULL;
	*changed = false;
	enum bw_err rc = bw_gwcall_target(svc, gw, &creds, &t);
	if (rc != BW_OK)
		return rc;
	if (attach) {
		Openshell__V1__AttachSandboxProviderRequest req =
		    OPENSHELL__V1__ATTACH_SANDBOX_PROVIDER_REQUEST__INIT;
		req.sandbox_name = (char *)sandbox;
		req.provider_name = (char *)provider;
		*res = bw_gw_unary(&t, RPC("AttachSandboxProvider"), &req.base,
				   &openshell__v1__attach_sandbox_provider_response__descriptor,
				   false, &resp);
		if (res->st == BW_GW_OK)
			*changed = ((Openshell__V1__AttachSandboxProviderResponse *)resp)->attached;
	} else {
		Openshell__V1__DetachSandboxProviderRequest req =
		    OPENSHELL__V1__DETACH_SANDBOX_PROVIDER_REQUEST__INIT;
		req.sandbox_name = (char *)sandbox;
		req.provider_name = (char *)provider;
		*res = bw_gw_unary(&t, RPC("DetachSandboxProvider"), &req.base,
				   &openshell__v1__detach_sandbox_provider_response__descriptor,
				   false, &resp);
		if (res->st == BW_GW_OK)
			*changed = ((Openshell__V1__DetachSandboxProviderResponse *)resp)->detached;
	}
	if (res->st != BW_GW_OK)
		return BW_OK;
	protobuf_c_message_free_unpacked(resp, NULL);
	struct json_object *detail = json_object_new_object();
	if (detail != NULL) {
		add_str(detail, "provider", provider);
		json_object_object_add(detail, attach ? "attached" : "detached",
				       json_object_new_boolean(*changed));
	}
	return sandbox_audit(svc, actor, gw,
			     attach ? "sandbox.provider.attach" : "sandbox.provider.detach",
			     sandbox, detail);
}
