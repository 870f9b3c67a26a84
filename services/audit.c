/* audit: see audit.h. */
#include "config.h"

#include "lib/jsonu.h"
#include "services/audit.h"

static const char sql_insert[] =
    "INSERT INTO audit_log (`timestamp`, actor, actor_role, action, resource_type, resource_id,"
    " gateway_name, gateway_id, detail, client_ip, request_id)"
    " VALUES (UTC_TIMESTAMP(6), ?, ?, ?, ?, ?, ?, (SELECT id FROM gateways WHERE name = ?), ?, ?, "
    "?)";

enum bw_err bw_audit_write(struct bw_svc *svc, const struct bw_actor *actor,
			   const struct bw_audit *e)
{
	const char *detail = NULL;
	if (e->detail != NULL && json_object_is_type(e->detail, json_type_object) &&
	    json_object_object_length(e->detail) > 0)
		detail = bw_json_str(e->detail, NULL);
	struct bw_dbarg args[] = {
	    bw_dba_text(actor->name),
	    bw_dba_text(actor->role != NULL ? actor->role : "unknown"),
	    bw_dba_text(e->action),
	    bw_dba_text(e->resource_type),
	    bw_dba_text(e->resource_id != NULL ? e->resource_id : ""),
	    bw_dba_text(e->gateway_name),
	    bw_dba_text(e->gateway_name),
	    bw_dba_text(detail),
	    bw_dba_text(actor->client_ip),
	    bw_dba_text(actor->request_id),
	};
	return bw_db_exec(svc->db, sql_insert, args, sizeof(args) / sizeof(args[0]), NULL, NULL);
}
