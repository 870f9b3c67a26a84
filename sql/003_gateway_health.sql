-- 003: what the gRPC client learns about each gateway (Health), and the health-probe leases.
-- version/compat come from the last answered Health; last_health is the time of the last probe
-- (answered or not), last_seen (001) the time of the last answered one.
ALTER TABLE gateways
  ADD COLUMN version          VARCHAR(64)  NULL,
  ADD COLUMN compat           VARCHAR(16)  NULL,
  ADD COLUMN last_health      DATETIME(6)  NULL,
  ADD COLUMN health_failures  INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN next_probe_at    DATETIME(6)  NULL,
  ADD COLUMN probe_owner      VARCHAR(128) NULL,
  ADD COLUMN probe_lease_until DATETIME(6) NULL;
