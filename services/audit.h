/* audit: owns the audit_log table. Rows are written inside the caller's transaction, so an
 * action and its audit row commit (or vanish) together. */
#ifndef BW_AUDIT_H
#define BW_AUDIT_H

#include <json-c/json.h>

#include "lib/err.h"
#include "services/svc.h"

struct bw_audit {
	const char *action;         /* e.g. "gateway.register" */
	const char *resource_type;  /* e.g. "gateway" */
	const char *resource_id;    /* NULL -> "" */
	const char *gateway_name;   /* NULL when not gateway-scoped */
	struct json_object *detail; /* borrowed; NULL or empty object -> NULL column */
};

/* Appends one row for actor. Must run inside a transaction the caller commits. */
enum bw_err bw_audit_write(struct bw_svc *svc, const struct bw_actor *actor,
			   const struct bw_audit *entry);

#endif
