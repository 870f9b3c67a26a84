/* events: see events.h. */
#include "config.h"

#include <string.h>

#include "lib/jsonu.h"
#include "services/events.h"

static const char sql_insert[] =
    "INSERT INTO event_outbox (event_type, gateway_name, payload) VALUES (?, ?, ?)";

enum bw_err bw_event_emit(struct bw_svc *svc, const char *type, const char *gateway,
			  struct json_object *data)
{
	if (type == NULL || type[0] == '\0' || strlen(type) > BW_EVENT_TYPE_MAX)
		return BW_EINVAL;
	/* An absent object is stored as {} so every payload parses as an object. */
	const char *payload = data != NULL ? bw_json_str(data, NULL) : "{}";
	if (payload == NULL)
		return BW_ENOMEM;
	struct bw_dbarg args[] = {bw_dba_text(type), bw_dba_text(gateway), bw_dba_text(payload)};
	return bw_db_exec(svc->db, sql_insert, args, sizeof(args) / sizeof(args[0]), NULL, NULL);
}
