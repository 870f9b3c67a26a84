/* h_auth: the /api/auth routes — first-run setup, login, logout, the session check,
 * self-registration, invites, user administration (list, delete, sessions) and the
 * service-principal (API key) administration. Body shape problems are
 * 422, value rules 400, as in the reference; a successful login or setup sets the sg_session
 * cookie and returns the session's CSRF token in the body. */
#include "config.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "fcgi/auth.h"
#include "fcgi/body.h"
#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "lib/jsonu.h"
#include "lib/utf8.h"
#include "services/auth.h"
#include "services/password.h"
#include "services/ratelimit.h"
#include "services/sp.h"
#include "services/users.h"

#define MAX_EMAIL_CHARS 254
#define MAX_SP_NAME 100
#define ROLE_RULE "(must be one of ('admin', 'operator', 'viewer'))"

static const char *fcgi_param(const struct bw_req *req, const char *name)
{
	const char *v = FCGX_GetParam(name, req->fcgx->envp);
	return v != NULL ? v : "";
}

static void reply_ok(struct bw_req *req)
{
	static const char ok[] = "{\"ok\":true}";
	bw_reply(req, 200, "application/json", ok, sizeof(ok) - 1);
}

static bool body_object(struct bw_req *req, struct bw_verrs *v)
{
	return bw_body_require_object(req, v);
}

static void check_len(struct bw_verrs *v, const char *field, const char *s, size_t max)
{
	if (s == NULL)
		return;
	size_t n = bw_utf8_count(s, strlen(s));
	if (n == 0)
		bw_verrs_add(v, "string_too_short", field,
			     "String should have at least 1 character");
	else if (n > max) {
		char msg[64];
		snprintf(msg, sizeof(msg), "String should have at most %zu characters", max);
		bw_verrs_add(v, "string_too_long", field, msg);
	}
}

/* {email: str 1..254, password: str 1..128}; false after replying 422. */
static bool read_credentials(struct bw_req *req, const char **email, const char **password)
{
	struct bw_verrs v;
	bool present;
	if (!body_object(req, &v))
		return false;
	bw_body_string(req->json, "email", BW_REQUIRED, &v, email, &present);
	bw_body_string(req->json, "password", BW_REQUIRED, &v, password, &present);
	check_len(&v, "email", *email, MAX_EMAIL_CHARS);
	check_len(&v, "password", *password, BW_PASSWORD_MAX_CHARS);
	if (!bw_verrs_any(&v))
		return true;
	bw_reply_invalid(req, v.list);
	return false;
}

static struct bw_client client_of(const struct bw_req *req)
{
	struct bw_client c = {req->client_ip, fcgi_param(req, "HTTP_USER_AGENT")};
	return c;
}

static void reply_429(struct bw_req *req, int retry_after)
{
	char v[16];
	snprintf(v, sizeof(v), "%d", retry_after);
	bw_req_header(req, "Retry-After", v);
	bw_reply_problem(req, 429, NULL, "Too many requests. Try again later.");
}

/* The login limiter, per client IP, shared by login and setup: every attempt that is not
 * refused counts, successful ones too. True after a response (429 or an error) was sent. */
static bool login_limited(struct bw_req *req)
{
	const struct bw_conf *c = req->svc.conf;
	struct bw_window w = {c->login_rate_limit_attempts, c->login_rate_limit_window,
			      c->login_rate_limit_lockout};
	int retry = 0;
	const char *ip = req->client_ip[0] != '\0' ? req->client_ip : "unknown";
	enum bw_err rc = bw_rate_hit(&req->svc, "login", ip, &w, &retry);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return true;
	}
	if (retry > 0)
		reply_429(req, retry);
	return retry > 0;
}

