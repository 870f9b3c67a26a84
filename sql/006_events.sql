-- 006: the event outbox. A service that causes a webhook-worthy event (sandbox.created,
-- approval.approved, ...) inserts one row here inside the same transaction as the change itself,
-- so an event exists exactly when its cause committed. The worker daemon fans each row out to
-- the subscribed webhooks and marks it dispatched; rows are never updated otherwise.
CREATE TABLE event_outbox (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  event_type    VARCHAR(64)  CHARACTER SET ascii NOT NULL,
  gateway_name  VARCHAR(253) NULL,
  payload       MEDIUMTEXT   NOT NULL,
  created_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  dispatched_at DATETIME(6)  NULL,
  PRIMARY KEY (id),
  KEY ix_event_outbox_pending (dispatched_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
