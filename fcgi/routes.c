/* routes: the route table. Roles follow the reference's route index; body limits are sized to
 * the largest valid request of each route with room to spare (register: three 64 KiB
 * certificates in base64 plus 16 KiB of metadata; PATCH: 20 labels and a description of
 * 4-byte characters, \u-escaped as clients send them, is about 74 KB). */
#include "config.h"

#include "fcgi/routes.h"

#define KiB 1024LL

const struct bw_route bw_routes[] = {
    {BW_GET, "/healthz", bw_h_healthz, BW_ROLE_PUBLIC, BW_BODY_NONE, 0},
    {BW_GET, "/readyz", bw_h_readyz, BW_ROLE_PUBLIC, BW_BODY_NONE, 0},
    {BW_GET, "/version", bw_h_version, BW_ROLE_PUBLIC, BW_BODY_NONE, 0},

    {BW_GET, "/api/gateway/list", bw_h_gateway_list, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    {BW_POST, "/api/gateway/register", bw_h_gateway_register, BW_ROLE_ADMIN, BW_BODY_JSON,
     512 * KiB},
    {BW_GET, "/api/gateway/{name}/info", bw_h_gateway_info, BW_ROLE_VIEWER, BW_BODY_NONE, 0},
    {BW_PATCH, "/api/gateway/{name}", bw_h_gateway_patch, BW_ROLE_ADMIN, BW_BODY_JSON, 256 * KiB},
    {BW_DELETE, "/api/gateway/{name}", bw_h_gateway_delete, BW_ROLE_ADMIN, BW_BODY_NONE, 0},

    {BW_GET, "/api/audit", bw_h_audit_list, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
    {BW_GET, "/api/audit/export", bw_h_audit_export, BW_ROLE_ADMIN, BW_BODY_NONE, 0},
};

const size_t bw_routes_count = sizeof(bw_routes) / sizeof(bw_routes[0]);