/* 200 {ok, role, email, csrf_token} and the cookie of the new session. */
static void reply_session(struct bw_req *req, int status, const struct bw_principal *p,
			  const char *token)
{
	const char *cookie = bw_auth_cookie(req, token, req->svc.conf->session_max_age);
	const char *csrf = bw_csrf_for(req->arena, token);
	if (cookie == NULL || csrf == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bw_req_header(req, "Set-Cookie", cookie);
	struct json_object *o = json_object_new_object();
	if (o != NULL) {
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		json_object_object_add(o, "role", json_object_new_string(bw_rank_name(p->role)));
		json_object_object_add(o, "email", json_object_new_string(p->email));
		json_object_object_add(o, "csrf_token", json_object_new_string(csrf));
	}
	bw_reply_json_owned(req, status, o);
}

/* The normalised e-mail of a body, or NULL after replying: 400 empty_text when empty, 400
 * "Invalid email format" when malformed or longer than max_chars characters. */
static const char *email_or_reply(struct bw_req *req, const char *email, const char *empty_text,
				  size_t max_chars)
{
	char *norm = bw_email_normalize(req->arena, email);
	if (norm == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return NULL;
	}
	if (norm[0] == '\0') {
		bw_reply_problem(req, 400, NULL, "%s", empty_text);
		return NULL;
	}
	if (!bw_email_valid(norm) ||
	    (max_chars != SIZE_MAX && bw_utf8_count(norm, strlen(norm)) > max_chars)) {
		bw_reply_problem(req, 400, NULL, "Invalid email format");
		return NULL;
	}
	return norm;
}

void bw_h_auth_setup(struct bw_req *req)
{
	const char *email = NULL, *pw = NULL, *hash = NULL, *token = NULL;
	long long users = 0;
	struct bw_principal p;
	if (!read_credentials(req, &email, &pw) || login_limited(req))
		return;
	enum bw_err rc = bw_auth_user_count(&req->svc, &users);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	if (users > 0) {
		bw_reply_problem(req, 400, NULL, "Setup already complete");
		return;
	}
	const char *norm = email_or_reply(req, email, "Email and password are required", SIZE_MAX);
	if (norm == NULL)
		return;
	const struct bw_conf *conf = req->svc.conf;
	const char *bad = bw_password_policy(pw, conf->password_min_length,
					     conf->password_require_complexity, req->arena);
	if (bad != NULL) {
		bw_reply_problem(req, 400, NULL, "%s", bad);
		return;
	}
	rc = bw_password_hash(pw, req->arena, &hash);
	if (rc == BW_OK) {
		struct bw_client c = client_of(req);
		rc = bw_auth_setup(&req->svc, &req->actor, norm, hash, &c, &p, &token);
	}
	if (rc == BW_ECONFLICT)
		bw_reply_problem(req, 400, NULL, "Setup already complete");
	else if (rc == BW_EDBLOST)
		bw_reply_err(req, rc);
	else if (rc != BW_OK)
		bw_reply_problem(req, 500, NULL, "Setup failed");
	else
		reply_session(req, 200, &p, token);
}

void bw_h_auth_login(struct bw_req *req)
{
	const char *email = NULL, *pw = NULL, *token = NULL;
	long long users = 0;
	struct bw_principal p;
	int retry = 0;
	if (!read_credentials(req, &email, &pw) || login_limited(req))
		return;
	enum bw_err rc = bw_auth_user_count(&req->svc, &users);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	if (users == 0) {
		bw_reply_problem(req, 400, NULL, "Setup not complete — create an admin user first");
		return;
	}
	char *norm = bw_email_normalize(req->arena, email);
	if (norm == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	const struct bw_conf *conf = req->svc.conf;
	/* Checked before the password: while locked even the right one is refused. */
	rc = bw_lockout_check(&req->svc, norm, conf->account_lockout_attempts,
			      conf->account_lockout_duration, &retry);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	if (retry > 0) {
		reply_429(req, retry);
		return;
	}
	struct bw_client c = client_of(req);
	rc = bw_auth_login(&req->svc, &req->actor, norm, email, pw, &c, &p, &token);
	if (rc == BW_ENOTFOUND) {
		rc = bw_lockout_fail(&req->svc, norm);
		if (rc != BW_OK)
			bw_reply_err(req, rc);
		else
			bw_reply_problem(req, 401, NULL, "Invalid email or password");
		return;
	}
	if (rc == BW_OK)
		rc = bw_lockout_clear(&req->svc, norm);
	if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		reply_session(req, 200, &p, token);
}

void bw_h_auth_logout(struct bw_req *req)
{
	enum bw_err rc = bw_auth_identify(req);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	if (req->who.session != NULL) {
		if (!bw_auth_csrf_ok(req)) {
			bw_reply_problem(req, 403, NULL, "CSRF token missing or invalid");
			return;
		}
		req->actor.name = req->who.actor;
		req->actor.role = bw_rank_name(req->who.role);
		rc = bw_auth_logout(&req->svc, &req->actor, req->who.session);
		if (rc != BW_OK) {
			bw_reply_err(req, rc);
			return;
		}
	}
	bw_req_header(req, "Set-Cookie", bw_auth_cookie(req, NULL, 0));
	reply_ok(req);
}

void bw_h_auth_check(struct bw_req *req)
{
	long long users = 0;
	enum bw_err rc = bw_auth_user_count(&req->svc, &users);
	if (rc == BW_OK && users > 0)
		rc = bw_auth_identify(req);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *o = json_object_new_object();
	if (o == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	bool setup = users > 0;
	bool authed = setup && req->who.kind != BW_PRINC_NONE && req->who.role != BW_RANK_NONE;
	const char *csrf =
	    authed && req->who.session != NULL ? bw_csrf_for(req->arena, req->who.session) : NULL;
	json_object_object_add(o, "authenticated", json_object_new_boolean(authed));
	json_object_object_add(o, "auth_enabled", json_object_new_boolean(setup));
	json_object_object_add(o, "role",
			       authed ? json_object_new_string(bw_rank_name(req->who.role)) : NULL);
	json_object_object_add(o, "email", bw_json_str_or_null(authed ? req->who.email : NULL));
	json_object_object_add(o, "needs_setup", json_object_new_boolean(!setup));
	json_object_object_add(o, "registration_enabled",
			       json_object_new_boolean(setup && req->svc.conf->allow_registration));
	json_object_object_add(o, "local_mode",
			       setup ? json_object_new_boolean(req->svc.conf->local_mode) : NULL);
	json_object_object_add(o, "oidc_providers", setup ? json_object_new_array() : NULL);
	json_object_object_add(o, "csrf_token", bw_json_str_or_null(csrf));
	bw_reply_json_owned(req, 200, o);
}

/* --- service principals ------------------------------------------------------------------- */

static struct json_object *sp_json(const struct bw_sp *sp, const char *key)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	if (key != NULL)
		json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "id", json_object_new_int64(sp->id));
	json_object_object_add(o, "name", json_object_new_string(sp->name));
	json_object_object_add(o, "role", json_object_new_string(sp->role));
	json_object_object_add(o, "key_prefix", json_object_new_string(sp->key_prefix));
	json_object_object_add(o, "created_at", bw_json_str_or_null(sp->created_at));
	json_object_object_add(o, "created_by",
			       sp->created_by > 0 ? json_object_new_int64(sp->created_by) : NULL);
	json_object_object_add(o, "last_used", bw_json_str_or_null(sp->last_used));
	json_object_object_add(o, "expires_at", bw_json_str_or_null(sp->expires_at));
	return o;
}

static bool path_id(struct bw_req *req, const char *name, long long *out)
{
	return bw_path_int(req, name, out);
}

static char *trimmed(struct bw_arena *a, const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return bw_arena_strndup(a, s, n);
}

/* The optional "role" of a create body (viewer when absent); BW_RANK_NONE after replying 400. */
static enum bw_rank role_or_reply(struct bw_req *req, const char *role)
{
	enum bw_rank rank = role != NULL ? bw_rank_parse(role) : BW_RANK_VIEWER;
	if (rank == BW_RANK_NONE)
		bw_reply_problem(req, 400, NULL, "Invalid role: '%s' " ROLE_RULE, role);
	return rank;
}

void bw_h_sp_create(struct bw_req *req)
{
	struct bw_verrs v;
	bool present;
	const char *name = NULL, *role = NULL, *expires = NULL, *key = NULL;
	char when[27];
	if (!body_object(req, &v))
		return;
	bw_body_string(req->json, "name", BW_REQUIRED, &v, &name, &present);
	bw_body_string(req->json, "role", 0, &v, &role, &present);
	bw_body_string(req->json, "expires_at", BW_NULLABLE, &v, &expires, &present);
	if (expires != NULL && !bw_iso8601_utc(expires, when))
		bw_verrs_add(&v, "datetime_parsing", "expires_at",
			     "Input should be a valid datetime");
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_rank rank = role_or_reply(req, role);
	if (rank == BW_RANK_NONE)
		return;
	char *clean = trimmed(req->arena, name);
	if (clean == NULL) {
		bw_reply_err(req, BW_ENOMEM);
		return;
	}
	if (clean[0] == '\0') {
		bw_reply_problem(req, 400, NULL, "Name is required");
		return;
	}
	if (bw_utf8_count(clean, strlen(clean)) > MAX_SP_NAME) {
		bw_reply_problem(req, 400, NULL, "Name must be at most %d characters", MAX_SP_NAME);
		return;
	}
	struct bw_sp sp;
	long long by = req->who.kind == BW_PRINC_USER ? req->who.id : 0;
	enum bw_err rc = bw_sp_create(&req->svc, &req->actor, clean, rank,
				      expires != NULL ? when : NULL, by, &sp, &key);
	if (rc == BW_ECONFLICT)
		bw_reply_problem(req, 409, NULL, "A service principal named '%s' already exists",
				 clean);
	else if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		bw_reply_json_owned(req, 201, sp_json(&sp, key));
}

void bw_h_sp_list(struct bw_req *req)
{
	struct bw_sp *items = NULL;
	size_t n = 0;
	enum bw_err rc = bw_sp_list(&req->svc, &items, &n);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr != NULL && i < n; i++)
		json_object_array_add(arr, sp_json(&items[i], NULL));
	bw_reply_json_owned(req, 200, arr);
}

