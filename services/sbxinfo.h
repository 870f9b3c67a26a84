/* sbxinfo: the sub-resources of one sandbox on a gateway (reference §6.5) — logs, SSH
 * sessions, the effective config, the provider environment (values redacted) and the attached
 * providers (list, attach, detach). Owns which RPC takes the sandbox id (logs, SSH, config,
 * provider env: resolved from the name with GetSandbox first) and which the name (provider
 * attachments), and the check of an SSH session answer against the proto's charset contract
 * before any of it is returned. Local errors come back as enum bw_err; when that is BW_OK,
 * *res tells how the gateway call went. Names are validated by the face. */
#ifndef BW_SBXINFO_H
#define BW_SBXINFO_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "openshell.pb-c.h"
#include "services/gwclient.h"
#include "services/svc.h"

#define BW_LOG_SOURCES_MAX 8

struct bw_logs_query {
	unsigned lines;     /* 1..10000 */
	long long since_ms; /* >= 0 */
	int min_rank;       /* bw_sbxinfo_level_rank of min_level; -1 = every level */
	const char *sources[BW_LOG_SOURCES_MAX];
	size_t n_sources;
	bool ocsf_only; /* keep only OCSF entries */
	/* OCSF filters (upper-case known values; n_* = 0: no filter): an entry passes a set filter
	 * only when it is OCSF and its field is in the set. */
	const char *classes[BW_LOG_SOURCES_MAX], *dispositions[BW_LOG_SOURCES_MAX],
	    *severities[BW_LOG_SOURCES_MAX];
	size_t n_classes, n_dispositions, n_severities;
};

/* The rank of a log level: ERROR 0, WARN 1, INFO 2, DEBUG 3, TRACE 4 (case-insensitive);
 * -1 for anything else. */
int bw_sbxinfo_level_rank(const char *level);

/* [{timestamp_ms, level, message, source, target, fields[, ocsf]}], oldest first; OCSF entries
 * (level "OCSF" or target "ocsf") carry ocsf = the parsed shorthand (services/ocsf.h) plus
 * fields. Entries above min_rank are dropped, except OCSF entries; then the OCSF filters. */
enum bw_err bw_sbxinfo_logs(struct bw_svc *svc, const char *gw, const char *sandbox,
			    const struct bw_logs_query *q, struct json_object **out,
			    struct bw_gw_result *res);

/* Pure: the first field of an SSH session answer that breaks the charset contract of the
 * proto (or does not name sandbox_id), or NULL when every field is acceptable. */
const char *bw_sbxinfo_ssh_check(const Openshell__V1__CreateSshSessionResponse *r,
				 const char *sandbox_id);

/* {sandbox_id, token, gateway_host, gateway_port, gateway_scheme, host_key_fingerprint,
 * expires_at_ms}; audit sandbox.ssh.create {sandbox_id, expires_at_ms} (never the token).
 * When the gateway's answer breaks the contract, *bad_field names the field, *out stays NULL
 * and nothing is audited. */
enum bw_err bw_sbxinfo_ssh_create(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				  const char *sandbox, struct json_object **out,
				  const char **bad_field, struct bw_gw_result *res);
/* Audit sandbox.ssh.revoke {revoked} (never the token). */
enum bw_err bw_sbxinfo_ssh_revoke(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				  const char *sandbox, const char *token, bool *revoked,
				  struct bw_gw_result *res);

/* {policy, version, policy_hash, settings: {key: {value, scope}}, config_revision,
 * policy_source, global_policy_version, provider_env_revision}. */
enum bw_err bw_sbxinfo_config(struct bw_svc *svc, const char *gw, const char *sandbox,
			      struct json_object **out, struct bw_gw_result *res);

/* {env: {KEY: "[REDACTED]"}, provider_env_revision}. */
enum bw_err bw_sbxinfo_provider_env(struct bw_svc *svc, const char *gw, const char *sandbox,
				    struct json_object **out, struct bw_gw_result *res);

/* {items: [provider]} with credential values redacted. */
enum bw_err bw_sbxinfo_providers(struct bw_svc *svc, const char *gw, const char *sandbox,
				 struct json_object **out, struct bw_gw_result *res);

/* Attach (attach true) or detach provider; *changed is the gateway's attached/detached.
 * Audit sandbox.provider.attach / sandbox.provider.detach {provider, changed}. */
enum bw_err bw_sbxinfo_attach(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
			      const char *sandbox, const char *provider, bool attach, bool *changed,
			      struct bw_gw_result *res);

#endif
