-- 007: long-running operations and local sandbox metadata.
--
-- operations: one row per 202 LRO (sandbox create, exec). Rows are created by the responder in
-- the request's transaction and executed by breakwater-worker (services/opexec), which claims
-- them with SELECT ... FOR UPDATE SKIP LOCKED and holds them under a lease (lease_owner =
-- "host:pid", lease_expires) renewed by a heartbeat; a row whose lease expired (worker died) is
-- claimed again (attempts + 1) and the executor resumes it idempotently.
--
-- Uniqueness of active work is a constraint, not a check-then-insert: active_key is
-- "<resource_type>:<gateway>/<key>" while a unique operation is pending/running/cancelling and
-- NULL otherwise (NULLs never collide), so two racing creates cannot both insert. Idempotency
-- keys are unique per actor (the reference's global key let one principal read another's
-- operation by guessing its key).
--
-- request_json holds the validated request without secret-bearing values; environment maps
-- (sandbox environment, exec env) are sealed with the master key into request_sealed.
CREATE TABLE operations (
  id                CHAR(36)     CHARACTER SET ascii NOT NULL,
  status            VARCHAR(16)  CHARACTER SET ascii NOT NULL,
  resource_type     VARCHAR(16)  CHARACTER SET ascii NOT NULL,
  resource_key      VARCHAR(320) NOT NULL,
  active_key        VARCHAR(600) NULL,
  idempotency_key   VARCHAR(253) NULL,
  actor             VARCHAR(255) NOT NULL,
  actor_role        VARCHAR(16)  CHARACTER SET ascii NOT NULL,
  gateway_name      VARCHAR(253) NULL,
  request_json      MEDIUMTEXT   NOT NULL,
  request_sealed    MEDIUMBLOB   NULL,
  progress          TINYINT UNSIGNED NOT NULL DEFAULT 0,
  progress_message  VARCHAR(500) NULL,
  result_json       MEDIUMTEXT   NULL,
  error_message     VARCHAR(500) NULL,
  error_code        VARCHAR(32)  CHARACTER SET ascii NULL,
  lease_owner       VARCHAR(128) NULL,
  lease_expires     DATETIME(6)  NULL,
  attempts          INT UNSIGNED NOT NULL DEFAULT 0,
  created_at        DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at        DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  completed_at      DATETIME(6)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY ux_operations_active (active_key),
  UNIQUE KEY ux_operations_idem (actor, idempotency_key),
  KEY ix_operations_claim (status, lease_expires, created_at),
  KEY ix_operations_list (created_at, id),
  KEY ix_operations_done (completed_at),
  CONSTRAINT ck_operations_status
    CHECK (status IN ('pending', 'running', 'cancelling', 'succeeded', 'failed')),
  CONSTRAINT ck_operations_progress CHECK (progress <= 100),
  CONSTRAINT ck_operations_result CHECK (result_json IS NULL OR LENGTH(result_json) <= 65536)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Local sandbox metadata the gateway does not keep: merged into sandbox records, edited by PATCH,
-- removed when the gateway confirms a delete. Empty labels are stored as NULL.
CREATE TABLE sandbox_meta (
  gateway_name  VARCHAR(253) NOT NULL,
  sandbox_name  VARCHAR(253) NOT NULL,
  description   TEXT         NULL,
  labels_json   TEXT         NULL,
  created_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (gateway_name, sandbox_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
