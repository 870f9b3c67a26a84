/* Unit tests of services/authrules (pure) and services/password (bcrypt through libxcrypt). */
#include "config.h"

#include <string.h>

#include "services/authrules.h"
#include "services/password.h"
#include "tap.h"

static enum bw_rank eff(bool sp, enum bw_rank g, enum bw_rank o, enum bw_rank ggw, enum bw_rank gm)
{
	struct bw_role_inputs in = {sp, g, o, ggw, gm};
	return bw_role_effective(&in);
}

static void test_roles(void)
{
	const enum bw_rank N = BW_RANK_NONE, V = BW_RANK_VIEWER, O = BW_RANK_OPERATOR,
			   A = BW_RANK_ADMIN;
	is_int(bw_rank_parse("admin"), A, "admin parses");
	is_int(bw_rank_parse("operator"), O, "operator parses");
	is_int(bw_rank_parse("viewer"), V, "viewer parses");
	is_int(bw_rank_parse("Admin"), N, "roles are case-sensitive");
	is_int(bw_rank_parse(""), N, "empty is no role");
	is_str(bw_rank_name(N), "unknown", "no role prints as unknown");
	is_int(eff(false, O, N, N, N), O, "user without overrides keeps the global role");
	is_int(eff(false, A, V, N, N), V, "a per-gateway user override can demote");
	is_int(eff(false, V, A, N, N), A, "a per-gateway user override can promote");
	is_int(eff(false, V, N, O, N), O, "group gateway role applies without a user override");
	is_int(eff(false, V, V, A, N), V, "the user override wins over group gateway roles");
	is_int(eff(false, A, V, N, O), O, "group global role lifts a demotion back up");
	is_int(eff(false, O, N, N, V), O, "group global role never lowers");
	is_int(eff(true, V, N, A, A), V, "SPs ignore group roles");
	is_int(eff(true, A, V, N, N), V, "SP override can demote");
	is_int(eff(true, V, O, N, N), O, "SP override can promote");
}

static void test_email(void)
{
	struct bw_arena *a = bw_arena_new(4096);
	is_str(bw_email_normalize(a, "  Admin@Example.COM \t"), "admin@example.com",
	       "trimmed and lower-cased");
	ok(bw_email_valid("a@b"), "a@b is valid");
	ok(!bw_email_valid("ab"), "no @");
	ok(!bw_email_valid("@b"), "empty local part");
	ok(!bw_email_valid("a@"), "empty domain");
	ok(!bw_email_valid("a b@c"), "space");
	ok(!bw_email_valid("a@b@c"), "two @");
	bw_arena_free(a);
}

static void test_policy(void)
{
	struct bw_arena *a = bw_arena_new(4096);
	is_str(bw_password_policy("short", 8, false, a), "Password must be at least 8 characters",
	       "too short");
	ok(bw_password_policy("longenough", 8, false, a) == NULL, "8+ characters pass");
	ok(bw_password_policy("\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4", 4, false, a) == NULL,
	   "length counts characters, not bytes");
	char pw73[74];
	memset(pw73, 'x', 73);
	pw73[73] = '\0';
	is_str(bw_password_policy(pw73, 8, false, a), "Password must be at most 72 bytes",
	       "over 72 bytes refused (bcrypt would truncate)");
	pw73[72] = '\0';
	ok(bw_password_policy(pw73, 8, false, a) == NULL, "exactly 72 bytes pass");
	is_str(bw_password_policy("alllowercase", 8, true, a),
	       "Password must contain at least one uppercase letter, digit",
	       "complexity lists what is missing, in order");
	ok(bw_password_policy("Abcdefg1", 8, true, a) == NULL, "complex password passes");
	is_str(bw_password_policy("ABCDEFGH", 8, true, a),
	       "Password must contain at least one lowercase letter, digit", "upper only");
	bw_arena_free(a);
}

