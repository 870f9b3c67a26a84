/* sandboxes: the sandbox lifecycle at a gateway (ListSandboxes, GetSandbox, CreateSandbox,
 * DeleteSandbox, preset application through UpdateConfig merge operations) and the owner of the
 * sandbox_meta table (sql/007_operations.sql): local description and labels merged into every
 * sandbox record. Records read the phase in both wire layouts. Like gwops, every function
 * returns a local error (BW_ENOTFOUND for an unregistered gateway, database, crypto); when that
 * is BW_OK, *res says how the gateway call went. JSON results are new objects the caller
 * releases with json_object_put. */
#ifndef BW_SANDBOXES_H
#define BW_SANDBOXES_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "services/gwclient.h"
#include "services/svc.h"

/* The label CreateSandbox carries so a takeover finds the sandbox its predecessor created. */
#define BW_SANDBOX_OP_LABEL "breakwater-op"

/* One page of sandboxes (limit 1..1000, offset) as an array of records. */
enum bw_err bw_sandbox_list(struct bw_svc *svc, const char *gw, unsigned limit, unsigned offset,
			    struct json_object **items, struct bw_gw_result *res);

/* One sandbox record; *phase (static) is its phase name, may be NULL. */
enum bw_err bw_sandbox_get(struct bw_svc *svc, const char *gw, const char *name,
			   struct json_object **out, const char **phase, struct bw_gw_result *res);

/* Changes the local description and/or labels (NULL = leave; labels {} clears) after checking
 * the sandbox exists at the gateway, audits sandbox.metadata.update, returns the record. */
enum bw_err bw_sandbox_update_meta(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
				   const char *name, const char *description,
				   struct json_object *labels, struct json_object **out,
				   struct bw_gw_result *res);

/* DeleteSandbox; when the gateway deleted it, removes the metadata, emits sandbox.deleted and
 * audits sandbox.delete in one transaction. */
enum bw_err bw_sandbox_delete(struct bw_svc *svc, const struct bw_actor *actor, const char *gw,
			      const char *name, bool *deleted, struct bw_gw_result *res);

/* What CreateSandbox is asked for (borrowed). */
struct bw_sandbox_spec {
	const char *name; /* "" = the gateway picks one */
	const char *image, *log_level;
	bool gpu;
	struct json_object *providers;   /* array of strings or NULL */
	struct json_object *environment; /* object of strings or NULL */
	const char *op_id;               /* stamped as label BW_SANDBOX_OP_LABEL */
};

/* CreateSandbox; *created is the name the gateway gave it (arena). */
enum bw_err bw_sandbox_create(struct bw_svc *svc, const char *gw, const struct bw_sandbox_spec *s,
			      const char **created, struct bw_gw_result *res);

/* The name of the sandbox created for operation op_id, or *name NULL when there is none. */
enum bw_err bw_sandbox_find_by_op(struct bw_svc *svc, const char *gw, const char *op_id,
				  const char **name, struct bw_gw_result *res);

/* Applies catalog preset (its network_policies as add_rule merge operations). A preset the
 * gateway refuses or that cannot be converted gives *why (arena) with res->st set or, for a
 * conversion problem, BW_GW_INVALID. */
enum bw_err bw_sandbox_apply_preset(struct bw_svc *svc, const char *gw, const char *name,
				    const char *preset, const char **why, struct bw_gw_result *res);

/* Stores description/labels (NULL = leave) for a sandbox without checks or audit. */
enum bw_err bw_sandbox_meta_put(struct bw_svc *svc, const char *gw, const char *name,
				const char *description, struct json_object *labels);

/* The reference's text for a failed gateway call (the operation error). Static or arena. */
const char *bw_sandbox_gw_text(struct bw_svc *svc, const char *gw, const struct bw_gw_result *r);

#endif
