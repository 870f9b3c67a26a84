/* hookfmt: the rules of webhook delivery that need no database — target URL checks (SSRF),
 * the bodies of the four channels, the generic channel's signature, the retry schedule and how
 * an attempt's outcome is classified. Shared by the HTTP face (checks at creation) and the
 * worker's delivery thread (services/hookdeliver). */
#ifndef BW_HOOKFMT_H
#define BW_HOOKFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "lib/arena.h"

/* Attempts at most: one more than the schedule's delays. */
#define BW_HOOK_MAX_DELAYS 16
/* "sha256=" + 64 hex digits + NUL. */
#define BW_HOOK_SIG_LEN 72

/* The parts of a target URL the checks and the delivery need (arena memory). */
struct bw_hook_url {
	const char *scheme; /* "http", "https" (or "smtp"/"smtps" for e-mail hosts) */
	const char *host;   /* without IPv6 brackets */
	int port;
	bool literal; /* host is an IP address */
};

/* Why a URL was refused: the text is the API's 400 detail (static or arena). NULL when
 * acceptable. */
const char *bw_hook_url_parse(struct bw_arena *a, const char *url, struct bw_hook_url *out);

/* True when the address may be a webhook target: not private, loopback, link-local, reserved
 * or metadata (services/netaddr); with allow_loopback, 127/8 and ::1 are accepted too. */
bool bw_hook_addr_allowed(const struct sockaddr *sa, bool allow_loopback);

enum bw_hook_resolve {
	BW_HOOK_RESOLVED, /* every address is allowed; pin holds the first one */
	BW_HOOK_BLOCKED,  /* some address is not allowed */
	BW_HOOK_NO_DNS    /* the name does not resolve now */
};
/* How long a name may take to resolve (the reference's 2 s); slower counts as unresolvable. */
#define BW_HOOK_DNS_MS 2000

/* Resolves host (or parses a literal) and checks every address; pin gets the first address as
 * text (for CURLOPT_RESOLVE), pinlen >= 46. "localhost" is loopback whatever DNS says. */
enum bw_hook_resolve bw_hook_resolve(const char *host, bool allow_loopback, char *pin,
				     size_t pinlen);

/* Parses "5,30,120" into delays[]; returns their count, or -1 when text is not a list of 0..86400
 * second values (at most BW_HOOK_MAX_DELAYS). */
int bw_hook_parse_delays(const char *text, int *delays, int max);
/* Seconds to wait after a failed attempt number attempt (1-based) before the next one, or -1 when
 * that was the last attempt. */
int bw_hook_next_delay(const int *delays, int ndelays, int attempt);

enum bw_hook_verdict { BW_HOOK_SUCCESS, BW_HOOK_RETRY, BW_HOOK_PERMANENT };
/* An HTTP answer: below 400 is delivered (redirects are not followed, the receiver answered);
 * 408 and 429 are retried (the receiver asks to come back), other 4xx are permanent; 5xx are
 * retried. Transport errors (code 0) are retried. */
enum bw_hook_verdict bw_hook_classify(long code);

/* "sha256=" + lowercase hex HMAC-SHA256 of body with the secret's text as key. */
void bw_hook_sign(const char *secret, const void *body, size_t len, char out[BW_HOOK_SIG_LEN]);

/* The display label of an event type ("gateway.registered" -> "Gateway Registered"); arena. */
const char *bw_hook_label(struct bw_arena *a, const char *event);

/* The request body for channel ("generic", "slack", "discord", "email") of event with data (a
 * JSON object) at ts (RFC 3339). For email it is the plain-text message and *subject its first
 * line. Arena memory; NULL when out of memory or the channel is unknown. */
const char *bw_hook_body(struct bw_arena *a, const char *channel, const char *event, const char *ts,
			 struct json_object *data, size_t *len, const char **subject);

/* True for a known channel type. */
bool bw_hook_channel_known(const char *channel);

#endif
