-- 009: policy pins. A pin freezes a sandbox's policy at the version that was active when it was
-- set: every policy write answers 423 while an unexpired pin exists. Keyed by names, like the
-- reference (a pin outlives a gateway's unregistration and is not cleaned with it). Times are
-- UTC; an expired row blocks nothing and is replaced by the next pin or removed by unpin.
CREATE TABLE policy_pins (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  gateway_name   VARCHAR(253) NOT NULL,
  sandbox_name   VARCHAR(253) NOT NULL,
  pinned_version INT UNSIGNED NOT NULL,
  pinned_by      VARCHAR(254) NOT NULL,
  reason         TEXT NULL,
  pinned_at      DATETIME(6)  NOT NULL,
  expires_at     DATETIME(6)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_policy_pins_sandbox (gateway_name, sandbox_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
