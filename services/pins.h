/* pins: owns the policy_pins table (sql/009_policy_pins.sql). A pin on (gateway, sandbox)
 * blocks every policy write until it is removed or expires; bw_pin_guard is the one check the
 * writers (policy edits, GitOps apply, approvals) call before they change anything. Expired
 * pins are ignored by every read; nothing here deletes on a read. */
#ifndef BW_PINS_H
#define BW_PINS_H

#include <stdbool.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "services/svc.h"

#define BW_PIN_MAX_REASON 1000

struct bw_pin {
	const char *gateway, *sandbox;
	long long version;
	const char *pinned_by;
	const char *reason;     /* NULL when none */
	const char *pinned_at;  /* RFC 3339 UTC */
	const char *expires_at; /* RFC 3339 UTC, NULL when it never expires */
};

/* Whether (gateway, sandbox) is pinned now (an expired pin does not count). On BW_OK with
 * *pinned, *pin (arena strings) says who pinned which version and why. */
enum bw_err bw_pin_guard(struct bw_svc *svc, const char *gateway, const char *sandbox, bool *pinned,
			 struct bw_pin *pin);

/* The detail of the 423 a guarded write answers with (arena string). */
const char *bw_pin_locked_text(struct bw_svc *svc, const struct bw_pin *pin);

/* Pins version (upsert: a new pin replaces version, reason, expiry and actor). expires_at is a
 * normalised UTC time ("YYYY-MM-DD HH:MM:SS.ffffff") or NULL; reason may be NULL. Writes the
 * webhook event and audit row policy.pinned in the same transaction; *out is the stored pin. */
enum bw_err bw_pin_set(struct bw_svc *svc, const struct bw_actor *actor, const char *gateway,
		       const char *sandbox, long long version, const char *reason,
		       const char *expires_at, struct bw_pin *out);

/* Removes the pin; BW_ENOTFOUND when there is no unexpired one. Event + audit policy.unpinned. */
enum bw_err bw_pin_delete(struct bw_svc *svc, const struct bw_actor *actor, const char *gateway,
			  const char *sandbox);

/* The reference's pin object. New object or NULL. */
struct json_object *bw_pin_json(const struct bw_pin *pin);

#endif
