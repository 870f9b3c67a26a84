-- 002: the registry generation. Every write to the gateways table (registration, metadata,
-- removal, health updates) bumps it in the same transaction, so a process can tell whether a
-- cached rendering of the registry is still current with one primary-key read (or none, when a
-- process on the same host already published the newer value in shared memory).

CREATE TABLE registry_state (
  id         TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  generation BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO registry_state (id, generation) VALUES (1, 1);
