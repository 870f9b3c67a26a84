/* events: see events.h. */
#include "config.h"

#include <string.h>

#include "lib/jsonu.h"
#include "services/events.h"

static const char sql_insert[] =
    "INSERT INTO event_outbox (event_type, gateway_name, payload) VALUES (?, ?, ?)";

/* dispatched_at leads the pending index, so this is a range scan of old dispatched rows. */
static const char sql_purge[] =
    "DELETE FROM event_outbox WHERE dispatched_at IS NOT NULL"
    " AND dispatched_at < NOW(6) - INTERVAL ? DAY ORDER BY dispatched_at"
    " LIMIT ?";
/* Rows per DELETE, so one statement never holds many locks for long. */
#define PURGE_BATCH 5000

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

enum bw_err bw_event_purge(struct bw_svc *svc, int days, unsigned long long *count)
{
	enum bw_err rc = BW_OK;
	unsigned long long n = PURGE_BATCH;
	*count = 0;
	if (days <= 0)
		return BW_OK;
	struct bw_dbarg args[] = {bw_dba_int(days), bw_dba_int(PURGE_BATCH)};
	while (rc == BW_OK && n == PURGE_BATCH) {
		n = 0;
		rc = bw_db_exec(svc->db, sql_purge, args, sizeof(args) / sizeof(args[0]), &n, NULL);
		*count += n;
	}
	return rc;
}
