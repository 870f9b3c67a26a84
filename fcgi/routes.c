/* routes: the route table. Roles follow the reference's route index; body limits are sized to
 * the largest valid request of each route with room to spare (register: three 64 KiB
 * certificates in base64 plus 16 KiB of metadata; PATCH: 20 labels and a description of
 * 4-byte characters, \u-escaped as clients send them, is about 74 KB). */
#include "config.h"

#include "fcgi/routes.h"
#include "lib/shm.h"

#define KiB 1024LL

const struct bw_route bw_routes[] = {
    {BW_GET, "/healthz", bw_h_healthz, BW_ROLE_PUBLIC, BW_BODY_NONE, 0},
    {BW_GET, "/readyz", bw_h_readyz, BW_ROLE_PUBLIC, BW_BODY_NONE, 0},
    {BW_GET, "/version", bw_h_version, BW_ROLE_PUBLIC, BW_BODY_NONE, 0},
    /* Admin, or public when metrics_access = public (resolved by the dispatcher). */
    {BW_GET, "/metrics", bw_h_metrics, BW_ROLE_METRICS, BW_BODY_NONE, 0},

    {BW_GET, "/api/gateway/list", bw_h_gateway_list, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    {BW_POST, "/api/gateway/register", bw_h_gateway_register, BW_ROLE_ADMIN, BW_BODY_JSON,
     512 * KiB},
    {BW_GET, "/api/gateway/{name}/info", bw_h_gateway_info, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    {BW_PATCH, "/api/gateway/{name}", bw_h_gateway_patch, BW_ROLE_ADMIN, BW_BODY_JSON, 256 * KiB},
    {BW_DELETE, "/api/gateway/{name}", bw_h_gateway_delete, BW_ROLE_ADMIN, BW_BODY_NONE, 0},

    {BW_GET, "/api/policies/presets", bw_h_presets_list, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    {BW_GET, "/api/policies/presets/{preset}", bw_h_preset_get, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    {BW_GET, "/api/sandbox-templates", bw_h_templates_list, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    {BW_GET, "/api/sandbox-templates/{name}", bw_h_template_get, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    /* Gateway operations over gRPC (h_gwops.c). A setting value is one scalar. */
    {BW_POST, "/api/gateway/{name}/test-connection", bw_h_gateway_test_connection, BW_ROLE_ADMIN,
     BW_BODY_NONE, 0},
    {BW_GET, "/api/gateways/{gw}/health", bw_h_gateway_health, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    {BW_GET, "/api/gateway/{name}/config", bw_h_gateway_config, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    {BW_GET, "/api/gateway/{name}/settings", bw_h_gateway_config, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_PUT, "/api/gateway/{name}/settings/{key}", bw_h_gateway_setting_put, BW_ROLE_ADMIN,
     BW_BODY_JSON, 64 * KiB},
    {BW_DELETE, "/api/gateway/{name}/settings/{key}", bw_h_gateway_setting_delete, BW_ROLE_ADMIN,
     BW_BODY_NONE, 0},
    /* Public: each handler identifies the caller itself where it matters (check, logout). */
    {BW_POST, "/api/auth/setup", bw_h_auth_setup, BW_ROLE_PUBLIC, BW_BODY_JSON, 16 * KiB},
    {BW_POST, "/api/auth/login", bw_h_auth_login, BW_ROLE_PUBLIC, BW_BODY_JSON, 16 * KiB},
    {BW_POST, "/api/auth/logout", bw_h_auth_logout, BW_ROLE_PUBLIC, BW_BODY_NONE, 0},
    {BW_GET, "/api/auth/check", bw_h_auth_check, BW_ROLE_PUBLIC, BW_BODY_NONE, 0},
    {BW_POST, "/api/auth/register", bw_h_auth_register, BW_ROLE_PUBLIC, BW_BODY_JSON, 16 * KiB},
    {BW_POST, "/api/auth/accept-invite", bw_h_auth_accept_invite, BW_ROLE_PUBLIC, BW_BODY_JSON,
     16 * KiB},
    {BW_GET, "/api/auth/users", bw_h_users_list, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_POST, "/api/auth/users", bw_h_users_invite, BW_ROLE_ADMIN, BW_BODY_JSON, 16 * KiB},
    {BW_DELETE, "/api/auth/users/{user_id}", bw_h_users_delete, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_GET, "/api/auth/users/{user_id}/sessions", bw_h_user_sessions, BW_ROLE_ADMIN, BW_BODY_NONE,
     0},
    {BW_DELETE, "/api/auth/users/{user_id}/sessions", bw_h_user_sessions_revoke, BW_ROLE_ADMIN,
     BW_BODY_NONE, 0},
    {BW_DELETE, "/api/auth/users/{user_id}/sessions/{session_id}", bw_h_user_session_revoke,
     BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_GET, "/api/auth/users/{user_id}/gateway-roles", bw_h_user_gwroles_list, BW_ROLE_ADMIN,
     BW_BODY_NONE, 0},
    {BW_PUT, "/api/auth/users/{user_id}/gateway-roles/{gw}", bw_h_user_gwroles_put, BW_ROLE_ADMIN,
     BW_BODY_JSON, 16 * KiB},
    {BW_DELETE, "/api/auth/users/{user_id}/gateway-roles/{gw}", bw_h_user_gwroles_delete,
     BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_GET, "/api/auth/service-principals/{sp_id}/gateway-roles", bw_h_sp_gwroles_list,
     BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_PUT, "/api/auth/service-principals/{sp_id}/gateway-roles/{gw}", bw_h_sp_gwroles_put,
     BW_ROLE_ADMIN, BW_BODY_JSON, 16 * KiB},
    {BW_DELETE, "/api/auth/service-principals/{sp_id}/gateway-roles/{gw}", bw_h_sp_gwroles_delete,
     BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_GET, "/api/auth/groups", bw_h_groups_list, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_POST, "/api/auth/groups", bw_h_groups_create, BW_ROLE_ADMIN, BW_BODY_JSON, 64 * KiB},
    {BW_GET, "/api/auth/groups/{group_id}", bw_h_groups_get, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_PUT, "/api/auth/groups/{group_id}", bw_h_groups_update, BW_ROLE_ADMIN, BW_BODY_JSON,
     64 * KiB},
    {BW_DELETE, "/api/auth/groups/{group_id}", bw_h_groups_delete, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_POST, "/api/auth/groups/{group_id}/members", bw_h_group_members_add, BW_ROLE_ADMIN,
     BW_BODY_JSON, 16 * KiB},
    {BW_DELETE, "/api/auth/groups/{group_id}/members/{user_id}", bw_h_group_members_remove,
     BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_GET, "/api/auth/groups/{group_id}/gateway-roles", bw_h_group_gwroles_list, BW_ROLE_ADMIN,
     BW_BODY_NONE, 0},
    {BW_PUT, "/api/auth/groups/{group_id}/gateway-roles/{gw}", bw_h_group_gwroles_put,
     BW_ROLE_ADMIN, BW_BODY_JSON, 16 * KiB},
    {BW_DELETE, "/api/auth/groups/{group_id}/gateway-roles/{gw}", bw_h_group_gwroles_delete,
     BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_GET, "/api/auth/service-principals", bw_h_sp_list, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_POST, "/api/auth/service-principals", bw_h_sp_create, BW_ROLE_ADMIN, BW_BODY_JSON,
     16 * KiB},
    {BW_DELETE, "/api/auth/service-principals/{sp_id}", bw_h_sp_delete, BW_ROLE_ADMIN, BW_BODY_NONE,
     0},
    {BW_POST, "/api/auth/service-principals/{sp_id}/rotate", bw_h_sp_rotate, BW_ROLE_ADMIN,
     BW_BODY_NONE, 0},
    {BW_GET, "/api/audit", bw_h_audit_list, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_GET, "/api/audit/export", bw_h_audit_export, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    /* Webhooks: admin only (reference §6.16). A body is a URL, 50 event types and a small
     * extra_config. */
    {BW_GET, "/api/webhooks", bw_h_webhooks_list, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_POST, "/api/webhooks", bw_h_webhooks_create, BW_ROLE_ADMIN, BW_BODY_JSON, 64 * KiB},
    {BW_GET, "/api/webhooks/{id}", bw_h_webhooks_get, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_PUT, "/api/webhooks/{id}", bw_h_webhooks_update, BW_ROLE_ADMIN, BW_BODY_JSON, 64 * KiB},
    {BW_DELETE, "/api/webhooks/{id}", bw_h_webhooks_delete, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_POST, "/api/webhooks/{id}/test", bw_h_webhooks_test, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_GET, "/api/webhooks/{id}/deliveries", bw_h_webhooks_deliveries, BW_ROLE_ADMIN, BW_BODY_NONE,
     0},
};

const size_t bw_routes_count = sizeof(bw_routes) / sizeof(bw_routes[0]);

/* The metrics counters are indexed by row; the shared block is sized at compile time. */
_Static_assert(sizeof(bw_routes) / sizeof(bw_routes[0]) <= BW_METRICS_ROUTES,
	       "raise BW_METRICS_ROUTES in lib/shm.h");
