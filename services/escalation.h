/* escalation: the approval-escalation job of breakwater-worker. Its own thread with its own
 * database connection runs services/workflow's escalation pass every few seconds, so a vote
 * left waiting past its workflow's escalation timeout is escalated (recorded, audited, event
 * approval.escalated) even when no further vote arrives; it also puts back approvals whose
 * firing request died. Several workers may run it against one database: each round is
 * escalated once. */
#ifndef BW_ESCALATION_H
#define BW_ESCALATION_H

#include <stdint.h>

#include "lib/conf.h"
#include "lib/err.h"

/* Seconds between two passes. */
#define BW_ESCALATION_INTERVAL_S 2

/* Starts the thread (conf and master_key must outlive it). */
enum bw_err bw_escalation_start(const struct bw_conf *conf, const uint8_t *master_key);
/* Asks the thread to stop and joins it; safe when it never started. */
void bw_escalation_stop(void);

#endif
