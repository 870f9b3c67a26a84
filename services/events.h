/* events: owns the event_outbox table (sql/006_events.sql), the hand-off point between the
 * services that cause webhook events and the worker that delivers them. bw_event_emit writes in
 * the caller's transaction, so an event is recorded if and only if its cause commits; write it
 * before the audit row (the audit row must be the last statement of a transaction). */
#ifndef BW_EVENTS_H
#define BW_EVENTS_H

#include <json-c/json.h>

#include "lib/err.h"
#include "services/svc.h"

/* Longest event type name ("approval.quorum_met" and the like). */
#define BW_EVENT_TYPE_MAX 64

/* Records event type (e.g. "sandbox.created") for gateway (NULL when not gateway-scoped) with
 * data (a JSON object, may be NULL = {}; borrowed, not consumed). Returns BW_EINVAL for an empty
 * or over-long type, else the database outcome. */
enum bw_err bw_event_emit(struct bw_svc *svc, const char *type, const char *gateway,
			  struct json_object *data);

/* Retention: deletes dispatched events whose dispatch is more than days days old (in batches,
 * each its own statement, outside any transaction); undispatched rows are never touched.
 * days <= 0 keeps everything. *count is how many rows went. */
enum bw_err bw_event_purge(struct bw_svc *svc, int days, unsigned long long *count);

#endif
