-- 001: the gateway registry and the audit trail.
-- All times are UTC DATETIME(6); the application connection runs with time_zone '+00:00'.
-- Names compare byte-wise (utf8mb4_bin): 'Prod' and 'prod' are two gateways, as upstream.

CREATE TABLE gateways (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name          VARCHAR(253) NOT NULL,
  endpoint      VARCHAR(260) NOT NULL,
  scheme        VARCHAR(16)  NOT NULL DEFAULT 'https',
  auth_mode     VARCHAR(16)  NULL,
  -- PEM material, sealed with AES-256-GCM under the master key (never plaintext).
  ca_cert       MEDIUMBLOB   NULL,
  client_cert   MEDIUMBLOB   NULL,
  client_key    MEDIUMBLOB   NULL,
  metadata_json MEDIUMTEXT   NULL,
  description   TEXT         NULL,
  labels_json   TEXT         NULL,
  registered_at DATETIME(6)  NOT NULL,
  updated_at    DATETIME(6)  NOT NULL,
  last_seen     DATETIME(6)  NULL,
  last_status   VARCHAR(32)  NOT NULL DEFAULT 'unknown',
  UNIQUE KEY uq_gateways_name (name),
  KEY ix_gateways_endpoint (endpoint),
  KEY ix_gateways_registered_at (registered_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE audit_log (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `timestamp`   DATETIME(6)  NOT NULL,
  actor         VARCHAR(254) NOT NULL,
  actor_role    VARCHAR(20)  NOT NULL DEFAULT 'unknown',
  action        VARCHAR(100) NOT NULL,
  resource_type VARCHAR(50)  NOT NULL,
  resource_id   VARCHAR(253) NOT NULL DEFAULT '',
  gateway_name  VARCHAR(253) NULL,
  gateway_id    BIGINT UNSIGNED NULL,
  detail        MEDIUMTEXT   NULL,
  client_ip     VARCHAR(45)  NULL,
  request_id    VARCHAR(64)  NULL,
  KEY ix_audit_log_timestamp (`timestamp`),
  KEY ix_audit_log_actor (actor),
  KEY ix_audit_log_action (action),
  KEY ix_audit_log_gateway_name (gateway_name),
  CONSTRAINT fk_audit_log_gateway FOREIGN KEY (gateway_id)
    REFERENCES gateways (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
