/* routes: THE route table (routes.c) and the handlers it names. Adding an endpoint means one
 * row there: method, path, handler, minimum role, body kind and limit. */
#ifndef BW_ROUTES_H
#define BW_ROUTES_H

#include <stddef.h>

#include "fcgi/router.h"

extern const struct bw_route bw_routes[];
extern const size_t bw_routes_count;

/* h_probes.c */
void bw_h_healthz(struct bw_req *req);
void bw_h_readyz(struct bw_req *req);
void bw_h_version(struct bw_req *req);

/* h_metrics.c */
void bw_h_metrics(struct bw_req *req);

/* h_gateway.c */
void bw_h_gateway_list(struct bw_req *req);
void bw_h_gateway_register(struct bw_req *req);
void bw_h_gateway_info(struct bw_req *req);
void bw_h_gateway_patch(struct bw_req *req);
void bw_h_gateway_delete(struct bw_req *req);

/* h_catalog.c */
void bw_h_presets_list(struct bw_req *req);
void bw_h_preset_get(struct bw_req *req);
void bw_h_templates_list(struct bw_req *req);
void bw_h_template_get(struct bw_req *req);
/* h_gwops.c */
void bw_h_gateway_test_connection(struct bw_req *req);
void bw_h_gateway_health(struct bw_req *req);
void bw_h_gateway_config(struct bw_req *req);
void bw_h_gateway_setting_put(struct bw_req *req);
void bw_h_gateway_setting_delete(struct bw_req *req);
/* h_auth.c */
void bw_h_auth_setup(struct bw_req *req);
void bw_h_auth_login(struct bw_req *req);
void bw_h_auth_logout(struct bw_req *req);
void bw_h_auth_check(struct bw_req *req);
void bw_h_auth_register(struct bw_req *req);
void bw_h_auth_accept_invite(struct bw_req *req);
void bw_h_users_list(struct bw_req *req);
void bw_h_users_invite(struct bw_req *req);
void bw_h_users_delete(struct bw_req *req);
void bw_h_user_sessions(struct bw_req *req);
void bw_h_user_sessions_revoke(struct bw_req *req);
void bw_h_user_session_revoke(struct bw_req *req);
void bw_h_sp_list(struct bw_req *req);
void bw_h_sp_create(struct bw_req *req);
void bw_h_sp_delete(struct bw_req *req);
void bw_h_sp_rotate(struct bw_req *req);

/* h_groups.c */
void bw_h_user_gwroles_list(struct bw_req *req);
void bw_h_user_gwroles_put(struct bw_req *req);
void bw_h_user_gwroles_delete(struct bw_req *req);
void bw_h_sp_gwroles_list(struct bw_req *req);
void bw_h_sp_gwroles_put(struct bw_req *req);
void bw_h_sp_gwroles_delete(struct bw_req *req);
void bw_h_group_gwroles_list(struct bw_req *req);
void bw_h_group_gwroles_put(struct bw_req *req);
void bw_h_group_gwroles_delete(struct bw_req *req);
void bw_h_groups_list(struct bw_req *req);
void bw_h_groups_create(struct bw_req *req);
void bw_h_groups_get(struct bw_req *req);
void bw_h_groups_update(struct bw_req *req);
void bw_h_groups_delete(struct bw_req *req);
void bw_h_group_members_add(struct bw_req *req);
void bw_h_group_members_remove(struct bw_req *req);
/* h_audit.c */
void bw_h_audit_list(struct bw_req *req);
void bw_h_audit_export(struct bw_req *req);
/* h_webhooks.c */
void bw_h_webhooks_list(struct bw_req *req);
void bw_h_webhooks_create(struct bw_req *req);
void bw_h_webhooks_get(struct bw_req *req);
void bw_h_webhooks_update(struct bw_req *req);
void bw_h_webhooks_delete(struct bw_req *req);
void bw_h_webhooks_test(struct bw_req *req);
void bw_h_webhooks_deliveries(struct bw_req *req);

#endif