void bw_h_sp_delete(struct bw_req *req)
{
	long long id;
	if (!path_id(req, "sp_id", &id))
		return;
	enum bw_err rc = bw_sp_delete(&req->svc, &req->actor, id);
	if (rc == BW_ENOTFOUND) {
		bw_reply_problem(req, 404, NULL, "Service principal not found");
		return;
	}
	if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		reply_ok(req);
}

void bw_h_sp_rotate(struct bw_req *req)
{
	long long id;
	const char *key = NULL;
	struct bw_sp sp;
	if (!path_id(req, "sp_id", &id))
		return;
	enum bw_err rc = bw_sp_rotate(&req->svc, &req->actor, id, &sp, &key);
	if (rc == BW_ENOTFOUND)
		bw_reply_problem(req, 404, NULL, "Service principal not found");
	else if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		bw_reply_json_owned(req, 200, sp_json(&sp, key));
}

/* --- users: invites, registration, listing, deletion, sessions -------------------------- */

static struct json_object *user_json(const struct bw_user *u)
{
	struct json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_int64(u->id));
	json_object_object_add(o, "email", json_object_new_string(u->email));
	json_object_object_add(o, "role", json_object_new_string(u->role));
	json_object_object_add(o, "is_active", json_object_new_boolean(u->is_active));
	json_object_object_add(o, "pending_invite", json_object_new_boolean(u->pending_invite));
	json_object_object_add(o, "created_at", json_object_new_string(u->created_at));
	json_object_object_add(o, "oidc_provider", bw_json_str_or_null(u->oidc_provider));
	return o;
}

