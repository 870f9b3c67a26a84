/* ratelimit: owns the rate_hits and login_failures tables — the sliding-window limiters and the
 * account lockout of the reference (§10, §15), kept in MariaDB so every responder process (and
 * host) counts the same attempts. Each step is a single statement or an insert followed by a
 * count of the rows up to the new one, so concurrent attempts are ordered by their row ids. */
#ifndef BW_RATELIMIT_H
#define BW_RATELIMIT_H

#include "lib/err.h"
#include "services/svc.h"

struct bw_window {
	int max;     /* attempts allowed inside the window */
	int window;  /* seconds */
	int lockout; /* seconds, shapes Retry-After */
};

/* Records one attempt of key in bucket unless that would exceed the window's maximum; then
 * nothing is recorded and *retry_after is the seconds to wait (>= 1). 0 when allowed. */
enum bw_err bw_rate_hit(struct bw_svc *svc, const char *bucket, const char *key,
			const struct bw_window *w, int *retry_after);

/* Account lockout of a normalized e-mail: *retry_after > 0 while at least attempts failures
 * are recorded and the last one is less than duration seconds old. An expired lock is cleared. */
enum bw_err bw_lockout_check(struct bw_svc *svc, const char *email, int attempts, int duration,
			     int *retry_after);
/* Counts one more failure for email (atomically, whichever process sees it). */
enum bw_err bw_lockout_fail(struct bw_svc *svc, const char *email);
/* Forgets email's failures (after a successful login). */
enum bw_err bw_lockout_clear(struct bw_svc *svc, const char *email);

#endif
