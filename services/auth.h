/* auth: owns the users, sessions and login_failures tables and the identity lookups every
 * request makes — API key (service principal) and session token — plus the role inputs of the
 * effective-role formula. Tokens and keys reach this module in clear and are hashed here
 * (SHA-256); only hashes touch the database. */
#ifndef BW_AUTH_H
#define BW_AUTH_H

#include <stdbool.h>

#include "lib/err.h"
#include "services/audit.h"
#include "services/authrules.h"
#include "services/svc.h"

enum bw_princ_kind { BW_PRINC_NONE, BW_PRINC_USER, BW_PRINC_SP, BW_PRINC_SETUP };

/* Who is calling, as established from a credential (strings in arena memory). */
struct bw_principal {
	enum bw_princ_kind kind;
	long long id;        /* users.id or service_principals.id */
	const char *email;   /* users */
	const char *name;    /* service principals */
	const char *actor;   /* audit actor: the e-mail, "sp:<name>" or "setup-pending" */
	enum bw_rank role;   /* the global role of the DB row (re-read on every request) */
	const char *session; /* cookie sessions: the token as presented (for CSRF and logout) */
};

/* Looks up an API key. BW_ENOTFOUND when unknown, expired (expires_at <= now) or while setup is
 * pending (no user at all); on success last_used is set to now. */
enum bw_err bw_auth_by_key(struct bw_svc *svc, const char *key, struct bw_principal *out);

/* Looks up a session token: the session must be within its absolute and idle timeouts and its
 * user active without a pending invite. BW_ENOTFOUND otherwise; on success last_seen moves. */
enum bw_err bw_auth_by_session(struct bw_svc *svc, const char *token, struct bw_principal *out);

/* Fills the role inputs of p for gateway gw (NULL: not a gateway-scoped route). Any database
 * error is returned as is: the caller answers 503 and never falls back. */
enum bw_err bw_auth_role_inputs(struct bw_svc *svc, const struct bw_principal *p, const char *gw,
				struct bw_role_inputs *out);

/* Number of rows in users ("setup complete" means at least one). */
enum bw_err bw_auth_user_count(struct bw_svc *svc, long long *n);

/* Where a new session comes from, recorded with it. */
struct bw_client {
	const char *ip;         /* may be NULL */
	const char *user_agent; /* may be NULL; stored printable-ASCII only, 255 bytes at most */
};

/* Inserts a session for user_id inside the caller's transaction; *token gets the clear token
 * (arena). */
enum bw_err bw_auth_session_new(struct bw_svc *svc, long long user_id,
				const struct bw_client *client, const char **token);

/* Creates the first admin (email normalized and valid, password hashed by the caller) with a
 * session and the audit row user.setup. BW_ECONFLICT when any user exists already. *token is the
 * new session token and out the new admin. */
enum bw_err bw_auth_setup(struct bw_svc *svc, const struct bw_actor *actor, const char *email,
			  const char *hash, const struct bw_client *client,
			  struct bw_principal *out, const char **token);

/* Password login of a normalized e-mail. BW_ENOTFOUND for every kind of failure (unknown,
 * inactive, pending invite, no password, wrong password: indistinguishable, equal time), after
 * writing user.login_failed with typed as actor. On success writes user.login and returns a new
 * session token. */
enum bw_err bw_auth_login(struct bw_svc *svc, const struct bw_actor *actor, const char *email,
			  const char *typed, const char *password, const struct bw_client *client,
			  struct bw_principal *out, const char **token);

/* Ends the session of token at once and writes user.logout (resource: its user's e-mail or
 * "unknown"). A token that matches nothing is not an error. */
enum bw_err bw_auth_logout(struct bw_svc *svc, const struct bw_actor *actor, const char *token);

/* Creates the bootstrap admin when no user exists (no password policy, as the reference).
 * *created tells whether it did. */
enum bw_err bw_auth_bootstrap_admin(struct bw_svc *svc, const char *email, const char *password,
				    bool *created);

/* Writes one audit row in its own transaction; failures are logged, never returned (an audit
 * hiccup must not turn a 403 into a 500). */
void bw_auth_audit(struct bw_svc *svc, const struct bw_actor *actor, const struct bw_audit *e);

#endif
