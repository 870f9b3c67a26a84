/* audit: owns the audit_log and audit_chain tables. Rows are written inside the caller's
 * transaction, so an action and its audit row commit (or vanish) together; the database chains
 * each row to the previous one (sql/003_audit.sql) and refuses updates and deletes. This module
 * also reads the trail back: filtered pages, streamed exports and the chain verification. */
#ifndef BW_AUDIT_H
#define BW_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

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

/* Appends one row for actor. Must run inside a transaction the caller commits, as its last
 * write: the chain head stays locked until the commit. */
enum bw_err bw_audit_write(struct bw_svc *svc, const struct bw_actor *actor,
			   const struct bw_audit *entry);

/* Length of a normalised time: "YYYY-MM-DD HH:MM:SS.ffffff" plus the NUL. */
#define BW_AUDIT_TIME_LEN 27

/* Parses an ISO-8601 / RFC 3339 time ("2026-04-20", "2026-04-20T12:34", "...:56.789Z",
 * "...+02:00", 'T' or ' ' between date and time; no offset = UTC) into UTC as
 * "YYYY-MM-DD HH:MM:SS.ffffff". False when text is not such a time. */
bool bw_audit_parse_time(const char *text, char out[BW_AUDIT_TIME_LEN]);

/* Exact-match filters (NULL = any) and inclusive time bounds (normalised UTC, NULL = open). */
struct bw_audit_filter {
	const char *actor, *action, *resource_type, *gateway;
	const char *since, *until;
};

/* One row as stored; strings are NULL for SQL NULL. detail is the stored JSON text. */
struct bw_audit_entry {
	long long id;
	const char *timestamp; /* RFC 3339 UTC, "+00:00" */
	const char *actor, *actor_role, *action, *resource_type, *resource_id, *gateway;
	const char *detail;
	size_t detail_len;
	const char *client_ip, *request_id;
};

/* A page, newest first (ties by id, highest first), and the count of every matching row.
 * *items is arena memory. */
enum bw_err bw_audit_list(struct bw_svc *svc, const struct bw_audit_filter *f, long long limit,
			  long long offset, struct bw_audit_entry **items, size_t *n,
			  long long *total);

/* Hands the matching rows, newest first, to fn one at a time as MariaDB sends them (memory
 * stays flat whatever the count). limit <= 0 means all. fn returns non-zero to stop (then
 * *stopped is true); the entry is valid only during the call. */
typedef int (*bw_audit_row_fn)(void *ctx, const struct bw_audit_entry *e);
enum bw_err bw_audit_stream(struct bw_svc *svc, const struct bw_audit_filter *f, long long limit,
			    bw_audit_row_fn fn, void *ctx, bool *stopped);

struct bw_audit_verdict {
	long long rows;      /* rows checked */
	long long broken_id; /* the first row whose link or hash is wrong; 0 when intact */
	const char *reason;  /* static text when broken */
	long long head_id;   /* the chain head the database records */
	char head_hash[65];
};

/* Walks the whole chain in id order, recomputing every row's hash. */
enum bw_err bw_audit_verify(struct bw_svc *svc, struct bw_audit_verdict *out);

/* Deletes the rows older than days days (a prefix of the chain) through the audit_purge
 * procedure, which appends an audit.purged row naming actor; *count is how many went. */
enum bw_err bw_audit_purge(struct bw_svc *svc, const char *actor, unsigned days, long long *count);

#endif