static void test_tokens(void)
{
	struct bw_arena *a = bw_arena_new(4096);
	char *t1 = bw_token_new(a), *t2 = bw_token_new(a);
	ok(t1 != NULL && strlen(t1) == 43, "token is 43 characters");
	ok(bw_token_shape(t1), "token has token shape");
	ok(strcmp(t1, t2) != 0, "tokens differ");
	ok(!bw_token_shape("abc"), "short is not a token");
	ok(!bw_token_shape("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa="),
	   "padding is not a token");
	char *k = bw_sp_key_new(a);
	ok(k != NULL && strlen(k) == 46 && strncmp(k, "bw_", 3) == 0, "API key: bw_ + 43");
	ok(bw_token_shape(k + 3), "key body is base64url");
	char *c1 = bw_csrf_for(a, t1), *c1b = bw_csrf_for(a, t1), *c2 = bw_csrf_for(a, t2);
	ok(c1 != NULL && strlen(c1) == 43, "CSRF token is 43 characters");
	ok(strcmp(c1, c1b) == 0, "CSRF token is stable per session");
	ok(strcmp(c1, c2) != 0, "CSRF token differs between sessions");
	ok(strcmp(c1, t1) != 0, "CSRF token is not the session token");
	is_str(bw_b64url(a, "\xfb\xff", 2), "-_8", "base64url alphabet, no padding");
	ok(bw_secure_streq("abc", "abc"), "equal strings");
	ok(!bw_secure_streq("abc", "abd"), "different strings");
	ok(!bw_secure_streq("abc", "abcd"), "different lengths");
	bw_arena_free(a);
}

static void test_iso(void)
{
	char out[27];
	ok(bw_iso8601_utc("2030-01-02T03:04:05Z", out), "Z form");
	is_str(out, "2030-01-02 03:04:05.000000", "Z normalized");
	ok(bw_iso8601_utc("2030-01-02T03:04:05.5+02:00", out), "offset form");
	is_str(out, "2030-01-02 01:04:05.500000", "offset converted to UTC");
	ok(bw_iso8601_utc("2030-01-01T00:30:00-01:00", out), "negative offset");
	is_str(out, "2030-01-01 01:30:00.000000", "negative offset converted");
	ok(bw_iso8601_utc("2030-01-02 03:04", out), "naive, no seconds");
	ok(!bw_iso8601_utc("2030-02-30T00:00:00Z", out), "no 30 February");
	ok(!bw_iso8601_utc("tomorrow", out), "words refused");
	ok(!bw_iso8601_utc("2030-01-02T03:04:05Zjunk", out), "trailing junk refused");
	ok(!bw_iso8601_utc("2030-01-02", out), "date only refused");
}

static void test_bcrypt(void)
{
	struct bw_arena *a = bw_arena_new(4096);
	const char *h = NULL;
	is_int(bw_password_hash("correct horse", a, &h), BW_OK, "hash");
	ok(h != NULL && strncmp(h, "$2b$12$", 7) == 0 && strlen(h) == 60, "$2b$ cost 12, 60 chars");
	ok(bw_password_verify("correct horse", h), "right password verifies");
	ok(!bw_password_verify("correct horsf", h), "wrong password does not");
	ok(!bw_password_verify("correct horse", NULL), "no hash never matches (dummy run)");
	ok(!bw_password_verify("x", "garbage"), "corrupt hash never matches");
	ok(!bw_password_verify("x", ""), "empty hash never matches");
	char pw73[74];
	memset(pw73, 'y', 73);
	pw73[73] = '\0';
	is_int(bw_password_hash(pw73, a, &h), BW_EINVAL, "over 72 bytes refused");
	/* A cost-4 hash made by Python's crypt (libxcrypt, as ShoreGuard's bcrypt): imported
	 * hashes of another cost verify. */
	ok(bw_password_verify("x", "$2b$04$Frq6dNDZd4tOscdAQTVHvOTGx3JjqWkGXWEj2h0HQbtsn9rkKJzoy"),
	   "foreign $2b$ hash verifies");
	bw_arena_free(a);
}

int main(void)
{
	plan(66);
	test_roles();
	test_email();
	test_policy();
	test_tokens();
	test_iso();
	test_bcrypt();
	return done();
}
