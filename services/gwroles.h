/* gwroles: owns user_gateway_roles, sp_gateway_roles and group_gateway_roles — per-gateway
 * role overrides for one subject (a user, a service principal or a group). The statements for
 * each kind are constants chosen by the enum; nothing is built from input. */
#ifndef BW_GWROLES_H
#define BW_GWROLES_H

#include <stddef.h>

#include "lib/err.h"
#include "services/authrules.h"
#include "services/svc.h"

enum bw_subject { BW_SUBJ_USER, BW_SUBJ_SP, BW_SUBJ_GROUP };

struct bw_gw_role {
	const char *gateway_name;
	const char *role;
};

/* The overrides of a subject, by gateway name. BW_ENOTFOUND when the subject is unknown. */
enum bw_err bw_gwroles_list(struct bw_svc *svc, enum bw_subject kind, long long id,
			    struct bw_gw_role **items, size_t *n);

enum bw_gwrole_result { BW_GWR_OK, BW_GWR_NO_SUBJECT, BW_GWR_NO_GATEWAY, BW_GWR_NO_ROLE };

/* Sets (inserts or replaces) the subject's role on gateway gw; audited. */
enum bw_err bw_gwroles_set(struct bw_svc *svc, const struct bw_actor *actor, enum bw_subject kind,
			   long long id, const char *gw, enum bw_rank role,
			   enum bw_gwrole_result *result);

/* Removes it; BW_GWR_NO_ROLE when there is none. */
enum bw_err bw_gwroles_remove(struct bw_svc *svc, const struct bw_actor *actor,
			      enum bw_subject kind, long long id, const char *gw,
			      enum bw_gwrole_result *result);

#endif
