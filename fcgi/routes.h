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
/* h_providers.c */
void bw_h_provider_types(struct bw_req *req);
void bw_h_provider_inference_types(struct bw_req *req);
void bw_h_providers_list(struct bw_req *req);
void bw_h_provider_create(struct bw_req *req);
void bw_h_provider_get(struct bw_req *req);
void bw_h_provider_env(struct bw_req *req);
void bw_h_provider_update(struct bw_req *req);
void bw_h_provider_delete(struct bw_req *req);
void bw_h_provider_refresh_status(struct bw_req *req);
void bw_h_provider_refresh_configure(struct bw_req *req);
void bw_h_provider_refresh_rotate(struct bw_req *req);
void bw_h_provider_refresh_delete(struct bw_req *req);
/* h_inference.c */
void bw_h_inference_get(struct bw_req *req);
void bw_h_inference_set(struct bw_req *req);
void bw_h_inference_bundle(struct bw_req *req);
/* h_sbxinfo.c */
void bw_h_sandbox_logs(struct bw_req *req);
void bw_h_sandbox_ssh_create(struct bw_req *req);
void bw_h_sandbox_ssh_revoke(struct bw_req *req);
void bw_h_sandbox_config(struct bw_req *req);
void bw_h_sandbox_provider_env(struct bw_req *req);
void bw_h_sandbox_providers(struct bw_req *req);
void bw_h_sandbox_provider_attach(struct bw_req *req);
void bw_h_sandbox_provider_detach(struct bw_req *req);
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
/* h_approvals.c */
void bw_h_appr_draft(struct bw_req *req);
void bw_h_appr_pending(struct bw_req *req);
void bw_h_appr_history(struct bw_req *req);
void bw_h_appr_decisions(struct bw_req *req);
void bw_h_appr_approve(struct bw_req *req);
void bw_h_appr_reject(struct bw_req *req);
void bw_h_appr_approve_all(struct bw_req *req);
void bw_h_appr_edit(struct bw_req *req);
void bw_h_appr_undo(struct bw_req *req);
void bw_h_appr_clear(struct bw_req *req);
void bw_h_wf_get(struct bw_req *req);
void bw_h_wf_put(struct bw_req *req);
void bw_h_wf_delete(struct bw_req *req);
/* h_audit.c */
void bw_h_audit_list(struct bw_req *req);
void bw_h_audit_export(struct bw_req *req);
/* h_policy.c */
void bw_h_policy_get(struct bw_req *req);
void bw_h_policy_put(struct bw_req *req);
void bw_h_policy_effective(struct bw_req *req);
void bw_h_policy_revisions(struct bw_req *req);
void bw_h_policy_diff(struct bw_req *req);
void bw_h_policy_rule_add(struct bw_req *req);
void bw_h_policy_rule_delete(struct bw_req *req);
void bw_h_policy_fs_add(struct bw_req *req);
void bw_h_policy_fs_delete(struct bw_req *req);
void bw_h_policy_process(struct bw_req *req);
void bw_h_policy_preset(struct bw_req *req);
void bw_h_policy_export(struct bw_req *req);
void bw_h_policy_apply(struct bw_req *req);
void bw_h_pin_get(struct bw_req *req);
void bw_h_pin_set(struct bw_req *req);
void bw_h_pin_delete(struct bw_req *req);

/* h_ops.c */
void bw_h_ops_list(struct bw_req *req);
void bw_h_ops_get(struct bw_req *req);
void bw_h_ops_cancel(struct bw_req *req);
void bw_h_ops_stream(struct bw_req *req);
/* h_sandbox.c */
void bw_h_sandbox_list(struct bw_req *req);
void bw_h_sandbox_create(struct bw_req *req);
void bw_h_sandbox_get(struct bw_req *req);
void bw_h_sandbox_patch(struct bw_req *req);
void bw_h_sandbox_delete(struct bw_req *req);
void bw_h_sandbox_exec(struct bw_req *req);
/* h_webhooks.c */
void bw_h_webhooks_list(struct bw_req *req);
void bw_h_webhooks_create(struct bw_req *req);
void bw_h_webhooks_get(struct bw_req *req);
void bw_h_webhooks_update(struct bw_req *req);
void bw_h_webhooks_delete(struct bw_req *req);
void bw_h_webhooks_test(struct bw_req *req);
void bw_h_webhooks_deliveries(struct bw_req *req);

#endif
