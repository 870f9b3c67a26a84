/* password: bcrypt hashing and verification through libxcrypt, in ShoreGuard's format
 * ("$2b$12$..."), so hashes move between the two in either direction. Callers enforce the
 * 72-byte limit first (bw_password_policy); verification never fails loudly: a corrupt, empty or
 * unknown-format hash is simply a non-match. */
#ifndef BW_PASSWORD_H
#define BW_PASSWORD_H

#include <stdbool.h>

#include "lib/arena.h"
#include "lib/err.h"

#define BW_BCRYPT_COST 12

/* Hashes pw with a fresh salt into *out (arena memory). BW_EINVAL over 72 bytes. */
enum bw_err bw_password_hash(const char *pw, struct bw_arena *a, const char **out);

/* True when pw matches hash. A NULL hash runs a verification against a fixed dummy hash so an
 * unknown account costs the same time as a known one, and returns false. */
bool bw_password_verify(const char *pw, const char *hash);

#endif
