/* ratelimit: see ratelimit.h. */
#include "config.h"

#include <stdlib.h>

#include "services/ratelimit.h"

static const char sql_hit[] =
    "INSERT INTO rate_hits (bucket, rkey, at) VALUES (?, ?, UTC_TIMESTAMP(6))";
static const char sql_count[] =
    "SELECT COUNT(*), TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), MIN(at) + INTERVAL ? SECOND)"
    " FROM rate_hits WHERE bucket = ? AND rkey = ? AND id <= ?"
    " AND at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND";
static const char sql_unhit[] = "DELETE FROM rate_hits WHERE id = ?";
static const char sql_prune[] = "DELETE FROM rate_hits WHERE bucket = ? AND rkey = ?"
				" AND at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND";
static const char sql_lock_get[] =
    "SELECT failures, TIMESTAMPDIFF(MICROSECOND, last_failure, UTC_TIMESTAMP(6))"
    " FROM login_failures WHERE email = ?";
static const char sql_lock_fail[] =
    "INSERT INTO login_failures (email, failures, last_failure) VALUES (?, 1, UTC_TIMESTAMP(6))"
    " ON DUPLICATE KEY UPDATE failures = failures + 1, last_failure = UTC_TIMESTAMP(6)";
static const char sql_lock_clear[] = "DELETE FROM login_failures WHERE email = ?";

/* Whole seconds to wait for a remaining time in microseconds, as the reference: int(r) + 1. */
static int wait_seconds(long long remaining_us)
{
	long long s = remaining_us / 1000000 + 1;
	return s < 1 ? 1 : s > 86400 * 366 ? 86400 * 366 : (int)s;
}

enum bw_err bw_rate_hit(struct bw_svc *svc, const char *bucket, const char *key,
			const struct bw_window *w, int *retry_after)
{
	unsigned long long id = 0;
	struct bw_dbres r;
	*retry_after = 0;
	struct bw_dbarg hit[] = {bw_dba_text(bucket), bw_dba_text(key)};
	enum bw_err rc = bw_db_exec(svc->db, sql_hit, hit, 2, NULL, &id);
	if (rc != BW_OK)
		return rc;
	struct bw_dbarg count[] = {bw_dba_int(w->lockout), bw_dba_text(bucket), bw_dba_text(key),
				   bw_dba_int((long long)id), bw_dba_int(w->window)};
	rc = bw_db_query(svc->db, svc->arena, sql_count, count, 5, &r);
	if (rc != BW_OK)
		return rc;
	long long n = r.nrows == 1 ? atoll(bw_db_cell(&r, 0, 0)) : 0;
	if (n > w->max) {
		/* A refused attempt is not recorded: the window drains while the client waits. */
		struct bw_dbarg mine = bw_dba_int((long long)id);
		const char *rem = bw_db_cell(&r, 0, 1);
		*retry_after = wait_seconds(rem != NULL ? atoll(rem) : 0);
		return bw_db_exec(svc->db, sql_unhit, &mine, 1, NULL, NULL);
	}
	struct bw_dbarg prune[] = {bw_dba_text(bucket), bw_dba_text(key),
				   bw_dba_int((long long)w->window + w->lockout)};
	return bw_db_exec(svc->db, sql_prune, prune, 3, NULL, NULL);
}

enum bw_err bw_lockout_check(struct bw_svc *svc, const char *email, int attempts, int duration,
			     int *retry_after)
{
	struct bw_dbres r;
	struct bw_dbarg arg = bw_dba_text(email);
	*retry_after = 0;
	enum bw_err rc = bw_db_query(svc->db, svc->arena, sql_lock_get, &arg, 1, &r);
	if (rc != BW_OK || r.nrows == 0)
		return rc;
	if (atoll(bw_db_cell(&r, 0, 0)) < attempts)
		return BW_OK;
	long long remaining = (long long)duration * 1000000 - atoll(bw_db_cell(&r, 0, 1));
	if (remaining <= 0)
		return bw_lockout_clear(svc, email);
	*retry_after = wait_seconds(remaining);
	return BW_OK;
}

enum bw_err bw_lockout_fail(struct bw_svc *svc, const char *email)
{
	struct bw_dbarg arg = bw_dba_text(email);
	return bw_db_exec(svc->db, sql_lock_fail, &arg, 1, NULL, NULL);
}

enum bw_err bw_lockout_clear(struct bw_svc *svc, const char *email)
{
	struct bw_dbarg arg = bw_dba_text(email);
	return bw_db_exec(svc->db, sql_lock_clear, &arg, 1, NULL, NULL);
}
