-- 008: webhooks and their delivery log. A webhook's signing secret (and an e-mail channel's SMTP
-- password) are sealed with the master key (lib/crypto.h, AAD "webhook:<id>:secret" and
-- "webhook:<id>:smtp_pass"); the API shows the secret once, at creation.
-- The worker fans each event_outbox row out to the matching enabled webhooks as one delivery
-- row per (webhook, event) — the unique key makes a second fan-out of the same event a no-op —
-- and claims due deliveries under a lease (lease_owner, lease_until), so a delivery held by a
-- worker that died is taken over once the lease has run out. webhook_delivery_totals counts
-- finished deliveries by outcome in the same transaction that finishes them: a counter for
-- /metrics that survives the purge of old delivery rows.
CREATE TABLE webhooks (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  url              VARCHAR(2048) NOT NULL,
  channel_type     VARCHAR(16)   CHARACTER SET ascii NOT NULL DEFAULT 'generic',
  event_types      TEXT          NOT NULL,
  extra_config     TEXT          NULL,
  secret_sealed    VARBINARY(160) NOT NULL,
  smtp_pass_sealed VARBINARY(1100) NULL,
  enabled          TINYINT(1)    NOT NULL DEFAULT 1,
  created_by       VARCHAR(254)  NOT NULL,
  created_at       DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at       DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY ix_webhooks_enabled (enabled)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE webhook_deliveries (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  webhook_id      BIGINT UNSIGNED NOT NULL,
  event_id        BIGINT UNSIGNED NOT NULL,
  event_type      VARCHAR(64)   CHARACTER SET ascii NOT NULL,
  status          VARCHAR(16)   CHARACTER SET ascii NOT NULL DEFAULT 'pending',
  attempts        INT           NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  response_code   INT           NULL,
  last_error      VARCHAR(512)  NULL,
  lease_owner     VARCHAR(128)  NULL,
  lease_until     DATETIME(6)   NULL,
  created_at      DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at      DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  delivered_at    DATETIME(6)   NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_webhook_deliveries_event (webhook_id, event_id),
  KEY ix_webhook_deliveries_due (status, next_attempt_at),
  KEY ix_webhook_deliveries_list (webhook_id, created_at),
  CONSTRAINT fk_webhook_deliveries_webhook FOREIGN KEY (webhook_id) REFERENCES webhooks (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE webhook_delivery_totals (
  status VARCHAR(16) CHARACTER SET ascii NOT NULL,
  n      BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (status)
) ENGINE=InnoDB;
INSERT INTO webhook_delivery_totals (status, n) VALUES ('success', 0), ('failed', 0);
