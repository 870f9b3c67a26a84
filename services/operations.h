/* operations: owns the operations table (sql/007_operations.sql), the long-running operations
 * behind every 202 route. The responder side creates (idempotency replay and active-uniqueness
 * enforced by unique keys, so racing requests cannot both start work), reads, lists and cancels
 * operations; the executor side (services/opexec) claims them under a lease with FOR UPDATE SKIP
 * LOCKED, renews leases, records progress and finishes them. Every executor write is fenced by
 * the lease owner, so a worker that lost its lease cannot overwrite its successor's outcome.
 * States: pending -> running -> succeeded | failed; pending|running -> cancelling -> failed. */
#ifndef BW_OPERATIONS_H
#define BW_OPERATIONS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "lib/db.h"
#include "lib/err.h"
#include "services/svc.h"

#define BW_OP_ID_LEN 36
#define BW_OP_RESULT_MAX 65536
#define BW_OP_ERROR_MAX 500
#define BW_OP_IDEMPOTENCY_MAX 253
/* Associated data of the sealed secret part of a request. */
#define BW_OP_SEAL_AAD "operations.request_sealed"

/* What a new operation is about. Strings are borrowed for the call. */
struct bw_op_new {
	const char *resource_type; /* "sandbox", "exec" */
	const char *resource_key;  /* sandbox name, "<name>:<command prefix>", ... */
	bool unique;         /* refuse while another active op has the same type+gateway+key */
	const char *gateway; /* NULL when not gateway-scoped */
	const char *idempotency_key; /* NULL without one */
	const char *request_json;    /* the validated request, no secrets */
	const uint8_t *sealed;       /* sealed secret part of the request, or NULL */
	size_t sealed_len;
};

/* The 202 answer: {operation_id, status, resource_type}. Arena strings. */
struct bw_op_ref {
	const char *id, *status, *resource_type;
};

/* Inserts a pending operation for actor, or replays: when actor already has an operation with
 * the same idempotency key, *out describes that one (its current status) and *replayed is true.
 * BW_ECONFLICT when the operation is unique and one for the same resource is active. */
enum bw_err bw_op_create(struct bw_svc *svc, const struct bw_actor *actor,
			 const struct bw_op_new *op, struct bw_op_ref *out, bool *replayed);

/* One operation as the API shows it (arena strings; NULL = absent). */
struct bw_op {
	const char *id, *status, *resource_type, *created_at, *updated_at;
	int progress;
	const char *progress_message, *result_json, *error, *error_code, *completed_at,
	    *gateway_name;
};

/* BW_ENOTFOUND when there is no such operation. */
enum bw_err bw_op_get(struct bw_svc *svc, const char *id, struct bw_op *out);

/* The API form: sparse omits absent keys (GET one), otherwise all 12 keys with nulls (list,
 * cancel). A corrupt stored result renders as null. New object, caller releases it. */
struct json_object *bw_op_json(const struct bw_op *op, bool sparse);

struct bw_op_filter {
	const char *status, *resource_type, *gateway, *actor; /* NULL or "" = any */
};

/* Newest first; *total counts every match. */
enum bw_err bw_op_list(struct bw_svc *svc, const struct bw_op_filter *f, long long limit,
		       long long offset, struct bw_op **items, size_t *n, long long *total);

/* pending -> failed/cancelled at once; running -> cancelling (the executor finishes it).
 * BW_ENOTFOUND for an unknown, terminal or already cancelling operation. *out is the row after. */
enum bw_err bw_op_cancel(struct bw_svc *svc, const char *id, struct bw_op *out);

/* Rows by status for /metrics: cells (status, count). */
enum bw_err bw_op_count_by_status(struct bw_svc *svc, struct bw_dbres *out);

/* ---- executor side ---- */

/* A claimed operation (arena strings). */
struct bw_op_claim {
	const char *id, *resource_type, *resource_key, *gateway, *actor, *actor_role;
	const char *request_json;
	const uint8_t *sealed;
	size_t sealed_len;
	unsigned attempts; /* 1 on the first claim, more after a takeover */
	bool cancelling;
};

/* Claims the oldest pending operation, or an active one whose lease expired, for owner with a
 * lease of lease_s seconds. *got is false when there is nothing to do. */
enum bw_err bw_op_claim(struct bw_svc *svc, const char *owner, int lease_s, struct bw_op_claim *out,
			bool *got);

/* Extends the lease of every active operation owner holds. */
enum bw_err bw_op_heartbeat(struct bw_svc *svc, const char *owner, int lease_s);

/* Ends the leases of owner at once (a worker found dead, or stopping cleanly). */
enum bw_err bw_op_release_owner(struct bw_svc *svc, const char *owner);

/* Distinct lease owners of active operations (cells: owner). */
enum bw_err bw_op_lease_owners(struct bw_svc *svc, struct bw_dbres *out);

/* Records progress (at most 100; msg may be NULL; pct < 0 records nothing). *cancel tells whether a
 * cancel was requested; BW_ECONFLICT when owner no longer holds the operation. */
enum bw_err bw_op_progress(struct bw_svc *svc, const char *id, const char *owner, int pct,
			   const char *msg, bool *cancel);

/* Marks the operation succeeded with result_json (already fitted) or failed with error and
 * code, fenced by owner, inside the caller's transaction (so an audit row and an event can join
 * it). BW_ECONFLICT when owner no longer holds it (nothing written). */
enum bw_err bw_op_finish_tx(struct bw_svc *svc, const char *id, const char *owner,
			    const char *result_json, const char *error, const char *error_code);
/* The same in its own transaction. */
enum bw_err bw_op_finish(struct bw_svc *svc, const char *id, const char *owner,
			 const char *result_json, const char *error, const char *error_code);

/* Deletes terminal operations completed more than days ago; *deleted counts them. */
enum bw_err bw_op_cleanup(struct bw_svc *svc, int days, long long *deleted);

/* ---- pure helpers ---- */

/* A new random UUIDv4 into out (37 bytes with the NUL). */
enum bw_err bw_op_new_id(char out[BW_OP_ID_LEN + 1]);

/* true for pending, running, cancelling. */
bool bw_op_state_active(const char *status);

/* Serialises result within BW_OP_RESULT_MAX bytes the reference's way: as is when it fits,
 * else with "truncated": true and stdout, stderr, output, logs cut to 8000 characters in that
 * order until it fits, else {"truncated": true, "error": "Result too large to store"}. May cut
 * strings in result. Returns arena memory, NULL when out of memory. */
const char *bw_op_fit_result(struct json_object *result, struct bw_arena *a);

#endif
