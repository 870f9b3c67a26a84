/* registry: owns the gateways table — registration, listing, metadata updates, removal.
 * Certificates and keys are sealed with the master key before they reach the database and are
 * never part of a returned record (only has_* flags). Every write is audited in the same
 * transaction. Input is validated by the face (services/validate.h) before it gets here. */
#ifndef BW_REGISTRY_H
#define BW_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "services/svc.h"

struct bw_gateway {
	long long id;
	const char *name, *endpoint, *scheme;
	const char *auth_mode; /* may be NULL */
	bool has_ca_cert, has_client_cert, has_client_key;
	struct json_object *metadata; /* object, never NULL; released with the arena */
	const char *description;      /* may be NULL */
	struct json_object *labels;   /* object, never NULL; released with the arena */
	const char *registered_at;    /* RFC 3339 UTC */
	const char *last_seen;        /* may be NULL */
	const char *last_status;
	const char *runtime;     /* metadata.runtime when a non-empty string, else NULL */
	const char *version;     /* from the last answered Health; may be NULL */
	const char *compat;      /* bw_gwver_verdict of version; may be NULL */
	const char *last_health; /* time of the last probe; may be NULL */
	bool health_fresh;       /* the last probe is younger than BW_HEALTH_FRESH_S */
};

/* A probe older than this no longer says anything about the connection. */
#define BW_HEALTH_FRESH_S 120

struct bw_blob {
	const uint8_t *p; /* NULL when absent */
	size_t len;
};

struct bw_gateway_new {
	const char *name, *endpoint, *scheme;
	const char *auth_mode; /* may be NULL */
	struct bw_blob ca_cert, client_cert, client_key;
	struct json_object *metadata; /* borrowed; NULL or {} stored as NULL */
	const char *description;      /* may be NULL */
	struct json_object *labels;   /* borrowed; NULL or {} stored as NULL */
};

/* Registers a gateway; *out is the stored record (arena). BW_ECONFLICT on a duplicate name. */
enum bw_err bw_registry_register(struct bw_svc *svc, const struct bw_actor *actor,
				 const struct bw_gateway_new *in, struct bw_gateway *out);

/* Reads one gateway; BW_ENOTFOUND when unknown. */
enum bw_err bw_registry_get(struct bw_svc *svc, const char *name, struct bw_gateway *out);

/* Label filter: all pairs must match exactly. nlabels may be 0. */
struct bw_label_filter {
	const char **keys, **values;
	size_t n;
	const char *runtime; /* lower-case, or NULL */
};

/* Lists gateways sorted by name, filtered; *items is an arena array of *n records. */
enum bw_err bw_registry_list(struct bw_svc *svc, const struct bw_label_filter *filter,
			     struct bw_gateway **items, size_t *n);

/* Updates description and/or labels. A field is changed only when its set_* flag is true; a
 * NULL value (or empty labels) clears it. BW_ENOTFOUND when unknown. */
struct bw_gateway_patch {
	bool set_description;
	const char *description;
	bool set_labels;
	struct json_object *labels;
};
enum bw_err bw_registry_update_meta(struct bw_svc *svc, const struct bw_actor *actor,
				    const char *name, const struct bw_gateway_patch *patch,
				    struct bw_gateway *out);

/* Removes a gateway; BW_ENOTFOUND when unknown. */
enum bw_err bw_registry_delete(struct bw_svc *svc, const struct bw_actor *actor, const char *name);

/* How long a process trusts the registry generation it last read from the database before
 * reading it again: the bound on how stale another host's write can look here. Writes made on
 * this host are seen at once (they are published in the shared block). */
#define BW_REGISTRY_RECHECK_MS 1000

/* The current registry generation: it changes with every committed write to the registry, so a
 * rendering cached under one generation is current while the generation is unchanged. */
enum bw_err bw_registry_generation(struct bw_svc *svc, uint64_t *gen);
/* The stored connection material of a gateway, opened (arena memory, NUL-terminated PEM).
 * BW_ENOTFOUND when unknown; BW_ECRYPTO when a sealed value does not open. */
struct bw_gateway_creds {
	const char *endpoint, *scheme;
	struct bw_blob ca_cert, client_cert, client_key;
};
enum bw_err bw_registry_creds(struct bw_svc *svc, const char *name, struct bw_gateway_creds *out);

/* Records a health probe. status: "healthy", "degraded", "unhealthy", "unspecified",
 * "unknown" or "unreachable"; reached: the gateway answered (then version/compat, if not NULL,
 * replace the stored ones). */
struct bw_health_note {
	const char *status, *version, *compat;
	bool reached;
};
enum bw_err bw_registry_set_health(struct bw_svc *svc, const char *name,
				   const struct bw_health_note *h);

/* Health-probe leases (breakwater-worker). Claims up to max gateways whose next probe is due
 * and that no live lease holds, for lease_s seconds; *names (arena) lists what owner holds. */
enum bw_err bw_registry_claim_probes(struct bw_svc *svc, const char *owner, int lease_s, int max,
				     const char ***names, size_t *n);
/* Ends owner's lease on name and schedules its next probe interval_s from now (longer after
 * 10 consecutive failures, up to 300 s). */
enum bw_err bw_registry_probe_done(struct bw_svc *svc, const char *owner, const char *name,
				   int interval_s);
/* Drops every lease owner holds (clean shutdown). */
enum bw_err bw_registry_release_probes(struct bw_svc *svc, const char *owner);

/* Counts registered gateways (for readiness). */
enum bw_err bw_registry_count(struct bw_svc *svc, long long *count);

/* Gateways per last health status: rows of (status, count), arena memory, for /metrics. */
enum bw_err bw_registry_count_by_status(struct bw_svc *svc, struct bw_dbres *out);

#endif
