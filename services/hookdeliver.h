/* hookdeliver: the webhook delivery job of breakwater-worker, on its own thread with its own
 * database connection. Each tick it fans new event_outbox rows out into deliveries
 * (services/webhooks), then claims due deliveries one at a time under a lease and attempts them
 * with libcurl: HTTP POST for the generic, Slack and Discord channels, SMTP for e-mail. The
 * target is resolved and every address checked against the SSRF rules before each attempt, and
 * curl is pinned to the checked address; redirects are never followed. */
#ifndef BW_HOOKDELIVER_H
#define BW_HOOKDELIVER_H

#include <stdint.h>

#include "lib/conf.h"
#include "lib/err.h"

struct bw_hookdeliver;

/* Starts the thread (call from the main thread: it initialises libcurl). owner identifies this
 * worker process in leases ("host:pid"). conf and key must outlive the thread. *out is freed by
 * bw_hookdeliver_stop. BW_EINVAL (logged) when webhook_retry_delays or webhook_lease is unusable.
 */
enum bw_err bw_hookdeliver_start(const struct bw_conf *conf, const uint8_t *key, const char *owner,
				 struct bw_hookdeliver **out);
/* Asks the thread to stop after the attempt in progress, joins it, gives back its leases and
 * frees it. NULL-safe. */
void bw_hookdeliver_stop(struct bw_hookdeliver *hd);

#endif
