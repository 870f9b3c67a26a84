// Who is logged in: the answer of GET /api/auth/check, kept in memory only (the session itself is
// the HttpOnly cookie; the CSRF token is re-read from the check after a reload).
import { get, post, setCsrf } from "./api.js";

const RANK = { viewer: 1, operator: 2, admin: 3 };

export const session = {
  me: null,
  async refresh() {
    const me = await get("/api/auth/check", { quiet401: true });
    this.me = me;
    setCsrf(me && me.csrf_token);
    return me;
  },
  // After login/setup/accept-invite: the answer carries the new session's CSRF token.
  adopt(answer) {
    setCsrf(answer.csrf_token);
  },
  async logout() {
    try {
      await post("/api/auth/logout", undefined, { quiet401: true });
    } finally {
      this.me = null;
      setCsrf(null);
    }
  },
  get authenticated() {
    return Boolean(this.me && this.me.authenticated);
  },
  get role() {
    return (this.me && this.me.role) || null;
  },
  has(minRole) {
    if (minRole === "public") return true;
    return (RANK[this.role] || 0) >= (RANK[minRole] || 99);
  },
};
