/* users: account administration on top of the users and sessions tables (auth.c owns the
 * identity lookups) — invites (token shown once, stored as SHA-256, single use, expiring),
 * self-registration, listing, deletion with the admin-safety guards, and an admin's view and
 * revocation of a user's sessions. Every write is audited in its transaction. */
#ifndef BW_USERS_H
#define BW_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"
#include "services/auth.h"
#include "services/svc.h"

struct bw_user {
	long long id;
	const char *email, *role;
	bool is_active, pending_invite;
	const char *created_at;    /* RFC 3339 UTC */
	const char *oidc_provider; /* may be NULL */
};

struct bw_session_info {
	long long id;
	const char *created_at, *last_seen, *expires_at; /* RFC 3339 UTC */
	const char *client_ip, *user_agent;              /* may be NULL */
};

/* Invites email (normalized, valid) with role: a user without password whose invite token
 * (*token, arena) is valid for max_age seconds. BW_ECONFLICT when the e-mail exists. */
enum bw_err bw_users_invite(struct bw_svc *svc, const struct bw_actor *actor, const char *email,
			    enum bw_rank role, int max_age, struct bw_user *out,
			    const char **token);

/* Accepts an invite: sets the password hash, ends the invite, opens a session. BW_ENOTFOUND
 * for an unknown, used or expired token. */
enum bw_err bw_users_accept(struct bw_svc *svc, const struct bw_actor *actor, const char *token,
			    const char *hash, const struct bw_client *client,
			    struct bw_principal *out, const char **session);

/* Self-registration of a viewer with a session. BW_ECONFLICT when the e-mail exists. */
enum bw_err bw_users_register(struct bw_svc *svc, const struct bw_actor *actor, const char *email,
			      const char *hash, const struct bw_client *client,
			      struct bw_principal *out, const char **session);

/* All users by creation time; *items is an arena array. */
enum bw_err bw_users_list(struct bw_svc *svc, struct bw_user **items, size_t *n);

enum bw_users_delete_result { BW_UDEL_OK, BW_UDEL_NOT_FOUND, BW_UDEL_LAST_ADMIN };
/* Deletes a user (its sessions, memberships and roles go with it) unless it is the last active
 * admin, decided under row locks. */
enum bw_err bw_users_delete(struct bw_svc *svc, const struct bw_actor *actor, long long id,
			    enum bw_users_delete_result *result);

/* The live sessions of a user (never their token hashes). BW_ENOTFOUND for an unknown user. */
enum bw_err bw_users_sessions(struct bw_svc *svc, long long user_id, struct bw_session_info **items,
			      size_t *n);
/* Ends one session (session_id > 0) or all of them (0); *revoked counts them. BW_ENOTFOUND for
 * an unknown user, or an unknown session of that user. */
enum bw_err bw_users_revoke(struct bw_svc *svc, const struct bw_actor *actor, long long user_id,
			    long long session_id, unsigned long long *revoked);

#endif
