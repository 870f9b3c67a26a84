/* webhooks: owns the webhooks and webhook_deliveries tables (sql/008_webhooks.sql). CRUD for the
 * API (the signing secret is generated here, sealed at rest and handed out once), the fan-out of
 * event_outbox rows into one delivery per (webhook, event), and the lease-based claiming and
 * recording of delivery attempts the worker's delivery thread (services/hookdeliver) uses.
 * Every API write is audited in its transaction. */
#ifndef BW_WEBHOOKS_H
#define BW_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "services/svc.h"

/* 32 random bytes as lowercase hex, plus the NUL. */
#define BW_WEBHOOK_SECRET_LEN 65

/* A webhook as the API shows it (no secrets). Strings are arena memory. */
struct bw_webhook {
	long long id;
	const char *url, *channel_type;
	const char *event_types;  /* JSON array text */
	const char *extra_config; /* JSON object text, NULL when none */
	bool enabled;
	const char *created_by, *created_at, *updated_at;
};

/* Create input; the face has validated every field. */
struct bw_webhook_new {
	const char *url, *channel_type;
	struct json_object *event_types;  /* array of strings (borrowed) */
	struct json_object *extra_config; /* object without smtp_pass, or NULL (borrowed) */
	const char *smtp_pass;            /* e-mail channel's SMTP password, or NULL */
};

/* Update input: NULL / -1 = unchanged. */
struct bw_webhook_patch {
	const char *url, *channel_type;
	struct json_object *event_types, *extra_config;
	const char *smtp_pass;
	int enabled;
};

enum bw_err bw_webhooks_list(struct bw_svc *svc, struct bw_webhook **items, size_t *n);
/* BW_ENOTFOUND when unknown. */
enum bw_err bw_webhooks_get(struct bw_svc *svc, long long id, struct bw_webhook *out);
/* Creates an enabled webhook; secret receives its signing secret (shown once). */
enum bw_err bw_webhooks_create(struct bw_svc *svc, const struct bw_actor *actor,
			       const struct bw_webhook_new *in, struct bw_webhook *out,
			       char secret[BW_WEBHOOK_SECRET_LEN]);
enum bw_err bw_webhooks_update(struct bw_svc *svc, const struct bw_actor *actor, long long id,
			       const struct bw_webhook_patch *p, struct bw_webhook *out);
enum bw_err bw_webhooks_delete(struct bw_svc *svc, const struct bw_actor *actor, long long id);
/* Records a webhook.test event and its delivery to this webhook only, in one transaction.
 * BW_ENOTFOUND; BW_ECONFLICT when the webhook is paused. */
enum bw_err bw_webhooks_test(struct bw_svc *svc, const struct bw_actor *actor, long long id,
			     long long *event_id);

/* A delivery log row as the API shows it. */
struct bw_delivery {
	long long id, webhook_id, event_id;
	const char *event_type, *status;
	long long response_code; /* -1 when none */
	const char *error;       /* NULL when none */
	int attempts;
	const char *created_at, *delivered_at, *next_attempt_at; /* NULL when none */
};
/* Newest first, at most limit rows. BW_ENOTFOUND when the webhook is unknown. */
enum bw_err bw_webhooks_deliveries(struct bw_svc *svc, long long id, long long limit,
				   struct bw_delivery **items, size_t *n);

/* Delivery rows by status ("pending", "retrying", "success", "failed"), for /metrics: a
 * result of (status, count) rows. */
enum bw_err bw_webhooks_count_by_status(struct bw_svc *svc, struct bw_dbres *out);

/* Finished deliveries ever counted, by outcome: (status, n) rows for "success" and "failed".
 * Unlike the delivery log, these only grow (the purge does not touch them). */
enum bw_err bw_webhooks_totals(struct bw_svc *svc, struct bw_dbres *out);

/* --- the worker side --------------------------------------------------------------------- */

/* Turns up to max undispatched events into deliveries of the enabled webhooks subscribed to
 * them (exact type or "*") and marks them dispatched, in one transaction; rows another worker
 * is fanning out are skipped, not waited for. *events is how many events were handled. */
enum bw_err bw_webhooks_fanout(struct bw_svc *svc, int max, size_t *events);

/* A claimed delivery with everything needed to attempt it (arena memory, secrets opened). */
struct bw_hook_job {
	long long id, webhook_id, event_id;
	int attempts; /* made before this one */
	const char *event_type, *payload, *event_ts;
	const char *url, *channel_type, *extra_config;
	const char *secret, *smtp_pass; /* smtp_pass NULL when none */
};
/* Claims the most overdue due delivery for owner for lease_s seconds. *got is false when none is
 * due. A delivery whose webhook was disabled is skipped (it stays pending). */
enum bw_err bw_webhooks_claim(struct bw_svc *svc, const char *owner, int lease_s,
			      struct bw_hook_job *job, bool *got);

struct bw_hook_outcome {
	const char *status; /* "success", "retrying" or "failed" */
	long code;          /* HTTP status, 0 when none */
	const char *error;  /* NULL on success; never holds secrets */
	int retry_in;       /* seconds, for "retrying" */
};
/* Records the attempt of a delivery owner still holds, and counts a finished one in the totals,
 * in one transaction; BW_ECONFLICT when the lease was lost (the attempt's outcome is then
 * dropped: whoever holds it now decides). */
enum bw_err bw_webhooks_record(struct bw_svc *svc, const char *owner, long long id,
			       const struct bw_hook_outcome *o);
/* Deletes up to max finished deliveries created more than days days ago (the delivery log's
 * retention); *deleted says how many. */
enum bw_err bw_webhooks_purge(struct bw_svc *svc, int days, int max, unsigned long long *deleted);
/* Gives back the deliveries owner holds (at shutdown), so another worker need not wait. */
enum bw_err bw_webhooks_release(struct bw_svc *svc, const char *owner);

#endif