void bw_h_users_list(struct bw_req *req)
{
	struct bw_user *items = NULL;
	size_t n = 0;
	enum bw_err rc = bw_users_list(&req->svc, &items, &n);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr != NULL && i < n; i++)
		json_object_array_add(arr, user_json(&items[i]));
	bw_reply_json_owned(req, 200, arr);
}

void bw_h_users_invite(struct bw_req *req)
{
	struct bw_verrs v;
	bool present;
	const char *email = NULL, *role = NULL, *token = NULL;
	if (!body_object(req, &v))
		return;
	bw_body_string(req->json, "email", BW_REQUIRED, &v, &email, &present);
	bw_body_string(req->json, "role", 0, &v, &role, &present);
	if (bw_verrs_any(&v)) {
		bw_reply_invalid(req, v.list);
		return;
	}
	enum bw_rank rank = role_or_reply(req, role);
	if (rank == BW_RANK_NONE)
		return;
	const char *norm = email_or_reply(req, email, "Email is required", MAX_EMAIL_CHARS);
	if (norm == NULL)
		return;
	struct bw_user u;
	enum bw_err rc = bw_users_invite(&req->svc, &req->actor, norm, rank,
					 req->svc.conf->invite_max_age, &u, &token);
	if (rc == BW_ECONFLICT) {
		bw_reply_problem(req, 409, NULL, "A user with email '%s' already exists", norm);
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *o = json_object_new_object();
	if (o != NULL) {
		json_object_object_add(o, "id", json_object_new_int64(u.id));
		json_object_object_add(o, "email", json_object_new_string(u.email));
		json_object_object_add(o, "role", json_object_new_string(u.role));
		json_object_object_add(o, "created_at", json_object_new_string(u.created_at));
		json_object_object_add(o, "invite_token", json_object_new_string(token));
	}
	bw_reply_json_owned(req, 201, o);
}

/* {token: str 1..512, password: str 1..128}; false after replying 422. */
static bool read_accept(struct bw_req *req, const char **token, const char **password)
{
	struct bw_verrs v;
	bool present;
	if (!body_object(req, &v))
		return false;
	bw_body_string(req->json, "token", BW_REQUIRED, &v, token, &present);
	bw_body_string(req->json, "password", BW_REQUIRED, &v, password, &present);
	check_len(&v, "token", *token, 512);
	check_len(&v, "password", *password, BW_PASSWORD_MAX_CHARS);
	if (!bw_verrs_any(&v))
		return true;
	bw_reply_invalid(req, v.list);
	return false;
}

void bw_h_auth_accept_invite(struct bw_req *req)
{
	const char *token = NULL, *pw = NULL, *hash = NULL, *session = NULL;
	struct bw_principal p;
	if (!read_accept(req, &token, &pw))
		return;
	/* The password policy comes first, so a bogus token with a short password hears about
	 * the password (as the reference). */
	const struct bw_conf *conf = req->svc.conf;
	const char *bad = bw_password_policy(pw, conf->password_min_length,
					     conf->password_require_complexity, req->arena);
	if (bad != NULL) {
		bw_reply_problem(req, 400, NULL, "%s", bad);
		return;
	}
	enum bw_err rc = bw_token_shape(token) ? BW_OK : BW_ENOTFOUND;
	if (rc == BW_OK)
		rc = bw_password_hash(pw, req->arena, &hash);
	if (rc == BW_OK) {
		struct bw_client c = client_of(req);
		rc = bw_users_accept(&req->svc, &req->actor, token, hash, &c, &p, &session);
	}
	if (rc == BW_ENOTFOUND)
		bw_reply_problem(req, 400, NULL, "Invalid or expired invite token");
	else if (rc != BW_OK)
		bw_reply_err(req, rc);
	else
		reply_session(req, 200, &p, session);
}

void bw_h_auth_register(struct bw_req *req)
{
	const char *email = NULL, *pw = NULL, *hash = NULL, *session = NULL;
	long long users = 0;
	struct bw_principal p;
	if (!read_credentials(req, &email, &pw) || login_limited(req))
		return;
	const struct bw_conf *conf = req->svc.conf;
	if (!conf->allow_registration) {
		bw_reply_problem(req, 403, NULL, "Registration is disabled");
		return;
	}
	enum bw_err rc = bw_auth_user_count(&req->svc, &users);
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	if (users == 0) {
		bw_reply_problem(req, 400, NULL, "Setup not complete — use /setup first");
		return;
	}
	const char *norm = email_or_reply(req, email, "Email and password are required", SIZE_MAX);
	if (norm == NULL)
		return;
	const char *bad = bw_password_policy(pw, conf->password_min_length,
					     conf->password_require_complexity, req->arena);
	if (bad != NULL) {
		bw_reply_problem(req, 400, NULL, "%s", bad);
		return;
	}
	rc = bw_password_hash(pw, req->arena, &hash);
	if (rc == BW_OK) {
		struct bw_client c = client_of(req);
		rc = bw_users_register(&req->svc, &req->actor, norm, hash, &c, &p, &session);
	}
	if (rc == BW_ECONFLICT)
		bw_reply_problem(req, 409, NULL, "An account with email '%s' already exists", norm);
	else if (rc == BW_OK)
		reply_session(req, 201, &p, session);
	else if (rc == BW_EDBLOST)
		bw_reply_err(req, rc);
	else
		bw_reply_problem(req, 500, NULL, "Registration failed");
}

void bw_h_users_delete(struct bw_req *req)
{
	long long id;
	enum bw_users_delete_result res;
	if (!path_id(req, "user_id", &id))
		return;
	if (req->who.kind == BW_PRINC_USER && req->who.id == id) {
		bw_reply_problem(req, 400, NULL, "Cannot delete your own account");
		return;
	}
	enum bw_err rc = bw_users_delete(&req->svc, &req->actor, id, &res);
	if (rc != BW_OK)
		bw_reply_err(req, rc);
	else if (res == BW_UDEL_NOT_FOUND)
		bw_reply_problem(req, 404, NULL, "User not found");
	else if (res == BW_UDEL_LAST_ADMIN)
		bw_reply_problem(req, 400, NULL, "Cannot delete the last admin user");
	else
		reply_ok(req);
}

void bw_h_user_sessions(struct bw_req *req)
{
	long long id;
	struct bw_session_info *items = NULL;
	size_t n = 0;
	if (!path_id(req, "user_id", &id))
		return;
	enum bw_err rc = bw_users_sessions(&req->svc, id, &items, &n);
	if (rc == BW_ENOTFOUND) {
		bw_reply_problem(req, 404, NULL, "User not found");
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		struct json_object *o = json_object_new_object();
		if (o == NULL)
			continue;
		json_object_object_add(o, "id", json_object_new_int64(items[i].id));
		json_object_object_add(o, "created_at",
				       json_object_new_string(items[i].created_at));
		json_object_object_add(o, "last_seen", json_object_new_string(items[i].last_seen));
		json_object_object_add(o, "expires_at",
				       json_object_new_string(items[i].expires_at));
		json_object_object_add(o, "client_ip", bw_json_str_or_null(items[i].client_ip));
		json_object_object_add(o, "user_agent", bw_json_str_or_null(items[i].user_agent));
		json_object_array_add(arr, o);
	}
	bw_reply_json_owned(req, 200, arr);
}

static void revoke(struct bw_req *req, bool one)
{
	long long id, sid = 0;
	unsigned long long revoked = 0;
	if (!path_id(req, "user_id", &id) || (one && !path_id(req, "session_id", &sid)))
		return;
	enum bw_err rc = bw_users_revoke(&req->svc, &req->actor, id, sid, &revoked);
	if (rc == BW_ENOTFOUND) {
		bw_reply_problem(req, 404, NULL, "%s not found", one ? "Session" : "User");
		return;
	}
	if (rc != BW_OK) {
		bw_reply_err(req, rc);
		return;
	}
	struct json_object *o = json_object_new_object();
	if (o != NULL) {
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		json_object_object_add(o, "revoked", json_object_new_int64((int64_t)revoked));
	}
	bw_reply_json_owned(req, 200, o);
}

void bw_h_user_sessions_revoke(struct bw_req *req)
{
	revoke(req, false);
}

void bw_h_user_session_revoke(struct bw_req *req)
{
	revoke(req, true);
}
