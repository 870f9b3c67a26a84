/* auth (face): turns the credentials of a request into a principal and enforces the route's
 * minimum role, in the reference's order: {gw} name (400) -> credentials (401) -> CSRF for
 * cookie-authenticated writes (403) -> effective role (503 on a lookup failure, 403 plus an
 * auth.forbidden audit row when too low). Credentials: "Authorization: Bearer <API key>" first;
 * an unknown key falls through to the sg_session cookie. The client IP is REMOTE_ADDR, which
 * only nginx sets: the FastCGI socket must be reachable by nginx alone. */
#ifndef BW_FCGI_AUTH_H
#define BW_FCGI_AUTH_H

#include <stdbool.h>

#include "fcgi/request.h"

#define BW_SESSION_COOKIE "sg_session"

/* Fills req->who from the request's credentials (kind BW_PRINC_NONE without valid ones).
 * Returns a database error as is; BW_OK otherwise. */
enum bw_err bw_auth_identify(struct bw_req *req);

/* The whole check for a non-public route; false when a response was sent. On success req->role
 * and req->actor describe the caller. */
bool bw_auth_guard(struct bw_req *req);

/* Sets req->actor for a public route (the caller's name when identified, else "unknown"). */
void bw_auth_public_actor(struct bw_req *req);

/* True when the request carries the X-CSRF-Token of its cookie session. */
bool bw_auth_csrf_ok(struct bw_req *req);

/* The Set-Cookie header value that installs token (max_age seconds), or clears the cookie
 * when token is NULL; arena memory. */
const char *bw_auth_cookie(struct bw_req *req, const char *token, int max_age);

#endif
