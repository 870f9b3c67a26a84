/* authrules: the pure rules of authentication and authorization — role names and ranks, the
 * effective-role formula (reference §3), e-mail normalization, the password policy, token
 * formats (session tokens, API keys, CSRF tokens) and ISO-8601 instants. No I/O. */
#ifndef BW_AUTHRULES_H
#define BW_AUTHRULES_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/arena.h"

/* Role ranks; BW_RANK_NONE for anything that is not a role (fails every check). */
enum bw_rank { BW_RANK_NONE = -1, BW_RANK_VIEWER = 0, BW_RANK_OPERATOR = 1, BW_RANK_ADMIN = 2 };

enum bw_rank bw_rank_parse(const char *s);
/* "viewer", "operator", "admin"; "unknown" for BW_RANK_NONE. */
const char *bw_rank_name(enum bw_rank r);

/* Inputs of the effective-role formula; BW_RANK_NONE = no such override/group role. */
struct bw_role_inputs {
	bool is_sp;
	enum bw_rank global;       /* the user's or SP's own role */
	enum bw_rank gw_override;  /* per-user or per-SP role for the route's gateway */
	enum bw_rank group_gw_max; /* highest gateway role of the user's groups (users only) */
	enum bw_rank group_max;    /* highest global role of the user's groups (users only) */
};

/* Users: max(gw_override ?? group_gw_max ?? global, group_max). SPs: gw_override ?? global. */
enum bw_rank bw_role_effective(const struct bw_role_inputs *in);

/* Trims ASCII whitespace and lower-cases ASCII letters; arena memory, NULL when out of memory. */
char *bw_email_normalize(struct bw_arena *a, const char *s);
/* ^[^@\s]+@[^@\s]+$ over the (already trimmed) text. */
bool bw_email_valid(const char *s);

#define BW_PASSWORD_MAX_CHARS 128
#define BW_PASSWORD_MAX_BYTES 72 /* bcrypt's limit; libxcrypt would truncate silently */

/* The password policy of setup, register and accept-invite. Returns NULL when acceptable, else
 * the 400 detail (arena memory). The caller has already enforced 1..128 characters (422). */
const char *bw_password_policy(const char *pw, int min_chars, bool complexity, struct bw_arena *a);

/* Base64url without padding of n bytes; arena memory. */
char *bw_b64url(struct bw_arena *a, const void *p, size_t n);

#define BW_TOKEN_CHARS 43 /* base64url of 32 random bytes */
#define BW_SP_KEY_PREFIX "bw_"
#define BW_SP_KEY_CHARS (3 + BW_TOKEN_CHARS)
#define BW_SP_KEY_PREFIX_CHARS 12

/* A fresh random 256-bit token (43 characters); arena memory, NULL on failure. */
char *bw_token_new(struct bw_arena *a);
/* True when s is exactly 43 base64url characters. */
bool bw_token_shape(const char *s);
/* A fresh API key: "bw_" + 43 base64url characters; arena memory, NULL on failure. */
char *bw_sp_key_new(struct bw_arena *a);
/* The CSRF token bound to a session token: base64url(SHA-256("bw-csrf:" token)); arena. */
char *bw_csrf_for(struct bw_arena *a, const char *session_token);
/* Constant-time string equality (length leaks, contents do not). */
bool bw_secure_streq(const char *a, const char *b);

/* Parses an ISO-8601 date-time ("2030-01-02T03:04:05[.ffffff][Z|+hh:mm|-hh:mm]", naive = UTC,
 * 'T' or ' ' between date and time) into "YYYY-MM-DD HH:MM:SS.ffffff" UTC for the database.
 * Returns false for anything else. out must hold 27 bytes. */
bool bw_iso8601_utc(const char *s, char out[27]);

#endif
